//! Tables from one column definition. A table is a list of [`Column`]s — a header and the function
//! that computes a row's cell — and the renderers ([`aligned`], [`markdown`], [`csv`]) write the
//! header and every row from that same list, so a header and its cells cannot disagree in number
//! or order.

/// How a column is laid out in an [`aligned`] (fixed-width text) table; [`markdown`] and [`csv`]
/// ignore it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Align {
    /// Padded on the right to this many characters.
    Left(usize),
    /// Padded on the left to this many characters.
    Right(usize),
    /// Free text, unpadded and set off by one more space (meant for the last column).
    Free,
}

/// One column of a table over rows of type `T`.
pub struct Column<T> {
    /// The header.
    pub header: &'static str,
    /// Its layout in an aligned table.
    pub align: Align,
    /// The cell of one row.
    pub cell: fn(&T) -> String,
}

impl<T> Column<T> {
    /// A column laid out as free text (markdown, CSV, or the last column of an aligned table).
    pub const fn new(header: &'static str, cell: fn(&T) -> String) -> Self {
        Column {
            header,
            align: Align::Free,
            cell,
        }
    }

    /// A column padded on the right to `width` in an aligned table.
    pub const fn left(header: &'static str, width: usize, cell: fn(&T) -> String) -> Self {
        Column {
            header,
            align: Align::Left(width),
            cell,
        }
    }

    /// A column padded on the left to `width` in an aligned table.
    pub const fn right(header: &'static str, width: usize, cell: fn(&T) -> String) -> Self {
        Column {
            header,
            align: Align::Right(width),
            cell,
        }
    }
}

fn pad(text: &str, align: Align) -> String {
    match align {
        Align::Left(w) => format!("{text:<w$}"),
        Align::Right(w) => format!("{text:>w$}"),
        Align::Free => format!(" {text}"),
    }
}

fn aligned_line<'a>(cells: impl Iterator<Item = (&'a str, Align)>) -> String {
    let parts: Vec<String> = cells.map(|(text, align)| pad(text, align)).collect();
    parts.join(" ") + "\n"
}

/// A fixed-width text table: the header line, then one line per row; columns separated by a space.
pub fn aligned<T>(columns: &[Column<T>], rows: &[T]) -> String {
    let mut s = aligned_line(columns.iter().map(|c| (c.header, c.align)));
    for r in rows {
        let cells: Vec<String> = columns.iter().map(|c| (c.cell)(r)).collect();
        s += &aligned_line(
            cells
                .iter()
                .map(String::as_str)
                .zip(columns.iter().map(|c| c.align)),
        );
    }
    s
}

/// A markdown cell: `|` escaped, so that text with bars (|x|, a norm) stays in its cell.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn markdown_line(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.collect();
    format!("| {} |\n", cells.join(" | "))
}

/// A markdown table: header, separator, one line per row.
pub fn markdown<T>(columns: &[Column<T>], rows: &[T]) -> String {
    let mut s = markdown_line(columns.iter().map(|c| markdown_cell(c.header)));
    s += &markdown_line(columns.iter().map(|_| "---".to_string()));
    for r in rows {
        s += &markdown_line(columns.iter().map(|c| markdown_cell(&(c.cell)(r))));
    }
    s
}

/// A CSV cell is safe when it is wholly quoted with no quote inside (the column's cell function
/// quotes free text itself), or else holds no separator, quote or line break.
fn csv_safe(cell: &str) -> bool {
    match cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
        Some(inner) => !inner.contains('"'),
        None => !cell.contains([',', '"', '\n', '\r']),
    }
}

/// A CSV table: the header line, then one line per row. Panics if a cell would split into more
/// fields than its column (an unquoted comma): a bug in that column's cell function.
pub fn csv<T>(columns: &[Column<T>], rows: &[T]) -> String {
    let headers: Vec<&str> = columns.iter().map(|c| c.header).collect();
    let mut s = headers.join(",") + "\n";
    for r in rows {
        let cells: Vec<String> = columns.iter().map(|c| (c.cell)(r)).collect();
        for (c, cell) in columns.iter().zip(&cells) {
            assert!(csv_safe(cell), "CSV column {} cell {cell:?}", c.header);
        }
        s += &(cells.join(",") + "\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column() -> [Column<String>; 2] {
        [
            Column::left("text", 6, |s: &String| s.clone()),
            Column::new("length", |s: &String| s.chars().count().to_string()),
        ]
    }

    /// A cell with an unquoted comma would become two CSV fields: the renderer refuses it.
    #[test]
    #[should_panic(expected = "CSV column text")]
    fn csv_refuses_an_unquoted_comma() {
        csv(&column(), &["a,b".to_string()]);
    }

    /// Quoted text may hold commas; markdown escapes bars; an aligned table pads to the width and
    /// sets the free column off by two spaces.
    #[test]
    fn renders_each_format() {
        let rows = ["\"a,b\"".to_string(), "|x|".to_string()];
        assert_eq!(csv(&column(), &rows), "text,length\n\"a,b\",5\n|x|,3\n");
        assert!(markdown(&column(), &rows).contains("| \\|x\\| | 3 |"));
        assert_eq!(
            aligned(&column(), &rows[1..]),
            "text    length\n|x|     3\n"
        );
    }
}
