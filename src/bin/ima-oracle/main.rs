//! The `ima-oracle` command line: sample, eval, elbo, check, golden.

mod args;
mod check;
mod elbo_cmd;
mod eval;
mod golden;
mod output;
mod sample;

use std::process::ExitCode;

const HELP: &str = "\
ima-oracle — f64 reference numbers for 'Embrace the Gap: VAEs perform Independent Mechanism Analysis'

USAGE:
    ima-oracle <COMMAND> [ARGS]      (ima-oracle <COMMAND> --help for each)

COMMANDS:
    sample MODEL --n N --out DIR     sources z.npy and observations x.npy from a model
    eval MODEL --x X.npy --gamma2 G --out DIR
                                     g(x), J, log|det J|, c_IMA, log p (flow and finite gamma),
                                     the optimal encoder, ELBO*, eq. 12, L_IMA - one .npy each
    elbo MODEL --x X --mu MU --logvar LV --gamma2 G --out DIR
                                     the exact ELBO and its gradient (and a Monte Carlo estimate)
    check MODEL --ours DIR --theirs DIR
                                     compare another implementation's arrays with the oracle's
    golden --out DIR                 write the golden vectors
    npy-info FILE...                 shape and range of .npy files

MODEL is a folder with model.txt (docs/model-format.md). Errors go to stderr with a non-zero exit
status; output files are written atomically, all or none.

OPTIONS:
    -h, --help       print this help
    -V, --version    print the version";

const NPY_INFO_HELP: &str = "\
ima-oracle npy-info — print the shape and value range of .npy files

USAGE:
    ima-oracle npy-info FILE...

Reads each file (versions 1-3; <f8, >f8, <f4, >f4; C or Fortran order) and prints its shape,
element count, minimum, maximum and the number of non-finite entries. Exits 1 on the first file
that does not load, naming it and the problem.";

fn npy_info(files: &[String]) -> Result<String, String> {
    if files.iter().any(|f| f == "-h" || f == "--help") {
        return Ok(NPY_INFO_HELP.into());
    }
    if files.is_empty() {
        return Err("usage: npy-info needs at least one FILE".into());
    }
    let mut out = Vec::new();
    for f in files {
        let a = ima_oracle::io::npy::read_npy(f).map_err(|e| e.to_string())?;
        let (lo, hi) = a
            .data()
            .iter()
            .filter(|t| t.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &t| {
                (l.min(t), h.max(t))
            });
        let bad = a.data().iter().filter(|t| !t.is_finite()).count();
        out.push(format!(
            "{f}: shape {:?}, {} values, min {lo:e}, max {hi:e}, {bad} non-finite",
            a.shape(),
            a.data().len()
        ));
    }
    Ok(out.join("\n"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().map(String::as_str) else {
        eprintln!("{HELP}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result: Result<(String, bool), String> = match cmd {
        "-h" | "--help" | "help" => Ok((HELP.into(), true)),
        "-V" | "--version" => Ok((format!("ima-oracle {}", env!("CARGO_PKG_VERSION")), true)),
        "sample" => sample::run(rest).map(|s| (s, true)),
        "eval" => eval::run(rest).map(|s| (s, true)),
        "elbo" => elbo_cmd::run(rest).map(|s| (s, true)),
        "check" => check::run(rest),
        "golden" => golden::run(rest).map(|s| (s, true)),
        "npy-info" => npy_info(rest).map(|s| (s, true)),
        other => Err(format!(
            "usage: unknown command '{other}' (see ima-oracle --help)"
        )),
    };
    match result {
        Ok((text, ok)) => {
            println!("{text}");
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("ima-oracle {cmd}: {e}");
            ExitCode::from(if e.starts_with("usage: ") { 2 } else { 1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{elbo_cmd, eval, golden};

    /// The defaults the help texts and the golden README state are the constants the code uses.
    #[test]
    fn help_texts_state_the_defaults() {
        let tol = format!("(default {:e})", ima_oracle::tol::DEFAULT_TOL);
        for (command, help) in [("eval", eval::HELP), ("elbo", elbo_cmd::HELP)] {
            assert!(help.contains(&tol), "{command} --help does not say {tol}");
        }
        let golden_tol = format!("{:e}", golden::GOLDEN_TOL);
        assert!(golden::README.contains(&golden_tol));
    }
}
