//! tldraw v2's hand-drawn (`dash: draw`) polygon outlines: a seeded wobble, rounded corners, two passes.
//!
//! The player (bbb-playback v5.1.3, `@bigbluebutton/tldraw` 2.0.0-alpha.25) draws a `draw`
//! geo polygon as two laps around its corners, each corner nudged by a pseudo-random amount
//! seeded by the shape's id (so the same shape wobbles the same way every time), each corner
//! rounded with a quadratic curve; its fill follows one lap without the wobble.

/// tldraw's seeded generator (xorshift128 over the id's UTF-16 units): values in [-1, 1).
struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// The generator seeded by `seed`, as tldraw seeds it (the id folded into the first
    /// state word, then 64 more steps).
    fn new(seed: &str) -> Rng {
        let mut r = Rng { s: [0; 4] };
        let units: Vec<u16> = seed.encode_utf16().collect();
        for k in 0..units.len() + 64 {
            r.s[0] ^= u32::from(units.get(k).copied().unwrap_or(0));
            r.next();
        }
        r
    }

    /// The next value in [-1, 1): the new last state word read as signed, over 2^31.
    fn next(&mut self) -> f64 {
        let [x, y, z, w] = self.s;
        let t = x ^ (x << 11);
        let next = w ^ ((w >> 19) ^ t ^ (t >> 8));
        self.s = [y, z, w, next];
        f64::from(next as i32) / 2_147_483_648.0
    }
}

/// The corner triples (start of the curve-in, end of the straight run, corner) of `laps`
/// laps around `outline`, each corner moved by up to `offset` on both axes and rounded by
/// up to `roundness` (a quarter of the edge at most).
fn rounded_points(
    id: &str,
    outline: &[(f64, f64)],
    offset: f64,
    roundness: f64,
    laps: usize,
) -> Vec<(f64, f64)> {
    let mut rng = Rng::new(id);
    let n = outline.len();
    let mut out = Vec::with_capacity(3 * n * laps);
    let mut p0 = outline[0];
    for i in 0..n * laps {
        let c = outline[(i + 1) % n];
        let dx = rng.next() * offset;
        let dy = rng.next() * offset;
        let p1 = (c.0 + dx, c.1 + dy);
        let dist = (p1.0 - p0.0).hypot(p1.1 - p0.1);
        let k = if dist > 0.0 {
            (dist / 4.0).min(roundness) / dist
        } else {
            0.0
        };
        let v = ((p1.0 - p0.0) * k, (p1.1 - p0.1) * k);
        out.extend([(p0.0 + v.0, p0.1 + v.1), (p1.0 - v.0, p1.1 - v.1), p1]);
        p0 = p1;
    }
    out
}

/// The path through corner triples: straight runs joined by quadratic curves around each
/// corner, closing back on the first point.
fn inky_path(points: &[(f64, f64)]) -> String {
    let f = |p: (f64, f64)| format!("{:.4},{:.4} ", p.0, p.1);
    let mut d = String::from("M");
    for t in points.chunks(3) {
        if let [a, b, c] = t {
            d.push_str(&format!("{}L{}Q{}", f(*a), f(*b), f(*c)));
        }
    }
    d.push_str(&f(points[0]));
    d
}

/// A `draw` polygon of stroke width `sw`: (the fill's path, the outline's path).
pub(super) fn polygon(id: &str, outline: &[(f64, f64)], sw: f64) -> (String, String) {
    if outline.len() < 2 {
        return (String::new(), String::new());
    }
    let stroke = inky_path(&rounded_points(id, outline, sw / 3.0, sw * 2.0, 2));
    let fill = inky_path(&rounded_points(id, outline, 0.0, sw * 2.0, 1));
    (fill, stroke)
}

/// The corners tldraw gives a geo shape `w`x`h` of kind `geo`; None for round kinds.
pub(super) fn outline(geo: &str, w: f64, h: f64) -> Option<Vec<(f64, f64)>> {
    let (cx, cy) = (w / 2.0, h / 2.0);
    Some(match geo {
        "rectangle" | "check-box" | "x-box" => vec![(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)],
        "triangle" => vec![(cx, 0.0), (w, h), (0.0, h)],
        "diamond" => vec![(cx, 0.0), (w, cy), (cx, h), (0.0, cy)],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_seeded_by_the_id_and_stays_in_range() {
        let a: Vec<f64> = (0..8)
            .scan(Rng::new("shape:geo6"), |r, _| Some(r.next()))
            .collect();
        let b: Vec<f64> = (0..8)
            .scan(Rng::new("shape:geo6"), |r, _| Some(r.next()))
            .collect();
        let c: Vec<f64> = (0..8)
            .scan(Rng::new("shape:geo7"), |r, _| Some(r.next()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|v| (-1.0..1.0).contains(v)), "{a:?}");
        // tldraw's own first values for this id (its rng run in node).
        let want = [0.8760739248245955, -0.6830560928210616, 0.4556743996217847];
        for (got, want) in a.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn draw_rectangle_is_two_wobbly_laps_with_round_corners() {
        let o = outline("rectangle", 200.0, 100.0).unwrap();
        let (fill, stroke) = polygon("shape:r", &o, 3.5);
        // One lap of 4 rounded corners for the fill, two for the outline.
        assert_eq!(fill.matches('Q').count(), 4, "{fill}");
        assert_eq!(stroke.matches('Q').count(), 8, "{stroke}");
        // The fill's corners are not moved; the outline's are, by under sw / 3.
        assert!(fill.contains("Q200.0000,0.0000 "), "{fill}");
        assert!(!stroke.contains("Q200.0000,0.0000 "), "{stroke}");
    }
}
