//! What the presentation area shows at time t: the slide, its view box, the visible shape
//! versions, and the cursor; cut into intervals of constant picture.

use super::model::{CursorMove, Point, Published, Slide};

/// A view box in slide-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// How a view box is shown in an area: scaled by `scale`, its top-left corner at
/// (`x`, `y`) of the area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub scale: f64,
    pub x: f64,
    pub y: f64,
}

impl ViewBox {
    /// Scale and offset that fit this view box into an `aw`x`ah` area, centred (letterbox).
    pub fn fit(&self, aw: f64, ah: f64) -> Fit {
        let s = (aw / self.w).min(ah / self.h);
        Fit {
            scale: s,
            x: (aw - self.w * s) / 2.0,
            y: (ah - self.h * s) / 2.0,
        }
    }
}

/// One distinct picture of the presentation area (without cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Index into `Published::slides`, None = nothing shown.
    pub slide: Option<usize>,
    pub vb: ViewBox,
    /// Indices into `Published::shapes[slide.id]`, in drawing order.
    pub shapes: Vec<usize>,
}

/// [start, end) during which state `state` is shown.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub state: usize,
}

/// The slide shown at t: the latest-starting display period containing t.
pub fn slide_at(p: &Published, t: f64) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, s) in p.slides.iter().enumerate() {
        if s.start > t {
            break;
        }
        if t < s.end {
            best = Some(i);
        }
    }
    best
}

/// Page scale of a tldraw slide (page units per slide pixel).
pub fn tldraw_scale(space: (f64, f64), s: &Slide) -> f64 {
    (space.0 / s.width).min(space.1 / s.height)
}

/// The view box at t for slide `s`, in its pixels.
pub fn viewbox_at(p: &Published, t: f64, s: &Slide) -> ViewBox {
    let full = ViewBox {
        x: 0.0,
        y: 0.0,
        w: s.width,
        h: s.height,
    };
    let i = p.panzooms.partition_point(|e| e.t <= t);
    if i == 0 {
        return full;
    }
    let e = p.panzooms[i - 1];
    if e.w <= 0.0 || e.h <= 0.0 {
        return full;
    }
    match p.tldraw {
        Some(space) => {
            let k = tldraw_scale(space, s);
            ViewBox {
                x: -e.x / k,
                y: -e.y / k,
                w: e.w,
                h: e.h,
            }
        }
        None => ViewBox {
            x: e.x,
            y: e.y,
            w: e.w,
            h: e.h,
        },
    }
}

/// The shape versions of `image` visible at t (per logical shape, the latest
/// version with timestamp <= t, hidden once that version is undone).
pub fn shapes_at(p: &Published, image: &str, t: f64) -> Vec<usize> {
    let Some(list) = p.shapes.get(image) else {
        return Vec::new();
    };
    let mut latest: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, v) in list.iter().enumerate() {
        if v.timestamp <= t {
            match latest.get(v.group.as_str()) {
                Some(&j) if list[j].timestamp > v.timestamp => {}
                _ => {
                    latest.insert(&v.group, i);
                }
            }
        }
    }
    let mut out: Vec<usize> = latest
        .into_values()
        .filter(|&i| list[i].undo.is_none_or(|u| u > t))
        .collect();
    out.sort_unstable();
    out
}

/// The state at t.
pub fn state_at(p: &Published, t: f64) -> State {
    match slide_at(p, t) {
        None => State {
            slide: None,
            vb: ViewBox {
                x: 0.0,
                y: 0.0,
                w: 1.0,
                h: 1.0,
            },
            shapes: Vec::new(),
        },
        Some(i) => {
            let s = &p.slides[i];
            State {
                slide: Some(i),
                vb: viewbox_at(p, t, s),
                shapes: shapes_at(p, &s.id, t),
            }
        }
    }
}

/// Distinct states and the segments covering [0, duration).
pub fn segments(p: &Published) -> (Vec<State>, Vec<Segment>) {
    let mut times = vec![0.0];
    for s in &p.slides {
        times.extend([s.start, s.end]);
    }
    for list in p.shapes.values() {
        for v in list {
            times.push(v.timestamp);
            if let Some(u) = v.undo {
                times.push(u);
            }
        }
    }
    times.extend(p.panzooms.iter().map(|e| e.t));
    times.retain(|t| *t >= 0.0 && *t < p.duration);
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut states: Vec<State> = Vec::new();
    let mut segs: Vec<Segment> = Vec::new();
    for (k, &t) in times.iter().enumerate() {
        let end = times.get(k + 1).copied().unwrap_or(p.duration);
        let st = state_at(p, t);
        if let Some(last) = segs.last_mut()
            && states[last.state] == st
        {
            last.end = end;
            continue;
        }
        let idx = match states.iter().rposition(|s| *s == st) {
            Some(i) => i,
            None => {
                states.push(st);
                states.len() - 1
            }
        };
        segs.push(Segment {
            start: t,
            end,
            state: idx,
        });
    }
    (states, segs)
}

/// Cursor positions over time in area pixels (`aw`x`ah`, unrounded); one entry per change.
pub fn cursor_track(p: &Published, aw: f64, ah: f64, segs: &[Segment]) -> Vec<CursorMove> {
    let mut times: Vec<f64> = p.cursor.iter().map(|c| c.t).collect();
    times.extend(segs.iter().map(|s| s.start));
    times.retain(|t| *t >= 0.0 && *t < p.duration);
    times.sort_by(f64::total_cmp);
    times.dedup();
    let mut out: Vec<CursorMove> = Vec::new();
    for t in times {
        let pos = cursor_at(p, t, aw, ah);
        if out.last().is_none_or(|l| l.pos != pos) {
            out.push(CursorMove { t, pos });
        }
    }
    out
}

fn cursor_at(p: &Published, t: f64, aw: f64, ah: f64) -> Option<Point> {
    let i = p.cursor.partition_point(|c| c.t <= t);
    let Point { x: cx, y: cy } = p.cursor.get(i.checked_sub(1)?)?.pos?;
    let s = &p.slides[slide_at(p, t)?];
    if s.is_placeholder() {
        return None;
    }
    let vb = viewbox_at(p, t, s);
    let (sx, sy) = match p.tldraw {
        Some(space) => {
            let k = tldraw_scale(space, s);
            (cx / k, cy / k)
        }
        None => (vb.x + cx * vb.w, vb.y + cy * vb.h),
    };
    if sx < vb.x || sy < vb.y || sx > vb.x + vb.w || sy > vb.y + vb.h {
        return None;
    }
    let Fit {
        scale: k,
        x: ox,
        y: oy,
    } = vb.fit(aw, ah);
    Some(Point {
        x: ox + (sx - vb.x) * k,
        y: oy + (sy - vb.y) * k,
    })
}

#[cfg(test)]
mod tests {
    use super::super::model::ShapeVersion;
    use super::*;

    fn v(group: &str, ts: f64, undo: Option<f64>) -> ShapeVersion {
        ShapeVersion {
            group: group.into(),
            timestamp: ts,
            undo,
            svg: String::new(),
        }
    }

    #[test]
    fn latest_version_wins_and_undo_hides_the_group() {
        let mut p = Published::default();
        p.shapes.insert(
            "image2".into(),
            vec![v("a", 1.0, None), v("a", 2.0, Some(5.0)), v("b", 3.0, None)],
        );
        assert_eq!(shapes_at(&p, "image2", 1.5), vec![0]);
        assert_eq!(shapes_at(&p, "image2", 2.5), vec![1]);
        assert_eq!(shapes_at(&p, "image2", 4.0), vec![1, 2]);
        assert_eq!(shapes_at(&p, "image2", 5.0), vec![2]);
    }

    #[test]
    fn letterbox_centres_the_view_box() {
        let vb = ViewBox {
            x: 0.0,
            y: 0.0,
            w: 1600.0,
            h: 900.0,
        };
        let Fit {
            scale: s,
            x: ox,
            y: oy,
        } = vb.fit(960.0, 720.0);
        assert!((s - 0.6).abs() < 1e-9 && ox == 0.0 && (oy - 90.0).abs() < 1e-9);
    }
}
