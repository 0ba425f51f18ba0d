//! A small command-line parser: positional arguments and `--flag value` pairs, checked against the
//! flags a subcommand knows, and typed, range-checked readers for every kind of flag value. Every
//! problem with a flag is a usage error (exit status 2), found before any file is read or any
//! computation starts.

use ima_oracle::io::Limits;
use ima_oracle::tol::{LOOSEST_TOL, MAX_THREADS};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The flags that raise the limits on sizes read from files (every command that reads files).
pub const LIMIT_FLAGS: [&str; 2] = ["max-elements", "max-dim"];

/// Parsed arguments of one subcommand.
pub struct Args {
    /// The arguments that are not options, in order.
    pub positional: Vec<String>,
    /// Value flags (name → value) and switches (name → "").
    flags: BTreeMap<String, String>,
    /// Whether `-h` or `--help` was given.
    pub help: bool,
}

/// A usage error (prefixed "usage: ", exit status 2), printed with the subcommand's name.
pub type ArgResult<T> = Result<T, String>;

/// A usage error: `m` prefixed with "usage: ".
pub fn usage(m: String) -> String {
    format!("usage: {m}")
}

impl Args {
    /// Parses `raw`, accepting the value flags `known` and the switches `switches`. A value flag
    /// needs a non-empty value that is not itself an option (`--gamma2 --out DIR` is refused, not
    /// read as γ² = "--out").
    pub fn parse(raw: &[String], known: &[&str], switches: &[&str]) -> ArgResult<Args> {
        let mut a = Args {
            positional: Vec::new(),
            flags: BTreeMap::new(),
            help: false,
        };
        let mut it = raw.iter();
        while let Some(s) = it.next() {
            if s == "-h" || s == "--help" {
                a.help = true;
            } else if let Some(name) = s.strip_prefix("--") {
                if switches.contains(&name) {
                    a.flags.insert(name.to_string(), String::new());
                } else if known.contains(&name) {
                    let v = it
                        .next()
                        .ok_or_else(|| usage(format!("--{name} needs a value")))?;
                    if v.starts_with("--") {
                        return Err(usage(format!(
                            "--{name} needs a value, but the next argument is the option {v}"
                        )));
                    }
                    if v.is_empty() {
                        return Err(usage(format!("--{name}: the value is empty")));
                    }
                    if a.flags.insert(name.to_string(), v.clone()).is_some() {
                        return Err(usage(format!("--{name} given twice")));
                    }
                } else {
                    return Err(usage(format!(
                        "unknown option --{}",
                        ima_oracle::io::shown(name)
                    )));
                }
            } else {
                a.positional.push(s.clone());
            }
        }
        Ok(a)
    }

    /// Whether a switch was given.
    pub fn switch(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    /// The raw value of a flag.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    /// A required flag.
    pub fn require(&self, name: &str) -> ArgResult<&str> {
        self.get(name)
            .ok_or_else(|| usage(format!("--{name} is required")))
    }

    /// A path flag (never empty: [`Args::parse`] refuses empty values).
    pub fn path(&self, name: &str) -> ArgResult<PathBuf> {
        self.require(name).map(PathBuf::from)
    }

    /// A finite f64 flag, or `default`.
    pub fn f64_or(&self, name: &str, default: Option<f64>) -> ArgResult<f64> {
        match self.get(name) {
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| usage(format!("--{name}: '{v}' is not a finite number"))),
            None => default.ok_or_else(|| usage(format!("--{name} is required"))),
        }
    }

    /// A non-negative integer flag (digits, or an exact integer such as `1e6`), or `default`.
    pub fn u64_or(&self, name: &str, default: Option<u64>) -> ArgResult<u64> {
        match self.get(name) {
            Some(v) => parse_count(v)
                .ok_or_else(|| usage(format!("--{name}: '{v}' is not a non-negative integer"))),
            None => default.ok_or_else(|| usage(format!("--{name} is required"))),
        }
    }

    /// An integer flag in `[min, max]`, or `default`; above `max`, the error names the limit and
    /// `raise`, how to raise it.
    pub fn count_in(
        &self,
        name: &str,
        default: Option<u64>,
        (min, max): (u64, u64),
        raise: &str,
    ) -> ArgResult<u64> {
        let v = self.u64_or(name, default)?;
        if v < min {
            return Err(usage(format!("--{name} must be at least {min}, got {v}")));
        }
        if v > max {
            return Err(usage(format!(
                "--{name} {v} is larger than the limit of {max} ({raise})"
            )));
        }
        Ok(v)
    }

    /// `--gamma2 G`, required and > 0.
    pub fn gamma2(&self) -> ArgResult<f64> {
        let g = self.f64_or("gamma2", None)?;
        ima_oracle::Gamma2::new(g)
            .map(|g| g.get())
            .map_err(|_| usage(format!("--gamma2 must be positive, got {g}")))
    }

    /// The quadrature options from `--tol T`, T in (0, [`LOOSEST_TOL`]] (default
    /// [`ima_oracle::tol::DEFAULT_TOL`]).
    pub fn quadrature(&self) -> ArgResult<ima_oracle::QuadratureOptions> {
        let tol = self.f64_or("tol", Some(ima_oracle::tol::DEFAULT_TOL))?;
        if !(tol > 0.0 && tol <= LOOSEST_TOL) {
            return Err(usage(format!(
                "--tol must be in (0, {LOOSEST_TOL:e}] (relative; tol::LOOSEST_TOL), got {tol}"
            )));
        }
        ima_oracle::QuadratureOptions::new(tol).map_err(|e| usage(format!("--tol {tol}: {e}")))
    }

    /// `--threads N` with 1 ≤ N ≤ [`MAX_THREADS`], or all cores when the flag is absent.
    pub fn threads(&self) -> ArgResult<usize> {
        let requested = match self.get("threads") {
            Some(_) => Some(self.count_in(
                "threads",
                None,
                (1, MAX_THREADS as u64),
                "tol::MAX_THREADS; omit --threads to use every core",
            )? as usize),
            None => None,
        };
        Ok(ima_oracle::parallel::thread_count(requested))
    }

    /// The limits on sizes read from files: `--max-elements N` and `--max-dim N` (≥ 1), or the
    /// defaults of [`Limits`].
    pub fn limits(&self) -> ArgResult<Limits> {
        let d = Limits::default();
        let max_elements =
            self.count_in("max-elements", Some(d.max_elements), (1, u64::MAX), "")?;
        let max_dim = self.count_in(
            "max-dim",
            Some(d.max_dim as u64),
            (1, usize::MAX as u64),
            "",
        )?;
        Ok(Limits {
            max_elements,
            max_dim: max_dim as usize,
        })
    }

    /// The single positional MODEL argument.
    pub fn model(&self) -> ArgResult<PathBuf> {
        match self.positional.as_slice() {
            [m] => Ok(PathBuf::from(m)),
            [] => Err(usage("the MODEL folder is missing".into())),
            [m, more @ ..] => Err(usage(format!(
                "unexpected argument '{}' after the MODEL '{m}' (only one MODEL is taken; \
                 is an option missing before it?)",
                more.join(" ")
            ))),
        }
    }

    /// Refuses positional arguments (for commands that take none).
    pub fn no_positional(&self) -> ArgResult<()> {
        match self.positional.as_slice() {
            [] => Ok(()),
            more => Err(usage(format!(
                "unexpected argument '{}' (is an option missing before it?)",
                more.join(" ")
            ))),
        }
    }
}

/// A count written as digits, or as an exact integer in floating-point notation (`1e6`, at most
/// 2^53, where every integer is exact).
fn parse_count(v: &str) -> Option<u64> {
    if let Ok(n) = v.parse::<u64>() {
        return Some(n);
    }
    let x: f64 = v.parse().ok()?;
    let exact = x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0;
    exact.then_some(x as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> ArgResult<Args> {
        let raw: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        Args::parse(&raw, &["gamma2", "out", "n", "tol", "threads"], &["force"])
    }

    #[test]
    fn values_are_never_options_or_empty() {
        let e = parse(&["m", "--gamma2", "--out", "o"]).err().unwrap();
        assert_eq!(
            e,
            "usage: --gamma2 needs a value, but the next argument is the option --out"
        );
        assert_eq!(
            parse(&["m", "--out", ""]).err().unwrap(),
            "usage: --out: the value is empty"
        );
        let a = parse(&["m", "--gamma2", "-1", "--force"]).unwrap();
        assert_eq!(a.get("gamma2"), Some("-1"));
        assert!(a.switch("force"));
    }

    #[test]
    fn ranges_are_usage_errors() {
        let a = parse(&["m", "--threads", "0", "--tol", "10", "--n", "1e3"]).unwrap();
        assert!(a.threads().unwrap_err().contains("at least 1"));
        assert!(a.quadrature().unwrap_err().contains("(0, 1e-3]"));
        assert_eq!(a.u64_or("n", None).unwrap(), 1000);
        let a = parse(&["m", "--threads", "5000", "--n", "1.5"]).unwrap();
        assert!(a.threads().unwrap_err().contains("limit of 1024"));
        assert!(a.u64_or("n", None).is_err());
        assert_eq!(parse_count("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_count("1e300"), None);
        assert_eq!(parse_count("-0"), Some(0));
    }
}
