//! Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! Layout: the magic `\x93NUMPY`, the version (major, minor), the header length (u16 little-endian
//! for 1.0, u32 for 2.0 and 3.0), an ASCII (1.0, 2.0) or UTF-8 (3.0) Python dict literal
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }` padded with spaces and a newline,
//! then the raw data.
//!
//! Read: dtypes `<f8`, `>f8`, `<f4`, `>f4` (f4 widened exactly to f64), C or Fortran order, any rank
//! (a 0-d array has shape `()`). The whole file is read first; the header's shape is then checked
//! against the file's actual length (with overflow-checked arithmetic), so nothing is ever allocated
//! from a size the header merely claims. Object arrays (pickles), structured or other dtypes, bad
//! magic, truncated files and headers that disagree with the file are errors that name the file.
//!
//! Write: version 1.0 (2.0 when the header needs it), `<f8`, C order, the header padded so that the
//! data starts at a multiple of 64 bytes — exactly the bytes `numpy.save` writes for the same array.
//! Files are written to a temporary name in the same folder and renamed, so a failed write never
//! leaves a partial file behind.

use nalgebra::{DMatrix, DVector};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// An n-dimensional array of f64 in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    shape: Vec<usize>,
    data: Vec<f64>,
}

/// What went wrong reading or writing an `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyErrorKind {
    /// The file could not be opened, read or written.
    Io(String),
    /// The file does not start with `\x93NUMPY`.
    BadMagic,
    /// The format version is not 1.0, 2.0 or 3.0.
    UnsupportedVersion(u8, u8),
    /// The file ends before the header or the data does.
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        found: u64,
    },
    /// The header is not a dict literal with exactly `descr`, `fortran_order` and `shape`.
    BadHeader(String),
    /// The dtype is not `<f8`, `>f8`, `<f4` or `>f4` (objects, pickles, integers, structs …).
    UnsupportedDtype(String),
    /// The data is longer than the header's shape says.
    TrailingData {
        /// Bytes expected after the header.
        expected: u64,
        /// Bytes present after the header.
        found: u64,
    },
    /// The array's shape does not fit what the caller needs (a matrix, a vector, a given size).
    WrongShape {
        /// What was expected, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// The array holds a NaN or an infinity where finite numbers are required.
    NonFinite {
        /// Flat (C-order) index of the first such entry.
        index: usize,
    },
}

/// An error about one `.npy` file (or an in-memory buffer, when `path` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct NpyError {
    /// The file concerned.
    pub path: Option<PathBuf>,
    /// What is wrong.
    pub kind: NpyErrorKind,
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: ", p.display())?,
            None => write!(f, "npy buffer: ")?,
        }
        match &self.kind {
            NpyErrorKind::Io(e) => write!(f, "{e}"),
            NpyErrorKind::BadMagic => write!(f, "not an .npy file (bad magic string)"),
            NpyErrorKind::UnsupportedVersion(a, b) => {
                write!(f, "unsupported .npy format version {a}.{b}")
            }
            NpyErrorKind::Truncated { needed, found } => {
                write!(f, "truncated: needs {needed} bytes, has {found}")
            }
            NpyErrorKind::BadHeader(m) => write!(f, "malformed header: {m}"),
            NpyErrorKind::UnsupportedDtype(d) => write!(
                f,
                "unsupported dtype {d} (only <f8, >f8, <f4, >f4; object arrays and pickles are refused)"
            ),
            NpyErrorKind::TrailingData { expected, found } => write!(
                f,
                "the header's shape implies {expected} data bytes but the file has {found}"
            ),
            NpyErrorKind::WrongShape { expected, found } => {
                write!(f, "shape {found:?} where {expected} was expected")
            }
            NpyErrorKind::NonFinite { index } => {
                write!(f, "entry {index} (C order) is NaN or infinite")
            }
        }
    }
}

impl std::error::Error for NpyError {}

impl NpyError {
    /// The problem, without the file name.
    pub fn kind_message(&self) -> String {
        let full = NpyError {
            path: None,
            kind: self.kind.clone(),
        }
        .to_string();
        full.trim_start_matches("npy buffer: ").to_string()
    }
}

fn err(path: Option<&Path>, kind: NpyErrorKind) -> NpyError {
    NpyError {
        path: path.map(Path::to_path_buf),
        kind,
    }
}

impl NpyArray {
    /// An array of the given shape with `data` in C order; `None` if the lengths disagree.
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Option<Self> {
        let n = shape.iter().try_fold(1usize, |a, &s| a.checked_mul(s))?;
        (n == data.len()).then_some(NpyArray { shape, data })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The data in C order.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// A rows×cols array from a matrix (rows stay rows, as numpy stores them).
    pub fn from_matrix(m: &DMatrix<f64>) -> Self {
        let (r, c) = m.shape();
        let data = (0..r)
            .flat_map(|i| (0..c).map(move |j| m[(i, j)]))
            .collect();
        NpyArray {
            shape: vec![r, c],
            data,
        }
    }

    /// A 1-d array from a vector.
    pub fn from_vector(v: &DVector<f64>) -> Self {
        NpyArray {
            shape: vec![v.len()],
            data: v.as_slice().to_vec(),
        }
    }

    /// The array as a matrix: a 2-d array as it is, a 1-d array of length n as an n×1 column.
    pub fn to_matrix(&self) -> Result<DMatrix<f64>, NpyErrorKind> {
        match *self.shape.as_slice() {
            [r, c] => Ok(DMatrix::from_row_slice(r, c, &self.data)),
            [n] => Ok(DMatrix::from_column_slice(n, 1, &self.data)),
            _ => Err(NpyErrorKind::WrongShape {
                expected: "a 1-d or 2-d array".into(),
                found: self.shape.clone(),
            }),
        }
    }

    /// The index of the first non-finite entry, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.data.iter().position(|t| !t.is_finite())
    }
}

/// Reads an `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| err(Some(path), NpyErrorKind::Io(e.to_string())))?;
    parse_npy(&bytes).map_err(|kind| err(Some(path), kind))
}

/// Reads an `.npy` file that must hold a 2-d array of finite numbers (a 1-d array is read as a column).
pub fn read_matrix(path: impl AsRef<Path>) -> Result<DMatrix<f64>, NpyError> {
    let path = path.as_ref();
    let a = read_npy(path)?;
    if let Some(index) = a.first_non_finite() {
        return Err(err(Some(path), NpyErrorKind::NonFinite { index }));
    }
    a.to_matrix().map_err(|k| err(Some(path), k))
}

#[derive(Clone, Copy)]
enum Dtype {
    F8Le,
    F8Be,
    F4Le,
    F4Be,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::F8Le | Dtype::F8Be => 8,
            Dtype::F4Le | Dtype::F4Be => 4,
        }
    }
    fn decode(self, b: &[u8]) -> f64 {
        match self {
            Dtype::F8Le => f64::from_le_bytes(b.try_into().expect("8 bytes")),
            Dtype::F8Be => f64::from_be_bytes(b.try_into().expect("8 bytes")),
            Dtype::F4Le => f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64,
            Dtype::F4Be => f32::from_be_bytes(b.try_into().expect("4 bytes")) as f64,
        }
    }
}

/// Parses the bytes of an `.npy` file.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, NpyErrorKind> {
    let total = bytes.len() as u64;
    if bytes.len() < 8 {
        if bytes.len() < 6 || &bytes[..6] != MAGIC {
            return Err(NpyErrorKind::BadMagic);
        }
        return Err(NpyErrorKind::Truncated {
            needed: 8,
            found: total,
        });
    }
    if &bytes[..6] != MAGIC {
        return Err(NpyErrorKind::BadMagic);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_size, utf8) = match (major, minor) {
        (1, 0) => (2usize, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => return Err(NpyErrorKind::UnsupportedVersion(major, minor)),
    };
    let prefix = 8 + len_size;
    if bytes.len() < prefix {
        return Err(NpyErrorKind::Truncated {
            needed: prefix as u64,
            found: total,
        });
    }
    let header_len = if len_size == 2 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as u64
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as u64
    };
    let data_start = prefix as u64 + header_len;
    if total < data_start {
        return Err(NpyErrorKind::Truncated {
            needed: data_start,
            found: total,
        });
    }
    let header_bytes = &bytes[prefix..data_start as usize];
    let header = if utf8 {
        std::str::from_utf8(header_bytes)
            .map_err(|_| NpyErrorKind::BadHeader("header is not UTF-8".into()))?
    } else {
        if !header_bytes.is_ascii() {
            return Err(NpyErrorKind::BadHeader(
                "header of a version 1 or 2 file is not ASCII".into(),
            ));
        }
        std::str::from_utf8(header_bytes).expect("ASCII is UTF-8")
    };
    let (descr, fortran, shape) = parse_header(header)?;
    let dtype = match descr.as_str() {
        "<f8" => Dtype::F8Le,
        ">f8" => Dtype::F8Be,
        "<f4" => Dtype::F4Le,
        ">f4" => Dtype::F4Be,
        _ => return Err(NpyErrorKind::UnsupportedDtype(descr)),
    };
    let count = shape
        .iter()
        .try_fold(1u64, |a, &s| a.checked_mul(s as u64))
        .ok_or_else(|| NpyErrorKind::BadHeader(format!("shape {shape:?} overflows")))?;
    let needed = count
        .checked_mul(dtype.size() as u64)
        .ok_or_else(|| NpyErrorKind::BadHeader(format!("shape {shape:?} overflows")))?;
    let found = total - data_start;
    if found < needed {
        return Err(NpyErrorKind::Truncated {
            needed: data_start + needed,
            found: total,
        });
    }
    if found > needed {
        return Err(NpyErrorKind::TrailingData {
            expected: needed,
            found,
        });
    }
    // The file's length has confirmed the count: allocating it is now safe.
    let raw = &bytes[data_start as usize..];
    let values: Vec<f64> = raw
        .chunks_exact(dtype.size())
        .map(|b| dtype.decode(b))
        .collect();
    let data = if fortran && shape.len() > 1 {
        fortran_to_c(&shape, &values)
    } else {
        values
    };
    Ok(NpyArray { shape, data })
}

/// Reorders column-major (Fortran) data of the given shape into row-major (C) order.
fn fortran_to_c(shape: &[usize], f: &[f64]) -> Vec<f64> {
    let rank = shape.len();
    let mut fstride = vec![1usize; rank];
    for k in 1..rank {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; rank];
    let mut out = Vec::with_capacity(f.len());
    for _ in 0..f.len() {
        out.push(f[idx.iter().zip(&fstride).map(|(i, s)| i * s).sum::<usize>()]);
        // Advance the C-order multi-index (last axis fastest).
        for k in (0..rank).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// A tiny parser for the Python literal dicts numpy writes as headers.
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

impl<'a> Lexer<'a> {
    fn bad(&self, what: &str) -> NpyErrorKind {
        NpyErrorKind::BadHeader(format!("{what} at byte {} of the header", self.pos))
    }
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] as char).is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), NpyErrorKind> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.bad(&format!("expected '{}'", c as char)))
        }
    }
    fn string(&mut self) -> Result<String, NpyErrorKind> {
        let q = self.peek().ok_or_else(|| self.bad("expected a string"))?;
        if q != b'\'' && q != b'"' {
            return Err(self.bad("expected a quoted string"));
        }
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos] != q {
            if self.s[self.pos] == b'\\' {
                return Err(self.bad("escape sequences are not supported"));
            }
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return Err(self.bad("unterminated string"));
        }
        let out = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(out)
    }
    fn value(&mut self) -> Result<Value, NpyErrorKind> {
        match self.peek() {
            Some(b'\'') | Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => {
                self.pos += 1;
                let mut dims = Vec::new();
                loop {
                    match self.peek() {
                        Some(b')') => {
                            self.pos += 1;
                            return Ok(Value::Tuple(dims));
                        }
                        Some(c) if c.is_ascii_digit() => {
                            let start = self.pos;
                            while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                                self.pos += 1;
                            }
                            let txt =
                                std::str::from_utf8(&self.s[start..self.pos]).expect("digits");
                            dims.push(txt.parse().map_err(|_| self.bad("dimension too large"))?);
                            match self.peek() {
                                Some(b',') => self.pos += 1,
                                Some(b')') => {}
                                _ => return Err(self.bad("expected ',' or ')' in shape")),
                            }
                        }
                        _ => return Err(self.bad("expected a non-negative integer in shape")),
                    }
                }
            }
            _ => {
                let rest = &self.s[self.pos..];
                if rest.starts_with(b"True") {
                    self.pos += 4;
                    Ok(Value::Bool(true))
                } else if rest.starts_with(b"False") {
                    self.pos += 5;
                    Ok(Value::Bool(false))
                } else {
                    Err(self.bad("expected a string, a tuple, True or False"))
                }
            }
        }
    }
}

fn parse_header(h: &str) -> Result<(String, bool, Vec<usize>), NpyErrorKind> {
    let mut lx = Lexer {
        s: h.as_bytes(),
        pos: 0,
    };
    lx.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        if lx.peek() == Some(b'}') {
            lx.pos += 1;
            break;
        }
        let key = lx.string()?;
        lx.expect(b':')?;
        let v = lx.value()?;
        match (key.as_str(), v) {
            ("descr", Value::Str(s)) if descr.is_none() => descr = Some(s),
            ("descr", _) => {
                return Err(NpyErrorKind::UnsupportedDtype(
                    "a structured or repeated descr".into(),
                ))
            }
            ("fortran_order", Value::Bool(b)) if fortran.is_none() => fortran = Some(b),
            ("shape", Value::Tuple(t)) if shape.is_none() => shape = Some(t),
            (k, _) => {
                return Err(NpyErrorKind::BadHeader(format!(
                    "unexpected, repeated or ill-typed key '{k}'"
                )))
            }
        }
        match lx.peek() {
            Some(b',') => lx.pos += 1,
            Some(b'}') => {}
            _ => return Err(lx.bad("expected ',' or '}'")),
        }
    }
    if lx.peek().is_some() {
        return Err(lx.bad("unexpected text after the dict"));
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(NpyErrorKind::BadHeader(
            "the dict must have the keys 'descr', 'fortran_order' and 'shape'".into(),
        )),
    }
}

/// The bytes of an `.npy` file holding `a` as `<f8`, C order — the same bytes `numpy.save` writes.
pub fn encode_npy(a: &NpyArray) -> Vec<u8> {
    let shape = match a.shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", a.shape[0]),
        _ => format!(
            "({})",
            a.shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad with spaces so that magic + version + length + header ends on a multiple of 64, the last
    // header byte being '\n' (numpy's layout). Version 2.0 only when the header exceeds u16.
    let (version, len_size) = if dict.len() + 1 + 10 <= 65535 {
        (1u8, 2usize)
    } else {
        (2u8, 4usize)
    };
    let unpadded = 8 + len_size + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + pad + 1;
    let mut out = Vec::with_capacity(8 + len_size + header_len + 8 * a.data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if len_size == 2 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    for v in &a.data {
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
    use super::*;

    fn header_file(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[version, 0]);
        if version == 1 {
            b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            b.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    }

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

    #[test]
    fn fortran_big_endian_and_f4() {
        // shape (2, 3) in Fortran order holds the columns one after the other.
        let c_order = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let f_order = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0];
        let data: Vec<u8> = f_order.iter().flat_map(|v| v.to_be_bytes()).collect();
        let h = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }\n";
        let a = parse_npy(&header_file(2, h, &data)).unwrap();
        assert_eq!(a.data(), &c_order);
        let data4: Vec<u8> = c_order
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        let h4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
        assert_eq!(
            parse_npy(&header_file(3, h4, &data4)).unwrap().data(),
            &c_order
        );
    }

    #[test]
    fn malformed_files_are_errors() {
        let good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
        let d16 = [0u8; 16];
        assert!(parse_npy(&header_file(1, good, &d16)).is_ok());
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"hello world".to_vec(), "magic"),
            (MAGIC[..4].to_vec(), "magic"),
            (header_file(1, good, &d16[..15]), "truncated"),
            (header_file(1, good, &[0u8; 24]), "trailing"),
            (header_file(1, good, &d16)[..20].to_vec(), "truncated header"),
            (
                header_file(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", &d16),
                "object",
            ),
            (
                header_file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", &d16),
                "int",
            ),
            (
                header_file(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", &d16),
                "struct",
            ),
            (
                header_file(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 3), }",
                    &d16,
                ),
                "overflow",
            ),
            (
                header_file(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
                    &d16,
                ),
                "huge claim",
            ),
            (header_file(1, "{'descr': '<f8', 'shape': (2,), }", &d16), "missing key"),
            (header_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", &d16), "extra key"),
            (header_file(1, "not a dict", &d16), "garbage"),
        ];
        for (bytes, what) in cases {
            assert!(parse_npy(&bytes).is_err(), "{what} was accepted");
        }
        let mut v4 = header_file(1, good, &d16);
        v4[6] = 4;
        assert_eq!(parse_npy(&v4), Err(NpyErrorKind::UnsupportedVersion(4, 0)));
    }

    #[test]
    fn errors_name_the_file() {
        let e = read_npy("/nonexistent/x.npy").unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x.npy: "));
    }
}
