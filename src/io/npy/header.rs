//! The `.npy` header: the fixed prefix (magic, version, header length) and the dict literal
//! `{'descr': …, 'fortran_order': …, 'shape': …}` — read from a file, and written as numpy does.

use super::literal::{Lexer, Value};
use super::{NpyErrorKind, MAGIC};

/// What the header dict says about the data.
pub(super) struct Header {
    /// The dtype string, e.g. `<f8`.
    pub(super) descr: String,
    /// Whether the data is in column-major order.
    pub(super) fortran_order: bool,
    /// The array's shape.
    pub(super) shape: Vec<usize>,
}

/// Checks the prefix of the file `bytes` and returns its header text and the offset of the data.
pub(super) fn split_prefix(bytes: &[u8]) -> Result<(&str, u64), NpyErrorKind> {
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
    Ok((header, data_start))
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
    let shape = match shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
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
