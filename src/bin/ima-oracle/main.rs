//! The `ima-oracle` command line: sample, eval, flow, elbo, vae-init, vae-loss, train, check,
//! golden, npy-info.

#![forbid(unsafe_code)]

mod args;
mod check;
mod elbo_cmd;
mod eval;
mod flow_cmd;
mod golden;
mod golden_vae;
mod model_arg;
mod outdir;
mod output;
mod pole_note;
mod sample;
mod source_arg;
mod status;
mod train_cmd;
mod vae_init;
mod vae_loss;

use args::{Args, LIMIT_FLAGS};

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
    flow MODEL --x X.npy --out DIR   g(x), J, log|det J|, c_IMA, the flow log-likelihood, L_IMA:
                                     no gamma^2, no quadrature
    elbo MODEL --x X --mu MU --logvar LV --gamma2 G --out DIR
                                     the exact ELBO and its gradient (and a Monte Carlo estimate)
    check MODEL --ours DIR --theirs DIR [--allow-refusals] [--source NAME]
                                     compare another implementation's arrays with the oracle's,
                                     and test its sources z against the declared law
    vae-init --latent d --observed D --out DIR   (or --decoder MODEL)
                                     a VAE folder, PyTorch's default initialisation, seeded
    vae-loss VAE_DIR --x X.npy (--eps EPS.npy | --exact) --gamma2 G --out DIR
                                     the loss of one VAE training step and its gradient for
                                     every parameter array
    train VAE_DIR --x X.npy --gamma2 G --epochs E --out DIR
                                     train a VAE deterministically (Adam, seeded): the trained
                                     VAE folder and a per-epoch CSV
    golden --out DIR                 write the golden vectors
    npy-info FILE...                 shape and range of .npy files

MODEL is a folder with model.txt (docs/model-format.md); VAE_DIR a model folder with an encoder.txt
too (docs/vae-format.md). Every flag is checked before any file is
read or anything computed.

OUTPUT FOLDERS (--out DIR): DIR must be new or empty. Everything is written into a hidden folder
beside DIR (inside it, if it exists) and moved into place only when complete: a failed run leaves
DIR exactly as it was.
--force writes into a non-empty DIR: files of the same name are replaced (after every new file was
written), other files are left as they were and listed on stderr.

LIMITS: sizes read from files are checked before anything is allocated: at most 134217728 entries
per array (--max-elements N raises it), model dimensions at most 4096 (--max-dim N); elbo --samples
at most 1e6 per point (--max-samples N) and 1e9 for all points (--max-draws N). src/tol.rs has the
argument for each value.

EXIT STATUS:
    0  success (check: everything compared agrees)
    1  an error (bad file, refused point, failed write), or check found a difference
    2  a usage error: an unknown, missing or out-of-range flag, a non-empty --out without --force
    3  check only: everything the oracle could verify agrees, but it refused some entries
       (NaN in --ours) that --theirs gives values for; --allow-refusals accepts them (exit 0)

OPTIONS:
    -h, --help       print this help
    -V, --version    print the version";

const NPY_INFO_HELP: &str = "\
ima-oracle npy-info — print the shape and value range of .npy files

USAGE:
    ima-oracle npy-info FILE... [--max-elements N]

Reads each file (versions 1-3; <f8, >f8, <f4, >f4; C or Fortran order) and prints its shape,
element count, minimum, maximum and the number of non-finite entries. Exits 1 on the first file
that does not load, naming it and the problem.";

fn npy_info(raw: &[String]) -> Result<String, String> {
    let a = Args::parse(raw, &LIMIT_FLAGS, &[])?;
    if a.help {
        return Ok(NPY_INFO_HELP.into());
    }
    if a.positional.is_empty() {
        return Err("usage: npy-info needs at least one FILE".into());
    }
    let limits = a.limits()?;
    let mut out = Vec::new();
    for f in &a.positional {
        let a = ima_oracle::io::npy::read_npy_with(f, &limits).map_err(|e| e.to_string())?;
        let (lo, hi) = a
            .data()
            .iter()
            .filter(|t| t.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &t| {
                (l.min(t), h.max(t))
            });
        let bad = a.data().iter().filter(|t| !t.is_finite()).count();
        out.push(format!(
            "{f}: shape {}, {} values, min {lo:e}, max {hi:e}, {bad} non-finite",
            ima_oracle::io::npy::shape_text(a.shape()),
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
    // (the text for stdout, the exit status)
    let result: Result<(String, u8), String> = match cmd {
        "-h" | "--help" | "help" => Ok((HELP.into(), 0)),
        "-V" | "--version" => Ok((format!("ima-oracle {}", env!("CARGO_PKG_VERSION")), 0)),
        "sample" => sample::run(rest).map(|s| (s, 0)),
        "eval" => eval::run(rest).map(|s| (s, 0)),
        "flow" => flow_cmd::run(rest).map(|s| (s, 0)),
        "elbo" => elbo_cmd::run(rest).map(|s| (s, 0)),
        "check" => check::run(rest),
        "golden" => golden::run(rest).map(|s| (s, 0)),
        "npy-info" => npy_info(rest).map(|s| (s, 0)),
        "vae-loss" => vae_loss::run(rest).map(|s| (s, 0)),
        "train" => train_cmd::run(rest).map(|s| (s, 0)),
        "vae-init" => vae_init::run(rest).map(|s| (s, 0)),
        other => Err(format!(
            "usage: unknown command '{}' (see ima-oracle --help)",
            ima_oracle::io::shown(other)
        )),
    };
    match result {
        Ok((text, status)) => {
            println!("{text}");
            ExitCode::from(status)
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

    /// The limits the main help states are the constants of `tol`.
    #[test]
    fn help_states_the_limits() {
        use ima_oracle::tol::{MAX_DIM, MAX_ELEMENTS, MAX_MC_DRAWS, MAX_MC_SAMPLES};
        for (what, value) in [
            ("entries", format!("at most {MAX_ELEMENTS} entries")),
            ("dimension", format!("dimensions at most {MAX_DIM}")),
            (
                "samples",
                format!("at most {:e} per point", MAX_MC_SAMPLES as f64),
            ),
            ("draws", format!("{:e} for all points", MAX_MC_DRAWS as f64)),
        ] {
            let flat = super::HELP.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&value), "{what}: '{value}' not in the help");
        }
    }
}
