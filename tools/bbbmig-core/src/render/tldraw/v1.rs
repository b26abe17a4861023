//! tldraw v1 `TDShape`s (BBB 2.6/2.7) to SVG: its colour, stroke and font tables, hand-drawn
//! outlines, pen strokes, text and sticky notes.

use super::super::freehand;
use super::super::svg::{Align, TextBox, text_block, text_lines};
use super::{arrow, circle, mix, pair, polyline, rounded_rect, stroke_attrs};
use serde::Deserialize;

/// tldraw v1's base colours (its `ColorStyle` table).
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

/// Whether a `dash` style is drawn with dashes (dashed, dotted).
fn dashes(style: &str) -> bool {
    matches!(style, "dashed" | "dotted")
}

/// tldraw v1's dashes fitted to a line of `len`: dashes `width` x 2 long (dotted: dots), at
/// least four, spread evenly (their count a multiple of `snap`), the first centred on the
/// start when `outset`; the attributes with a leading space, empty for other styles.
fn perfect_dash(len: f64, width: f64, style: &str, snap: u32, outset: bool) -> String {
    let (dash, ratio, offset) = match style {
        "dashed" => (width * 2.0, 1.0, if outset { width } else { 0.0 }),
        "dotted" => (width / 100.0, 100.0, 0.0),
        _ => return String::new(),
    };
    let mut n = (len / dash / (2.0 * ratio)).floor() as u32;
    n -= n % snap.max(1);
    let n = n.max(4) as f64;
    let gap = dash.max((len - n * dash) / if outset { n } else { n - 1.0 });
    format!(" stroke-dasharray=\"{dash} {gap}\" stroke-dashoffset=\"{offset}\"")
}

/// tldraw v1 `TDShape` (BBB 2.6/2.7).
#[derive(Deserialize)]
#[serde(default)]
pub(super) struct V1Shape {
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
    pub(super) fn svg(&self) -> Option<String> {
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
                if drawn || !dashes(&st.dash) {
                    format!(
                        "<path d=\"{d}\" {fill} {}/>",
                        stroke_attrs(&color, width, "solid")
                    )
                } else {
                    // Dashed and dotted outlines: one line per side, each with its own
                    // dashes fitted to its length (tldraw's perfect dashes).
                    let corners: Vec<(f64, f64)> = if kind == "rectangle" {
                        let (x2, y2) = (w - inset, h - inset);
                        vec![(inset, inset), (x2, inset), (x2, y2), (inset, y2)]
                    } else {
                        vec![(w / 2.0, 0.0), (w, h), (0.0, h)]
                    };
                    let mut out = format!("<path d=\"{d}\" {fill} stroke=\"none\"/>");
                    for (i, a) in corners.iter().enumerate() {
                        let b = corners[(i + 1) % corners.len()];
                        let len = (b.0 - a.0).hypot(b.1 - a.1);
                        out.push_str(&format!(
                            "<path d=\"M{} {}L{} {}\" fill=\"none\" {}{}/>",
                            a.0,
                            a.1,
                            b.0,
                            b.1,
                            stroke_attrs(&color, width, "solid"),
                            perfect_dash(len, sw * 1.618, &st.dash, 1, true)
                        ));
                    }
                    out
                }
            }
            "ellipse" => {
                let (inset, width) = if drawn {
                    (-sw / 2.0, 1.0 + sw * 1.5)
                } else {
                    (plain / 2.0, plain)
                };
                let (rx, ry) = ((cx - inset).max(0.0), (cy - inset).max(0.0));
                let dashed = if drawn {
                    String::new()
                } else {
                    // Ramanujan's perimeter, as tldraw measures it for its dashes.
                    let h3 = 3.0 * ((rx - ry) / (rx + ry).max(1e-9)).powi(2);
                    let p =
                        std::f64::consts::PI * (rx + ry) * (1.0 + h3 / (10.0 + (4.0 - h3).sqrt()));
                    let p = if p < 64.0 { p * 2.0 } else { p };
                    perfect_dash(p, sw * 1.618, &st.dash, 4, true)
                };
                format!(
                    "<ellipse cx=\"{cx}\" cy=\"{cy}\" rx=\"{rx}\" ry=\"{ry}\" {fill} {}{dashed}/>",
                    stroke_attrs(&color, width, "solid")
                )
            }
            "arrow" => {
                let hd = self.handles.as_ref()?;
                let point = |h: &Option<V1Handle>| h.as_ref().map(|h| pair(&h.point));
                let a = point(&hd.start).unwrap_or((0.0, 0.0));
                let b = point(&hd.end).unwrap_or((0.0, 0.0));
                let dash = if drawn { "solid" } else { st.dash.as_str() };
                let len = (b.0 - a.0).hypot(b.1 - a.1);
                let stroke = stroke_attrs(&color, plain, "solid")
                    + &perfect_dash(len, sw * 1.618, dash, 2, false);
                let bend = point(&hd.bend);
                let line = arrow(a, b, bend, plain, &stroke);
                let (x, y) = arc_origin(a, bend.unwrap_or(a), b);
                if x == 0.0 && y == 0.0 {
                    line
                } else {
                    format!("<g transform=\"translate({x} {y})\">{line}</g>")
                }
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

/// The soft shadow under a sticky note of `w`x`h` (tldraw's note shadow: mostly below and to
/// the right, blurred).
fn note_shadow(w: f64, h: f64) -> String {
    format!(
        "<rect x=\"1.5\" y=\"2.5\" width=\"{w}\" height=\"{h}\" rx=\"3\" fill=\"#000\" fill-opacity=\"0.18\" filter=\"url(#tl-note-shadow)\"/><filter id=\"tl-note-shadow\" x=\"-20%\" y=\"-20%\" width=\"140%\" height=\"140%\"><feGaussianBlur stdDeviation=\"3\"/></filter>"
    )
}

/// Where tldraw v1 puts a v1 arrow's local origin: the top-left corner of the bounds of its
/// arc (`getArcPoints`: start and end, or twenty points along the arc from start to end the
/// short way round), as its container is placed at the bounds and the arrow drawn in it in
/// local coordinates. tldraw keeps that corner at 0,0 when an arrow is edited, but handles
/// written otherwise are drawn shifted by it, and so are they here.
fn arc_origin(a: (f64, f64), bend: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let med = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let straight = (bend.0 - med.0).powi(2) + (bend.1 - med.1).powi(2) <= 4.0;
    let points: Vec<(f64, f64)> = match circle(a, bend, b).filter(|_| !straight) {
        None => vec![a, b],
        Some((c, r)) => {
            use std::f64::consts::TAU;
            let angle = |p: (f64, f64)| (p.1 - c.1).atan2(p.0 - c.0);
            let (from, to) = (angle(a), angle(b));
            // tldraw's lerpAngles: the shortest way from one angle to the other.
            let da = (to - from) % TAU;
            let short = (2.0 * da) % TAU - da;
            (0..20)
                .map(|i| {
                    let t = from + short * f64::from(i) / 19.0;
                    (c.0 + t.cos() * r, c.1 + t.sin() * r)
                })
                .collect()
        }
    };
    let min = |f: fn(&(f64, f64)) -> f64| points.iter().map(f).fold(f64::INFINITY, f64::min);
    // To a thousandth: a corner computed at 0,0 moves nothing.
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    (round(min(|p| p.0)), round(min(|p| p.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_arrow_origin_is_its_arcs_top_left_corner() {
        // Bent: the arc's top is the bend point, 20 below the handles' origin (tldraw's
        // twenty points miss it by 0.3).
        let (x, y) = arc_origin((0.0, 120.0), (150.0, 20.0), (300.0, 120.0));
        assert!(x.abs() < 1e-9 && (20.2..20.4).contains(&y), "{x} {y}");
        // Straight (bend within 2 px of the middle): the handles' own corner.
        assert_eq!(
            arc_origin((10.0, 5.0), (60.0, 55.0), (110.0, 105.0)),
            (10.0, 5.0)
        );
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
    fn v1_fills_follow_tldraws_table() {
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
    }

    #[test]
    fn dashes_fit_the_line_like_tldraws() {
        // 100 px, dashes 2 x 2 = 4 px: 12 of them, the gaps share the rest, the first
        // centred on the start.
        assert_eq!(
            perfect_dash(100.0, 2.0, "dashed", 1, true),
            " stroke-dasharray=\"4 4.333333333333333\" stroke-dashoffset=\"2\""
        );
        // Short lines keep four dashes; solid lines none.
        assert!(perfect_dash(10.0, 2.0, "dashed", 2, false).contains("\"4 4\""));
        assert_eq!(perfect_dash(100.0, 2.0, "solid", 1, true), "");
    }
}
