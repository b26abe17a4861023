//! How to render: the options of a render (layout, size, x264 settings, ffmpeg, the length of
//! its stretches, whether to keep its work folder) and the token that cancels it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Screen layout of the video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Layout {
    /// The BBB video format's: presentation 960x720 on the left, webcams column.
    #[default]
    Bbb,
    /// Presentation only, no webcams.
    Presentation,
    /// Presentation full frame, webcams small in a corner.
    Overlay,
}

/// How x264 spends bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quality {
    /// Constant quantizer: no look-ahead analysis, so the cheapest encode (about 15% less
    /// CPU than CRF on lecture content, and smaller files for still slides).
    Qp(u8),
    /// Constant rate factor.
    Crf(u8),
}

impl Quality {
    /// The x264 arguments of ffmpeg.
    pub fn args(self) -> [String; 2] {
        match self {
            Quality::Qp(q) => ["-qp".into(), q.to_string()],
            Quality::Crf(q) => ["-crf".into(), q.to_string()],
        }
    }
}

/// An x264 preset: how much CPU the encoder spends per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Preset {
    #[default]
    Ultrafast,
    Superfast,
    Veryfast,
    Faster,
    Fast,
    Medium,
    Slow,
    Slower,
    Veryslow,
    Placebo,
}

impl Preset {
    /// The name x264 knows it by.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Ultrafast => "ultrafast",
            Preset::Superfast => "superfast",
            Preset::Veryfast => "veryfast",
            Preset::Faster => "faster",
            Preset::Fast => "fast",
            Preset::Medium => "medium",
            Preset::Slow => "slow",
            Preset::Slower => "slower",
            Preset::Veryslow => "veryslow",
            Preset::Placebo => "placebo",
        }
    }
}

/// Cancels the renders that hold a clone of it (on SIGINT or SIGTERM): their rasterisers
/// stop, their ffmpeg runs are killed within 20 ms and they return an error (their temporary
/// files are removed).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Cancels every render holding this token or a clone of it.
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::set`] was called.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How far the render holding a clone of it got (read by bbb-record's status line):
/// distinct pictures rasterised, then frames encoded.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<[AtomicU64; 4]>);

/// What a render is doing, and the share of it done (0 to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Drawing the distinct presentation pictures.
    Raster(f64),
    /// ffmpeg composing and encoding the video (the share of its frames done).
    Encode(f64),
}

impl Progress {
    const STATES: usize = 0;
    const STATES_DONE: usize = 1;
    const FRAMES: usize = 2;
    const FRAMES_DONE: usize = 3;

    fn get(&self, i: usize) -> u64 {
        self.0[i].load(Ordering::Relaxed)
    }

    /// The render's step now.
    pub fn step(&self) -> Step {
        let share = |done: usize, all: usize| {
            let all = self.get(all);
            if all == 0 {
                0.0
            } else {
                (self.get(done) as f64 / all as f64).min(1.0)
            }
        };
        if self.get(Self::FRAMES) == 0 {
            Step::Raster(share(Self::STATES_DONE, Self::STATES))
        } else {
            Step::Encode(share(Self::FRAMES_DONE, Self::FRAMES))
        }
    }

    pub(crate) fn states(&self, n: u64) {
        self.0[Self::STATES].store(n, Ordering::Relaxed);
    }

    pub(crate) fn state_done(&self) {
        self.0[Self::STATES_DONE].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn frames(&self, n: u64) {
        self.0[Self::FRAMES].store(n.max(1), Ordering::Relaxed);
    }

    pub(crate) fn frames_done(&self, n: u64) {
        self.0[Self::FRAMES_DONE].fetch_add(n, Ordering::Relaxed);
    }
}

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub layout: Layout,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub quality: Quality,
    pub preset: Preset,
    /// Add a chat column (from slides_new.xml).
    pub chat: bool,
    /// The ffmpeg binary.
    pub ffmpeg: PathBuf,
    /// ffmpeg runs at once (0: one per core).
    pub parallel: usize,
    /// One length, seconds, for every stretch of video an ffmpeg run encodes (tests); None:
    /// about an eighth of the recording per run, 20 s to 5 min.
    pub span: Option<f64>,
    /// Leave the temporary folder (pictures, ffmpeg lists and filter graphs) for inspection.
    pub keep_work: bool,
    /// Stops the render when set.
    pub cancel: Cancel,
    /// Where the render says how far it got.
    pub progress: Progress,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            layout: Layout::Bbb,
            width: 1280,
            height: 720,
            fps: 15,
            quality: Quality::Qp(23),
            // The encode is the floor of the render time: ultrafast is ~1.7x cheaper than
            // veryfast on lecture content for files ~2x larger (still ~20 MB per hour at 720p).
            preset: Preset::Ultrafast,
            chat: false,
            ffmpeg: PathBuf::from("ffmpeg"),
            parallel: 0,
            span: None,
            keep_work: false,
            cancel: Cancel::default(),
            progress: Progress::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn presets_are_named_as_x264_names_them() {
        for p in Preset::value_variants() {
            let v = p.to_possible_value().unwrap();
            assert_eq!(v.get_name(), p.name());
        }
    }

    #[test]
    fn a_cancel_reaches_every_clone() {
        let c = Cancel::default();
        let d = c.clone();
        assert!(!d.is_set());
        c.set();
        assert!(d.is_set());
    }
}
