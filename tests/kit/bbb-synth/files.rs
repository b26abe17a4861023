//! Writes a plan as the files BBB's publish script produces (2.0–2.5 SVG whiteboard form).

use crate::plan::{H, Plan, W, quadrant_colours, r1};
use anyhow::{Context, Result};
use resvg::tiny_skia::{Color, Paint, Pixmap, Rect, Transform};
use std::fmt::Write as _;
use std::path::Path;

pub const RECORD_ID: &str = "5a1e0c0ffee0123456789abcdef0123456789abc-1700000000000";
pub const PRES_ID: &str = "d2d9a672040fbde2a47a10bf6c37b6a4b5ae187f-1700000000010";

fn png(path: &Path, w: u32, h: u32, quads: Option<[[u8; 3]; 4]>) -> Result<()> {
    let mut pm = Pixmap::new(w, h).context("pixmap")?;
    if let Some(q) = quads {
        let (hw, hh) = (w as f32 / 2.0, h as f32 / 2.0);
        for (i, c) in q.iter().enumerate() {
            let mut paint = Paint::default();
            paint.set_color(Color::from_rgba8(c[0], c[1], c[2], 255));
            let r = Rect::from_xywh((i % 2) as f32 * hw, (i / 2) as f32 * hh, hw, hh)
                .context("rect")?;
            pm.fill_rect(r, &paint, Transform::identity(), None);
        }
    }
    pm.save_png(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// A published presentation piece: slide k (Some) or screen share (None) over [a, b).
struct Piece {
    a: f64,
    b: f64,
    slide: Option<usize>,
}

fn pieces(plan: &Plan) -> Vec<Piece> {
    let mut out = Vec::new();
    for (k, s) in plan.slides.iter().enumerate() {
        let mut cuts = vec![s.start, s.end];
        for (a, b) in &plan.spec.deskshare {
            for t in [*a, *b] {
                if t > s.start && t < s.end {
                    cuts.push(t);
                }
            }
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        for w in cuts.windows(2) {
            let mid = (w[0] + w[1]) / 2.0;
            out.push(Piece {
                a: w[0],
                b: w[1],
                slide: (!plan.sharing(mid)).then_some(k),
            });
        }
    }
    // Merge neighbouring screen-share pieces.
    let mut merged: Vec<Piece> = Vec::new();
    for p in out {
        match merged.last_mut() {
            Some(l) if l.slide.is_none() && p.slide.is_none() && (l.b - p.a).abs() < 1e-9 => {
                l.b = p.b
            }
            _ => merged.push(p),
        }
    }
    merged
}

fn shape_svg(st: &crate::plan::Stroke, partial: bool) -> (String, String) {
    let sw = W * 0.008;
    let (x1, y1, x2, y2) = (st.x1, st.y1, st.x2, st.y2);
    let (cx, cy) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
    let c = st.colour;
    let stroke = format!("stroke:{c};stroke-width:{sw};visibility:hidden;fill:none");
    match st.kind {
        "pencil" => {
            let end = if partial {
                format!("L{cx} {cy}")
            } else {
                format!("L{cx} {cy}L{x2} {cy}")
            };
            (
                format!(
                    "stroke:{c};stroke-linecap:round;stroke-linejoin:round;stroke-width:{sw};visibility:hidden;fill:none"
                ),
                format!("<path d=\"M{x1} {cy}{end}\"/>"),
            )
        }
        "line" => (
            format!("{stroke};stroke-linecap:butt"),
            format!("<line x1=\"{x1}\" y1=\"{cy}\" x2=\"{x2}\" y2=\"{cy}\"/>"),
        ),
        "rect" => (
            format!("{stroke};stroke-linejoin:miter"),
            format!("<path d=\"M{x1} {y1}L{x2} {y1}L{x2} {y2}L{x1} {y2}Z\"/>"),
        ),
        "triangle" => (
            format!("{stroke};stroke-linejoin:miter;stroke-miterlimit:8"),
            format!("<path d=\"M{cx} {y1}L{x2} {y2}L{x1} {y2}Z\"/>"),
        ),
        "ellipse" => {
            let (rx, ry) = ((x2 - x1) / 2.0, (y2 - y1) / 2.0);
            (
                stroke,
                format!(
                    "<path d=\"M{x1} {cy}A{rx} {ry} 0 0 1 {cx} {y1}A{rx} {ry} 0 0 1 {x2} {cy}A{rx} {ry} 0 0 1 {cx} {y2}A{rx} {ry} 0 0 1 {x1} {cy}Z\"/>"
                ),
            )
        }
        _ => (
            format!(
                "color:{c};word-wrap:break-word;visibility:hidden;font-family:Arial;font-size:{}px",
                (y2 - y1) * 0.4
            ),
            format!(
                "<switch><foreignObject width=\"{}\" height=\"{}\" x=\"{x1}\" y=\"{y1}\"><p xmlns=\"http://www.w3.org/1999/xhtml\" style=\"margin:0;padding:0\">Hello<br/>synthetic world of slides</p></foreignObject></switch>",
                x2 - x1,
                y2 - y1
            ),
        ),
    }
}

/// Writes metadata.xml, shapes.svg, panzooms.xml, cursor.xml, deskshare.xml, slides,
/// placeholders, chat and captions into `dir`.
pub fn write(plan: &Plan, dir: &Path) -> Result<()> {
    let d = plan.spec.duration;
    let pres = dir.join("presentation").join(PRES_ID);
    std::fs::create_dir_all(&pres)?;
    png(&dir.join("presentation/logo.png"), 1600, 1200, None)?;
    png(&dir.join("presentation/deskshare.png"), 1280, 720, None)?;
    for k in 0..plan.slides.len() {
        png(
            &pres.join(format!("slide-{}.png", k + 1)),
            W as u32,
            H as u32,
            Some(quadrant_colours(k)),
        )?;
    }
    std::fs::write(
        dir.join("metadata.xml"),
        format!(
            "<?xml version=\"1.0\"?>\n<recording>\n  <id>{RECORD_ID}</id>\n  <state>published</state>\n  <published>true</published>\n  <start_time>1700000000000</start_time>\n  <end_time>{}</end_time>\n  <meeting id=\"{RECORD_ID}\" externalId=\"synthetic\" name=\"Synthetic lecture\" breakout=\"false\"/>\n  <meta><meetingName>Synthetic lecture</meetingName></meta>\n  <playback>\n    <format>presentation</format>\n    <link>http://127.0.0.1/playback/presentation/2.3/{RECORD_ID}</link>\n    <duration>{}</duration>\n  </playback>\n</recording>\n",
            1_700_000_000_000u64 + (d * 1000.0) as u64,
            (d * 1000.0).round() as u64
        ),
    )?;

    let mut svg = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" id=\"svgfile\" style=\"position:absolute;height:600px;width:800px\" version=\"1.1\" viewBox=\"0 0 800 600\">\n",
    );
    let _ = writeln!(
        svg,
        "  <image id=\"image1\" class=\"slide\" in=\"0.0\" out=\"1.0\" xlink:href=\"presentation/logo.png\" width=\"1600\" height=\"1200\" x=\"0\" y=\"0\" style=\"visibility:hidden\"/>"
    );
    let mut pz: Vec<(f64, String)> = vec![(0.0, "0.0 0.0 1600.0 1200.0".into())];
    let full = format!("0.0 0.0 {W:.1} {H:.1}");
    let mut draw = 0;
    for (i, piece) in pieces(plan).iter().enumerate() {
        let img = i + 2;
        match piece.slide {
            None => {
                let _ = writeln!(
                    svg,
                    "  <image id=\"image{img}\" class=\"slide\" in=\"{:.1}\" out=\"{:.1}\" xlink:href=\"presentation/deskshare.png\" width=\"1280\" height=\"720\" x=\"0\" y=\"0\" style=\"visibility:hidden\"/>",
                    piece.a, piece.b
                );
                pz.push((piece.a, "0.0 0.0 1280.0 720.0".into()));
            }
            Some(k) => {
                let sp = &plan.slides[k];
                let _ = writeln!(
                    svg,
                    "  <image id=\"image{img}\" class=\"slide\" in=\"{:.1}\" out=\"{:.1}\" xlink:href=\"presentation/{PRES_ID}/slide-{}.png\" width=\"{W}\" height=\"{H}\" x=\"0\" y=\"0\" style=\"visibility:hidden\"/>",
                    piece.a,
                    piece.b,
                    k + 1
                );
                let zoomed = piece.a >= sp.zoom.0 && piece.a < sp.zoom.1;
                pz.push((
                    piece.a,
                    if zoomed {
                        format!(
                            "{:.1} {:.1} {:.1} {:.1}",
                            W / 2.0,
                            H / 2.0,
                            W / 2.0,
                            H / 2.0
                        )
                    } else {
                        full.clone()
                    },
                ));
                if sp.zoom.0 > piece.a && sp.zoom.0 < piece.b {
                    pz.push((
                        sp.zoom.0,
                        format!(
                            "{:.1} {:.1} {:.1} {:.1}",
                            W / 2.0,
                            H / 2.0,
                            W / 2.0,
                            H / 2.0
                        ),
                    ));
                }
                if sp.zoom.1 > piece.a && sp.zoom.1 < piece.b {
                    pz.push((sp.zoom.1, full.clone()));
                }
                let _ = writeln!(
                    svg,
                    "  <g class=\"canvas\" id=\"canvas{img}\" image=\"image{img}\" display=\"none\">"
                );
                for (j, st) in sp.strokes.iter().enumerate() {
                    let undo = st.undo.map(|u| format!("{u:.1}")).unwrap_or("-1".into());
                    let mut versions = vec![(st.drawn, false)];
                    if st.kind == "pencil" {
                        versions = vec![(st.drawn, true), (r1(st.drawn + 0.3), false)];
                    }
                    for (t, partial) in versions {
                        draw += 1;
                        let (style, body) = shape_svg(st, partial);
                        let _ = writeln!(
                            svg,
                            "    <g id=\"image{img}-draw{draw}\" class=\"shape\" timestamp=\"{t:.1}\" undo=\"{undo}\" shape=\"image{img}-{}{j}\" style=\"{style}\">\n      {body}\n    </g>",
                            st.kind
                        );
                    }
                }
                let _ = writeln!(svg, "  </g>");
            }
        }
    }
    svg.push_str("</svg>\n");
    std::fs::write(dir.join("shapes.svg"), svg)?;

    pz.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<recording id=\"panzoom_events\">\n",
    );
    for (t, vb) in &pz {
        let _ = writeln!(
            x,
            "  <event timestamp=\"{t:.1}\">\n    <viewBox>{vb}</viewBox>\n  </event>"
        );
    }
    x.push_str("</recording>\n");
    std::fs::write(dir.join("panzooms.xml"), x)?;

    let mut times: Vec<f64> = pz.iter().map(|p| p.0).collect();
    let step = plan.spec.cursor_interval.max(0.1);
    let mut t = 0.0;
    while t < d {
        times.push(r1(t));
        t += step;
    }
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<recording id=\"cursor_events\">\n",
    );
    for t in times {
        let (cx, cy) = plan.cursor(t).unwrap_or((-1.0, -1.0));
        let _ = writeln!(
            x,
            "  <event timestamp=\"{t:.1}\">\n    <cursor>{cx:.2} {cy:.2}</cursor>\n  </event>"
        );
    }
    x.push_str("</recording>\n");
    std::fs::write(dir.join("cursor.xml"), x)?;

    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<recording id=\"deskshare_events\">\n",
    );
    for (a, b) in &plan.spec.deskshare {
        let _ = writeln!(
            x,
            "  <event start_timestamp=\"{a:.1}\" stop_timestamp=\"{b:.1}\" video_width=\"1280\" video_height=\"720\"/>"
        );
    }
    x.push_str("</recording>\n");
    std::fs::write(dir.join("deskshare.xml"), x)?;

    let mut x = String::from("<?xml version=\"1.0\"?>\n<popcorn>\n");
    for i in 0..plan.spec.chat {
        let t = r1(d * (i as f64 + 1.0) / (plan.spec.chat as f64 + 1.0));
        let _ = writeln!(
            x,
            "  <chattimeline in=\"{t:.1}\" direction=\"down\" name=\"User {i}\" chatEmphasizedText=\"false\" senderRole=\"VIEWER\" message=\"Message number {i} &lt;b&gt;hi&lt;/b&gt;\" target=\"chat\"/>"
        );
    }
    x.push_str("</popcorn>\n");
    std::fs::write(dir.join("slides_new.xml"), x)?;

    std::fs::write(
        dir.join("captions.json"),
        "[{\"locale\":\"en\",\"localeName\":\"English\"}]\n",
    )?;
    let mut v = String::from("WEBVTT\n\n");
    let mut t = 0.0;
    let mut i = 0;
    while t + 2.0 < d {
        let _ = writeln!(v, "{} --> {}\nCaption line {i}\n", vtt(t), vtt(t + 2.0));
        t += 10.0;
        i += 1;
    }
    std::fs::write(dir.join("caption_en.vtt"), v)?;
    Ok(())
}

fn vtt(t: f64) -> String {
    let ms = (t * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}
