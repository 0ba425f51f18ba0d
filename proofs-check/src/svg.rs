//! Minimal SVG plots: log–log axes with decade ticks, labels, a legend, lines and markers.

use std::fmt::Write;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// A polyline with markers.
    LineMarkers,
    /// Markers only.
    Markers,
    /// A dashed reference line.
    Dashed,
}

/// One series of (x, y) points (non-positive values are skipped on log axes).
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// How to draw it.
    pub style: Style,
}

const COLOURS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Whether a point can be drawn on log axes.
fn drawable(&(x, y): &(f64, f64)) -> bool {
    x > 0.0 && y > 0.0 && x.is_finite() && y.is_finite()
}

/// The canvas, its margins and the decade-rounded ranges of log10 x and log10 y.
struct Frame {
    w: f64,
    h: f64,
    l: f64,
    r: f64,
    t: f64,
    b: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    /// A frame holding every drawable point of `lines` (the unit decade when there is none).
    fn around(lines: &[Line]) -> Self {
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for (x, y) in lines
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| drawable(p))
        {
            x0 = x0.min(x.log10());
            x1 = x1.max(x.log10());
            y0 = y0.min(y.log10());
            y1 = y1.max(y.log10());
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        // The right margin holds the legend: room for ~40 characters at 12 px.
        Frame {
            w: 860.0,
            h: 500.0,
            l: 90.0,
            r: 330.0,
            t: 50.0,
            b: 60.0,
            x0: x0.floor(),
            x1: x1.ceil().max(x0.floor() + 1.0),
            y0: y0.floor(),
            y1: y1.ceil().max(y0.floor() + 1.0),
        }
    }

    /// Pixel column of x.
    fn px(&self, x: f64) -> f64 {
        self.l + (x.log10() - self.x0) / (self.x1 - self.x0) * (self.w - self.l - self.r)
    }

    /// Pixel row of y.
    fn py(&self, y: f64) -> f64 {
        self.h - self.b - (y.log10() - self.y0) / (self.y1 - self.y0) * (self.h - self.t - self.b)
    }
}

/// The document head, the title, the axes box with decade ticks and grid lines, and the labels.
fn axes(s: &mut String, f: &Frame, title: &str, xlabel: &str, ylabel: &str) {
    let Frame {
        w, h, l, r, t, b, ..
    } = *f;
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>
<text x="{}" y="28" text-anchor="middle" font-size="15">{}</text>
"#,
        (l + w - r) / 2.0,
        esc(title)
    );
    let _ = writeln!(
        s,
        r#"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="black"/>"#,
        w - l - r,
        h - t - b
    );
    let xstep = ((f.x1 - f.x0) / 10.0).ceil().max(1.0) as i64;
    for e in (f.x0 as i64..=f.x1 as i64).step_by(xstep as usize) {
        let x = f.px(10f64.powi(e as i32));
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle">1e{e}</text>"##,
            h - b,
            h - b + 18.0
        );
    }
    let ystep = ((f.y1 - f.y0) / 12.0).ceil().max(1.0) as i64;
    for e in (f.y0 as i64..=f.y1 as i64).step_by(ystep as usize) {
        let y = f.py(10f64.powi(e as i32));
        let _ = writeln!(
            s,
            r##"<line x1="{l}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">1e{e}</text>"##,
            w - r,
            l - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (l + w - r) / 2.0,
        h - 18.0,
        esc(xlabel)
    );
    let _ = writeln!(
        s,
        r#"<text x="22" y="{}" text-anchor="middle" transform="rotate(-90 22 {})">{}</text>"#,
        (t + h - b) / 2.0,
        (t + h - b) / 2.0,
        esc(ylabel)
    );
}

/// Series `i`: its polyline and markers as its style says, and its legend entry.
fn series(s: &mut String, f: &Frame, i: usize, line: &Line) {
    let c = COLOURS[i % COLOURS.len()];
    let p: Vec<(f64, f64)> = line
        .points
        .iter()
        .filter(|p| drawable(p))
        .map(|&(x, y)| (f.px(x), f.py(y)))
        .collect();
    if line.style != Style::Markers && p.len() > 1 {
        let d: Vec<String> = p.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let dash = if line.style == Style::Dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="1.5"{dash}/>"#,
            d.join(" ")
        );
    }
    if line.style != Style::Dashed {
        for (x, y) in &p {
            let _ = writeln!(s, r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{c}"/>"#);
        }
    }
    let ly = f.t + 14.0 + 18.0 * i as f64;
    let lx = f.w - f.r + 14.0;
    let _ = writeln!(
        s,
        r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{c}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
        lx + 22.0,
        lx + 28.0,
        ly + 4.0,
        esc(&line.name)
    );
}

/// A log–log plot as an SVG document.
pub fn loglog(title: &str, xlabel: &str, ylabel: &str, lines: &[Line]) -> String {
    let frame = Frame::around(lines);
    let mut s = String::new();
    axes(&mut s, &frame, title, xlabel, ylabel);
    for (i, line) in lines.iter().enumerate() {
        series(&mut s, &frame, i, line);
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plot is one well-formed SVG element with a title, tick labels at the decades of the data,
    /// and a legend entry per series.
    #[test]
    fn renders_axes_ticks_and_legend() {
        let lines = vec![
            Line {
                name: "a<b".into(),
                points: vec![(10.0, 1e-3), (1e4, 1e-9)],
                style: Style::LineMarkers,
            },
            Line {
                name: "ref".into(),
                points: vec![(10.0, 1e-2), (1e4, 1e-8)],
                style: Style::Dashed,
            },
        ];
        let s = loglog("T", "γ²", "residual", &lines);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains(">1e1<") && s.contains(">1e4<") && s.contains(">1e-9<"));
        assert!(s.contains("a&lt;b") && s.contains(">ref<"));
        assert_eq!(s.matches("<polyline").count(), 2);
    }
}
