//! The model the renderer works on: one published recording as plain timelines (slides,
//! shape versions, view boxes, cursor, screen share, media files), what the parsers produce
//! and the rest reads.

use std::collections::HashMap;
use std::path::PathBuf;

/// One display period of a slide image (`<image class="slide">`).
#[derive(Debug, Clone)]
pub struct Slide {
    /// `imageN`.
    pub id: String,
    pub start: f64,
    pub end: f64,
    /// The href as published (`presentation/<presId>/slide-3.png`, `presentation/logo.png`).
    pub href: String,
    /// Local file (None for a missing placeholder: drawn blank).
    pub file: Option<PathBuf>,
    /// Size of the image = coordinate system of its drawings and panzooms.
    pub width: f64,
    pub height: f64,
}

impl Slide {
    /// A placeholder (logo / screen-share) rather than a real slide.
    pub fn is_placeholder(&self) -> bool {
        self.href.ends_with("logo.png") || self.href.ends_with("deskshare.png")
    }
    /// Slide number from `slide-N.png` / `slideN.svg`.
    pub fn number(&self) -> Option<u32> {
        let name = self.href.rsplit('/').next()?;
        let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    }
}

/// One version of a drawing (SVG fragment in slide-image pixels).
#[derive(Debug, Clone)]
pub struct ShapeVersion {
    /// Logical shape (all versions of one drawing share it).
    pub group: String,
    pub timestamp: f64,
    /// Removal time, or None.
    pub undo: Option<f64>,
    pub svg: String,
}

/// A view box at a time, already in slide-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanZoom {
    pub t: f64,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A point (x right, y down) in the coordinates its holder names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A cursor event: raw published coordinates, or None when hidden.
#[derive(Debug, Clone, Copy)]
pub struct CursorEvent {
    pub t: f64,
    pub pos: Option<Point>,
}

/// Where the cursor is from time `t` on (until the next move): a point, or hidden.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CursorMove {
    pub t: f64,
    /// None: hidden.
    pub pos: Option<Point>,
}

/// A caption track.
#[derive(Debug, Clone)]
pub struct Caption {
    pub locale: String,
    pub file: PathBuf,
}

/// Everything the renderer needs from one published recording.
#[derive(Debug, Default)]
pub struct Published {
    /// playback/duration, seconds.
    pub duration: f64,
    pub slides: Vec<Slide>,
    /// Shape versions per slide image id, in file order.
    pub shapes: HashMap<String, Vec<ShapeVersion>>,
    /// Raw panzoom events (coordinates as published).
    pub panzooms: Vec<PanZoom>,
    pub cursor: Vec<CursorEvent>,
    /// Screen-share intervals [start, stop).
    pub deskshare: Vec<(f64, f64)>,
    /// Tldraw whiteboard: the page-space size (2048x1536 for 2.6.0, else 1440x1080).
    pub tldraw: Option<(f64, f64)>,
    pub webcams: Option<PathBuf>,
    pub deskshare_video: Option<PathBuf>,
    /// Audio-only recordings (no webcams video).
    pub audio: Option<PathBuf>,
    pub captions: Vec<Caption>,
}
