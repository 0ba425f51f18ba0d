//! Output folders are all or nothing (issue 15): a non-empty folder is refused (naming what is in
//! the way) unless `--force`; `--force` replaces files of the same name and leaves the others, saying
//! so; and a write that fails half-way — here for real, with the file-size limit of the process —
//! leaves the user's folder byte for byte as it was, with nothing left beside it.

mod cli_support;

use cli_support::{mlp3, names, npy, run, s, scratch, snapshot, stderr};
use std::process::Command;

#[test]
fn a_non_empty_folder_is_refused_without_force() {
    let dir = scratch("outputs", "refuse");
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("g.npy"), b"older g").unwrap();
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    let before = snapshot(&dir);
    let o = run(&["sample", &mlp3(), "--n", "4", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not empty (g.npy, notes.txt)") && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&dir), before);
    // With --force: z.npy and x.npy are written, g.npy and notes.txt stay, and stderr says so.
    let o = run(&["sample", &mlp3(), "--n", "4", "--out", s(&out), "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(&out), ["g.npy", "notes.txt", "x.npy", "z.npy"]);
    assert_eq!(std::fs::read(out.join("g.npy")).unwrap(), b"older g");
    assert!(
        stderr(&o).contains("left as they were: g.npy, notes.txt"),
        "{}",
        stderr(&o)
    );
    // Run again with another seed: the namesakes are replaced.
    let z = std::fs::read(out.join("z.npy")).unwrap();
    let o = run(&[
        "sample",
        &mlp3(),
        "--n",
        "4",
        "--seed",
        "9",
        "--out",
        s(&out),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(out.join("z.npy")).unwrap(), z);
    assert_eq!(names(&dir), ["out"], "nothing left beside the folder");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A model with d = 1 and D = 20, so that x.npy (N × 20) is 20 times larger than z.npy (N × 1).
fn wide_model(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let w: Vec<f64> = (1..=20).map(f64::from).collect();
    npy(&dir.join("W.npy"), &[20, 1], &w);
    std::fs::write(
        dir.join("model.txt"),
        "ima-oracle model 1\ndim 1\nprior gaussian 1\nstep linear W.npy\n",
    )
    .unwrap();
}

/// Runs `sample` with a file-size limit of 8 blocks (`ulimit -f`: 4 KiB or 8 KiB, as shells count
/// 512- or 1024-byte blocks), SIGXFSZ ignored so that the write fails with EFBIG instead of killing
/// the process: z.npy (928 bytes for 100 points) is written, x.npy (16 128 bytes) fails.
#[cfg(unix)]
fn sample_with_small_files(
    model: &std::path::Path,
    out: &std::path::Path,
    force: bool,
) -> std::process::Output {
    let force = if force { " --force" } else { "" };
    let script = format!(
        "trap '' XFSZ; ulimit -f 8; exec '{}' sample '{}' --n 100 --out '{}'{force}",
        env!("CARGO_BIN_EXE_ima-oracle"),
        s(model),
        s(out)
    );
    Command::new("sh").args(["-c", &script]).output().unwrap()
}

/// The case: a write fails after others succeeded. Before, the clean-up deleted the user's
/// older files and left others — a mixed folder. Now the user's folder is untouched and nothing is
/// left beside it (neither the staging folder nor the folders created above a new target).
#[cfg(unix)]
#[test]
fn a_failed_write_leaves_everything_as_it_was() {
    let dir = scratch("outputs", "failed-write");
    let model = dir.join("wide");
    wide_model(&model);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    for (f, text) in [
        ("z.npy", "older z"),
        ("x.npy", "older x"),
        ("log_flow.npy", "older"),
    ] {
        std::fs::write(out.join(f), text).unwrap();
    }
    let before = snapshot(&dir);
    let o = sample_with_small_files(&model, &out, true);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("x.npy") && stderr(&o).contains("is unchanged"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&dir), before, "the folder changed");
    assert_eq!(names(&out), ["log_flow.npy", "x.npy", "z.npy"]);
    // A new, nested target: not even its parent folders remain.
    let nested = dir.join("new/deep/out");
    let o = sample_with_small_files(&model, &nested, false);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(names(&dir), ["out", "wide"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
