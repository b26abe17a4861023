//! tldraw v2 `TLShape`s (BBB 3.0) to SVG: its colour and size tables, geo shapes, lines,
//! arrows, pen strokes, text and sticky notes.

use super::super::svg::{Align, TextBox, text_lines, wrap};
use super::super::{fonts, freehand};
use super::{arrow, dash, geo, inky, polyline, stroke_attrs};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A colour of tldraw v2's light theme (the table of the tldraw BBB's player v5.1.3 runs,
/// `@bigbluebutton/tldraw` 2.0.0-alpha): (solid, semi, pattern).
fn theme(name: &str) -> (&'static str, &'static str, &'static str) {
    match name {
        "blue" => ("#4263eb", "#dce1f8", "#6681ee"),
        "green" => ("#099268", "#d3e9e3", "#39a785"),
        "grey" => ("#adb5bd", "#eceef0", "#bcc3c9"),
        "light-blue" => ("#4dabf7", "#ddedfa", "#6fbbf8"),
        "light-green" => ("#40c057", "#dbf0e0", "#65cb78"),
        "light-red" => ("#ff8787", "#f4dadb", "#fe9e9e"),
        "light-violet" => ("#e599f7", "#f5eafa", "#e9acf8"),
        "orange" => ("#f76707", "#f8e2d4", "#f78438"),
        "red" => ("#e03131", "#f4dadb", "#e55959"),
        "violet" => ("#ae3ec9", "#ecdcf2", "#bd63d3"),
        "yellow" => ("#ffc078", "#f9f0e6", "#fecb92"),
        "white" => ("#ffffff", "#ffffff", "#ffffff"),
        _ => ("#1d1d1d", "#e8e8e8", "#494949"),
    }
}

/// A v2 stroke or text colour.
fn color_v2(name: &str) -> &'static str {
    theme(name).0
}

/// The theme's page-like fill of `semi` shapes.
const SEMI_FILL: &str = "#fcfffe";

/// The page colour of the light theme (notes are seen through a 28 % scrim of it).
const PAGE: &str = "#f9fafb";

/// The fill attribute of a closed shape of colour `color`: tldraw v2 fills `solid` shapes
/// with the colour's semi tone, `semi` ones with the theme's near-white, `pattern` ones with
/// a hatch of the pattern tone (drawn here as that tone halfway to the page).
fn fill_attr(fill: &str, color: &str) -> String {
    let (_, semi, pattern) = theme(color);
    match fill {
        "solid" => format!("fill=\"{semi}\""),
        "semi" => format!("fill=\"{SEMI_FILL}\""),
        "pattern" => format!("fill=\"{}\"", super::mix(pattern, PAGE, 0.5)),
        _ => "fill=\"none\"".into(),
    }
}

/// tldraw v2's font family per `font` style: the faces its assets package ships (bundled,
/// tools/bbbmig-core/fonts/README.md).
fn font_v2(font: &str) -> &'static str {
    match font {
        "sans" => "IBM Plex Sans",
        "serif" => "IBM Plex Serif",
        "mono" => "IBM Plex Mono",
        _ => "Shantell Sans Normal",
    }
}

/// tldraw v2's line height (em) of every text.
const LINE_HEIGHT: f64 = 1.35;

/// The padding (px) around a label inside its shape or note.
const LABEL_PADDING: f64 = 16.0;

/// A v2 text alignment (`start`, `middle`, `end`, and the older `*-legacy` forms).
fn align_v2(align: &str) -> Align {
    match align.trim_end_matches("-legacy") {
        "start" => Align::Start,
        "end" => Align::End,
        _ => Align::Middle,
    }
}

/// A label (geo shape or note) in the box `w`x`h`: wrapped inside its padding, placed by
/// `align` and `valign` (`start`, `middle`, `end`).
fn label(text: &str, w: f64, h: f64, b: TextBox, valign: &str) -> String {
    let inner = (w - 2.0 * LABEL_PADDING).max(1.0);
    let b = TextBox {
        x: LABEL_PADDING,
        w: inner,
        line_height: Some(LINE_HEIGHT),
        ..b
    };
    let lines = wrap(&paragraphs(text), &b);
    let tall = lines.len() as f64 * LINE_HEIGHT * b.size;
    let y = match valign {
        "start" => LABEL_PADDING,
        "end" => h - LABEL_PADDING - tall,
        _ => (h - tall) / 2.0,
    };
    text_lines(&lines, &TextBox { y, ..b })
}

/// Text drawn with tldraw v2's text outline: its CSS `text-shadow` puts six copies of the
/// text in the page colour 1 page px around it (`--tl-text-outline`, for text shapes and
/// geo and arrow labels, not for notes), drawn here as a page-coloured stroke under the fill.
fn outlined(text_svg: String) -> String {
    format!(
        "<g stroke=\"{PAGE}\" stroke-width=\"{}\" stroke-linejoin=\"round\" paint-order=\"stroke\">{text_svg}</g>",
        2.0 * TEXT_OUTLINE
    )
}

/// How far (page px) tldraw v2's text outline reaches around the glyphs
/// (`min(0.5, 1 / zoom) * 2px` at the player's zooms below 2).
const TEXT_OUTLINE: f64 = 1.0;

/// The paragraphs of a shape's text.
fn paragraphs(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// The point a tldraw v2 arrow bends through: `bend` px off the middle of the chord, along
/// its perpendicular (tldraw's `med + u.per() * -bend`, with `per(x, y) = (y, -x)`).
pub(super) fn bend_point(a: (f64, f64), b: (f64, f64), bend: f64) -> Option<(f64, f64)> {
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
pub(super) struct V2Shape {
    id: String,
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
            id: String::new(),
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
#[serde(default, rename_all = "camelCase")]
struct V2Props {
    color: String,
    label_color: String,
    font: String,
    align: String,
    vertical_align: String,
    auto_size: bool,
    grow_y: f64,
    scale: f64,
    size: String,
    dash: String,
    fill: String,
    w: f64,
    h: f64,
    geo: String,
    text: String,
    segments: Option<Vec<V2Segment>>,
    is_pen: bool,
    points: Option<V2Points>,
    start: Option<Xy>,
    end: Option<Xy>,
    bend: f64,
}

impl Default for V2Props {
    fn default() -> Self {
        V2Props {
            color: "black".into(),
            label_color: "black".into(),
            font: "draw".into(),
            align: "middle".into(),
            vertical_align: "middle".into(),
            auto_size: true,
            grow_y: 0.0,
            scale: 1.0,
            size: "m".into(),
            dash: "draw".into(),
            fill: "none".into(),
            w: 0.0,
            h: 0.0,
            geo: "rectangle".into(),
            text: String::new(),
            segments: None,
            is_pen: false,
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
    pub(super) fn svg(&self) -> Option<String> {
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
            "geo" => p.geo_shape(&self.id, color, sw),
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
    /// A `dash: draw` stroke as tldraw v2 draws it: a filled variable-width outline of all
    /// its segments' points (perfect-freehand, with its settings for mouse input, simulated
    /// pressure, or for pens; pen pressures are not kept here, 0.5 is used).
    fn ink(&self, color: &str, sw: f64) -> Option<String> {
        let pts: Vec<(f64, f64, f64)> = self
            .segments
            .as_ref()?
            .iter()
            .filter_map(|seg| seg.points.as_ref())
            .flatten()
            .map(|p| (p.x, p.y, 0.5))
            .collect();
        let o = if self.is_pen {
            freehand::Options {
                size: 1.0 + sw * 1.2,
                thinning: 0.62,
                streamline: 0.62,
                smoothing: 0.62,
                simulate_pressure: false,
                sine_easing: false,
            }
        } else {
            freehand::Options {
                size: 1.0 + sw,
                thinning: 0.5,
                streamline: 0.62 + (1.0 + sw) / 8.0 * 0.06,
                smoothing: 0.62,
                simulate_pressure: true,
                sine_easing: true,
            }
        };
        Some(format!(
            "<path d=\"{}\" fill=\"{color}\"/>",
            freehand::svg_path(&freehand::outline(&pts, &o))
        ))
    }

    /// A draw stroke, or a highlighter's (four times wider, see-through).
    fn freehand(&self, highlighter: bool, color: &str, sw: f64) -> Option<String> {
        if !highlighter && self.dash == "draw" {
            return self.ink(color, sw);
        }
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

    /// A geometric shape with its label (tldraw's label sizes, in the shape's font, placed
    /// by its alignment inside a 16 px padding).
    fn geo_shape(&self, id: &str, color: &str, sw: f64) -> String {
        let (w, h) = (self.w, self.h + self.grow_y);
        let corners = inky::outline(&self.geo, w.max(1.0), h.max(1.0));
        let mut s = match corners {
            Some(o) if self.dash == "draw" => {
                let (fill, stroke) = inky::polygon(id, &o, sw);
                format!(
                    "<path d=\"{fill}\" {} stroke=\"none\"/><path d=\"{stroke}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{sw}\"/>",
                    fill_attr(&self.fill, &self.color)
                )
            }
            _ => format!(
                "<path d=\"{}\" {} {}/>",
                geo(&self.geo, w, h),
                fill_attr(&self.fill, &self.color),
                stroke_attrs(color, sw, &self.dash)
            ),
        };
        if !self.text.is_empty() {
            let b = TextBox {
                align: align_v2(&self.align),
                ..self.text_box(self.label_size(), color_v2(&self.label_color))
            };
            s.push_str(&outlined(label(&self.text, w, h, b, &self.vertical_align)));
        }
        s
    }

    /// The text box of this shape's font at `size` px in `color`, at the origin.
    fn text_box<'a>(&'a self, size: f64, color: &'a str) -> TextBox<'a> {
        TextBox {
            line_height: Some(LINE_HEIGHT),
            ..TextBox::new(0.0, 0.0, 1.0e6, size, color, font_v2(&self.font))
        }
    }

    /// The font size of a label (geo shapes and notes) by the `size` style.
    fn label_size(&self) -> f64 {
        match self.size.as_str() {
            "s" => 18.0,
            "l" => 26.0,
            "xl" => 32.0,
            _ => 22.0,
        }
    }

    /// A text (tldraw's text sizes, scaled from its top-left corner; as wide as its longest
    /// line and 1 px, or wrapped in its width when not auto-sized), or a sticky note.
    fn text_shape(&self, note: bool, color: &str) -> String {
        if note {
            return self.note();
        }
        let fs = match self.size.as_str() {
            "s" => 18.0,
            "l" => 36.0,
            "xl" => 44.0,
            _ => 24.0,
        };
        let b = self.text_box(fs, color);
        let fixed = !self.auto_size && self.w > 0.0;
        let b = TextBox {
            w: if fixed { self.w } else { b.w },
            ..b
        };
        let lines = wrap(&paragraphs(&self.text), &b);
        // tldraw sizes an auto-sized text to the browser's (kerned) width of its longest
        // line plus 1 px, 16 px at least; the lines are aligned in that box.
        let w = if fixed {
            self.w
        } else {
            let widest = lines
                .iter()
                .map(|l| fonts::shaped_width(l, b.family, fs, false))
                .fold(0.0, f64::max);
            (widest + 1.0).max(16.0)
        };
        let b = TextBox {
            w,
            align: align_v2(&self.align),
            ..b
        };
        format!(
            "<g transform=\"scale({})\">{}</g>",
            self.scale,
            outlined(text_lines(&lines, &b))
        )
    }

    /// A sticky note: 200 px wide (taller by `growY`), its colour (black notes are yellow)
    /// under a 28 % scrim of the page, a 1 px border, rounded corners and tldraw's shadow;
    /// the text in #1d1d1d, label-sized, centred by default.
    fn note(&self) -> String {
        let (w, h) = (200.0, 200.0 + self.grow_y.max(0.0));
        let name = if self.color == "black" {
            "yellow"
        } else {
            &self.color
        };
        let c = color_v2(name);
        let b = TextBox {
            align: align_v2(&self.align),
            ..self.text_box(self.label_size(), color_v2("black"))
        };
        format!(
            "<rect y=\"1\" width=\"{w}\" height=\"{h}\" rx=\"6\" fill=\"#000\" fill-opacity=\"0.25\" filter=\"url(#tl2-note-shadow)\"/><filter id=\"tl2-note-shadow\" x=\"-10%\" y=\"-10%\" width=\"120%\" height=\"130%\"><feGaussianBlur stdDeviation=\"1.2\"/></filter><rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{c}\"/>{}",
            w - 1.0,
            h - 1.0,
            super::mix(c, PAGE, 0.28),
            label(&self.text, w, h, b, &self.vertical_align)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_draw_stroke_is_a_filled_outline_like_tldraws_ink() {
        let d: V2Shape = serde_json::from_str(r#"{"type":"draw","x":0,"y":0,"props":{"color":"red","size":"m","dash":"draw","segments":[{"type":"free","points":[{"x":0,"y":0,"z":0.5},{"x":40,"y":10,"z":0.5},{"x":80,"y":0,"z":0.5}]}]}}"#).unwrap();
        let s = d.svg().unwrap();
        assert!(
            s.contains("fill=\"#e03131\"") && !s.contains("stroke="),
            "{s}"
        );
        // Other dashes stay a stroked line.
        let d: V2Shape = serde_json::from_str(r#"{"type":"draw","x":0,"y":0,"props":{"color":"red","dash":"solid","segments":[{"type":"free","points":[{"x":0,"y":0},{"x":40,"y":10}]}]}}"#).unwrap();
        assert!(d.svg().unwrap().contains("stroke=\"#e03131\""));
    }

    #[test]
    fn v2_geo_rectangle_has_its_size() {
        let d: V2Shape = serde_json::from_str(r#"{"id":"shape:a","type":"geo","x":10,"y":20,"props":{"geo":"rectangle","w":30,"h":40,"color":"blue","dash":"solid"}}"#).unwrap();
        let s = d.svg().unwrap();
        assert!(s.contains("L30 40") && s.contains("#4263eb"), "{s}");
        assert!(s.contains("fill=\"none\" stroke=\"#4263eb\""), "{s}");
        // `draw` (the default dash): tldraw's hand-drawn outline, two rounded laps.
        let d: V2Shape = serde_json::from_str(
            r#"{"id":"shape:a","type":"geo","props":{"geo":"rectangle","w":30,"h":40}}"#,
        )
        .unwrap();
        let s = d.svg().unwrap();
        assert_eq!(s.matches('Q').count(), 4 + 8, "{s}");
    }

    /// The first column (page px, 1/4 px steps) where a shape drawn at 4x on white has ink
    /// darker than mid-grey.
    fn first_ink_column(shape: &V2Shape) -> f64 {
        use resvg::tiny_skia::{Pixmap, Transform};
        let svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"60\"><rect width=\"300\" height=\"60\" fill=\"#fff\"/>{}</svg>",
            shape.svg().unwrap()
        );
        let tree = resvg::usvg::Tree::from_str(&svg, &crate::render::svg::svg_options()).unwrap();
        let mut pm = Pixmap::new(1200, 240).unwrap();
        resvg::render(&tree, Transform::from_scale(4.0, 4.0), &mut pm.as_mut());
        let px = pm.data();
        let x = (0..1200)
            .find(|&x| (0..240).any(|y| px[(y * 1200 + x) * 4] < 128))
            .expect("no ink");
        x as f64 / 4.0
    }

    #[test]
    fn v2_auto_sized_middle_text_is_centred_in_its_kerned_width_and_1_px() {
        // The player's "Hello tldraw" (Shantell Sans, 24 px, centred) sat 1.1 screen px left
        // of ours: tldraw sizes the box to the browser's kerned width + 1 px, ours was the
        // sum of unkerned advances. Centred in that box, the text starts 0.5 px right of
        // where it starts left-aligned.
        let text = |align: &str| -> V2Shape {
            serde_json::from_str(&format!(
                r#"{{"type":"text","x":10,"y":10,"props":{{"text":"Hello tldraw","font":"draw","size":"m","align":"{align}","autoSize":true}}}}"#
            ))
            .unwrap()
        };
        let (start, middle) = (
            first_ink_column(&text("start")),
            first_ink_column(&text("middle")),
        );
        assert!(
            (middle - start - 0.5).abs() <= 0.25,
            "centred text starts {} px right of the left-aligned one",
            middle - start
        );
    }

    #[test]
    fn v2_line_points_follow_their_index_and_bad_shapes_are_skipped() {
        let d: V2Shape = serde_json::from_str(r#"{"type":"line","props":{"points":{"b":{"index":"a2","x":5,"y":5},"a":{"index":"a1","x":1,"y":1}}}}"#).unwrap();
        let s = d.svg().unwrap();
        assert!(s.contains("d=\"M1.00 1.00L5.00 5.00\""), "{s}");
        // The wrong type where a number belongs: the shape is skipped, not drawn at 0.
        assert!(serde_json::from_str::<V2Shape>(r#"{"type":"geo","x":"far"}"#).is_err());
    }
}
