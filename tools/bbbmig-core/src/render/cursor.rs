//! The presenter's cursor as BBB's player (v5.1.3) draws it: on presentation recordings an SVG
//! circle of radius 8 view-box units in rgb(223,39,33), so it grows with the zoom; on tldraw
//! recordings a 10 px dot in #C70039 that keeps its size. One picture per dot size, all on one
//! square canvas (the overlay's corner stays where the track puts it), shown segment by segment.

use super::compose::Stills;
use super::model::Published;
use super::timeline::{Segment, State};
use anyhow::{Context, Result, anyhow};
use resvg::tiny_skia::{self, FillRule, Paint, Pixmap, Transform};
use std::collections::BTreeMap;
use std::path::Path;

/// The player's presentation cursor: `r: .5rem` (8 view-box units), `var(--red)`.
const SVG_RADIUS: f64 = 8.0;
const SVG_RGB: [u8; 3] = [223, 39, 33];
/// The player's tldraw cursor: a 10x10 CSS px round div, `#C70039`, in a slide fitted to the
/// player's content area (about 942x706 px in a 1280x720 window).
const TLDRAW_RADIUS: f64 = 5.0;
const TLDRAW_RGB: [u8; 3] = [199, 0, 57];
const TLDRAW_AREA: (f64, f64) = (942.0, 706.5);
/// Radii are drawn in quarter pixels, at most this many pixels.
const MAX_RADIUS: f64 = 48.0;

/// The dot's radius (pixels) and colour while `st` is shown in an `aw`x`ah` area.
pub fn dot(p: &Published, st: &State, aw: f64, ah: f64) -> (f64, [u8; 3]) {
    let r = match p.tldraw {
        Some(_) => (
            TLDRAW_RADIUS * (aw / TLDRAW_AREA.0).min(ah / TLDRAW_AREA.1),
            TLDRAW_RGB,
        ),
        None => (SVG_RADIUS * st.vb.fit(aw, ah).scale, SVG_RGB),
    };
    (((r.0 * 4.0).round() / 4.0).clamp(1.0, MAX_RADIUS), r.1)
}

/// The dot pictures of the segments `segs` (PNGs in `dir`) as stills timed like the segments,
/// and the side of their square canvas (even): the dot's centre is at half of it.
pub fn pictures(
    p: &Published,
    states: &[State],
    segs: &[Segment],
    aw: u32,
    ah: u32,
    dir: &Path,
) -> Result<(Stills, u32)> {
    let dots: Vec<(u32, [u8; 3])> = segs
        .iter()
        .map(|s| {
            let (r, rgb) = dot(p, &states[s.state], aw as f64, ah as f64);
            ((r * 4.0) as u32, rgb)
        })
        .collect();
    let largest = dots.iter().map(|d| d.0).max().unwrap_or(4) as f64 / 4.0;
    let side = ((largest * 2.0).ceil() as u32 + 2).next_multiple_of(2);
    let mut files = BTreeMap::new();
    let mut stills: Stills = Vec::new();
    let mut last = None;
    for (s, d) in segs.iter().zip(&dots) {
        if last == Some(*d)
            && let Some(prev) = stills.last_mut()
        {
            prev.1 += s.end - s.start;
            continue;
        }
        last = Some(*d);
        if !files.contains_key(d) {
            let f = dir.join(format!(
                "cursor-{}-{:02x}{:02x}{:02x}.png",
                d.0, d.1[0], d.1[1], d.1[2]
            ));
            draw(d.0 as f32 / 4.0, d.1, side, &f)?;
            files.insert(*d, f);
        }
        stills.push((files[d].clone(), s.end - s.start));
    }
    if stills.is_empty() {
        let f = dir.join("cursor.png");
        draw(4.0, SVG_RGB, side, &f)?;
        stills.push((f, p.duration.max(0.001)));
    }
    Ok((stills, side))
}

/// A dot of radius `r` and colour `rgb` in the middle of a transparent `side`x`side` PNG.
fn draw(r: f32, rgb: [u8; 3], side: u32, path: &Path) -> Result<()> {
    let mut pm = Pixmap::new(side, side).ok_or_else(|| anyhow!("bad cursor size"))?;
    let mut paint = Paint::default();
    paint.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    paint.anti_alias = true;
    let c = side as f32 / 2.0;
    let circle =
        tiny_skia::PathBuilder::from_circle(c, c, r).ok_or_else(|| anyhow!("bad cursor"))?;
    pm.fill_path(
        &circle,
        &paint,
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    pm.save_png(path)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::timeline::ViewBox;

    fn state(w: f64, h: f64) -> State {
        State {
            slide: Some(0),
            vb: ViewBox {
                x: 0.0,
                y: 0.0,
                w,
                h,
            },
            shapes: Vec::new(),
        }
    }

    #[test]
    fn the_presentation_dot_grows_with_the_zoom() {
        let p = Published::default();
        // A 1600x1200 slide in 960x720: 0.6 px per unit.
        assert_eq!(
            dot(&p, &state(1600.0, 1200.0), 960.0, 720.0),
            (4.75, SVG_RGB)
        );
        // Zoomed 2x: twice as large.
        assert_eq!(dot(&p, &state(800.0, 600.0), 960.0, 720.0).0, 9.5);
    }

    #[test]
    fn the_tldraw_dot_keeps_its_size() {
        let p = Published {
            tldraw: Some((1600.0, 1200.0)),
            ..Published::default()
        };
        let a = dot(&p, &state(1600.0, 1200.0), 960.0, 720.0);
        assert_eq!(a, (5.0, TLDRAW_RGB));
        assert_eq!(dot(&p, &state(400.0, 300.0), 960.0, 720.0), a);
    }
}
