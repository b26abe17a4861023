//! The native renderer: a published BBB presentation recording to an MP4, without a browser:
//! each distinct slide state is rasterised once, then ffmpeg runs, one per core, compose and
//! encode stretches of the video that are joined without re-encoding.
//!
//! The modules are layers; each uses only those above it:
//!
//! - `options`, `source`, `model`, `fonts`: what a render is asked (options, cancel token),
//!   where files come from, the plain timelines of a recording, the system fonts;
//! - `svg`: escaping, text blocks, SVG options, PNG output; `freehand`: tldraw's
//!   variable-width pen strokes;
//! - parsers: `tldraw`, then `published` (one parser per published file), `chat`;
//! - `timeline`: what the presentation area shows when (distinct states, cursor track);
//! - `raster`: each distinct state to a PNG; `cursor`: the cursor dot's pictures;
//! - `compose`: the screen layout and the ffmpeg run of one stretch of video;
//! - `audio`: the sound track, copied or encoded;
//! - `encode`: the stretches run in parallel, the sound, the final mux;
//! - this file: the API ([`render`], [`RenderOptions`], [`Cancel`], [`Source`]).

mod audio;
mod chat;
mod compose;
mod cursor;
mod dimensions;
mod encode;
mod fonts;
mod freehand;
mod model;
mod options;
mod published;
mod raster;
mod source;
mod stderr_tail;
mod svg;
mod timeline;
mod tldraw;

pub use options::{Cancel, Layout, Preset, Progress, Quality, RenderOptions, Step};
pub use source::{DirSource, Source};

/// The parsers of the published files, reachable for the fuzz targets (fuzz/) only.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::chat::load as chat;
    pub use super::model::Slide;
    pub use super::published::load as published;
    pub use super::tldraw::parse as tldraw;
}

use anyhow::Context;
use compose::ScreenBox;
use model::{CursorMove, Point};
use std::path::{Path, PathBuf};

/// What a render produced.
#[derive(Debug, Clone, Default)]
pub struct RenderSummary {
    /// Duration of the recording (playback/duration), seconds.
    pub duration_s: f64,
    /// Frames encoded.
    pub frames: u64,
    /// Distinct presentation pictures rasterised.
    pub states: u64,
    /// Seconds spent parsing and rasterising, then in the ffmpeg run.
    pub raster_s: f64,
    pub encode_s: f64,
}

/// The renderer's temporary folders in TMPDIR: `bbbmig-render-<pid>@<host>_…` (those of
/// this machine's processes that are gone are removed by the next render).
const WORK_PREFIX: &str = "bbbmig-render-";

/// Renders the recording of `src` into the MP4 file `out` (written exactly there; the
/// caller picks a temporary name and renames it).
pub fn render(src: &dyn Source, opts: &RenderOptions, out: &Path) -> anyhow::Result<RenderSummary> {
    let p = published::load(src)?;
    let tmp = std::env::temp_dir();
    crate::stale::sweep(&tmp, WORK_PREFIX);
    let mut work = crate::stale::tempdir_in(&tmp, WORK_PREFIX)
        .with_context(|| format!("creating a temporary directory in {}", tmp.display()))?;
    work.disable_cleanup(opts.keep_work);
    let dir = work.path();
    let has_cams = p.webcams.is_some() && opts.layout != Layout::Presentation;
    let geo = compose::Geometry::new(opts, has_cams);
    let ScreenBox { w: aw, h: ah, .. } = geo.area;

    let t0 = std::time::Instant::now();
    // Whether the sound can be copied, asked of ffmpeg while the slides are rasterised.
    let sound_src = p.webcams.clone().or_else(|| p.audio.clone());
    let ffmpeg = opts.ffmpeg.clone();
    let sound = std::thread::spawn(move || {
        sound_src.map_or(audio::Sound::Encode, |f| audio::sound_of(&ffmpeg, &f))
    });
    let (states, segs) = timeline::segments(&p);
    opts.progress.states(states.len() as u64);
    let files = raster::render_states(&p, &states, aw, ah, dir, &opts.cancel, &opts.progress)?;
    let slides: Vec<(PathBuf, f64)> = segs
        .iter()
        .map(|s| (files[s.state].clone(), s.end - s.start))
        .collect();

    let (cursor_dots, side) = cursor::pictures(&p, &states, &segs, aw, ah, dir)?;
    // The track places the dot canvas's top-left corner on the screen, on even pixels: ffmpeg's
    // overlay on 4:2:0 pictures rounds odd ones down (the dot is then within a pixel).
    let off = (side / 2) as f64;
    let even = |v: f64| (v / 2.0).round() * 2.0;
    let track: Vec<CursorMove> = timeline::cursor_track(&p, aw as f64, ah as f64, &segs)
        .into_iter()
        .map(|m| CursorMove {
            t: m.t,
            pos: m.pos.map(|c| Point {
                x: even(geo.area.x as f64 + c.x - off),
                y: even(geo.area.y as f64 + c.y - off),
            }),
        })
        .collect();
    let chat = match geo.chat {
        Some(b) => {
            let msgs = chat::load(src)?;
            Some(chat::panels(&msgs, p.duration, b.w, b.h, dir)?)
        }
        None => None,
    };
    let chapters = chat::chapters(&p, &dir.join("chapters.txt"))?;
    let inputs = compose::Inputs {
        geo,
        duration: p.duration,
        slides,
        cursor_dots,
        cursor: track,
        chat,
        webcams: p.webcams.as_deref(),
        audio: if p.webcams.is_none() {
            p.audio.as_deref()
        } else {
            None
        },
        deskshare: p
            .deskshare_video
            .as_deref()
            .map(|f| (f, p.deskshare.as_slice())),
        captions: p
            .captions
            .iter()
            .map(|c| (c.locale.clone(), c.file.clone()))
            .collect(),
        chapters,
        sound: sound.join().unwrap_or(audio::Sound::Encode),
        work: dir,
    };
    let raster_s = t0.elapsed().as_secs_f64();
    encode::run(&inputs, opts, out)?;
    Ok(RenderSummary {
        raster_s,
        encode_s: t0.elapsed().as_secs_f64() - raster_s,
        duration_s: p.duration,
        frames: (p.duration * opts.fps as f64).round() as u64,
        states: states.len() as u64,
    })
}
