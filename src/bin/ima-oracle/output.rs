//! Writing a set of output arrays all-or-nothing: every file is written atomically, and if one
//! fails, the ones already written are removed — no partial output is ever left behind.

use ima_oracle::io::npy::{write_npy, NpyArray};
use std::path::Path;

/// The named arrays of one command's output.
#[derive(Default)]
pub struct Output {
    arrays: Vec<(String, NpyArray)>,
}

impl Output {
    /// Adds `name.npy` with the given shape and C-order data.
    ///
    /// # Panics
    /// If the shape's product is not `data.len()`. Every caller builds the shape and the data of an
    /// output from the same point count and dimensions, so a mismatch is a bug in the command, not
    /// bad input.
    pub fn add(&mut self, name: &str, shape: Vec<usize>, data: Vec<f64>) {
        let a = NpyArray::new(shape, data)
            .unwrap_or_else(|e| panic!("output {name}.npy: {e} (a bug in the command)"));
        self.arrays.push((format!("{name}.npy"), a));
    }

    /// Writes every array into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut written = Vec::new();
        for (name, a) in &self.arrays {
            let p = dir.join(name);
            if let Err(e) = write_npy(&p, a) {
                for w in &written {
                    let _ = std::fs::remove_file(w);
                }
                return Err(e.to_string());
            }
            written.push(p);
        }
        Ok(())
    }
}

/// Reads an N×k matrix of finite numbers, checking k.
pub fn read_points(path: &Path, what: &str, cols: usize) -> Result<nalgebra::DMatrix<f64>, String> {
    let m = ima_oracle::io::npy::read_matrix(path).map_err(|e| e.to_string())?;
    if m.ncols() != cols {
        return Err(format!(
            "{}: {what} must have shape (N, {cols}), found ({}, {})",
            path.display(),
            m.nrows(),
            m.ncols()
        ));
    }
    Ok(m)
}
