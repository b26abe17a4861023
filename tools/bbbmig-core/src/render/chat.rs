//! The optional chat column (slides_new.xml) and the chapter list (one per slide).

use super::fonts;
use super::model::Published;
use super::source::Source;
use super::svg::{self, TextBox, esc, text_lines, wrap};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One chat message.
#[derive(Debug, Clone)]
pub struct Message {
    pub at: f64,
    /// Cleared at.
    pub out: Option<f64>,
    pub name: String,
    pub text: String,
}

/// A message as BBB's player shows it: a link BBB wrapped as `<a href="URL"
/// rel="nofollow"><u>URL</u></a>` back to its URL, then one more level of XML entities
/// decoded (BBB escapes what was typed, so `<b>hi</b>` is shown as typed, not stripped).
fn as_sent(s: &str) -> String {
    const OPEN: &str = "<a href=\"";
    const MID: &str = "\" rel=\"nofollow\"><u>";
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len()..];
        let link = after.find(MID).and_then(|j| {
            let url = &after[..j];
            let close = format!("{url}</u></a>");
            after[j + MID.len()..]
                .starts_with(&close)
                .then(|| (url, j + MID.len() + close.len()))
        });
        match link {
            Some((url, len)) => {
                out.push_str(&rest[..i]);
                out.push_str(url);
                rest = &after[len..];
            }
            None => {
                out.push_str(&rest[..i + OPEN.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    for (pat, to) in [
        (["&quot;", "&#34;"], "\""),
        (["&amp;", "&#38;"], "&"),
        (["&apos;", "&#39;"], "'"),
        (["&lt;", "&#60;"], "<"),
        (["&gt;", "&#62;"], ">"),
    ] {
        for p in pat {
            out = out.replace(p, to);
        }
    }
    out
}

/// Reads slides_new.xml (missing = no chat).
pub fn load(src: &dyn Source) -> Result<Vec<Message>> {
    let Some(file) = src.fetch("slides_new.xml")? else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&file).context("reading slides_new.xml")?;
    let doc = roxmltree::Document::parse(&text).context("slides_new.xml is not valid XML")?;
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| n.has_tag_name("chattimeline")) {
        if n.attribute("target").is_some_and(|t| t != "chat") {
            continue;
        }
        let Some(at) = n.attribute("in").and_then(|v| v.trim().parse::<f64>().ok()) else {
            continue;
        };
        out.push(Message {
            at,
            out: n.attribute("out").and_then(|v| v.trim().parse().ok()),
            name: n.attribute("name").unwrap_or("").to_string(),
            text: as_sent(n.attribute("message").unwrap_or("")),
        });
    }
    out.sort_by(|a, b| a.at.total_cmp(&b.at));
    Ok(out)
}

/// The elapsed time a message was sent at, as the player shows it (`H:MM:SS`, 24 h).
fn clock(t: f64) -> String {
    let s = t.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One message drawn at the top of a block `w` wide: the sender's name in bold and the time
/// on one line, the text as sent below (its line breaks kept, wrapped to the width); returns
/// the SVG and the block's height.
fn message_block(m: &Message, w: f64, fs: f64) -> (String, f64) {
    let pad = (fs * 0.5).round();
    let (base, pitch) = fonts::line_metrics(FAMILY, fs, None);
    let name = TextBox {
        bold: true,
        ..TextBox::new(pad, pad, w - 2.0 * pad, fs, "#ffffff", FAMILY)
    };
    let name_w = fonts::styled_width(&m.name, FAMILY, fs, true).min(w * 0.7);
    let small = (fs * 0.75).round();
    let (sbase, _) = fonts::line_metrics(FAMILY, small, None);
    let time = TextBox {
        opacity: 0.75,
        ..TextBox::new(
            pad + name_w + pad,
            pad + base - sbase,
            w,
            small,
            "#dddddd",
            FAMILY,
        )
    };
    let body = TextBox::new(pad, pad + pitch, w - 2.0 * pad, fs, "#eeeeee", FAMILY);
    let paragraphs: Vec<String> = m.text.split('\n').map(str::to_string).collect();
    let lines = wrap(&paragraphs, &body);
    let svg = format!(
        "{}{}{}",
        text_lines(std::slice::from_ref(&m.name), &name),
        text_lines(&[clock(m.at)], &time),
        text_lines(&lines, &body)
    );
    (svg, pad + pitch * (1 + lines.len()) as f64 + pad)
}

/// The chat's font family (the player's is Verdana, not installed here: Arial's metric twin
/// is the fallback).
const FAMILY: &str = "Verdana, Arial";

/// Renders the chat column (`w`x`h`) for every change; returns (png, duration) items. The
/// text size follows the column's width (the same in every layout); the newest message is
/// at the bottom, older ones above it, the oldest shown cut by the top edge as in a scrolled
/// list.
pub fn panels(
    msgs: &[Message],
    duration: f64,
    w: u32,
    h: u32,
    dir: &Path,
) -> Result<Vec<(PathBuf, f64)>> {
    let mut times = vec![0.0];
    for m in msgs {
        times.push(m.at);
        times.extend(m.out);
    }
    times.retain(|t| *t >= 0.0 && *t < duration);
    times.sort_by(f64::total_cmp);
    times.dedup();
    let opt = svg::svg_options();
    let fs = (w as f64 / 20.0).round().max(10.0);
    let mut items = Vec::new();
    for (k, &t) in times.iter().enumerate() {
        let end = times.get(k + 1).copied().unwrap_or(duration);
        let visible: Vec<&Message> = msgs
            .iter()
            .filter(|m| m.at <= t && m.out.is_none_or(|o| o > t))
            .collect();
        let mut body = String::new();
        let mut y = h as f64;
        for m in visible.iter().rev() {
            if y <= 0.0 {
                break;
            }
            let (block, bh) = message_block(m, w as f64, fs);
            y -= bh;
            let _ = write!(body, "<g transform=\"translate(0 {y})\">{block}</g>");
        }
        let svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><rect width=\"{w}\" height=\"{h}\" fill=\"#303030\"/>{body}</svg>"
        );
        let path = dir.join(format!("chat{k}.png"));
        svg::svg_to_png(&svg, &opt, &path)?;
        items.push((path, end - t));
    }
    Ok(items)
}

/// An ffmetadata file with one chapter per slide display period (consecutive periods of the
/// same slide merged); None when there is no real slide.
pub fn chapters(p: &Published, path: &Path) -> Result<Option<PathBuf>> {
    let mut list: Vec<(f64, f64, String)> = Vec::new();
    for s in p.slides.iter().filter(|s| !s.is_placeholder()) {
        let title = match s.number() {
            Some(n) => format!("Slide {n}"),
            None => "Slide".to_string(),
        };
        let (a, b) = (s.start.max(0.0), s.end.min(p.duration));
        if b <= a {
            continue;
        }
        match list.last_mut() {
            Some(l) if l.2 == title && (l.1 - a).abs() < 0.05 => l.1 = b,
            _ => list.push((a, b, title)),
        }
    }
    if list.is_empty() {
        return Ok(None);
    }
    let mut s = String::from(";FFMETADATA1\n");
    for (a, b, t) in &list {
        let _ = write!(
            s,
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={}\n",
            (a * 1000.0).round() as i64,
            (b * 1000.0).round() as i64,
            esc(t)
                .replace('=', "\\=")
                .replace(';', "\\;")
                .replace('#', "\\#")
        );
    }
    std::fs::write(path, s)?;
    Ok(Some(path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_shown_as_sent() {
        assert_eq!(as_sent("<b>hi</b> -&gt; x"), "<b>hi</b> -> x");
        assert_eq!(
            as_sent("see <a href=\"https://e.org\" rel=\"nofollow\"><u>https://e.org</u></a>!"),
            "see https://e.org!"
        );
        assert_eq!(as_sent("<a href=\"x\">y</a>"), "<a href=\"x\">y</a>");
        assert_eq!(clock(3723.9), "01:02:03");
    }

    #[test]
    fn a_message_block_keeps_its_line_breaks() {
        let m = |text: &str| Message {
            at: 0.0,
            out: None,
            name: "N".into(),
            text: text.into(),
        };
        let (one, h1) = message_block(&m("a"), 320.0, 16.0);
        let (two, h2) = message_block(&m("a\nb"), 320.0, 16.0);
        assert!(h2 > h1, "{h1} {h2}");
        assert_eq!(
            two.matches("<tspan").count(),
            one.matches("<tspan").count() + 1
        );
        assert!(one.contains("font-weight=\"bold\""));
    }
}
