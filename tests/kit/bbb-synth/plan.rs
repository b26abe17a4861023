//! The schedule of a synthetic recording: slides, strokes, undo, zooms, cursor, screen share,
//! flashes; written both as BBB published files and as `synth.json` (what tests expect).

use serde_json::{Value, json};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub duration: f64,
    pub slides: usize,
    pub strokes: usize,
    pub cursor_interval: f64,
    pub deskshare: Vec<(f64, f64)>,
    pub flash_every: f64,
    pub chat: usize,
}

/// First beep+flash (a multiple of 1/15 s, so it starts exactly on a 15 fps frame).
pub const FIRST_FLASH: f64 = 2.4;
pub const W: f64 = 1600.0;
pub const H: f64 = 900.0;
const STROKE_COLOURS: [&str; 6] = [
    "#d00000", "#0000d0", "#007000", "#000000", "#800080", "#c05000",
];
const KINDS: [&str; 6] = ["pencil", "rect", "line", "ellipse", "triangle", "text"];

/// Rounds to 0.1 s like the publishing scripts.
pub fn r1(t: f64) -> f64 {
    (t * 10.0).round() / 10.0
}

/// Quadrant colours of slide `k` (0-based): TL, TR, BL, BR as [r, g, b].
pub fn quadrant_colours(k: usize) -> [[u8; 3]; 4] {
    let mut out = [[0u8; 3]; 4];
    for (q, c) in out.iter_mut().enumerate() {
        let h = ((k * 47 + q * 90) % 360) as f64;
        *c = hsv(h, 0.45, 0.95);
    }
    out
}

fn hsv(h: f64, s: f64, v: f64) -> [u8; 3] {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [
        ((r + m) * 255.0) as u8,
        ((g + m) * 255.0) as u8,
        ((b + m) * 255.0) as u8,
    ]
}

/// One stroke: its kind, colour, geometry (slide pixels), times and a probe point on it.
#[derive(Debug, Clone)]
pub struct Stroke {
    pub kind: &'static str,
    pub colour: &'static str,
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub drawn: f64,
    pub undo: Option<f64>,
    pub probe: Option<(f64, f64)>,
}

/// One slide's display and its events.
#[derive(Debug, Clone)]
pub struct SlidePlan {
    pub start: f64,
    pub end: f64,
    pub strokes: Vec<Stroke>,
    pub zoom: (f64, f64),
}

/// The whole schedule.
pub struct Plan {
    pub spec: Spec,
    pub slides: Vec<SlidePlan>,
    pub flashes: Vec<f64>,
}

impl Plan {
    pub fn new(spec: Spec) -> Plan {
        let d = spec.duration;
        let n = spec.slides.max(1);
        let len = (d - 1.0) / n as f64;
        let mut slides = Vec::new();
        for k in 0..n {
            let a = r1(1.0 + k as f64 * len);
            let b = if k + 1 == n {
                r1(d)
            } else {
                r1(1.0 + (k + 1) as f64 * len)
            };
            let kk = spec.strokes;
            let mut strokes = Vec::new();
            for j in 0..kk {
                let kind = KINDS[j % KINDS.len()];
                let colour = STROKE_COLOURS[(j + k) % STROKE_COLOURS.len()];
                let y = H * (0.1 + 0.8 * (j as f64 + 0.5) / kk as f64);
                let band = H * 0.8 / kk as f64 * 0.35;
                let (x1, x2) = (W * 0.08, W * 0.42);
                let (y1, y2) = (y - band, y + band);
                let probe = match kind {
                    "pencil" | "line" => Some(((x1 + x2) / 2.0, y)),
                    "rect" => Some(((x1 + x2) / 2.0, y1)),
                    "ellipse" => Some((x1, y)),
                    "triangle" => Some(((x1 + x2) / 2.0, y2)),
                    _ => None,
                };
                let drawn = r1(a + len * 0.5 * (j as f64 + 1.0) / (kk as f64 + 1.0));
                let undo = (j + 1 == kk && kk >= 2).then(|| r1(a + len * 0.62));
                strokes.push(Stroke {
                    kind,
                    colour,
                    x1,
                    y1,
                    x2,
                    y2,
                    drawn,
                    undo,
                    probe,
                });
            }
            let zoom = (r1(a + len * 0.75), r1(a + len * 0.9));
            slides.push(SlidePlan {
                start: a,
                end: b,
                strokes,
                zoom,
            });
        }
        let mut flashes = Vec::new();
        let mut t = FIRST_FLASH;
        while spec.flash_every > 0.0 && t + 0.5 < d {
            flashes.push(t);
            t += spec.flash_every;
        }
        Plan {
            spec,
            slides,
            flashes,
        }
    }

    /// True when t is inside a screen-share interval.
    pub fn sharing(&self, t: f64) -> bool {
        self.spec.deskshare.iter().any(|(a, b)| *a <= t && t < *b)
    }

    /// Cursor position (fraction of the view box) at t, None = hidden.
    pub fn cursor(&self, t: f64) -> Option<(f64, f64)> {
        if t < 1.0 || self.sharing(t) {
            return None;
        }
        let x = 0.5 + 0.3 * (t * 0.7).sin();
        let y = 0.5 + 0.3 * (t * 0.5).cos();
        Some(((x * 100.0).round() / 100.0, (y * 100.0).round() / 100.0))
    }

    /// The manifest tests read.
    pub fn manifest(&self) -> Value {
        let hex = |c: [u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
        let slides: Vec<Value> = self
            .slides
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let q = quadrant_colours(k);
                json!({
                    "number": k + 1, "start": s.start, "end": s.end, "width": W, "height": H,
                    "quadrants": q.iter().map(|c| hex(*c)).collect::<Vec<_>>(),
                    "zoom": {"start": s.zoom.0, "end": s.zoom.1, "viewbox": [W / 2.0, H / 2.0, W / 2.0, H / 2.0]},
                    "strokes": s.strokes.iter().map(|st| json!({
                        "kind": st.kind, "colour": st.colour, "drawn": st.drawn, "undo": st.undo,
                        "probe": st.probe.map(|p| vec![p.0, p.1]),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "duration": self.spec.duration,
            "slides": slides,
            "deskshare": self.spec.deskshare.iter().map(|(a, b)| vec![*a, *b]).collect::<Vec<_>>(),
            "deskshare_colour": "#30c030",
            "webcam_colour": "#305080",
            "flashes": self.flashes,
            "flash_length": 0.2,
        })
    }
}
