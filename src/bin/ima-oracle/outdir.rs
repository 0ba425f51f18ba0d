//! All-or-nothing output folders. [`OutDir::prepare`] checks `--out` before any computation and
//! creates a fresh, hidden staging folder — beside the target when the target does not exist yet,
//! inside it when it does (so that every move stays on the target's file system, a mount point
//! included); the command writes everything there; [`OutDir::commit`] moves it into place: one
//! rename for a new target, one rename per entry otherwise, undone if any fails. Nothing the run
//! did not create is ever deleted or overwritten, except that `--force` replaces files of the same
//! name (and only after every new file was written); other files already in the folder are left as
//! they were and listed on stderr. If the command fails, or a write fails, dropping the `OutDir`
//! removes the staging folder — which holds only files of this run — and the target is exactly as
//! before.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// How many staging names are tried (left-overs of killed runs of the same process id) before
/// giving up.
const STAGING_TRIES: u32 = 1000;

/// The folder inside the staging folder where `--force` puts the files it replaces until the
/// commit is complete (removed with the staging folder).
const ASIDE: &str = ".replaced";

/// How many entries of a non-empty folder the refusal names.
const NAMED_ENTRIES: usize = 8;

/// An output folder being prepared: the target and the staging folder beside it.
pub struct OutDir {
    /// The folder the user asked for.
    target: PathBuf,
    /// The fresh folder the command writes into: a hidden sibling of a new target, a hidden entry
    /// of an existing one.
    staging: PathBuf,
    /// Whether the target existed when the run started (then `staging` is inside it).
    existed: bool,
    /// Whether files of the same name in an existing target may be replaced.
    force: bool,
    /// Folders above the target this run created (deepest last), removed again on failure.
    created: Vec<PathBuf>,
    /// Whether the staging folder must be kept (a failed roll-back left files there).
    keep: bool,
}

/// A usage error (exit status 2).
fn usage(m: String) -> String {
    format!("usage: {m}")
}

/// The sorted names of the entries of `dir`.
fn entries(dir: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// `names` as a short list: the first [`NAMED_ENTRIES`], then how many more.
fn listed(names: &[String]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .take(NAMED_ENTRIES)
        .map(String::as_str)
        .collect();
    match names.len().saturating_sub(NAMED_ENTRIES) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

impl OutDir {
    /// Checks the output folder `target` — not empty as a name; a folder if it exists, and then
    /// empty unless `force` — and creates the staging folder beside it (and any missing folders
    /// above it, removed again if the run fails). Problems with the flag are usage errors.
    pub fn prepare(target: &Path, force: bool) -> Result<OutDir, String> {
        if target.as_os_str().is_empty() {
            return Err(usage("--out: the folder name is empty".into()));
        }
        let mut target = target.to_path_buf();
        let existed = match fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                target = fs::canonicalize(&target)
                    .map_err(|e| format!("--out {}: {e}", target.display()))?;
                return OutDir::prepare(&target, force);
            }
            Ok(m) if !m.is_dir() => {
                return Err(usage(format!(
                    "--out {}: exists and is not a folder",
                    target.display()
                )))
            }
            Ok(_) => {
                let names = entries(&target)?;
                if !names.is_empty() && !force {
                    return Err(usage(format!(
                        "--out {}: the folder is not empty ({}); choose a new or empty folder, or \
                         pass --force to replace the files this run writes (others stay as they are)",
                        target.display(),
                        listed(&names)
                    )));
                }
                true
            }
            Err(e) if e.kind() == ErrorKind::NotFound => false,
            Err(e) => return Err(format!("--out {}: {e}", target.display())),
        };
        let mut out = OutDir {
            target,
            staging: PathBuf::new(),
            existed,
            force,
            created: Vec::new(),
            keep: false,
        };
        out.staging = if existed {
            create_staging(&out.target, "")?
        } else {
            let parent = match out.target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let name = out
                .target
                .file_name()
                .ok_or_else(|| usage(format!("--out {}: not a folder name", out.target.display())))?
                .to_string_lossy()
                .into_owned();
            out.create_parents(&parent)?;
            create_staging(&parent, &name)?
        };
        Ok(out)
    }

    /// Creates the missing folders down to `parent`, recording them.
    fn create_parents(&mut self, parent: &Path) -> Result<(), String> {
        let mut missing: Vec<&Path> = parent
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
            .collect();
        missing.reverse();
        for p in missing {
            fs::create_dir(p).map_err(|e| format!("--out: cannot create {}: {e}", p.display()))?;
            self.created.push(p.to_path_buf());
        }
        Ok(())
    }

    /// The staging folder: write every output here.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The folder the user asked for.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// An error `e` met while writing into the staging folder, saying that the target is unchanged.
    pub fn failed(&self, e: String) -> String {
        format!(
            "writing the output failed: {e}; {} is unchanged",
            self.target.display()
        )
    }

    /// Moves the outputs into place. A target that does not exist is renamed into place in one
    /// step; into an existing (empty, or with `--force` non-empty) folder the entries are moved one
    /// by one — a namesake first moved aside, and everything moved back if any move fails. Files of
    /// the folder that this run did not write are listed on stderr.
    pub fn commit(mut self) -> Result<(), String> {
        if !self.existed {
            fs::rename(&self.staging, &self.target)
                .map_err(|e| format!("{}: {e}; nothing was written", self.target.display()))?;
            self.created.clear();
            self.staging = PathBuf::new();
            return Ok(());
        }
        let ours: Vec<String> = entries(&self.staging)?
            .into_iter()
            .filter(|n| n != ASIDE)
            .collect();
        let staging_name = self
            .staging
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let before: Vec<String> = entries(&self.target)?
            .into_iter()
            .filter(|n| Some(n) != staging_name.as_ref())
            .collect();
        if !self.force && !before.is_empty() {
            return Err(format!(
                "{}: files appeared in the folder during the run ({}); nothing was written",
                self.target.display(),
                listed(&before)
            ));
        }
        self.merge(&ours)?;
        let untouched: Vec<String> = before.into_iter().filter(|n| !ours.contains(n)).collect();
        if !untouched.is_empty() {
            eprintln!(
                "note: {} also holds files this run did not write, left as they were: {}",
                self.target.display(),
                listed(&untouched)
            );
        }
        self.created.clear();
        Ok(())
    }

    /// Moves each entry of the staging folder into the target, a namesake first moved aside into
    /// `staging/`[`ASIDE`]; on a failure, undoes every move in reverse order.
    fn merge(&mut self, ours: &[String]) -> Result<(), String> {
        let aside = self.staging.join(ASIDE);
        fs::create_dir_all(&aside).map_err(|e| format!("{}: {e}", aside.display()))?;
        let mut done: Vec<(&String, bool)> = Vec::new();
        for name in ours {
            let (new, dst, old) = (
                self.staging.join(name),
                self.target.join(name),
                aside.join(name),
            );
            let had = fs::symlink_metadata(&dst).is_ok();
            let moved = (|| {
                if had {
                    fs::rename(&dst, &old)?;
                }
                fs::rename(&new, &dst).inspect_err(|_| {
                    if had {
                        let _ = fs::rename(&old, &dst);
                    }
                })
            })();
            if let Err(e) = moved {
                self.undo(&done, &aside);
                return Err(format!("{}: {e}; the folder is as it was", dst.display()));
            }
            done.push((name, had));
        }
        Ok(())
    }

    /// Moves the entries `done` back into the staging folder and their namesakes back into place.
    fn undo(&mut self, done: &[(&String, bool)], aside: &Path) {
        for (name, had) in done.iter().rev() {
            let dst = self.target.join(name);
            let back = fs::rename(&dst, self.staging.join(name)).and_then(|()| {
                if *had {
                    fs::rename(aside.join(name), &dst)
                } else {
                    Ok(())
                }
            });
            if let Err(e) = back {
                self.keep = true;
                eprintln!(
                    "error: could not restore {} ({e}); its previous version is in {}",
                    dst.display(),
                    aside.display()
                );
            }
        }
    }
}

impl Drop for OutDir {
    /// Removes the staging folder (only files of this run are in it) unless a failed roll-back
    /// left the user's files there, and the folders above the target this run created.
    fn drop(&mut self) {
        if !self.keep && !self.staging.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.staging);
        }
        for p in self.created.iter().rev() {
            let _ = fs::remove_dir(p);
        }
    }
}

/// A fresh, hidden folder in `parent`: `.NAME.ima-oracle-PID-K` (`.ima-oracle-PID-K` for an empty
/// `name`) with the first K that does not exist yet.
fn create_staging(parent: &Path, name: &str) -> Result<PathBuf, String> {
    for k in 0..STAGING_TRIES {
        let dot_name = if name.is_empty() {
            String::new()
        } else {
            format!(".{name}")
        };
        let p = parent.join(format!("{dot_name}.ima-oracle-{}-{k}", std::process::id()));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "--out: cannot create a folder in {}: {e}",
                    parent.display()
                ))
            }
        }
    }
    Err(format!(
        "--out: {STAGING_TRIES} staging folders .ima-oracle-{}-* already exist in {}",
        std::process::id(),
        parent.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh scratch folder for test `name`.
    fn scratch(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ima-outdir-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        p
    }

    /// The names in `dir`, hidden ones included.
    fn names(dir: &Path) -> Vec<String> {
        entries(dir).unwrap()
    }

    #[test]
    fn a_new_folder_appears_whole_or_not_at_all() {
        let root = scratch("new");
        let target = root.join("a/b/out");
        let out = OutDir::prepare(&target, false).unwrap();
        fs::write(out.path().join("x.npy"), b"new").unwrap();
        assert!(!target.exists(), "nothing is visible before the commit");
        out.commit().unwrap();
        assert_eq!(names(&target), ["x.npy"]);
        assert_eq!(names(&root.join("a/b")), ["out"], "no staging left behind");
        // A run that fails after preparing leaves nothing: not the staging folder, not the
        // folders it created above the target.
        let out = OutDir::prepare(&root.join("c/d/out"), false).unwrap();
        fs::write(out.path().join("x.npy"), b"new").unwrap();
        drop(out);
        assert_eq!(names(&root), ["a"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn existing_folders_are_refused_or_merged_with_force() {
        let root = scratch("existing");
        let target = root.join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x.npy"), b"old").unwrap();
        fs::write(target.join("notes.txt"), b"mine").unwrap();
        let e = OutDir::prepare(&target, false).err().unwrap();
        assert!(
            e.starts_with("usage: ") && e.contains("(notes.txt, x.npy)"),
            "{e}"
        );
        let out = OutDir::prepare(&target, true).unwrap();
        assert!(
            out.path().starts_with(&target),
            "staging inside an existing target"
        );
        fs::write(out.path().join("x.npy"), b"new").unwrap();
        fs::write(out.path().join("z.npy"), b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(names(&target), ["notes.txt", "x.npy", "z.npy"]);
        assert_eq!(fs::read(target.join("x.npy")).unwrap(), b"new");
        assert_eq!(fs::read(target.join("notes.txt")).unwrap(), b"mine");
        // An empty existing folder needs no --force.
        let empty = root.join("empty");
        fs::create_dir(&empty).unwrap();
        let out = OutDir::prepare(&empty, false).unwrap();
        fs::write(out.path().join("x.npy"), b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(names(&empty), ["x.npy"]);
        // A file, or an empty name, is not an output folder.
        assert!(OutDir::prepare(&target.join("x.npy"), true)
            .err()
            .unwrap()
            .contains("exists and is not a folder"));
        assert!(OutDir::prepare(Path::new(""), false).is_err());
        fs::remove_dir_all(&root).unwrap();
    }

    /// When a move fails half-way, every move before it is undone: the old files are back, the
    /// new ones are not visible. The failure is provoked by a non-empty folder where the second
    /// namesake is to be put aside (renaming a file over it fails, even for root).
    #[test]
    fn a_failed_move_is_undone() {
        let root = scratch("undo");
        let target = root.join("out");
        fs::create_dir(&target).unwrap();
        for f in ["a.npy", "b.npy"] {
            fs::write(target.join(f), b"old").unwrap();
        }
        let out = OutDir::prepare(&target, true).unwrap();
        for f in ["a.npy", "b.npy"] {
            fs::write(out.path().join(f), b"new").unwrap();
        }
        fs::create_dir_all(out.path().join(".replaced/b.npy/blocker")).unwrap();
        let e = out.commit().unwrap_err();
        assert!(e.contains("the folder is as it was"), "{e}");
        assert_eq!(names(&target), ["a.npy", "b.npy"]);
        for f in ["a.npy", "b.npy"] {
            assert_eq!(fs::read(target.join(f)).unwrap(), b"old", "{f}");
        }
        fs::remove_dir_all(&root).unwrap();
    }
}
