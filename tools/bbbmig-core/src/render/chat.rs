//! The optional chat column (slides_new.xml) and the chapter list (one per slide).

use super::model::Published;
use super::source::Source;
use super::svg::{self, esc, text_block};
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

fn strip_html(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
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
            text: strip_html(n.attribute("message").unwrap_or("")),
        });
    }
    out.sort_by(|a, b| a.at.total_cmp(&b.at));
    Ok(out)
}

/// Renders the chat column (`w`x`h`) for every change; returns (png, duration) items.
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
    let fs = (h as f64 / 40.0).max(10.0);
    let mut items = Vec::new();
    for (k, &t) in times.iter().enumerate() {
        let end = times.get(k + 1).copied().unwrap_or(duration);
        let visible: Vec<&Message> = msgs
            .iter()
            .filter(|m| m.at <= t && m.out.is_none_or(|o| o > t))
            .collect();
        let mut body = String::new();
        // Newest at the bottom; stack upwards until the column is full.
        let mut y = h as f64 - fs * 0.5;
        for m in visible.iter().rev() {
            let lines = vec![format!("{}: {}", m.name, m.text)];
            let block = text_block(&lines, 6.0, 0.0, w as f64 - 12.0, fs, "#eeeeee", "Arial");
            let count = block.matches("<tspan").count() as f64;
            let bh = count * fs * 1.15 + fs * 0.4;
            if y - bh < 0.0 {
                break;
            }
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
