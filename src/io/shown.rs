//! Text from files and command lines, shown so that what the user sees is what the file holds:
//! invisible and non-ASCII characters (a no-break space, a byte-order mark, a tab) are escaped as
//! `\u{…}`, and [`invisible_note`] names the first one and says where it is.

/// `s` with every character outside printable ASCII (and the space) escaped as `\u{XXXX}`, the
/// backslash itself as `\\`.
pub fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            _ => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
        }
    }
    out
}

/// A description of the first character of `s` that [`shown`] escapes — its code point, its name
/// when it is a common invisible one, its 1-based column — and what to do about it; `None` when
/// `s` is printable ASCII.
pub fn invisible_note(s: &str) -> Option<String> {
    let (column, c) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !matches!(c, ' '..='~'))?;
    let name = match c {
        '\u{feff}' => "a byte-order mark (save the file as UTF-8 without BOM)",
        '\u{a0}' => "a no-break space (type an ordinary space)",
        '\u{200b}' => "a zero-width space (delete it)",
        '\t' => "a tab (use spaces)",
        '\r' => "a carriage return (use Unix line endings)",
        c if c.is_control() => "a control character (delete it)",
        _ => "a non-ASCII character (the format is ASCII)",
    };
    Some(format!(
        "column {} holds U+{:04X}, {name}",
        column + 1,
        u32::from(c)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped_and_named() {
        assert_eq!(shown("dim 3"), "dim 3");
        assert_eq!(
            shown("ima-oracle\u{a0}model 1"),
            "ima-oracle\\u{00a0}model 1"
        );
        assert_eq!(shown("\u{feff}x\\"), "\\u{feff}x\\\\");
        assert_eq!(shown("é"), "\\u{00e9}");
        assert_eq!(invisible_note("dim 3"), None);
        assert_eq!(
            invisible_note("ima-oracle\u{a0}model 1").unwrap(),
            "column 11 holds U+00A0, a no-break space (type an ordinary space)"
        );
        assert!(invisible_note("\u{feff}ima")
            .unwrap()
            .contains("byte-order mark"));
    }
}
