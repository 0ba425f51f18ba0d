//! Reading a manifest's text: at most [`MAX_MANIFEST_BYTES`] (a device such as `/dev/zero`, or a
//! data file named by mistake, is refused after that much), UTF-8 (the first bad byte located by
//! line and column), split into numbered lines of words — comments dropped, words separated by
//! ASCII spaces and tabs only, so that an invisible character (a no-break space, a byte-order mark)
//! stays inside a word, where the error that follows shows it escaped.

use super::ModelFileError;
use crate::tol::MAX_MANIFEST_BYTES;
use std::io::Read;
use std::path::Path;

/// One non-blank manifest line: its 1-based number, its text without the comment (trimmed), and
/// its words.
pub(super) struct ManifestLine<'a> {
    /// The line number (1-based).
    pub(super) number: usize,
    /// The text before any `#`, without leading and trailing ASCII whitespace.
    pub(super) text: &'a str,
}

impl<'a> ManifestLine<'a> {
    /// The words of the line: runs of characters between ASCII spaces and tabs.
    pub(super) fn words(&self) -> Vec<&'a str> {
        self.text.split_ascii_whitespace().collect()
    }
}

/// The text of the manifest at `path`, read up to [`MAX_MANIFEST_BYTES`].
pub(super) fn read_manifest(path: &Path) -> Result<String, ModelFileError> {
    let error = |m: String| ModelFileError::new(path, None, m);
    let file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(e.to_string()))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(error(format!(
            "more than {MAX_MANIFEST_BYTES} bytes (tol::MAX_MANIFEST_BYTES): a manifest is a few \
             lines of text — is this the model's model.txt?"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        let column = at
            - bytes[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        ModelFileError::new(
            path,
            Some(line),
            format!(
                "byte 0x{:02x} at column {column} is not UTF-8: the manifest is plain text (ASCII)",
                bytes[at]
            ),
        )
    })
}

/// The non-blank lines of `text`, comments removed.
pub(super) fn lines(text: &str) -> impl Iterator<Item = ManifestLine<'_>> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let text = raw
            .split('#')
            .next()
            .unwrap_or("")
            .trim_matches(|c: char| c.is_ascii_whitespace());
        (!text.is_empty()).then_some(ManifestLine {
            number: i + 1,
            text,
        })
    })
}
