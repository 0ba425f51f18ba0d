//! The `ima-oracle` command line.

use ima_oracle::npy::read_npy;
use std::process::ExitCode;

const HELP: &str = "\
ima-oracle — f64 reference numbers for 'Embrace the Gap: VAEs perform IMA'

USAGE:
    ima-oracle <COMMAND> [ARGS]

COMMANDS:
    npy-info FILE...   print the shape and the range of each .npy file (checks that it loads)
    help               print this help

OPTIONS:
    -h, --help         print this help (also after a command)
    -V, --version      print the version";

const NPY_INFO_HELP: &str = "\
ima-oracle npy-info — print the shape and value range of .npy files

USAGE:
    ima-oracle npy-info FILE...

Reads each file (versions 1-3; <f8, >f8, <f4, >f4; C or Fortran order) and prints its shape,
element count, minimum, maximum and the number of non-finite entries. Exits 1 on the first file
that does not load, naming it and the problem.";

fn npy_info(files: &[String]) -> ExitCode {
    if files.is_empty() || files.iter().any(|f| f == "-h" || f == "--help") {
        println!("{NPY_INFO_HELP}");
        return if files.is_empty() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    for f in files {
        match read_npy(f) {
            Ok(a) => {
                let finite = a.data().iter().filter(|t| t.is_finite());
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &t| {
                    (l.min(t), h.max(t))
                });
                let bad = a.data().iter().filter(|t| !t.is_finite()).count();
                println!(
                    "{f}: shape {:?}, {} values, min {lo:e}, max {hi:e}, {bad} non-finite",
                    a.shape(),
                    a.data().len()
                );
            }
            Err(e) => {
                eprintln!("ima-oracle: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("help") | Some("-h") | Some("--help") => {
            println!("{HELP}");
            if args.is_empty() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Some("-V") | Some("--version") => {
            println!("ima-oracle {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("npy-info") => npy_info(&args[1..]),
        Some(other) => {
            eprintln!("ima-oracle: unknown command '{other}' (see ima-oracle --help)");
            ExitCode::from(2)
        }
    }
}
