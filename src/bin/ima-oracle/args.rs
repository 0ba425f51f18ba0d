//! A small command-line parser: positional arguments and `--flag value` pairs, checked against the
//! flags a subcommand knows.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Parsed arguments of one subcommand.
pub struct Args {
    pub positional: Vec<String>,
    flags: BTreeMap<String, String>,
    pub help: bool,
}

/// A usage error (prefixed "usage: ", exit status 2), printed with the subcommand's name.
pub type ArgResult<T> = Result<T, String>;

fn usage(m: String) -> String {
    format!("usage: {m}")
}

impl Args {
    /// Parses `raw`, accepting the value flags `known` and the switches `switches`.
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
                    if a.flags.insert(name.to_string(), v.clone()).is_some() {
                        return Err(usage(format!("--{name} given twice")));
                    }
                } else {
                    return Err(usage(format!("unknown option --{name}")));
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

    /// A path flag.
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

    /// A non-negative integer flag, or `default`.
    pub fn u64_or(&self, name: &str, default: Option<u64>) -> ArgResult<u64> {
        match self.get(name) {
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| usage(format!("--{name}: '{v}' is not a non-negative integer"))),
            None => default.ok_or_else(|| usage(format!("--{name} is required"))),
        }
    }

    /// `--gamma2 G`, required and > 0.
    pub fn gamma2(&self) -> ArgResult<f64> {
        let g = self.f64_or("gamma2", None)?;
        ima_oracle::Gamma2::new(g)
            .map(|g| g.get())
            .map_err(|_| usage(format!("--gamma2 must be positive, got {g}")))
    }

    /// The quadrature options from `--tol T` (default [`ima_oracle::tol::DEFAULT_TOL`], > 0).
    pub fn quadrature(&self) -> ArgResult<ima_oracle::QuadratureOptions> {
        let tol = self.f64_or("tol", Some(ima_oracle::tol::DEFAULT_TOL))?;
        ima_oracle::QuadratureOptions::new(tol)
            .map_err(|_| usage(format!("--tol must be positive, got {tol}")))
    }

    /// `--threads N`, or all cores.
    pub fn threads(&self) -> ArgResult<usize> {
        let requested = match self.get("threads") {
            Some(_) => Some(self.u64_or("threads", None)? as usize),
            None => None,
        };
        Ok(ima_oracle::parallel::thread_count(requested))
    }

    /// The single positional MODEL argument.
    pub fn model(&self) -> ArgResult<PathBuf> {
        match self.positional.as_slice() {
            [m] => Ok(PathBuf::from(m)),
            [] => Err(usage("the MODEL folder is missing".into())),
            more => Err(usage(format!(
                "unexpected arguments: {}",
                more[1..].join(" ")
            ))),
        }
    }
}
