//! Parsing of the published presentation files into the [`model`](super::model): one parser
//! per file (metadata.xml, shapes.svg, panzooms.xml, cursor.xml, deskshare.xml, tldraw.json,
//! captions.json), the media files looked up by name.

use super::model::{Caption, CursorEvent, PanZoom, Point, Published, ShapeVersion, Slide};
use super::source::Source;
use super::svg::{TextBox, esc, text_block};
use super::tldraw;
use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;

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
    let pz = read(src, "panzooms.xml")?;
    let cur = read(src, "cursor.xml")?;
    let tldraw_xml = |text: &Option<String>| {
        text.as_deref()
            .is_some_and(|t| t.contains("tldraw=\"true\""))
    };
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
        p.panzooms = parse_panzooms(&text).context("panzooms.xml")?;
    }
    if let Some(text) = cur {
        p.cursor = parse_cursor(&text).context("cursor.xml")?;
    }
    if let Some(text) = read(src, "deskshare.xml")? {
        p.deskshare = parse_deskshare(&text).context("deskshare.xml")?;
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
        p.captions = parse_captions(src, &text)?;
    }
    Ok(p)
}

/// The `<event>` elements of an XML event file.
fn events<'a, 'i>(d: &'a roxmltree::Document<'i>) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    d.descendants().filter(|n| n.has_tag_name("event"))
}

/// panzooms.xml: the view boxes as published, in time order.
fn parse_panzooms(text: &str) -> Result<Vec<PanZoom>> {
    let d = parse_xml(text, "panzooms.xml")?;
    let mut out = Vec::new();
    for e in events(&d) {
        let t = attr_num(e, "timestamp")?;
        let vb = e
            .children()
            .find(|n| n.has_tag_name("viewBox"))
            .and_then(|n| n.text())
            .ok_or_else(|| anyhow!("event without viewBox"))?;
        let v: Vec<f64> = vb.split_whitespace().map(num).collect::<Result<_>>()?;
        let [x, y, w, h] = v[..] else {
            bail!("viewBox {vb:?} is not 4 numbers");
        };
        out.push(PanZoom { t, x, y, w, h });
    }
    out.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(out)
}

/// cursor.xml: the cursor's positions as published (negative: hidden), in time order.
fn parse_cursor(text: &str) -> Result<Vec<CursorEvent>> {
    let d = parse_xml(text, "cursor.xml")?;
    let mut out = Vec::new();
    for e in events(&d) {
        let t = attr_num(e, "timestamp")?;
        let c = e
            .children()
            .find(|n| n.has_tag_name("cursor"))
            .and_then(|n| n.text())
            .unwrap_or("-1 -1");
        let v: Vec<f64> = c.split_whitespace().map(num).collect::<Result<_>>()?;
        let pos = match v.as_slice() {
            [x, y] if *x >= 0.0 && *y >= 0.0 => Some(Point { x: *x, y: *y }),
            _ => None,
        };
        out.push(CursorEvent { t, pos });
    }
    out.sort_by(|a, b| a.t.total_cmp(&b.t));
    Ok(out)
}

/// deskshare.xml: the screen-share intervals [start, stop).
fn parse_deskshare(text: &str) -> Result<Vec<(f64, f64)>> {
    let d = parse_xml(text, "deskshare.xml")?;
    let mut out = Vec::new();
    for e in events(&d) {
        let a = attr_num(e, "start_timestamp")?;
        let b = attr_num(e, "stop_timestamp")?;
        if b > a {
            out.push((a, b));
        }
    }
    Ok(out)
}

/// captions.json: the caption tracks whose `caption_<locale>.vtt` is published.
fn parse_captions(src: &dyn Source, text: &str) -> Result<Vec<Caption>> {
    let list: serde_json::Value =
        serde_json::from_str(text).context("captions.json is not valid JSON")?;
    let mut out = Vec::new();
    for c in list.as_array().into_iter().flatten() {
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
            out.push(Caption {
                locale: locale.to_string(),
                file,
            });
        }
    }
    Ok(out)
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

fn shape_fragment(src: &dyn Source, g: roxmltree::Node, text: &str) -> Result<Option<String>> {
    let style = strip_hidden(g.attribute("style").unwrap_or(""));
    if let Some(fo) = g.descendants().find(|n| n.has_tag_name("foreignObject")) {
        let font_size = style_value(&style, "font-size")
            .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
            .unwrap_or(24.0);
        let color = style_value(&style, "color").unwrap_or_else(|| "#000000".into());
        let family = style_value(&style, "font-family").unwrap_or_else(|| "Arial".into());
        let b = TextBox {
            h: Some(attr_num(fo, "height")?),
            ..TextBox::new(
                attr_num(fo, "x")?,
                attr_num(fo, "y")?,
                attr_num(fo, "width")?,
                font_size,
                &color,
                &family,
            )
        };
        return Ok(Some(text_block(&paragraphs(fo), &b)));
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

/// The paragraphs of a text box as BBB's player shows them: the text of its `<p>` (not the
/// layout whitespace around it), a new line at each `<br>` and each carriage return
/// (`&#xD;`), empty lines kept.
fn paragraphs(fo: roxmltree::Node) -> Vec<String> {
    let mut lines = vec![String::new()];
    let root = fo
        .descendants()
        .find(|n| n != &fo && (n.has_tag_name("p") || n.has_tag_name("div")))
        .unwrap_or(fo);
    for n in root.descendants() {
        if n.has_tag_name("br") {
            lines.push(String::new());
        } else if n.is_text() {
            let mut parts = n.text().unwrap_or("").split('\r');
            if let (Some(first), Some(last)) = (parts.next(), lines.last_mut()) {
                last.push_str(first);
            }
            lines.extend(parts.map(str::to_string));
        }
    }
    lines
}

fn style_value(style: &str, key: &str) -> Option<String> {
    style.split(';').find_map(|d| {
        let (k, v) = d.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_box_paragraphs_skip_layout_whitespace_and_keep_line_breaks() {
        let xml = "<foreignObject>\n   <p xmlns=\"x\">a b&#xD;&#xD;c<br/>d</p>\n  </foreignObject>";
        let doc = roxmltree::Document::parse(xml).unwrap();
        assert_eq!(paragraphs(doc.root_element()), ["a b", "", "c", "d"]);
    }

    #[test]
    fn hidden_visibility_is_stripped() {
        assert_eq!(
            strip_hidden("stroke:#f00;visibility:hidden;fill:none"),
            "stroke:#f00;fill:none"
        );
    }
}
