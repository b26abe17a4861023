//! tldraw.json (BBB 2.6+): tldraw v1 (2.6/2.7) and v2 (3.0) shapes to SVG fragments in
//! slide-image pixels. Shapes are read into typed structs whose missing fields take
//! tldraw's defaults; a shape of the wrong shape is skipped.

use super::freehand;
use super::model::{ShapeVersion, Slide};
use super::svg::{Align, TextBox, text_block, text_lines};
use anyhow::{Result, bail};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

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

/// The fill attributes of a closed shape: none, `color`, or `color` at 30 %.
fn fill_attrs(kind: Fill, color: &str) -> String {
    match kind {
        Fill::None => "fill=\"none\"".into(),
        Fill::Solid => format!("fill=\"{color}\""),
        Fill::Tinted => format!("fill=\"{color}\" fill-opacity=\"0.3\""),
    }
}

/// How a closed shape is filled.
#[derive(Clone, Copy)]
enum Fill {
    None,
    Solid,
    Tinted,
}

/// The stroke attributes of a line of `color` and width `sw`.
fn stroke_attrs(color: &str, sw: f64, dash_kind: &str) -> String {
    format!(
        "stroke=\"{color}\" stroke-width=\"{sw}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{}",
        dash(dash_kind, sw)
    )
}

/// Text lines wrapped in a box of width `w` at (`x`, `y`), in Arial as BBB's player draws it.
fn text(t: &str, x: f64, y: f64, w: f64, size: f64, color: &str) -> String {
    let lines: Vec<String> = t.lines().map(str::to_string).collect();
    text_block(&lines, &TextBox::new(x, y, w, size, color, "Arial"))
}

/// tldraw v1's base colours (its `ColorStyle` table).
fn base_v1(name: &str) -> &'static str {
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

/// A v1 stroke colour (light theme: white strokes are drawn black).
fn color_v1(name: &str) -> String {
    match name {
        "white" => "#1d1d1d".into(),
        _ => base_v1(name).into(),
    }
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

/// A v1 fill colour (the stroke colour faded towards the page, light theme).
fn fill_v1(name: &str) -> String {
    match name {
        "white" => "#fefefe".into(),
        _ => mix(base_v1(name), "#fafafa", 0.82),
    }
}

/// A v1 sticky note's colour (white and black notes are yellow).
fn sticky_v1(name: &str) -> String {
    let name = if name == "white" || name == "black" {
        "yellow"
    } else {
        name
    };
    mix(base_v1(name), "#fafafa", 0.45)
}

/// tldraw v1's letter spacing (em) of text and sticky notes.
const V1_LETTER_SPACING: f64 = -0.03;

/// tldraw v1's font family per `font` style.
fn font_v1(font: &str) -> &'static str {
    match font {
        "sans" => "Source Sans Pro",
        "serif" => "Crimson Pro",
        "mono" => "Source Code Pro",
        _ => "Caveat Brush",
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

/// tldraw v1 `TDShape` (BBB 2.6/2.7).
#[derive(Deserialize)]
#[serde(default)]
struct V1Shape {
    #[serde(rename = "type")]
    kind: String,
    point: Vec<f64>,
    size: Vec<f64>,
    radius: Option<Vec<f64>>,
    rotation: f64,
    style: V1Style,
    points: Option<Vec<Vec<f64>>>,
    handles: Option<V1Handles>,
    text: String,
}

impl Default for V1Shape {
    fn default() -> Self {
        V1Shape {
            kind: String::new(),
            point: Vec::new(),
            size: Vec::new(),
            radius: None,
            rotation: 0.0,
            style: V1Style::default(),
            points: None,
            handles: None,
            text: String::new(),
        }
    }
}

/// A v1 shape's style.
#[derive(Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct V1Style {
    color: String,
    scale: f64,
    size: String,
    is_filled: bool,
    dash: String,
    font: String,
    text_align: String,
}

impl Default for V1Style {
    fn default() -> Self {
        V1Style {
            color: "black".into(),
            scale: 1.0,
            size: "small".into(),
            is_filled: false,
            dash: "draw".into(),
            font: "script".into(),
            text_align: "start".into(),
        }
    }
}

impl V1Style {
    /// The text alignment (`textAlign`; start when missing).
    fn align(&self) -> Align {
        match self.text_align.as_str() {
            "middle" => Align::Middle,
            "end" => Align::End,
            _ => Align::Start,
        }
    }
}

/// A v1 arrow's handles.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Handles {
    start: Option<V1Handle>,
    end: Option<V1Handle>,
    bend: Option<V1Handle>,
}

/// One handle of a v1 arrow.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Handle {
    point: Vec<f64>,
}

impl V1Shape {
    /// The shape as an SVG fragment in page units; None for kinds not drawn. Sizes follow
    /// tldraw v1: a stroke width per size (its style's scale does not change it), strokes
    /// inside the bounds, hand-drawn (`dash: draw`) outlines with rounded corners, fonts
    /// scaled by the style's scale.
    fn svg(&self) -> Option<String> {
        let kind = self.kind.as_str();
        let (px, py) = pair(&self.point);
        let (mut w, mut h) = pair(&self.size);
        if let (Some(r), "ellipse") = (&self.radius, kind) {
            let (rx, ry) = pair(r);
            (w, h) = (rx * 2.0, ry * 2.0);
        }
        let rot = self.rotation.to_degrees();
        let st = &self.style;
        let color = color_v1(&st.color);
        let sw = match st.size.as_str() {
            "large" => 5.0,
            "medium" => 3.5,
            _ => 2.0,
        };
        let drawn = st.dash == "draw";
        // The width of a plain (solid, dashed, dotted) outline.
        let plain = 1.0 + sw * 1.618;
        let fill = if st.is_filled {
            format!("fill=\"{}\"", fill_v1(&st.color))
        } else {
            "fill=\"none\"".into()
        };
        let (cx, cy) = (w / 2.0, h / 2.0);
        let body = match kind {
            "draw" => self.freehand(&color, sw)?,
            "rectangle" | "triangle" => {
                // Hand-drawn: a band `sw` wide stroked `sw` more, centred `sw`/2 inside;
                // plain: a line `plain` wide centred `plain`/2 inside. Triangles are drawn
                // on their bounds.
                let (inset, width) = if drawn {
                    (sw / 2.0, 2.0 * sw)
                } else {
                    (plain / 2.0, plain)
                };
                let inset = if kind == "triangle" { 0.0 } else { inset };
                let d = if kind == "rectangle" {
                    let r = if drawn {
                        (w / 4.0).min(h / 4.0).min(sw * 2.0)
                    } else {
                        0.0
                    };
                    rounded_rect(inset, inset, w - 2.0 * inset, h - 2.0 * inset, r)
                } else {
                    format!(
                        "M{} {inset}L{} {}L{inset} {}Z",
                        w / 2.0,
                        w - inset,
                        h - inset,
                        h - inset
                    )
                };
                format!(
                    "<path d=\"{d}\" {fill} {}/>",
                    stroke_attrs(&color, width, if drawn { "solid" } else { &st.dash })
                )
            }
            "ellipse" => {
                let (inset, width) = if drawn {
                    (-sw / 2.0, 1.0 + sw * 1.5)
                } else {
                    (plain / 2.0, plain)
                };
                format!(
                    "<ellipse cx=\"{cx}\" cy=\"{cy}\" rx=\"{}\" ry=\"{}\" {fill} {}/>",
                    (cx - inset).max(0.0),
                    (cy - inset).max(0.0),
                    stroke_attrs(&color, width, if drawn { "solid" } else { &st.dash })
                )
            }
            "arrow" => {
                let hd = self.handles.as_ref()?;
                let point = |h: &Option<V1Handle>| h.as_ref().map(|h| pair(&h.point));
                let a = point(&hd.start).unwrap_or((0.0, 0.0));
                let b = point(&hd.end).unwrap_or((0.0, 0.0));
                let dash = if drawn { "solid" } else { st.dash.as_str() };
                let stroke = stroke_attrs(&color, plain, dash);
                arrow(a, b, point(&hd.bend), plain, &stroke)
            }
            "text" => {
                let fs = match st.size.as_str() {
                    "large" => 96.0,
                    "medium" => 48.0,
                    _ => 28.0,
                } * st.scale;
                let bw = if w > 0.0 { w } else { 1.0e6 };
                let b = TextBox {
                    line_height: Some(1.0),
                    letter_spacing: V1_LETTER_SPACING,
                    align: st.align(),
                    ..TextBox::new(4.0, 4.0, bw, fs, &color, font_v1(&st.font))
                };
                text_lines(
                    &self.text.lines().map(str::to_string).collect::<Vec<_>>(),
                    &b,
                )
            }
            "sticky" => {
                let fs = match st.size.as_str() {
                    "large" => 48.0,
                    "medium" => 36.0,
                    _ => 24.0,
                } * st.scale;
                let (w, h) = (w.max(1.0), h.max(1.0));
                let b = TextBox {
                    line_height: Some(1.0),
                    letter_spacing: V1_LETTER_SPACING,
                    align: st.align(),
                    ..TextBox::new(
                        16.0,
                        16.0,
                        (w - 32.0).max(1.0),
                        fs,
                        "#0d0d0d",
                        font_v1(&st.font),
                    )
                };
                let lines: Vec<String> = self.text.lines().map(str::to_string).collect();
                format!(
                    "{}<rect width=\"{w}\" height=\"{h}\" rx=\"3\" fill=\"{}\"/>{}",
                    note_shadow(w, h),
                    sticky_v1(&st.color),
                    text_block(&lines, &b)
                )
            }
            _ => return None,
        };
        Some(format!(
            "<g transform=\"translate({px} {py}) rotate({rot} {cx} {cy})\">{body}</g>"
        ))
    }

    /// A freehand line: hand-drawn, a variable-width pen stroke (filled outline, stroked
    /// half the width more); otherwise a plain line through the points.
    fn freehand(&self, color: &str, sw: f64) -> Option<String> {
        let pts: Vec<(f64, f64, f64)> = self
            .points
            .as_ref()?
            .iter()
            .map(|p| {
                let (x, y) = pair(p);
                (x, y, p.get(2).copied().unwrap_or(0.5))
            })
            .collect();
        let (minx, maxx, miny, maxy) = pts.iter().fold(
            (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
            |(a, b, c, d), p| (a.min(p.0), b.max(p.0), c.min(p.1), d.max(p.1)),
        );
        if pts.is_empty() || (maxx - minx <= sw / 2.0 && maxy - miny <= sw / 2.0) {
            return Some(format!(
                "<circle r=\"{}\" fill=\"{color}\" stroke=\"{color}\"/>",
                1.0 + sw
            ));
        }
        if self.style.dash != "draw" {
            let line: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
            return Some(format!(
                "<path d=\"{}\" fill=\"none\" {}/>",
                polyline(&line),
                stroke_attrs(color, 1.0 + sw * 1.618, &self.style.dash)
            ));
        }
        let mouse = pts.get(1).is_some_and(|p| p.2 == 0.5);
        let o = freehand::Options {
            size: 1.0 + sw * 1.5,
            thinning: 0.65,
            streamline: 0.65,
            smoothing: 0.65,
            simulate_pressure: mouse,
            sine_easing: mouse,
        };
        Some(format!(
            "<path d=\"{}\" fill=\"{color}\" stroke=\"{color}\" stroke-width=\"{}\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>",
            freehand::svg_path(&freehand::outline(&pts, &o)),
            sw / 2.0
        ))
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

/// The soft shadow under a sticky note of `w`x`h` (tldraw's note shadow: mostly below and to
/// the right, blurred).
fn note_shadow(w: f64, h: f64) -> String {
    format!(
        "<rect x=\"1.5\" y=\"2.5\" width=\"{w}\" height=\"{h}\" rx=\"3\" fill=\"#000\" fill-opacity=\"0.18\" filter=\"url(#tl-note-shadow)\"/><filter id=\"tl-note-shadow\" x=\"-20%\" y=\"-20%\" width=\"140%\" height=\"140%\"><feGaussianBlur stdDeviation=\"3\"/></filter>"
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

/// The SVG path of the circular arc from `a` through `m` to `b`, and the unit direction it
/// arrives at `b` in; None when the three points are (nearly) on one line.
fn arc(a: (f64, f64), m: (f64, f64), b: (f64, f64)) -> Option<(String, (f64, f64))> {
    use std::f64::consts::TAU;
    let d = 2.0 * (a.0 * (m.1 - b.1) + m.0 * (b.1 - a.1) + b.0 * (a.1 - m.1));
    if d.abs() < 1e-6 {
        return None;
    }
    let sq = |p: (f64, f64)| p.0 * p.0 + p.1 * p.1;
    let c = (
        (sq(a) * (m.1 - b.1) + sq(m) * (b.1 - a.1) + sq(b) * (a.1 - m.1)) / d,
        (sq(a) * (b.0 - m.0) + sq(m) * (a.0 - b.0) + sq(b) * (m.0 - a.0)) / d,
    );
    let r = (a.0 - c.0).hypot(a.1 - c.1);
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

/// tldraw v2 `TLShape` (BBB 3.0).
#[derive(Deserialize)]
#[serde(default)]
struct V2Shape {
    #[serde(rename = "type")]
    kind: String,
    x: f64,
    y: f64,
    rotation: f64,
    opacity: f64,
    props: Option<V2Props>,
}

impl Default for V2Shape {
    fn default() -> Self {
        V2Shape {
            kind: String::new(),
            x: 0.0,
            y: 0.0,
            rotation: 0.0,
            opacity: 1.0,
            props: None,
        }
    }
}

/// A v2 shape's props (those of every kind in one struct: each kind reads its own).
#[derive(Deserialize)]
#[serde(default)]
struct V2Props {
    color: String,
    scale: f64,
    size: String,
    dash: String,
    fill: String,
    w: f64,
    h: f64,
    geo: String,
    text: String,
    segments: Option<Vec<V2Segment>>,
    points: Option<V2Points>,
    start: Option<Xy>,
    end: Option<Xy>,
    bend: f64,
}

impl Default for V2Props {
    fn default() -> Self {
        V2Props {
            color: "black".into(),
            scale: 1.0,
            size: "m".into(),
            dash: "draw".into(),
            fill: "none".into(),
            w: 0.0,
            h: 0.0,
            geo: "rectangle".into(),
            text: String::new(),
            segments: None,
            points: None,
            start: None,
            end: None,
            bend: 0.0,
        }
    }
}

/// One stroke of a v2 draw or highlighter shape.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Segment {
    points: Option<Vec<Xy>>,
}

/// A v2 point; line points carry their fractional `index` (their order).
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct Xy {
    x: f64,
    y: f64,
}

/// A v2 line point with its fractional `index`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct IndexedXy {
    index: String,
    x: f64,
    y: f64,
}

/// The points of a v2 line: a map by id (ordered by their `index`) or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum V2Points {
    Map(BTreeMap<String, IndexedXy>),
    List(Vec<Xy>),
}

impl Xy {
    fn pair(self) -> (f64, f64) {
        (self.x, self.y)
    }
}

impl V2Points {
    /// The points in drawing order.
    fn ordered(&self) -> Vec<(f64, f64)> {
        match self {
            V2Points::Map(m) => {
                let mut list: Vec<&IndexedXy> = m.values().collect();
                list.sort_by(|a, b| a.index.cmp(&b.index));
                list.into_iter().map(|p| (p.x, p.y)).collect()
            }
            V2Points::List(l) => l.iter().map(|p| p.pair()).collect(),
        }
    }
}

impl V2Shape {
    /// The shape as an SVG fragment in page units; None for kinds not drawn.
    fn svg(&self) -> Option<String> {
        let kind = self.kind.as_str();
        let p = self.props.as_ref()?;
        let color = color_v2(&p.color);
        let sw = match p.size.as_str() {
            "s" => 2.0,
            "l" => 5.0,
            "xl" => 10.0,
            _ => 3.5,
        } * p.scale;
        let body = match kind {
            "draw" | "highlighter" => p.freehand(kind == "highlighter", color, sw)?,
            "geo" => p.geo_shape(color, sw),
            "line" => format!(
                "<path d=\"{}\" fill=\"none\" {}/>",
                polyline(&p.points.as_ref()?.ordered()),
                stroke_attrs(color, sw, &p.dash)
            ),
            "arrow" => {
                let (a, b) = (p.start?.pair(), p.end?.pair());
                let stroke = stroke_attrs(color, sw, &p.dash);
                arrow(a, b, bend_point(a, b, p.bend), sw, &stroke)
            }
            "text" | "note" => p.text_shape(kind == "note", color),
            _ => return None,
        };
        Some(format!(
            "<g transform=\"translate({} {}) rotate({})\" opacity=\"{}\">{body}</g>",
            self.x,
            self.y,
            self.rotation.to_degrees(),
            self.opacity
        ))
    }
}

impl V2Props {
    /// A draw stroke, or a highlighter's (four times wider, see-through).
    fn freehand(&self, highlighter: bool, color: &str, sw: f64) -> Option<String> {
        let mut d = String::new();
        for seg in self.segments.as_ref()? {
            let pts: Vec<(f64, f64)> = seg.points.as_ref()?.iter().map(|p| p.pair()).collect();
            d.push_str(&polyline(&pts));
        }
        let (sw2, op) = if highlighter {
            (sw * 4.0, 0.4)
        } else {
            (sw, 1.0)
        };
        Some(format!(
            "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{sw2}\" stroke-opacity=\"{op}\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{}/>",
            dash(&self.dash, sw)
        ))
    }

    /// A geometric shape with its label centred.
    fn geo_shape(&self, color: &str, sw: f64) -> String {
        let fill = match self.fill.as_str() {
            "none" => Fill::None,
            "solid" => Fill::Solid,
            _ => Fill::Tinted,
        };
        let (w, h) = (self.w, self.h);
        let mut s = format!(
            "<path d=\"{}\" {} {}/>",
            geo(&self.geo, w, h),
            fill_attrs(fill, color),
            stroke_attrs(color, sw, &self.dash)
        );
        if !self.text.is_empty() {
            let fs = 24.0 * self.scale;
            let n = self.text.lines().count() as f64;
            s.push_str(&text(
                &self.text,
                4.0,
                (h - fs * 1.15 * n) / 2.0,
                w.max(1.0),
                fs,
                color,
            ));
        }
        s
    }

    /// A text, or a sticky note (a 200 px square).
    fn text_shape(&self, note: bool, color: &str) -> String {
        let fs = match self.size.as_str() {
            "s" => 18.0,
            "l" => 36.0,
            "xl" => 44.0,
            _ => 24.0,
        } * self.scale;
        if note {
            format!(
                "<rect width=\"200\" height=\"200\" fill=\"#fff9b1\"/>{}",
                text(&self.text, 8.0, 8.0, 184.0, fs, "#1d1d1d")
            )
        } else {
            let w = if self.w > 0.0 { self.w } else { 1.0e6 };
            text(&self.text, 0.0, 0.0, w, fs, color)
        }
    }
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

    #[test]
    fn v1_draw_becomes_a_path_at_its_point() {
        let d: V1Shape = serde_json::from_str(r#"{"id":"d1","type":"draw","point":[100,100],"style":{"color":"red","size":"small"},"points":[[0,0],[40,30]]}"#).unwrap();
        let s = d.svg().unwrap();
        assert!(
            s.contains("translate(100 100)") && s.contains("#ff2133"),
            "{s}"
        );
    }

    #[test]
    fn v2_geo_rectangle_has_its_size() {
        let d: V2Shape = serde_json::from_str(r#"{"id":"shape:a","type":"geo","x":10,"y":20,"props":{"geo":"rectangle","w":30,"h":40,"color":"blue"}}"#).unwrap();
        let s = d.svg().unwrap();
        assert!(s.contains("L30 40") && s.contains("#4465e9"), "{s}");
        assert!(s.contains("fill=\"none\" stroke=\"#4465e9\""), "{s}");
    }

    #[test]
    fn v1_fills_follow_tldraws_table_and_line_points_follow_their_index() {
        let d: V1Shape = serde_json::from_str(
            r#"{"type":"rectangle","size":[10,10],"style":{"isFilled":true,"color":"red"}}"#,
        )
        .unwrap();
        let s = d.svg().unwrap();
        // tldraw v1 fills: the colour 82 % of the way to #fafafa; the stroke the colour.
        assert!(s.contains("fill=\"#fbd3d6\" stroke=\"#ff2133\""), "{s}");
        // Plain (solid) outlines: 1 + 1.618 × the size's width, inside the bounds.
        let d: V1Shape = serde_json::from_str(
            r#"{"type":"rectangle","size":[100,50],"style":{"size":"large","dash":"solid","scale":3}}"#,
        )
        .unwrap();
        let s = d.svg().unwrap();
        assert!(
            s.contains("stroke-width=\"9.09\"") && s.contains("M4.545 4.545"),
            "{s}"
        );
        // A mouse-drawn line is a filled variable-width outline.
        let d: V1Shape = serde_json::from_str(
            r#"{"type":"draw","points":[[0,0,0.5],[10,5,0.5],[20,20,0.5],[40,30,0.5]]}"#,
        )
        .unwrap();
        let s = d.svg().unwrap();
        assert!(s.contains("Q") && s.contains("fill=\"#1d1d1d\""), "{s}");
        let d: V2Shape = serde_json::from_str(r#"{"type":"line","props":{"points":{"b":{"index":"a2","x":5,"y":5},"a":{"index":"a1","x":1,"y":1}}}}"#).unwrap();
        let s = d.svg().unwrap();
        assert!(s.contains("d=\"M1.00 1.00L5.00 5.00\""), "{s}");
        // The wrong type where a number belongs: the shape is skipped, not drawn at 0.
        assert!(serde_json::from_str::<V2Shape>(r#"{"type":"geo","x":"far"}"#).is_err());
    }
}
