//! Parsing of the published presentation files (metadata.xml, shapes.svg, panzooms.xml,
//! cursor.xml, deskshare.xml, tldraw.json, captions) into plain timelines (bbb.md §4).

use super::Source;
use super::tldraw;
use anyhow::{Context, Result, anyhow, bail};
use std::collections::HashMap;
use std::path::PathBuf;

/// One display period of a slide image (`<image class="slide">`).
#[derive(Debug, Clone)]
pub struct Slide {
    /// `imageN`.
    pub id: String,
    pub start: f64,
    pub end: f64,
    /// The href as published (`presentation/<presId>/slide-3.png`, `presentation/logo.png`).
    pub href: String,
    /// Local file (None for a missing placeholder: drawn blank).
    pub file: Option<PathBuf>,
    /// Size of the image = coordinate system of its drawings and panzooms.
    pub width: f64,
    pub height: f64,
}

impl Slide {
    /// A placeholder (logo / screen-share) rather than a real slide.
    pub fn is_placeholder(&self) -> bool {
        self.href.ends_with("logo.png") || self.href.ends_with("deskshare.png")
    }
    /// Slide number from `slide-N.png` / `slideN.svg`.
    pub fn number(&self) -> Option<u32> {
        let name = self.href.rsplit('/').next()?;
        let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    }
}

/// One version of a drawing (SVG fragment in slide-image pixels).
#[derive(Debug, Clone)]
pub struct ShapeVersion {
    /// Logical shape (all versions of one drawing share it).
    pub group: String,
    pub timestamp: f64,
    /// Removal time, or None.
    pub undo: Option<f64>,
    pub svg: String,
}

/// A view box at a time, already in slide-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanZoom {
    pub t: f64,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A cursor event: raw published coordinates, or None when hidden.
#[derive(Debug, Clone, Copy)]
pub struct CursorEvent {
    pub t: f64,
    pub pos: Option<(f64, f64)>,
}

/// A caption track.
#[derive(Debug, Clone)]
pub struct Caption {
    pub locale: String,
    pub file: PathBuf,
}

/// Everything the renderer needs from one published recording.
#[derive(Debug, Default)]
pub struct Published {
    /// playback/duration, seconds.
    pub duration: f64,
    pub slides: Vec<Slide>,
    /// Shape versions per slide image id, in file order.
    pub shapes: HashMap<String, Vec<ShapeVersion>>,
    /// Raw panzoom events (coordinates as published).
    pub panzooms: Vec<PanZoom>,
    pub cursor: Vec<CursorEvent>,
    /// Screen-share intervals [start, stop).
    pub deskshare: Vec<(f64, f64)>,
    /// Tldraw whiteboard: the page-space size (2048x1536 for 2.6.0, else 1440x1080).
    pub tldraw: Option<(f64, f64)>,
    pub webcams: Option<PathBuf>,
    pub deskshare_video: Option<PathBuf>,
    /// Audio-only recordings (no webcams video).
    pub audio: Option<PathBuf>,
    pub captions: Vec<Caption>,
}

fn num(s: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .parse()
        .with_context(|| format!("not a number: {s:?}"))?;
    if !v.is_finite() {
        bail!("not a finite number: {s:?}");
    }
    Ok(v)
}

fn attr_num(n: roxmltree::Node, name: &str) -> Result<f64> {
    num(n
        .attribute(name)
        .ok_or_else(|| anyhow!("<{}> without {name}", n.tag_name().name()))?)
}

fn read(src: &dyn Source, rel: &str) -> Result<Option<String>> {
    match src.fetch(rel)? {
        None => Ok(None),
        Some(p) => Ok(Some(
            std::fs::read_to_string(&p).with_context(|| format!("reading {rel}"))?,
        )),
    }
}

fn parse_xml<'a>(text: &'a str, rel: &str) -> Result<roxmltree::Document<'a>> {
    let opt = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opt)
        .with_context(|| format!("{rel} is not valid XML"))
}

/// Reads every file of the recording; errors name the file at fault.
pub fn load(src: &dyn Source) -> Result<Published> {
    let mut p = Published::default();
    let meta = read(src, "metadata.xml")?.ok_or_else(|| anyhow!("metadata.xml missing"))?;
    p.duration = parse_duration(&meta).context("metadata.xml")?;

    let tl_json = read(src, "tldraw.json")?;
    let shapes = read(src, "shapes.svg")?.ok_or_else(|| anyhow!("shapes.svg missing"))?;
    let doc = parse_xml(&shapes, "shapes.svg")?;
    parse_slides(src, &doc, &mut p).context("shapes.svg")?;
    let tldraw_xml = |text: &Option<String>| {
        text.as_deref()
            .map(|t| t.contains("tldraw=\"true\""))
            .unwrap_or(false)
    };
    let pz = read(src, "panzooms.xml")?;
    let cur = read(src, "cursor.xml")?;
    let is_tldraw = tl_json.is_some() || tldraw_xml(&pz) || tldraw_xml(&cur);
    if let Some(json) = &tl_json {
        let (space, shapes) = tldraw::parse(json, &p.slides).context("tldraw.json")?;
        p.tldraw = Some(space);
        p.shapes = shapes;
    } else if is_tldraw {
        p.tldraw = Some((1440.0, 1080.0));
    } else {
        parse_canvases(src, &doc, &mut p).context("shapes.svg")?;
    }
    if let Some(text) = pz {
        let d = parse_xml(&text, "panzooms.xml")?;
        for e in d.descendants().filter(|n| n.has_tag_name("event")) {
            let t = attr_num(e, "timestamp").context("panzooms.xml")?;
            let vb = e
                .children()
                .find(|n| n.has_tag_name("viewBox"))
                .and_then(|n| n.text())
                .ok_or_else(|| anyhow!("panzooms.xml: event without viewBox"))?;
            let v: Vec<f64> = vb.split_whitespace().map(num).collect::<Result<_>>()?;
            if v.len() != 4 {
                bail!("panzooms.xml: viewBox {vb:?} is not 4 numbers");
            }
            p.panzooms.push(PanZoom {
                t,
                x: v[0],
                y: v[1],
                w: v[2],
                h: v[3],
            });
        }
        p.panzooms.sort_by(|a, b| a.t.total_cmp(&b.t));
    }
    if let Some(text) = cur {
        let d = parse_xml(&text, "cursor.xml")?;
        for e in d.descendants().filter(|n| n.has_tag_name("event")) {
            let t = attr_num(e, "timestamp").context("cursor.xml")?;
            let c = e
                .children()
                .find(|n| n.has_tag_name("cursor"))
                .and_then(|n| n.text())
                .unwrap_or("-1 -1");
            let v: Vec<f64> = c.split_whitespace().map(num).collect::<Result<_>>()?;
            let pos = match v.as_slice() {
                [x, y] if *x >= 0.0 && *y >= 0.0 => Some((*x, *y)),
                _ => None,
            };
            p.cursor.push(CursorEvent { t, pos });
        }
        p.cursor.sort_by(|a, b| a.t.total_cmp(&b.t));
    }
    if let Some(text) = read(src, "deskshare.xml")? {
        let d = parse_xml(&text, "deskshare.xml")?;
        for e in d.descendants().filter(|n| n.has_tag_name("event")) {
            let a = attr_num(e, "start_timestamp").context("deskshare.xml")?;
            let b = attr_num(e, "stop_timestamp").context("deskshare.xml")?;
            if b > a {
                p.deskshare.push((a, b));
            }
        }
    }
    p.webcams = first(src, &["video/webcams.mp4", "video/webcams.webm"])?;
    if !p.deskshare.is_empty() {
        p.deskshare_video = first(
            src,
            &["deskshare/deskshare.mp4", "deskshare/deskshare.webm"],
        )?;
        if p.deskshare_video.is_none() {
            bail!("deskshare.xml lists screen sharing but deskshare/deskshare.webm|mp4 is missing");
        }
    }
    p.audio = first(
        src,
        &["audio/audio.webm", "audio/audio.ogg", "audio/audio.opus"],
    )?;
    if let Some(text) = read(src, "captions.json")? {
        let v: serde_json::Value =
            serde_json::from_str(&text).context("captions.json is not valid JSON")?;
        for c in v.as_array().into_iter().flatten() {
            let Some(locale) = c.get("locale").and_then(|l| l.as_str()) else {
                continue;
            };
            if !locale
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            {
                continue;
            }
            if let Some(file) = src.fetch(&format!("caption_{locale}.vtt"))? {
                p.captions.push(Caption {
                    locale: locale.to_string(),
                    file,
                });
            }
        }
    }
    Ok(p)
}

fn first(src: &dyn Source, rels: &[&str]) -> Result<Option<PathBuf>> {
    for r in rels {
        if let Some(p) = src.fetch(r)? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

fn parse_duration(meta: &str) -> Result<f64> {
    let doc = parse_xml(meta, "metadata.xml")?;
    let d = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("duration") && n.parent().is_some_and(|p| p.has_tag_name("playback"))
        })
        .and_then(|n| n.text())
        .ok_or_else(|| anyhow!("no <playback><duration>"))?;
    let ms = num(d)?;
    if ms <= 0.0 {
        bail!("playback duration {d} is not positive");
    }
    Ok(ms / 1000.0)
}

fn parse_slides(src: &dyn Source, doc: &roxmltree::Document, p: &mut Published) -> Result<()> {
    let xlink = "http://www.w3.org/1999/xlink";
    for n in doc
        .descendants()
        .filter(|n| n.has_tag_name("image") && n.attribute("class") == Some("slide"))
    {
        let id = n.attribute("id").unwrap_or_default().to_string();
        let href = n
            .attribute((xlink, "href"))
            .or_else(|| n.attribute("href"))
            .ok_or_else(|| anyhow!("slide {id} without href"))?
            .to_string();
        let width = attr_num(n, "width")?;
        let height = attr_num(n, "height")?;
        if width <= 0.0 || height <= 0.0 {
            bail!("slide {id} has an empty size");
        }
        let ins: Vec<f64> = n
            .attribute("in")
            .unwrap_or("")
            .split_whitespace()
            .map(num)
            .collect::<Result<_>>()?;
        let outs: Vec<f64> = n
            .attribute("out")
            .unwrap_or("")
            .split_whitespace()
            .map(num)
            .collect::<Result<_>>()?;
        if ins.is_empty() || outs.is_empty() {
            bail!("slide {id} without in/out");
        }
        let file = if href.split('/').any(|s| s == "..") {
            bail!("slide {id}: unsafe href {href:?}");
        } else {
            src.fetch(&href)?
        };
        let placeholder = href.ends_with("logo.png") || href.ends_with("deskshare.png");
        if file.is_none() && !placeholder {
            bail!("slide image {href} is missing");
        }
        for (i, &start) in ins.iter().enumerate() {
            let end = *outs.get(i).unwrap_or(outs.last().unwrap_or(&start));
            if end > start {
                p.slides.push(Slide {
                    id: id.clone(),
                    start,
                    end,
                    href: href.clone(),
                    file: file.clone(),
                    width,
                    height,
                });
            }
        }
    }
    p.slides.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(())
}

/// Canvases of the SVG whiteboard (≤ 2.5): every `<g class="shape">` version, as an SVG
/// fragment ready to draw (hidden visibility stripped, text laid out, images local).
fn parse_canvases(src: &dyn Source, doc: &roxmltree::Document, p: &mut Published) -> Result<()> {
    let text = doc.input_text();
    for canvas in doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("canvas"))
    {
        let Some(image) = canvas.attribute("image") else {
            continue;
        };
        let mut list = Vec::new();
        for g in canvas
            .children()
            .filter(|n| n.attribute("class") == Some("shape"))
        {
            let ts = attr_num(g, "timestamp")?;
            let undo = g
                .attribute("undo")
                .map(num)
                .transpose()?
                .filter(|u| *u >= 0.0);
            let group = g
                .attribute("shape")
                .or_else(|| g.attribute("id"))
                .unwrap_or_default()
                .to_string();
            let Some(svg) = shape_fragment(src, g, text)? else {
                continue;
            };
            list.push(ShapeVersion {
                group,
                timestamp: ts,
                undo,
                svg,
            });
        }
        p.shapes.insert(image.to_string(), list);
    }
    Ok(())
}

fn strip_hidden(style: &str) -> String {
    style
        .split(';')
        .filter(|d| !d.trim().is_empty() && !d.trim().starts_with("visibility"))
        .collect::<Vec<_>>()
        .join(";")
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn shape_fragment(src: &dyn Source, g: roxmltree::Node, text: &str) -> Result<Option<String>> {
    let style = strip_hidden(g.attribute("style").unwrap_or(""));
    if let Some(fo) = g.descendants().find(|n| n.has_tag_name("foreignObject")) {
        let font_size = style_value(&style, "font-size")
            .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
            .unwrap_or(24.0);
        let color = style_value(&style, "color").unwrap_or_else(|| "#000000".into());
        let mut lines = vec![String::new()];
        for n in fo.descendants() {
            if n.has_tag_name("br") {
                lines.push(String::new());
            } else if n.is_text() {
                lines.last_mut().unwrap().push_str(n.text().unwrap_or(""));
            }
        }
        let x = attr_num(fo, "x")?;
        let y = attr_num(fo, "y")?;
        let w = attr_num(fo, "width")?;
        return Ok(Some(text_block(
            &lines, x, y, w, font_size, &color, "Arial",
        )));
    }
    let xlink = "http://www.w3.org/1999/xlink";
    let mut inner = String::new();
    for c in g.children().filter(|c| c.is_element()) {
        if c.has_tag_name("image") {
            let href = c
                .attribute((xlink, "href"))
                .or_else(|| c.attribute("href"))
                .unwrap_or("");
            if href.split('/').any(|s| s == "..") || href.contains(':') {
                continue;
            }
            let Some(file) = src.fetch(href)? else {
                continue;
            };
            inner.push_str(&format!(
                "<image xlink:href=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {}/>",
                esc(&file.to_string_lossy()),
                c.attribute("x").unwrap_or("0"),
                c.attribute("y").unwrap_or("0"),
                c.attribute("width").unwrap_or("0"),
                c.attribute("height").unwrap_or("0"),
                c.attribute("transform")
                    .map(|t| format!("transform=\"{}\"", esc(t)))
                    .unwrap_or_default()
            ));
        } else {
            inner.push_str(&text[c.range()]);
        }
    }
    if inner.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("<g style=\"{}\">{inner}</g>", esc(&style))))
}

fn style_value(style: &str, key: &str) -> Option<String> {
    style.split(';').find_map(|d| {
        let (k, v) = d.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// Text wrapped into a box of width `w`, measured with the font it will be drawn with.
pub(crate) fn text_block(
    lines: &[String],
    x: f64,
    y: f64,
    w: f64,
    size: f64,
    color: &str,
    family: &str,
) -> String {
    let fits = |s: &str| super::fonts::width(s, family, size) <= w;
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
        super::fonts::FALLBACKS,
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
    fn hidden_visibility_is_stripped() {
        assert_eq!(
            strip_hidden("stroke:#f00;visibility:hidden;fill:none"),
            "stroke:#f00;fill:none"
        );
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
        if super::super::fonts::database().faces().next().is_none() {
            eprintln!("skipped: no font installed (scripts/setup installs fonts-liberation)");
            return;
        }
        // 21 narrow letters fit in 100 px at 10 px (i is about 0.22-0.28 em), 21 wide
        // ones do not (M about 0.83-0.86 em).
        assert_eq!(lines("iiiiiiiiii iiiiiiiiii", 100.0), 1);
        assert_eq!(lines("MMMMMMMMMM MMMMMMMMMM", 100.0), 2);
    }
}
