//! tldraw.json (BBB 2.6+): tldraw v1 (2.6/2.7) and v2 (3.0) shapes to SVG fragments in
//! slide-image pixels. Shapes are read into typed structs whose missing fields take
//! tldraw's defaults; a shape of the wrong shape is skipped.

//!
//! `v1` reads tldraw v1 `TDShape`s, `v2` tldraw v2 `TLShape`s; this file reads the file and
//! holds what both draw alike (strokes, dashes, outlines, arrows).

mod inky;
mod v1;
mod v2;

use super::model::{ShapeVersion, Slide};
use anyhow::{Result, bail};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use v1::V1Shape;
use v2::V2Shape;

/// Page-space size and shape versions per slide image id (`imageN`).
pub type Parsed = ((f64, f64), HashMap<String, Vec<ShapeVersion>>);

/// One slide's entry: its shapes (each read on its own, so that one bad shape is skipped
/// alone).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Page {
    shapes: Vec<Value>,
}

/// One stored version of a shape.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Stored {
    timestamp: f64,
    undo: Option<f64>,
    shape_data: Option<Value>,
}

/// Parses tldraw.json; `slides` gives each image's pixel size (for the page scale).
pub fn parse(json: &str, slides: &[Slide]) -> Result<Parsed> {
    let v: Value = serde_json::from_str(json)?;
    let Some(obj) = v.as_object() else {
        bail!("not a JSON object")
    };
    let version = obj
        .get("bbb_version")
        .and_then(|v| v.as_str())
        .unwrap_or("2.7.0");
    let parts: Vec<u32> = version
        .split(['.', '-'])
        .filter_map(|p| p.parse().ok())
        .collect();
    let v2 = parts.first().copied().unwrap_or(2) >= 3;
    let space = if parts.starts_with(&[2, 6, 0]) {
        (2048.0, 1536.0)
    } else {
        (1440.0, 1080.0)
    };
    let mut out = HashMap::new();
    for (key, entry) in obj {
        if key == "bbb_version" {
            continue;
        }
        let id = format!("image{key}");
        let Some(slide) = slides.iter().find(|s| s.id == id) else {
            continue;
        };
        let s = (space.0 / slide.width).min(space.1 / slide.height);
        let page = Page::deserialize(entry).unwrap_or_default();
        let mut list = Vec::new();
        for sh in page
            .shapes
            .iter()
            .filter_map(|v| Stored::deserialize(v).ok())
        {
            let Some(data) = sh.shape_data else {
                continue;
            };
            let group = data.get("id").map(|x| x.to_string()).unwrap_or_default();
            let body = if v2 {
                V2Shape::deserialize(&data).ok().and_then(|d| d.svg())
            } else {
                V1Shape::deserialize(&data).ok().and_then(|d| d.svg())
            };
            let Some(body) = body else { continue };
            let svg = format!("<g transform=\"scale({})\">{body}</g>", 1.0 / s);
            list.push(ShapeVersion {
                group,
                timestamp: sh.timestamp,
                undo: sh.undo.filter(|u| *u >= 0.0),
                svg,
            });
        }
        out.insert(id, list);
    }
    Ok((space, out))
}

/// A point given as `[x, y, …]` (v1); (0, 0) when shorter.
fn pair(v: &[f64]) -> (f64, f64) {
    match v {
        [x, y, ..] => (*x, *y),
        _ => (0.0, 0.0),
    }
}

/// The stroke attributes of a line of `color` and width `sw`.
fn stroke_attrs(color: &str, sw: f64, dash_kind: &str) -> String {
    format!(
        "stroke=\"{color}\" stroke-width=\"{sw}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{}",
        dash(dash_kind, sw)
    )
}

/// `a` moved towards `b` by `t` (0-1), channel by channel, as `#rrggbb`.
fn mix(a: &str, b: &str, t: f64) -> String {
    let rgb = |s: &str| {
        let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap_or(0);
        [(v >> 16) & 255, (v >> 8) & 255, v & 255].map(|c| c as f64)
    };
    let (x, y) = (rgb(a), rgb(b));
    let c: Vec<String> = (0..3)
        .map(|i| format!("{:02x}", (x[i] + (y[i] - x[i]) * t).round() as u8))
        .collect();
    format!("#{}", c.concat())
}

/// The dash attribute (with its leading space) of a stroke of width `w`.
fn dash(kind: &str, w: f64) -> String {
    match kind {
        "dashed" => format!(" stroke-dasharray=\"{} {}\"", w * 4.0, w * 4.0),
        "dotted" => format!(" stroke-dasharray=\"0 {}\"", w * 4.0),
        _ => String::new(),
    }
}

fn polyline(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        d.push_str(&format!("{}{x:.2} {y:.2}", if i == 0 { "M" } else { "L" }));
    }
    if points.len() == 1 {
        d.push_str(&format!("L{:.2} {:.2}", points[0].0 + 0.01, points[0].1));
    }
    d
}

fn geo(kind: &str, w: f64, h: f64) -> String {
    match kind {
        "ellipse" | "oval" => format!(
            "M0 {y}A{rx} {y} 0 1 1 {w} {y}A{rx} {y} 0 1 1 0 {y}Z",
            rx = w / 2.0,
            y = h / 2.0
        ),
        "triangle" => format!("M{} 0L{w} {h}L0 {h}Z", w / 2.0),
        "diamond" => format!(
            "M{} 0L{w} {}L{} {h}L0 {}Z",
            w / 2.0,
            h / 2.0,
            w / 2.0,
            h / 2.0
        ),
        _ => format!("M0 0L{w} 0L{w} {h}L0 {h}Z"),
    }
}

/// A rectangle path with corners rounded by `r`.
fn rounded_rect(x: f64, y: f64, w: f64, h: f64, r: f64) -> String {
    let (x2, y2) = (x + w, y + h);
    if r <= 0.0 {
        return format!("M{x} {y}L{x2} {y}L{x2} {y2}L{x} {y2}Z");
    }
    format!(
        "M{} {y}L{} {y}Q{x2} {y} {x2} {}L{x2} {}Q{x2} {y2} {} {y2}L{} {y2}Q{x} {y2} {x} {}L{x} {}Q{x} {y} {} {y}Z",
        x + r,
        x2 - r,
        y + r,
        y2 - r,
        x2 - r,
        x + r,
        y2 - r,
        y + r,
        x + r
    )
}

/// An arrow from `a` to `b`, bent along the circular arc through `mid` when given (as
/// tldraw draws it), with its head along the arc's end.
fn arrow(a: (f64, f64), b: (f64, f64), mid: Option<(f64, f64)>, sw: f64, stroke: &str) -> String {
    let straight = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let mid = mid.filter(|m| (m.0 - straight.0).hypot(m.1 - straight.1) > 0.5);
    let (line, from) = match mid.and_then(|m| arc(a, m, b)) {
        Some((d, tangent)) => (d, (b.0 - tangent.0, b.1 - tangent.1)),
        None => (format!("M{} {}L{} {}", a.0, a.1, b.0, b.1), a),
    };
    let ang = (b.1 - from.1).atan2(b.0 - from.0);
    let l = sw * 5.0;
    let p1 = (b.0 - l * (ang - 0.5).cos(), b.1 - l * (ang - 0.5).sin());
    let p2 = (b.0 - l * (ang + 0.5).cos(), b.1 - l * (ang + 0.5).sin());
    format!(
        "<path d=\"{line}M{} {}L{} {}L{} {}\" fill=\"none\" {stroke}/>",
        p1.0, p1.1, b.0, b.1, p2.0, p2.1
    )
}

/// The centre and radius of the circle through `a`, `m` and `b`; None when they are
/// (nearly) on one line.
fn circle(a: (f64, f64), m: (f64, f64), b: (f64, f64)) -> Option<((f64, f64), f64)> {
    let d = 2.0 * (a.0 * (m.1 - b.1) + m.0 * (b.1 - a.1) + b.0 * (a.1 - m.1));
    if d.abs() < 1e-6 {
        return None;
    }
    let sq = |p: (f64, f64)| p.0 * p.0 + p.1 * p.1;
    let c = (
        (sq(a) * (m.1 - b.1) + sq(m) * (b.1 - a.1) + sq(b) * (a.1 - m.1)) / d,
        (sq(a) * (b.0 - m.0) + sq(m) * (a.0 - b.0) + sq(b) * (m.0 - a.0)) / d,
    );
    Some((c, (a.0 - c.0).hypot(a.1 - c.1)))
}

/// The SVG path of the circular arc from `a` through `m` to `b`, and the unit direction it
/// arrives at `b` in; None when the three points are (nearly) on one line.
fn arc(a: (f64, f64), m: (f64, f64), b: (f64, f64)) -> Option<(String, (f64, f64))> {
    use std::f64::consts::TAU;
    let (c, r) = circle(a, m, b)?;
    let angle = |p: (f64, f64)| (p.1 - c.1).atan2(p.0 - c.0);
    let (ta, tm, tb) = (angle(a), angle(m), angle(b));
    // Going from a with growing angles (clockwise on screen), is m met before b?
    let to_m = (tm - ta).rem_euclid(TAU);
    let to_b = (tb - ta).rem_euclid(TAU);
    let (sweep, span) = if to_m < to_b {
        (1, to_b)
    } else {
        (0, TAU - to_b)
    };
    let large = i32::from(span > std::f64::consts::PI);
    let dir = if sweep == 1 { 1.0 } else { -1.0 };
    let tangent = (-tb.sin() * dir, tb.cos() * dir);
    Some((
        format!("M{} {}A{r} {r} 0 {large} {sweep} {} {}", a.0, a.1, b.0, b.1),
        tangent,
    ))
}

#[cfg(test)]
mod tests {
    use super::v2::bend_point;
    use super::*;

    #[test]
    fn bent_arrows_pass_through_their_bend_point() {
        // v2: 100 px chord along x, bend 20 → through (50, 20) (left of the way, y down).
        assert_eq!(
            bend_point((0.0, 0.0), (100.0, 0.0), 20.0),
            Some((50.0, 20.0))
        );
        assert_eq!(bend_point((0.0, 0.0), (100.0, 0.0), 0.0), None);
        let s = arrow((0.0, 0.0), (100.0, 0.0), Some((50.0, 20.0)), 2.0, "");
        // The circle through (0, 0), (50, 20), (100, 0): centre (50, -52.5), radius 72.5;
        // from (0, 0) the angles shrink (counter-clockwise on screen) to reach (50, 20).
        assert!(
            s.starts_with("<path d=\"M0 0A72.5 72.5 0 0 0 100 0M"),
            "{s}"
        );
        // The head points along the arc's end: up and right at (100, 0).
        let (_, t) = arc((0.0, 0.0), (50.0, 20.0), (100.0, 0.0)).unwrap();
        assert!(t.0 > 0.0 && t.1 < 0.0, "{t:?}");
        // A straight arrow stays a line.
        let s = arrow((0.0, 0.0), (100.0, 0.0), Some((50.0, 0.0)), 2.0, "");
        assert!(s.starts_with("<path d=\"M0 0L100 0M"), "{s}");
    }
}
