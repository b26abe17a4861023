//! tldraw.json (BBB 2.6+): tldraw v1 (2.6/2.7) and v2 (3.0) shapes to SVG fragments in
//! slide-image pixels (bbb.md §4.8).

use super::published::{ShapeVersion, Slide, text_block};
use anyhow::{Result, bail};
use serde_json::Value;
use std::collections::HashMap;

/// Page-space size and shape versions per slide image id (`imageN`).
pub type Parsed = ((f64, f64), HashMap<String, Vec<ShapeVersion>>);

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
        let mut list = Vec::new();
        for sh in entry
            .get("shapes")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            let ts = sh.get("timestamp").and_then(|x| x.as_f64()).unwrap_or(0.0);
            let undo = sh
                .get("undo")
                .and_then(|x| x.as_f64())
                .filter(|u| *u >= 0.0);
            let Some(data) = sh.get("shape_data") else {
                continue;
            };
            let group = data.get("id").map(|x| x.to_string()).unwrap_or_default();
            let body = if v2 { shape_v2(data) } else { shape_v1(data) };
            let Some(body) = body else { continue };
            let svg = format!("<g transform=\"scale({})\">{body}</g>", 1.0 / s);
            list.push(ShapeVersion {
                group,
                timestamp: ts,
                undo,
                svg,
            });
        }
        out.insert(id, list);
    }
    Ok((space, out))
}

fn f(v: Option<&Value>) -> f64 {
    v.and_then(|x| x.as_f64()).unwrap_or(0.0)
}

fn pair(v: Option<&Value>) -> (f64, f64) {
    match v.and_then(|x| x.as_array()) {
        Some(a) if a.len() >= 2 => (f(a.first()), f(a.get(1))),
        _ => (0.0, 0.0),
    }
}

fn color_v1(name: &str) -> &'static str {
    match name {
        "white" => "#f0f1f3",
        "lightGray" => "#c6cbd1",
        "gray" => "#788492",
        "green" => "#36b24d",
        "cyan" => "#0e98ad",
        "blue" => "#1c7ed6",
        "indigo" => "#4263eb",
        "violet" => "#7746f1",
        "red" => "#ff2133",
        "orange" => "#ff9433",
        "yellow" => "#ffc936",
        _ => "#1d1d1d",
    }
}

fn color_v2(name: &str) -> &'static str {
    match name {
        "white" => "#ffffff",
        "grey" => "#9fa8b2",
        "light-violet" => "#e085f4",
        "violet" => "#ae3ec9",
        "blue" => "#4465e9",
        "light-blue" => "#4ba1f1",
        "yellow" => "#f1ac4b",
        "orange" => "#e16919",
        "green" => "#099268",
        "light-green" => "#4cb05e",
        "light-red" => "#f87777",
        "red" => "#e03131",
        _ => "#1d1d1d",
    }
}

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

/// tldraw v1 `TDShape` (BBB 2.6/2.7).
fn shape_v1(d: &Value) -> Option<String> {
    let kind = d.get("type")?.as_str()?;
    let (px, py) = pair(d.get("point"));
    let (mut w, mut h) = pair(d.get("size"));
    if kind == "ellipse" && d.get("radius").is_some() {
        let (rx, ry) = pair(d.get("radius"));
        (w, h) = (rx * 2.0, ry * 2.0);
    }
    let rot = f(d.get("rotation")).to_degrees();
    let style = d.get("style");
    let color = color_v1(
        style
            .and_then(|s| s.get("color"))
            .and_then(|c| c.as_str())
            .unwrap_or("black"),
    );
    let scale = style
        .and_then(|s| s.get("scale"))
        .and_then(|c| c.as_f64())
        .unwrap_or(1.0);
    let size = style
        .and_then(|s| s.get("size"))
        .and_then(|c| c.as_str())
        .unwrap_or("small");
    let sw = match size {
        "large" => 5.0,
        "medium" => 3.5,
        _ => 2.0,
    } * scale;
    let filled = style
        .and_then(|s| s.get("isFilled"))
        .and_then(|c| c.as_bool())
        .unwrap_or(false);
    let dsh = dash(
        style
            .and_then(|s| s.get("dash"))
            .and_then(|c| c.as_str())
            .unwrap_or("draw"),
        sw,
    );
    let fill = if filled {
        format!("{color}\" fill-opacity=\"0.3")
    } else {
        "none".into()
    };
    let stroke = format!(
        "stroke=\"{color}\" stroke-width=\"{sw}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{dsh}"
    );
    let (cx, cy) = (w / 2.0, h / 2.0);
    let body = match kind {
        "draw" => {
            let pts: Vec<(f64, f64)> = d
                .get("points")?
                .as_array()?
                .iter()
                .map(|p| pair(Some(p)))
                .collect();
            format!("<path d=\"{}\" fill=\"none\" {stroke}/>", polyline(&pts))
        }
        "rectangle" | "ellipse" | "triangle" => {
            format!("<path d=\"{}\" fill=\"{fill}\" {stroke}/>", geo(kind, w, h))
        }
        "arrow" => {
            let hd = d.get("handles")?;
            let a = pair(hd.get("start").and_then(|x| x.get("point")));
            let b = pair(hd.get("end").and_then(|x| x.get("point")));
            let mid = hd
                .get("bend")
                .and_then(|x| x.get("point"))
                .map(|p| pair(Some(p)));
            arrow(a, b, mid, sw, &stroke)
        }
        "text" | "sticky" => {
            let t = d.get("text").and_then(|x| x.as_str()).unwrap_or("");
            let fs = match size {
                "large" => 96.0,
                "medium" => 48.0,
                _ => 28.0,
            } * scale;
            let lines: Vec<String> = t.lines().map(str::to_string).collect();
            let bg = if kind == "sticky" {
                format!("<rect width=\"{w}\" height=\"{h}\" fill=\"#fff9b1\"/>")
            } else {
                String::new()
            };
            let bw = if w > 0.0 { w } else { 1.0e6 };
            format!(
                "{bg}{}",
                text_block(
                    &lines,
                    0.0,
                    0.0,
                    bw,
                    fs,
                    if kind == "sticky" { "#1d1d1d" } else { color },
                    "Arial"
                )
            )
        }
        _ => return None,
    };
    Some(format!(
        "<g transform=\"translate({px} {py}) rotate({rot} {cx} {cy})\">{body}</g>"
    ))
}

/// An arrow from `a` to `b`, bent to pass through `mid` when given (a quadratic curve
/// through it, close to tldraw's arc), with its head along the curve's end.
fn arrow(a: (f64, f64), b: (f64, f64), mid: Option<(f64, f64)>, sw: f64, stroke: &str) -> String {
    let straight = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let mid = mid.filter(|m| (m.0 - straight.0).hypot(m.1 - straight.1) > 0.5);
    let (line, from) = match mid {
        // The control point of a quadratic that passes through `m` at its middle.
        Some(m) => {
            let c = (2.0 * m.0 - straight.0, 2.0 * m.1 - straight.1);
            (
                format!("M{} {}Q{} {} {} {}", a.0, a.1, c.0, c.1, b.0, b.1),
                c,
            )
        }
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

/// The point a tldraw v2 arrow bends through: `bend` px off the middle of the chord, along
/// its perpendicular (tldraw's `med + u.per() * -bend`, with `per(x, y) = (y, -x)`).
fn bend_point(a: (f64, f64), b: (f64, f64), bend: f64) -> Option<(f64, f64)> {
    let len = (b.0 - a.0).hypot(b.1 - a.1);
    if len < 1e-9 || bend.abs() < 0.5 {
        return None;
    }
    let u = ((b.0 - a.0) / len, (b.1 - a.1) / len);
    let m = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    Some((m.0 - u.1 * bend, m.1 + u.0 * bend))
}

fn xy(v: &Value) -> (f64, f64) {
    (f(v.get("x")), f(v.get("y")))
}

/// tldraw v2 `TLShape` (BBB 3.0).
fn shape_v2(d: &Value) -> Option<String> {
    let kind = d.get("type")?.as_str()?;
    let (px, py) = xy(d);
    let rot = f(d.get("rotation")).to_degrees();
    let props = d.get("props")?;
    let color = color_v2(
        props
            .get("color")
            .and_then(|c| c.as_str())
            .unwrap_or("black"),
    );
    let scale = props.get("scale").and_then(|c| c.as_f64()).unwrap_or(1.0);
    let size = props.get("size").and_then(|c| c.as_str()).unwrap_or("m");
    let sw = match size {
        "s" => 2.0,
        "l" => 5.0,
        "xl" => 10.0,
        _ => 3.5,
    } * scale;
    let opacity = d.get("opacity").and_then(|c| c.as_f64()).unwrap_or(1.0);
    let dsh = dash(
        props.get("dash").and_then(|c| c.as_str()).unwrap_or("draw"),
        sw,
    );
    let stroke = format!(
        "stroke=\"{color}\" stroke-width=\"{sw}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{dsh}"
    );
    let fill = match props.get("fill").and_then(|c| c.as_str()).unwrap_or("none") {
        "none" => "none".to_string(),
        "solid" => color.to_string(),
        _ => format!("{color}\" fill-opacity=\"0.3"),
    };
    let (w, h) = (f(props.get("w")), f(props.get("h")));
    let body = match kind {
        "draw" | "highlighter" => {
            let mut d = String::new();
            for seg in props.get("segments")?.as_array()? {
                let pts: Vec<(f64, f64)> = seg.get("points")?.as_array()?.iter().map(xy).collect();
                d.push_str(&polyline(&pts));
            }
            let (sw2, op) = if kind == "highlighter" {
                (sw * 4.0, 0.4)
            } else {
                (sw, 1.0)
            };
            format!(
                "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{sw2}\" stroke-opacity=\"{op}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{dsh}/>"
            )
        }
        "geo" => {
            let g = props
                .get("geo")
                .and_then(|c| c.as_str())
                .unwrap_or("rectangle");
            let mut s = format!("<path d=\"{}\" fill=\"{fill}\" {stroke}/>", geo(g, w, h));
            if let Some(t) = props
                .get("text")
                .and_then(|c| c.as_str())
                .filter(|t| !t.is_empty())
            {
                let fs = 24.0 * scale;
                let lines: Vec<String> = t.lines().map(str::to_string).collect();
                s.push_str(&text_block(
                    &lines,
                    4.0,
                    (h - fs * 1.15 * lines.len() as f64) / 2.0,
                    w.max(1.0),
                    fs,
                    color,
                    "Arial",
                ));
            }
            s
        }
        "line" => {
            let pts = props.get("points")?;
            let mut list: Vec<(String, (f64, f64))> = match pts {
                Value::Object(m) => m
                    .values()
                    .map(|p| {
                        (
                            p.get("index")
                                .and_then(|i| i.as_str())
                                .unwrap_or("")
                                .to_string(),
                            xy(p),
                        )
                    })
                    .collect(),
                Value::Array(a) => a.iter().map(|p| (String::new(), xy(p))).collect(),
                _ => return None,
            };
            list.sort_by(|a, b| a.0.cmp(&b.0));
            let pts: Vec<(f64, f64)> = list.into_iter().map(|p| p.1).collect();
            format!("<path d=\"{}\" fill=\"none\" {stroke}/>", polyline(&pts))
        }
        "arrow" => {
            let (a, b) = (xy(props.get("start")?), xy(props.get("end")?));
            let bend = props.get("bend").and_then(|v| v.as_f64()).unwrap_or(0.0);
            arrow(a, b, bend_point(a, b, bend), sw, &stroke)
        }
        "text" | "note" => {
            let t = props.get("text").and_then(|c| c.as_str()).unwrap_or("");
            let fs = match size {
                "s" => 18.0,
                "l" => 36.0,
                "xl" => 44.0,
                _ => 24.0,
            } * scale;
            let lines: Vec<String> = t.lines().map(str::to_string).collect();
            if kind == "note" {
                format!(
                    "<rect width=\"200\" height=\"200\" fill=\"#fff9b1\"/>{}",
                    text_block(&lines, 8.0, 8.0, 184.0, fs, "#1d1d1d", "Arial")
                )
            } else {
                text_block(
                    &lines,
                    0.0,
                    0.0,
                    if w > 0.0 { w } else { 1.0e6 },
                    fs,
                    color,
                    "Arial",
                )
            }
        }
        _ => return None,
    };
    Some(format!(
        "<g transform=\"translate({px} {py}) rotate({rot})\" opacity=\"{opacity}\">{}</g>",
        body
    ))
}

#[cfg(test)]
mod tests {
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
        // Quadratic control point 2m - chord middle = (50, 40): B(0.5) = (50, 20).
        assert!(s.starts_with("<path d=\"M0 0Q50 40 100 0M"), "{s}");
        // A straight arrow stays a line.
        let s = arrow((0.0, 0.0), (100.0, 0.0), Some((50.0, 0.0)), 2.0, "");
        assert!(s.starts_with("<path d=\"M0 0L100 0M"), "{s}");
    }

    #[test]
    fn v1_draw_becomes_a_path_at_its_point() {
        let d: Value = serde_json::from_str(r#"{"id":"d1","type":"draw","point":[100,100],"style":{"color":"red","size":"small"},"points":[[0,0],[40,30]]}"#).unwrap();
        let s = shape_v1(&d).unwrap();
        assert!(
            s.contains("translate(100 100)") && s.contains("#ff2133"),
            "{s}"
        );
    }

    #[test]
    fn v2_geo_rectangle_has_its_size() {
        let d: Value = serde_json::from_str(r#"{"id":"shape:a","type":"geo","x":10,"y":20,"props":{"geo":"rectangle","w":30,"h":40,"color":"blue"}}"#).unwrap();
        let s = shape_v2(&d).unwrap();
        assert!(s.contains("L30 40") && s.contains("#4465e9"), "{s}");
    }
}
