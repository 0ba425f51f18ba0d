//! The byte- and token-level mutations of the fuzzer: each takes a seed input and a seeded
//! generator and returns a new input, mixing random bytes with values chosen to hit boundaries
//! (lengths that overflow, digits that make huge shapes, invisible characters, dtype strings).

use ima_oracle::generate::OracleRng;
use rand::RngExt;

/// Bytes worth writing anywhere: NUL, 0xff, sign bits, the header's punctuation, a no-break space
/// and a byte-order mark's first byte.
const BYTES: &[u8] = b"\x00\xff\x7f\x80\xa0\xef9(),' {}\n:\\\"";

/// Text worth inserting into a header or a manifest: numbers at every overflow boundary, dtypes
/// numpy writes (and some it does not), and the keywords of both formats.
pub const TOKENS: &[&str] = &[
    "2305843009213693951",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "4294967296",
    "65536",
    "1000000000000",
    "0",
    "1",
    "-1",
    "99999999999999999999999",
    ",",
    ", ",
    "(",
    ")",
    "()",
    "(0,)",
    "True",
    "False",
    "'<f4'",
    "'>f8'",
    "'|O'",
    "'<i8'",
    "'<f2'",
    "[('a', '<f8')]",
    "'descr'",
    "'shape'",
    "'fortran_order'",
    "{",
    "}",
    "\u{a0}",
    "\u{feff}",
    "\u{200b}",
    "\t",
    "\r\n",
    "#",
];

/// A copy of `seed` with 1 to 4 random mutations applied.
pub fn mutate(seed: &[u8], r: &mut OracleRng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..r.random_range(1..=4) {
        mutate_once(&mut b, r);
    }
    b
}

/// A random position in `b` (0 for an empty buffer), biased towards the first 128 bytes, where the
/// prefix and the header live.
fn position(b: &[u8], r: &mut OracleRng) -> usize {
    if b.is_empty() {
        return 0;
    }
    let end = if r.random_bool(0.8) {
        b.len().min(128)
    } else {
        b.len()
    };
    r.random_range(0..end)
}

/// One mutation of `b`, in place.
fn mutate_once(b: &mut Vec<u8>, r: &mut OracleRng) {
    match r.random_range(0..10) {
        0 => {
            let i = position(b, r);
            if let Some(x) = b.get_mut(i) {
                *x ^= 1 << r.random_range(0..8);
            }
        }
        1 => {
            let i = position(b, r);
            let v = BYTES[r.random_range(0..BYTES.len())];
            if let Some(x) = b.get_mut(i) {
                *x = v;
            }
        }
        2 => {
            let i = position(b, r).min(b.len());
            let t = TOKENS[r.random_range(0..TOKENS.len())].as_bytes();
            b.splice(i..i, t.iter().copied());
        }
        3 => {
            let i = position(b, r).min(b.len());
            let n = r.random_range(0..=16).min(b.len() - i);
            b.drain(i..i + n);
        }
        4 => {
            let keep = r.random_range(0..=b.len());
            b.truncate(keep);
        }
        5 => {
            let n = r.random_range(1..=64);
            for _ in 0..n {
                b.push(r.random());
            }
        }
        6 => replace_number(b, r),
        7 => set_header_len(b, r),
        8 => {
            // The version byte: 1, 2, 3 or anything.
            if b.len() > 6 {
                b[6] = [1u8, 2, 3, 0, 4, 255][r.random_range(0..6)];
            }
        }
        _ => {
            let i = position(b, r).min(b.len());
            let n = r.random_range(0..=32).min(b.len() - i);
            let copy = b[i..i + n].to_vec();
            let j = position(b, r).min(b.len());
            b.splice(j..j, copy);
        }
    }
}

/// Replaces a run of ASCII digits (in the first 256 bytes) with a number from [`TOKENS`] or a
/// random one.
fn replace_number(b: &mut Vec<u8>, r: &mut OracleRng) {
    let end = b.len().min(256);
    let starts: Vec<usize> = (0..end)
        .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        return;
    }
    let s = starts[r.random_range(0..starts.len())];
    let mut e = s;
    while e < b.len() && b[e].is_ascii_digit() {
        e += 1;
    }
    let new = if r.random_bool(0.5) {
        TOKENS[r.random_range(0..9)].to_string()
    } else {
        r.random::<u64>().to_string()
    };
    b.splice(s..e, new.bytes());
}

/// Overwrites the header-length field of an `.npy` prefix with a boundary value or a random one.
fn set_header_len(b: &mut [u8], r: &mut OracleRng) {
    if b.len() < 12 {
        return;
    }
    let v: u32 = match r.random_range(0..5) {
        0 => 0,
        1 => u32::MAX,
        2 => 0xffff,
        3 => r.random_range(0..256),
        _ => r.random(),
    };
    if b[6] == 1 {
        b[8..10].copy_from_slice(&(v as u16).to_le_bytes());
    } else {
        b[8..12].copy_from_slice(&v.to_le_bytes());
    }
}
