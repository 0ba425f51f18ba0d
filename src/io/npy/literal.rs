//! A tiny lexer for the Python literals numpy writes in `.npy` headers: quoted strings, `True`,
//! `False` and tuples of non-negative integers — nothing else (no escapes, no nesting).

use super::NpyErrorKind;

/// A cursor over the header text; every error names the byte where it happened.
pub(super) struct Lexer<'a> {
    s: &'a [u8],
    /// The byte offset of the next unread character.
    pub(super) pos: usize,
}

/// One literal value of the header dict.
pub(super) enum Value {
    /// A quoted string.
    Str(String),
    /// `True` or `False`.
    Bool(bool),
    /// A tuple of non-negative integers (a shape).
    Tuple(Vec<usize>),
    /// A list (`[`, not consumed): what a structured dtype's `descr` is. Never read further.
    Structured,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `s`.
    pub(super) fn new(s: &'a str) -> Self {
        Lexer {
            s: s.as_bytes(),
            pos: 0,
        }
    }

    /// A malformed-header error at the current position.
    pub(super) fn bad(&self, what: &str) -> NpyErrorKind {
        NpyErrorKind::BadHeader(format!("{what} at byte {} of the header", self.pos))
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] as char).is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// The next non-blank byte, without consuming it.
    pub(super) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    /// Consumes the byte `c` (after blanks), or fails.
    pub(super) fn expect(&mut self, c: u8) -> Result<(), NpyErrorKind> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.bad(&format!("expected '{}'", c as char)))
        }
    }

    /// A string in single or double quotes.
    pub(super) fn string(&mut self) -> Result<String, NpyErrorKind> {
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

    /// A tuple of non-negative integers, the opening '(' being next.
    fn tuple(&mut self) -> Result<Value, NpyErrorKind> {
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
                    let txt = std::str::from_utf8(&self.s[start..self.pos]).expect("digits");
                    dims.push(txt.parse().map_err(|_| {
                        let head: String = txt.chars().take(30).collect();
                        self.bad(&format!("axis length {head}… does not fit in 64 bits"))
                    })?);
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

    /// A string, a tuple, `True` or `False` (or the start of a list, which is not read).
    pub(super) fn value(&mut self) -> Result<Value, NpyErrorKind> {
        match self.peek() {
            Some(b'\'') | Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => self.tuple(),
            Some(b'[') => Ok(Value::Structured),
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
