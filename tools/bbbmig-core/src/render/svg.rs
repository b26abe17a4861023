//! SVG text and pictures: escaping, text blocks wrapped by the advances of the face they are
//! drawn with, the shared SVG options, and PNG output of opaque pictures.

use super::fonts;
use anyhow::{Context, Result, anyhow};
use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg;
use std::path::Path;

/// Letterbox / empty-area colour.
pub const BACKGROUND: [u8; 3] = [0x26, 0x26, 0x26];

/// Shared SVG options (system fonts loaded once).
pub fn svg_options() -> usvg::Options<'static> {
    usvg::Options {
        fontdb: fonts::database(),
        ..Default::default()
    }
}

/// Escapes text for an SVG attribute value or text node.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// How lines are aligned in their box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Start,
    Middle,
    End,
}

/// Where and how a block of text is drawn: its box (top-left `x`, `y`, width `w`; text
/// below `y + h` is clipped when `h` is given), its font and colour.
#[derive(Debug, Clone, Copy)]
pub struct TextBox<'a> {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: Option<f64>,
    pub size: f64,
    pub color: &'a str,
    pub family: &'a str,
    /// Where lines sit across the box.
    pub align: Align,
    pub bold: bool,
    /// Opacity of the text (1: opaque).
    pub opacity: f64,
    /// Line height in em (None: the face's normal line height).
    pub line_height: Option<f64>,
    /// Extra space after each character, in em (negative: tighter).
    pub letter_spacing: f64,
}

impl<'a> TextBox<'a> {
    /// A left-aligned, unclipped box of width `w` at (`x`, `y`).
    pub fn new(x: f64, y: f64, w: f64, size: f64, color: &'a str, family: &'a str) -> Self {
        TextBox {
            x,
            y,
            w,
            h: None,
            size,
            color,
            family,
            align: Align::Start,
            bold: false,
            opacity: 1.0,
            line_height: None,
            letter_spacing: 0.0,
        }
    }
}

/// Splits paragraphs into the lines a browser shows in the width of `b` (`white-space:
/// normal; word-wrap: break-word`): runs of spaces collapse, lines break between words
/// where the next word no longer fits (a trailing space does not count), a word wider
/// than the box is cut where it no longer fits, and empty paragraphs stay empty lines.
pub fn wrap(paragraphs: &[String], b: &TextBox) -> Vec<String> {
    let fits = |s: &str| {
        let spacing = s.chars().count() as f64 * b.letter_spacing * b.size;
        fonts::styled_width(s, b.family, b.size, b.bold) + spacing <= b.w
    };
    let mut wrapped = Vec::new();
    for l in paragraphs {
        let mut cur = String::new();
        for word in l.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()) {
            let candidate = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if !fits(&candidate) && !cur.is_empty() {
                wrapped.push(std::mem::take(&mut cur));
                cur = word.to_string();
            } else {
                cur = candidate;
            }
            // A word wider than the box is cut where it no longer fits (one character
            // at least per line).
            while !fits(&cur) && cur.chars().count() > 1 {
                let mut head = String::new();
                for c in cur.chars() {
                    head.push(c);
                    if !fits(&head) && head.chars().count() > 1 {
                        head.pop();
                        break;
                    }
                }
                cur = cur.chars().skip(head.chars().count()).collect();
                wrapped.push(head);
            }
        }
        wrapped.push(cur);
    }
    wrapped
}

/// Already wrapped lines as an SVG `<text>` in `b`, one line per line pitch of the face
/// (a browser's `line-height: normal`), clipped at the box's bottom when it has a height.
pub fn text_lines(lines: &[String], b: &TextBox) -> String {
    let (base, pitch) = fonts::line_metrics(b.family, b.size, b.line_height);
    let (x, anchor) = match b.align {
        Align::Start => (b.x, ""),
        Align::Middle => (b.x + b.w / 2.0, " text-anchor=\"middle\""),
        Align::End => (b.x + b.w, " text-anchor=\"end\""),
    };
    let weight = if b.bold { " font-weight=\"bold\"" } else { "" };
    let spacing = if b.letter_spacing != 0.0 {
        format!(" letter-spacing=\"{}\"", b.letter_spacing * b.size)
    } else {
        String::new()
    };
    let opacity = if b.opacity < 1.0 {
        format!(" fill-opacity=\"{}\"", b.opacity)
    } else {
        String::new()
    };
    let mut s = format!(
        "<text font-family=\"{}, {}\" font-size=\"{}\" fill=\"{}\"{anchor}{weight}{opacity}{spacing}>",
        esc(b.family),
        fonts::FALLBACKS,
        b.size,
        esc(b.color)
    );
    for (i, l) in lines.iter().enumerate() {
        let y = b.y + base + pitch * i as f64;
        if b.h.is_some_and(|h| y - base >= b.y + h) {
            break;
        }
        s.push_str(&format!("<tspan x=\"{x}\" y=\"{y}\">{}</tspan>", esc(l)));
    }
    s.push_str("</text>");
    match b.h {
        // A nested viewport clips what it holds to its box (its own origin is moved back).
        Some(h) if h > 0.0 => format!(
            "<svg x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" viewBox=\"{} {} {} {h}\" overflow=\"hidden\">{s}</svg>",
            b.x, b.y, b.w, b.x, b.y, b.w
        ),
        Some(_) => String::new(),
        None => s,
    }
}

/// Paragraphs wrapped into the box `b` ([`wrap`]) and drawn there ([`text_lines`]).
pub fn text_block(paragraphs: &[String], b: &TextBox) -> String {
    text_lines(&wrap(paragraphs, b), b)
}

/// Writes an opaque pixmap as a fast-compressed RGB PNG.
pub fn write_png(pm: &Pixmap, path: &Path) -> Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(f), pm.width(), pm.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header()?;
    let rgb: Vec<u8> = pm
        .data()
        .chunks_exact(4)
        .flat_map(|c| [c[0], c[1], c[2]])
        .collect();
    w.write_image_data(&rgb)?;
    w.finish()?;
    Ok(())
}

/// A pixmap of `w`x`h` filled with [`BACKGROUND`].
pub fn background(w: u32, h: u32) -> Option<Pixmap> {
    let mut pm = Pixmap::new(w, h)?;
    pm.fill(Color::from_rgba8(
        BACKGROUND[0],
        BACKGROUND[1],
        BACKGROUND[2],
        255,
    ));
    Some(pm)
}

/// Renders an SVG document string to an opaque PNG of its size.
pub fn svg_to_png(svg: &str, opt: &usvg::Options, path: &Path) -> Result<()> {
    let tree = usvg::Tree::from_str(svg, opt).map_err(|e| anyhow!("panel: {e}"))?;
    let sz = tree.size().to_int_size();
    let mut pm = background(sz.width(), sz.height()).ok_or_else(|| anyhow!("empty panel"))?;
    resvg::render(&tree, Transform::identity(), &mut pm.as_mut());
    write_png(&pm, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_inside_its_box() {
        let s = text_block(
            &["aaaa bbbb cccc".into()],
            &TextBox::new(0.0, 0.0, 50.0, 10.0, "#000", "Arial"),
        );
        assert_eq!(s.matches("<tspan").count(), 2, "{s}");
    }

    #[test]
    fn text_boxes_keep_empty_lines_and_clip_at_their_bottom() {
        let b = TextBox {
            h: Some(25.0),
            ..TextBox::new(0.0, 0.0, 500.0, 10.0, "#000", "Arial")
        };
        let s = text_block(&["a".into(), "".into(), "b c".into(), "d".into()], &b);
        // Lines 11-12 px apart: the fourth starts below the 25 px box and is left out,
        // the third is drawn and cut by the nested viewport.
        assert_eq!(s.matches("<tspan").count(), 3, "{s}");
        assert!(
            s.starts_with("<svg x=\"0\" y=\"0\" width=\"500\" height=\"25\""),
            "{s}"
        );
        assert!(s.contains(">b c</tspan>"), "{s}");
        // Runs of spaces collapse as in HTML.
        let s = text_block(
            &["  x   y ".into()],
            &TextBox::new(0.0, 0.0, 500.0, 10.0, "#000", "Arial"),
        );
        assert!(s.contains(">x y</tspan>"), "{s}");
    }

    #[test]
    fn text_wraps_where_the_font_says_it_no_longer_fits() {
        let lines = |t: &str, w: f64| {
            text_block(
                &[t.to_string()],
                &TextBox::new(0.0, 0.0, w, 10.0, "#000", "Arial"),
            )
            .matches("<tspan")
            .count()
        };
        // A word wider than the box is cut; every line keeps one character at least.
        assert!(lines("MMMMMMMMMMMMMMMMMMMMMMMMMMMMMM", 100.0) >= 3);
        assert_eq!(lines("MM", 1.0), 2);
        if fonts::database().faces().next().is_none() {
            eprintln!("skipped: no font installed (scripts/setup installs fonts-liberation)");
            return;
        }
        // 21 narrow letters fit in 100 px at 10 px (i is about 0.22-0.28 em), 21 wide
        // ones do not (M about 0.83-0.86 em): an estimate of 0.52 em wraps both.
        assert_eq!(lines("iiiiiiiiii iiiiiiiiii", 100.0), 1);
        assert_eq!(lines("MMMMMMMMMM MMMMMMMMMM", 100.0), 2);
    }
}
