//! The arrays of one command's output, written into the staging folder of an
//! [`crate::outdir::OutDir`] (which makes the set all-or-nothing), and the reading of point arrays
//! (N × k) with errors that show shapes as the user wrote them.

use ima_oracle::io::npy::{read_npy_with, shape_text, write_npy, NpyArray};
use ima_oracle::io::{Limits, RAISE_ELEMENTS};
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

    /// Adds `name.npy` holding the array `a`.
    pub fn add_array(&mut self, name: &str, a: NpyArray) {
        self.arrays.push((format!("{name}.npy"), a));
    }

    /// Writes every array into `dir` (the staging folder of an output folder).
    pub fn write_into(&self, dir: &Path) -> Result<(), String> {
        for (name, a) in &self.arrays {
            write_npy(dir.join(name), a).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Refuses an output of `rows` × `per_row` entries beyond `limits.max_elements` (`what` names it),
/// before anything is computed.
pub fn check_output_size(
    what: &str,
    rows: u64,
    per_row: u64,
    limits: &Limits,
) -> Result<(), String> {
    let n = rows
        .checked_mul(per_row)
        .filter(|&n| n <= limits.max_elements);
    n.map(|_| ()).ok_or_else(|| {
        format!(
            "{what} would hold {rows} x {per_row} entries, more than the limit of {} ({RAISE_ELEMENTS})",
            limits.max_elements
        )
    })
}

/// Reads an N × `cols` array of finite numbers (`what` names it; a 1-d array of length N is taken
/// as N × 1 when `cols` is 1).
pub fn read_points(
    path: &Path,
    what: &str,
    cols: usize,
    limits: &Limits,
) -> Result<nalgebra::DMatrix<f64>, String> {
    let a = read_npy_with(path, limits).map_err(|e| e.to_string())?;
    let (rows, c) = match *a.shape() {
        [r, c] => (r, c),
        [n] if cols == 1 => (n, 1),
        _ => (0, usize::MAX),
    };
    if c != cols {
        let hint = match *a.shape() {
            [n] if n == cols => format!(
                " — a 1-d array; one point is written as shape (1, {cols}), e.g. np.save(f, x[None, :])"
            ),
            [] => " — a 0-d array (a single number)".into(),
            _ => String::new(),
        };
        return Err(format!(
            "{}: {what} must have shape (N, {cols}), found shape {}{hint}",
            path.display(),
            shape_text(a.shape())
        ));
    }
    if let Some(index) = a.first_non_finite() {
        return Err(format!(
            "{}: {what}[{}, {}] is NaN or infinite",
            path.display(),
            index / cols.max(1),
            index % cols.max(1)
        ));
    }
    Ok(nalgebra::DMatrix::from_row_slice(rows, cols, a.data()))
}
