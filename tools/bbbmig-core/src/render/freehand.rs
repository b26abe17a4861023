//! Variable-width freehand strokes as tldraw draws them (its perfect-freehand outlines):
//! input points smoothed towards each other, a radius per point from its (real or
//! simulated) pressure, left and right edges offset along the normal, round caps, and the
//! outline as a closed SVG path of quadratic curves through the edge midpoints.

use std::f64::consts::PI;

/// How a stroke's outline is built (perfect-freehand's options).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Diameter at pressure 0.5.
    pub size: f64,
    /// How much pressure narrows the stroke (0: not at all).
    pub thinning: f64,
    /// How far each point is pulled towards the previous one (0: not at all).
    pub streamline: f64,
    /// Minimum spacing of edge points, as a share of `size`.
    pub smoothing: f64,
    /// Pressure from the speed of the pen rather than from the points.
    pub simulate_pressure: bool,
    /// The pressure curve: sine (mouse input) or quadratic.
    pub sine_easing: bool,
}

type P = (f64, f64);

fn sub(a: P, b: P) -> P {
    (a.0 - b.0, a.1 - b.1)
}
fn add(a: P, b: P) -> P {
    (a.0 + b.0, a.1 + b.1)
}
fn mul(a: P, k: f64) -> P {
    (a.0 * k, a.1 * k)
}
fn len(a: P) -> f64 {
    a.0.hypot(a.1)
}
fn unit(a: P) -> P {
    let l = len(a);
    if l == 0.0 {
        (0.0, 0.0)
    } else {
        mul(a, 1.0 / l)
    }
}
fn normal(a: P) -> P {
    (a.1, -a.0)
}
fn dot(a: P, b: P) -> f64 {
    a.0 * b.0 + a.1 * b.1
}
fn lerp(a: P, b: P, t: f64) -> P {
    add(a, mul(sub(b, a), t))
}
/// `p` turned by `r` radians around `c`.
fn turn(p: P, c: P, r: f64) -> P {
    let (s, co) = r.sin_cos();
    let d = sub(p, c);
    (c.0 + d.0 * co - d.1 * s, c.1 + d.0 * s + d.1 * co)
}

/// One smoothed input point.
struct Pt {
    p: P,
    pressure: f64,
    /// Unit vector from this point back to the previous one.
    dir: P,
    dist: f64,
    run: f64,
}

/// Input points (x, y, pressure) smoothed and measured.
fn smooth(input: &[(f64, f64, f64)], o: &Options) -> Vec<Pt> {
    let mut pts: Vec<(P, f64)> = input.iter().map(|&(x, y, pr)| ((x, y), pr)).collect();
    match pts.len() {
        0 => return Vec::new(),
        1 => {
            let (p, pr) = pts[0];
            pts.push(((p.0 + 1.0, p.1 + 1.0), pr));
        }
        2 => {
            let (a, b) = (pts[0], pts[1]);
            pts = (0..5)
                .map(|i| (lerp(a.0, b.0, i as f64 / 4.0), b.1))
                .collect();
            pts[0].1 = a.1;
        }
        _ => {}
    }
    let t = 0.15 + (1.0 - o.streamline) * 0.85;
    let mut out = vec![Pt {
        p: pts[0].0,
        pressure: pts[0].1,
        dir: (1.0, 1.0),
        dist: 0.0,
        run: 0.0,
    }];
    let last = pts.len() - 1;
    let mut long_enough = false;
    let mut run = 0.0;
    for (i, &(q, pr)) in pts.iter().enumerate().skip(1) {
        let prev = out.last().map(|p| p.p).unwrap_or(q);
        let p = if i == last { q } else { lerp(prev, q, t) };
        if p == prev {
            continue;
        }
        let dist = len(sub(p, prev));
        run += dist;
        if i < last && !long_enough {
            if run < o.size {
                continue;
            }
            long_enough = true;
        }
        out.push(Pt {
            p,
            pressure: pr,
            dir: unit(sub(prev, p)),
            dist,
            run,
        });
    }
    if out.len() > 1 {
        out[0].dir = out[1].dir;
    }
    out
}

const PRESSURE_RATE: f64 = 0.275;
/// A half turn, slightly more so that caps close.
const HALF_TURN: f64 = PI + 0.0001;

fn radius(o: &Options, pressure: f64) -> f64 {
    let t = 0.5 - o.thinning * (0.5 - pressure);
    let e = if o.sine_easing {
        (t * PI / 2.0).sin()
    } else {
        t * t
    };
    o.size * e
}

/// The simulated pressure after moving `dist` from a point of pressure `prev`.
fn simulated(prev: f64, dist: f64, size: f64) -> f64 {
    let speed = (dist / size).min(1.0);
    let rest = (1.0 - speed).min(1.0);
    (prev + (rest - prev) * (speed * PRESSURE_RATE)).min(1.0)
}

/// The outline polygon of a stroke through `input` (x, y, pressure 0-1).
pub fn outline(input: &[(f64, f64, f64)], o: &Options) -> Vec<P> {
    let pts = smooth(input, o);
    let Some(lastp) = pts.last() else {
        return Vec::new();
    };
    let total = lastp.run;
    let min_d2 = (o.size * o.smoothing).powi(2);
    let mut prev_pressure = pts.iter().take(10).fold(pts[0].pressure, |acc, c| {
        let pr = if o.simulate_pressure {
            simulated(acc, c.dist, o.size)
        } else {
            c.pressure
        };
        (acc + pr) / 2.0
    });
    let mut r = radius(o, lastp.pressure);
    let mut first_r: Option<f64> = None;
    let mut prev_dir = pts[0].dir;
    let (mut pl, mut pr) = (pts[0].p, pts[0].p);
    let (mut left, mut right): (Vec<P>, Vec<P>) = (Vec::new(), Vec::new());
    let mut prev_sharp = false;
    let n = pts.len();
    for (i, c) in pts.iter().enumerate() {
        if i < n - 1 && total - c.run < 3.0 {
            continue;
        }
        let pressure = if o.simulate_pressure {
            simulated(prev_pressure, c.dist, o.size)
        } else {
            c.pressure
        };
        r = if o.thinning != 0.0 {
            radius(o, pressure)
        } else {
            o.size / 2.0
        };
        r = r.max(0.01);
        first_r.get_or_insert(r);
        let next_dir = if i < n - 1 { pts[i + 1].dir } else { c.dir };
        let next_dot = if i < n - 1 { dot(c.dir, next_dir) } else { 1.0 };
        let sharp = dot(c.dir, prev_dir) < 0.0 && !prev_sharp;
        let next_sharp = next_dot < 0.0;
        if sharp || next_sharp {
            let off = mul(normal(prev_dir), r);
            for k in 0..=13 {
                let s = k as f64 / 13.0;
                pl = turn(sub(c.p, off), c.p, HALF_TURN * s);
                pr = turn(add(c.p, off), c.p, -HALF_TURN * s);
                left.push(pl);
                right.push(pr);
            }
            prev_sharp = next_sharp;
            continue;
        }
        prev_sharp = false;
        if i == n - 1 {
            let off = mul(normal(c.dir), r);
            left.push(sub(c.p, off));
            right.push(add(c.p, off));
            continue;
        }
        let off = mul(normal(lerp(next_dir, c.dir, next_dot)), r);
        let tl = sub(c.p, off);
        if i <= 1 || len(sub(pl, tl)).powi(2) > min_d2 {
            left.push(tl);
            pl = tl;
        }
        let tr = add(c.p, off);
        if i <= 1 || len(sub(pr, tr)).powi(2) > min_d2 {
            right.push(tr);
            pr = tr;
        }
        prev_pressure = pressure;
        prev_dir = c.dir;
    }
    let first = pts[0].p;
    let lastpt = pts[n - 1].p;
    let r0 = first_r.unwrap_or(r);
    if left.len() <= 1 || right.len() <= 1 {
        // A dot.
        let away = unit(normal(sub(first, lastpt)));
        let away = if away == (0.0, 0.0) { (1.0, 0.0) } else { away };
        let start = sub(first, mul(away, r0));
        return (1..=13)
            .map(|k| turn(start, first, 2.0 * HALF_TURN * k as f64 / 13.0))
            .collect();
    }
    let mut out = left;
    // End cap: a half circle around the last point.
    let start = add(
        lastpt,
        mul(normal((-pts[n - 1].dir.0, -pts[n - 1].dir.1)), r),
    );
    for k in 1..29 {
        out.push(turn(start, lastpt, HALF_TURN * 3.0 * k as f64 / 29.0));
    }
    let r_first = right[0];
    out.extend(right.into_iter().rev());
    // Start cap: the right edge's first point turned round the first point.
    for k in 0..=13 {
        out.push(turn(r_first, first, HALF_TURN * k as f64 / 13.0));
    }
    out
}

/// A closed SVG path through an outline: quadratic curves with the points as controls and
/// the midpoints between them on the curve.
pub fn svg_path(pts: &[P]) -> String {
    let n = pts.len();
    if n < 2 {
        return String::new();
    }
    let mid = |a: P, b: P| ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let m0 = mid(pts[0], pts[1]);
    let mut d = format!("M{:.2} {:.2}", m0.0, m0.1);
    for i in 1..=n {
        let c = pts[i % n];
        let m = mid(c, pts[(i + 1) % n]);
        d.push_str(&format!("Q{:.2} {:.2} {:.2} {:.2}", c.0, c.1, m.0, m.1));
    }
    d.push('Z');
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(size: f64) -> Options {
        Options {
            size,
            thinning: 0.65,
            streamline: 0.65,
            smoothing: 0.65,
            simulate_pressure: true,
            sine_easing: true,
        }
    }

    #[test]
    fn a_stroke_is_a_band_around_its_line() {
        let line: Vec<(f64, f64, f64)> = (0..40).map(|i| (i as f64 * 5.0, 0.0, 0.5)).collect();
        let o = outline(&line, &opts(8.0));
        assert!(o.len() > 20);
        let ys: Vec<f64> = o.iter().map(|p| p.1).collect();
        let (lo, hi) = ys
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(*y), b.max(*y)));
        // Half-widths between thin (fast pen) and the full size, on both sides.
        assert!(lo < -1.0 && lo > -8.5 && hi > 1.0 && hi < 8.5, "{lo} {hi}");
        assert!(svg_path(&o).ends_with('Z'));
    }

    #[test]
    fn a_single_point_is_a_dot() {
        let o = outline(&[(10.0, 10.0, 0.5)], &opts(8.0));
        assert!(!o.is_empty());
        assert!(o.iter().all(|p| len(sub(*p, (10.0, 10.0))) < 8.0));
    }
}
