//! Writing `.npy` files: `<f8`, C order, byte for byte what `numpy.save` writes; every file written
//! atomically (a temporary name in the same folder, then renamed).

use super::error::err;
use super::header::encode_header;
use super::{NpyArray, NpyError, NpyErrorKind};
use std::fs;
use std::io::Write;
use std::path::Path;

/// The bytes of an `.npy` file holding `a` as `<f8`, C order — the same bytes `numpy.save` writes.
pub fn encode_npy(a: &NpyArray) -> Vec<u8> {
    let mut out = encode_header(a.shape());
    out.reserve_exact(8 * a.data().len());
    for v in a.data() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes `bytes` to `path` atomically: to a temporary file in the same folder, then renamed.
/// On failure the temporary file is removed and `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `a` to `path` as `<f8` C order, atomically (see [`write_atomic`]).
pub fn write_npy(path: impl AsRef<Path>, a: &NpyArray) -> Result<(), NpyError> {
    let path = path.as_ref();
    write_atomic(path, &encode_npy(a)).map_err(|e| err(Some(path), NpyErrorKind::Io(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::super::parse_npy;
    use super::*;

    #[test]
    fn round_trip_is_byte_exact() {
        for shape in [vec![], vec![0], vec![5], vec![2, 3], vec![2, 1, 3, 2]] {
            let n: usize = shape.iter().product();
            let data: Vec<f64> = (0..n).map(|i| (i as f64).sin() * 1e3 - 0.1).collect();
            let a = NpyArray::new(shape, data).unwrap();
            let bytes = encode_npy(&a);
            assert_eq!(bytes.len() % 64, (8 * n) % 64);
            let b = parse_npy(&bytes).unwrap();
            assert_eq!(a, b);
            assert_eq!(encode_npy(&b), bytes);
        }
    }
}
