//! `ima-oracle vae-init`: a VAE folder with PyTorch's default initialisation, seeded — fresh
//! encoder and decoder MLPs, or a fresh encoder for the decoder of a given model (the paper's §4.2
//! setting: the decoder fixed to the ground truth).

use crate::args::{usage, Args, LIMIT_FLAGS};
use crate::outdir::OutDir;
use ima_oracle::generate::rng;
use ima_oracle::io::model_file::save_vae;
use ima_oracle::vae::{init, Network, Vae};
use ima_oracle::Prior;

pub const HELP: &str = "\
ima-oracle vae-init — a freshly initialised VAE folder (PyTorch's nn.Linear law, seeded)

USAGE:
    ima-oracle vae-init --latent d --observed D --out DIR [--hidden H1,H2,...] [--alpha A]
                        [--prior gaussian V | --prior logistic S] [--seed S] [--force]
    ima-oracle vae-init --decoder MODEL --out DIR [--hidden ...] [--alpha A] [--seed S] [--force]

The encoder is an MLP D -> H1 -> ... -> Hk -> 2d (its outputs: mu, then log sigma^2), the decoder
an MLP d -> Hk -> ... -> H1 -> D, with the leaky softplus of slope A between linear layers (the
authors' smooth leaky ReLU) and linear outputs. Every weight and bias of a layer with fan_in inputs
is drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default law (not its numbers): layer by
layer, W in row-major (out, in) order, then b, from ChaCha8 seeded with S - the encoder's layers
first, then the decoder's. With --decoder MODEL the prior and the decoder are MODEL's (the decoder
must be affine steps and fixed steps; its affine steps are the VAE's decoder parameters) and only the
encoder is drawn.

Writes DIR as a VAE folder: model.txt, encoder.txt and their arrays (docs/vae-format.md).

OPTIONS:
    --latent d, --observed D   latent and observed dimensions, >= 1 (without --decoder)
    --decoder MODEL            take the prior and the decoder from the model folder MODEL
    --hidden H1,H2,...         hidden widths, each >= 1 (default 10,10: the paper's 3-layer MLPs)
    --alpha A                  slope of the leaky softplus, in (0, 1] (default 0.2)
    --prior gaussian V | logistic S
                               the prior (default gaussian 1), without --decoder
    --seed S                   seed (default 0)
    --out DIR                  output folder, new or empty (written all or none)
    --force                    write into a non-empty DIR
    --max-elements N, --max-dim N
                               raise the limits on array entries and model dimension";

/// `--hidden H1,H2,...` (default 10,10).
fn hidden(a: &Args) -> Result<Vec<usize>, String> {
    let Some(text) = a.get("hidden") else {
        return Ok(vec![10, 10]);
    };
    text.split(',')
        .map(|w| match w.trim().parse::<usize>() {
            Ok(h) if (1..=1 << 20).contains(&h) => Ok(h),
            _ => Err(usage(format!(
                "--hidden: '{w}' is not a width between 1 and 1048576 (widths separated by commas)"
            ))),
        })
        .collect()
}

/// `--prior gaussian V | logistic S` as the two words after the flag (default gaussian 1).
fn prior(a: &Args) -> Result<Prior, String> {
    let Some(text) = a.get("prior") else {
        return Ok(Prior::standard_normal());
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let value = |w: Option<&&str>| -> Result<f64, String> {
        w.and_then(|w| w.parse::<f64>().ok()).ok_or_else(|| {
            usage(format!(
                "--prior '{text}': expected 'gaussian V' or 'logistic S'"
            ))
        })
    };
    let p = match words.first().copied() {
        Some("gaussian") if words.len() == 2 => Prior::gaussian(value(words.get(1))?),
        Some("logistic") if words.len() == 2 => Prior::logistic(value(words.get(1))?),
        _ => {
            return Err(usage(format!(
                "--prior '{text}': expected 'gaussian V' or 'logistic S' (one argument, quoted)"
            )))
        }
    };
    p.map_err(|e| usage(format!("--prior: {e}")))
}

/// Refuses networks whose weights would exceed `--max-elements` (a layer, or both networks
/// together), before anything is allocated; with `--decoder` the encoder's input width is the
/// model's D, checked once the model is read (its arrays are within the limit already).
fn check_sizes(a: &Args, hidden: &[usize], limits: &ima_oracle::io::Limits) -> Result<(), String> {
    let d = a
        .get("latent")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    let dd = a
        .get("observed")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    let mut widths = vec![dd];
    widths.extend(hidden.iter().map(|&h| h as u64));
    widths.push(2 * d);
    let total = widths
        .windows(2)
        .try_fold(0u64, |acc, w| {
            let layer = w[0].checked_mul(w[1])?.checked_add(w[1])?;
            acc.checked_add(layer)
        })
        .and_then(|t| t.checked_mul(2));
    match total {
        Some(t) if t <= limits.max_elements => Ok(()),
        _ => Err(usage(format!(
            "--hidden {}: the two networks would hold more than the limit of {} weights \
             (raise it with --max-elements N)",
            hidden
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join(","),
            limits.max_elements
        ))),
    }
}

/// Runs `vae-init` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec![
        "latent", "observed", "decoder", "hidden", "alpha", "prior", "seed", "out",
    ];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["force"])?;
    if a.help {
        return Ok(HELP.into());
    }
    a.no_positional()?;
    let hidden = hidden(&a)?;
    let limits = a.limits()?;
    check_sizes(&a, &hidden, &limits)?;
    let alpha = a.f64_or("alpha", Some(0.2))?;
    if !(alpha > 0.0 && alpha <= 1.0) {
        return Err(usage(format!("--alpha must be in (0, 1], got {alpha}")));
    }
    let seed = a.u64_or("seed", Some(0))?;
    let from_model = a.get("decoder").is_some();
    if from_model
        && ["latent", "observed", "prior"]
            .iter()
            .any(|f| a.get(f).is_some())
    {
        return Err(usage(
            "--decoder MODEL fixes the dimensions and the prior: drop --latent, --observed, --prior"
                .into(),
        ));
    }
    let dims = if from_model {
        None
    } else {
        let max = limits.max_dim as u64;
        Some((
            a.count_in("latent", None, (1, max), "")? as usize,
            a.count_in("observed", None, (1, max), "")? as usize,
            prior(&a)?,
        ))
    };
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let mut r = rng(seed);
    let fail = |e: String| out.failed(e);
    let (prior, decoder) = match dims {
        Some((d, dd, prior)) => {
            let enc_widths = [&[dd][..], &hidden, &[2 * d]].concat();
            let dec_widths: Vec<usize> = enc_widths[..enc_widths.len() - 1]
                .iter()
                .rev()
                .copied()
                .collect();
            let dec_widths = [&[d][..], &dec_widths[..dec_widths.len() - 1], &[dd]].concat();
            let encoder = init::mlp(&enc_widths, alpha, &mut r).map_err(|e| fail(e.message))?;
            let decoder = init::mlp(&dec_widths, alpha, &mut r).map_err(|e| fail(e.message))?;
            let vae = Vae::new(prior, encoder, decoder).map_err(|e| fail(e.message))?;
            save_vae(&vae, out.path()).map_err(|e| fail(e.to_string()))?;
            let target = out.target().to_path_buf();
            out.commit()?;
            return Ok(format!(
                "VAE d = {d}, D = {dd}, encoder {enc_widths:?}, decoder {dec_widths:?} -> {}",
                target.display()
            ));
        }
        None => {
            let model = crate::model_arg::load_model(&a.path("decoder")?, &limits)?;
            (*model.prior(), Network::from_decoder(model.decoder()))
        }
    };
    let (d, dd) = (decoder.dim_in(), decoder.dim_out());
    let enc_widths = [&[dd][..], &hidden, &[2 * d]].concat();
    let encoder = init::mlp(&enc_widths, alpha, &mut r).map_err(|e| fail(e.message))?;
    let vae = Vae::new(prior, encoder, decoder).map_err(|e| fail(e.message))?;
    save_vae(&vae, out.path()).map_err(|e| fail(e.to_string()))?;
    let target = out.target().to_path_buf();
    out.commit()?;
    Ok(format!(
        "VAE d = {d}, D = {dd}, encoder {enc_widths:?}, the decoder of the model -> {}",
        target.display()
    ))
}
