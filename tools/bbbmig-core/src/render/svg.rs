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

/// Text wrapped into a box of width `w`, measured with the font it will be drawn with.
pub fn text_block(
    lines: &[String],
    x: f64,
    y: f64,
    w: f64,
    size: f64,
    color: &str,
    family: &str,
) -> String {
    let fits = |s: &str| fonts::width(s, family, size) <= w;
    let mut wrapped = Vec::new();
    for l in lines {
        let mut cur = String::new();
        for word in l.split(' ') {
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
    let mut s = format!(
        "<text font-family=\"{family}, {}\" font-size=\"{size}\" fill=\"{}\">",
        fonts::FALLBACKS,
        esc(color)
    );
    for (i, l) in wrapped.iter().enumerate() {
        s.push_str(&format!(
            "<tspan x=\"{x}\" y=\"{}\">{}</tspan>",
            y + size * (0.9 + 1.15 * i as f64),
            esc(l)
        ));
    }
    s.push_str("</text>");
    s
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
            0.0,
            0.0,
            50.0,
            10.0,
            "#000",
            "Arial",
        );
        assert_eq!(s.matches("<tspan").count(), 2, "{s}");
    }

    #[test]
    fn text_wraps_where_the_font_says_it_no_longer_fits() {
        let lines = |t: &str, w: f64| {
            text_block(&[t.to_string()], 0.0, 0.0, w, 10.0, "#000", "Arial")
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
