//! The `.npy` header: the fixed prefix (magic, version, header length) and the dict literal
//! `{'descr': …, 'fortran_order': …, 'shape': …}` — read from a file, and written as numpy does.

use super::literal::{Lexer, Value};
use super::{shape_text, NpyErrorKind, MAGIC};
use crate::io::shown;
use crate::tol::MAX_NPY_RANK;

/// What the header dict says about the data.
pub(super) struct Header {
    /// The dtype string, e.g. `<f8`.
    pub(super) descr: String,
    /// Whether the data is in column-major order.
    pub(super) fortran_order: bool,
    /// The array's shape.
    pub(super) shape: Vec<usize>,
}

/// What the format version says about the prefix.
pub(super) struct Version {
    /// Bytes of the header-length field: 2 (version 1.0) or 4 (2.0, 3.0).
    pub(super) len_size: usize,
    /// Whether the header is UTF-8 (3.0) rather than ASCII.
    pub(super) utf8: bool,
}

/// Checks the magic string and the version in `first`, the file's first 8 bytes (fewer when the
/// file is shorter).
pub(super) fn check_magic(first: &[u8]) -> Result<Version, NpyErrorKind> {
    if first.len() < 6 || &first[..6] != MAGIC {
        return Err(NpyErrorKind::BadMagic);
    }
    if first.len() < 8 {
        return Err(NpyErrorKind::Truncated {
            needed: 8,
            found: first.len() as u64,
        });
    }
    match (first[6], first[7]) {
        (1, 0) => Ok(Version {
            len_size: 2,
            utf8: false,
        }),
        (2, 0) => Ok(Version {
            len_size: 4,
            utf8: false,
        }),
        (3, 0) => Ok(Version {
            len_size: 4,
            utf8: true,
        }),
        (major, minor) => Err(NpyErrorKind::UnsupportedVersion(major, minor)),
    }
}

/// The header length stated by the little-endian field `field` (2 or 4 bytes).
pub(super) fn header_len(field: &[u8]) -> u64 {
    field
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// The header's text: ASCII for versions 1 and 2, UTF-8 for version 3.
pub(super) fn header_text<'a>(bytes: &'a [u8], version: &Version) -> Result<&'a str, NpyErrorKind> {
    if !version.utf8 {
        if let Some(i) = bytes.iter().position(|b| !b.is_ascii()) {
            return Err(NpyErrorKind::BadHeader(format!(
                "byte {i} of the header of a version 1 or 2 file is 0x{:02x}, not ASCII",
                bytes[i]
            )));
        }
    }
    std::str::from_utf8(bytes).map_err(|e| {
        NpyErrorKind::BadHeader(format!(
            "the header is not UTF-8 (invalid byte at {})",
            e.valid_up_to()
        ))
    })
}

/// Parses the header dict: exactly the keys `descr`, `fortran_order` and `shape`, once each.
pub(super) fn parse_header(h: &str) -> Result<Header, NpyErrorKind> {
    let mut lx = Lexer::new(h);
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
            ("descr", Value::Structured) if descr.is_none() => {
                return Err(NpyErrorKind::StructuredDtype)
            }
            ("fortran_order", Value::Bool(b)) if fortran.is_none() => fortran = Some(b),
            ("shape", Value::Tuple(t)) if shape.is_none() => shape = Some(t),
            (k, _) => {
                return Err(NpyErrorKind::BadHeader(format!(
                    "unexpected, repeated or ill-typed key '{}'",
                    shown(k)
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
        (_, _, Some(shape)) if shape.len() > MAX_NPY_RANK => Err(NpyErrorKind::BadHeader(format!(
            "the shape has {} axes, more than {MAX_NPY_RANK} (tol::MAX_NPY_RANK, numpy's limit)",
            shape.len()
        ))),
        (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header {
            descr,
            fortran_order,
            shape,
        }),
        _ => Err(NpyErrorKind::BadHeader(
            "the dict must have the keys 'descr', 'fortran_order' and 'shape'".into(),
        )),
    }
}

/// The prefix and header numpy writes for a `<f8` C-order array of `shape`: padded with spaces so
/// that the data starts at a multiple of 64 bytes, the last header byte being '\n'. Version 2.0
/// only when the header does not fit a u16 length.
pub(super) fn encode_header(shape: &[usize]) -> Vec<u8> {
    let shape = shape_text(shape);
    let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let (version, len_size) = if dict.len() + 1 + 10 <= 65535 {
        (1u8, 2usize)
    } else {
        (2u8, 4usize)
    };
    let unpadded = 8 + len_size + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    let header_len = dict.len() + pad + 1;
    let mut out = Vec::with_capacity(8 + len_size + header_len);
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
    out
}
