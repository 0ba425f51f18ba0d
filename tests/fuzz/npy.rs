//! The `.npy` target: seed files, and the properties every answer of the reader must have, checked
//! with arithmetic independent of the reader's (u128, which no size in a file can overflow).

use ima_oracle::io::npy::{encode_npy, parse_npy_with, NpyArray, NpyErrorKind};
use ima_oracle::io::Limits;
use std::path::Path;

/// Seed files: what our encoder writes (ranks 0–3, an empty array), hand-made headers for the other
/// dtypes, orders and versions, and the files numpy wrote in `tests/fixtures/npy`.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for shape in [
        vec![],
        vec![0],
        vec![3],
        vec![2, 3],
        vec![2, 1, 2],
        vec![0, 4],
    ] {
        let n: usize = shape.iter().product();
        let data = (0..n).map(|i| i as f64 * 0.5 - 1.0).collect();
        out.push(encode_npy(&NpyArray::new(shape, data).unwrap()));
    }
    let headers = [
        (
            1u8,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            24,
        ),
        (
            2,
            "{'descr': '>f8', 'fortran_order': True, 'shape': (3, 2), }",
            48,
        ),
        (
            3,
            "{'descr': '>f4', 'fortran_order': True, 'shape': (2, 2, 2), }",
            32,
        ),
        (1, "{'descr':'<f8','fortran_order':False,'shape':(2,)}", 16),
    ];
    for (version, header, data_len) in headers {
        out.push(file(version, header, &vec![0x3f; data_len]));
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy");
    let mut names: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .collect();
    names.sort();
    out.extend(names.iter().map(|p| std::fs::read(p).unwrap()));
    out
}

/// An `.npy` file of the given version, header text and data bytes.
pub fn file(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = b"\x93NUMPY".to_vec();
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

/// Where the data starts according to the prefix alone (None when there is no complete prefix).
fn data_start(b: &[u8]) -> Option<u128> {
    let len_size = match b.get(6)? {
        1 => 2,
        _ => 4,
    };
    let field = b.get(8..8 + len_size)?;
    let len = field
        .iter()
        .rev()
        .fold(0u128, |acc, &x| acc * 256 + u128::from(x));
    Some(8 + len_size as u128 + len)
}

/// The product of a shape, in u128 (None when even that overflows).
fn product(shape: &[usize]) -> Option<u128> {
    shape
        .iter()
        .try_fold(1u128, |a, &s| a.checked_mul(s as u128))
}

/// Bitwise equality of two answers (NaN payloads included).
fn same(a: &Result<NpyArray, NpyErrorKind>, b: &Result<NpyArray, NpyErrorKind>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            a.shape() == b.shape()
                && a.data()
                    .iter()
                    .map(|v| v.to_bits())
                    .eq(b.data().iter().map(|v| v.to_bits()))
        }
        (Err(a), Err(b)) => a == b,
        _ => false,
    }
}

/// Parses `b` within `limits` and checks the answer; `Err` describes a violated property.
pub fn check(b: &[u8], limits: &Limits) -> Result<Outcome, String> {
    let first = parse_npy_with(b, limits);
    let second = parse_npy_with(b, limits);
    if !same(&first, &second) {
        return Err(format!("two parses differ: {first:?} vs {second:?}"));
    }
    let total = b.len() as u128;
    match first {
        Ok(a) => {
            let count = product(a.shape()).ok_or("accepted an overflowing shape")?;
            if count > u128::from(limits.max_elements) {
                return Err(format!(
                    "accepted {count} entries over the limit {limits:?}"
                ));
            }
            if count != a.data().len() as u128 {
                return Err(format!(
                    "shape {:?} but {} values",
                    a.shape(),
                    a.data().len()
                ));
            }
            let start = data_start(b).ok_or("accepted a file without a prefix")?;
            let body = total.checked_sub(start).ok_or("data starts past the end")?;
            if body != 4 * count && body != 8 * count {
                return Err(format!("{body} data bytes for {count} values"));
            }
            Ok(Outcome::Accepted)
        }
        Err(NpyErrorKind::Truncated { needed, found }) => {
            if u128::from(found) != total || needed <= found {
                return Err(format!(
                    "truncated: needs {needed}, has {found}, but the file has {total} bytes"
                ));
            }
            Ok(Outcome::Refused("truncated"))
        }
        Err(NpyErrorKind::TrailingData { expected, found }) => {
            let start = data_start(b).ok_or("trailing data without a prefix")?;
            let found = found.ok_or("a buffer's length is known")?;
            if u128::from(found) + start != total || found <= expected {
                return Err(format!(
                    "trailing data: expected {expected}, found {found}, file {total}, start {start}"
                ));
            }
            Ok(Outcome::Refused("trailing data"))
        }
        Err(NpyErrorKind::TooLarge { shape, limit }) => {
            let limit = u128::from(limit);
            let bytes = product(&shape)
                .and_then(|c| c.checked_mul(8))
                .and_then(|n| n.checked_add(data_start(b).unwrap_or(0)));
            let over = product(&shape).is_none_or(|c| c > limit)
                || shape.iter().any(|&s| s as u128 > limit)
                || bytes.is_none_or(|n| n > u64::MAX.into());
            if !over {
                return Err(format!("refused {shape:?} as too large for {limit}"));
            }
            Ok(Outcome::Refused("too large"))
        }
        Err(NpyErrorKind::HeaderTooLong { len, limit }) => {
            let stated = data_start(b).ok_or("a header length without a prefix")?;
            let prefix = if b[6] == 1 { 10 } else { 12 };
            if u128::from(len) + prefix != stated || len <= limit {
                return Err(format!(
                    "header too long: {len} (limit {limit}), stated {stated}"
                ));
            }
            Ok(Outcome::Refused("header too long"))
        }
        Err(e) => {
            if e.to_string().is_empty() {
                return Err(format!("an empty message for {e:?}"));
            }
            Ok(Outcome::Refused(kind_name(&e)))
        }
    }
}

/// A short name of an error kind, for the statistics.
fn kind_name(e: &NpyErrorKind) -> &'static str {
    match e {
        NpyErrorKind::BadMagic => "bad magic",
        NpyErrorKind::UnsupportedVersion(..) => "version",
        NpyErrorKind::BadHeader(_) => "bad header",
        NpyErrorKind::UnsupportedDtype(_) | NpyErrorKind::StructuredDtype => "dtype",
        _ => "other",
    }
}

/// What the reader made of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// A valid array.
    Accepted,
    /// An error of the named kind.
    Refused(&'static str),
}
