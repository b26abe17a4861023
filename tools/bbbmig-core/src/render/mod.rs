//! The native renderer: a published BBB presentation recording to an MP4, without a browser:
//! each distinct slide state is rasterised once, then ffmpeg runs, one per core, compose and
//! encode stretches of the video that are joined without re-encoding.

pub mod chat;
pub mod compose;
pub mod encode;
pub mod fonts;
pub mod published;
pub mod raster;
pub mod timeline;
pub mod tldraw;

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Where the published files of one recording come from.
pub trait Source: Send + Sync {
    /// Local path of the published file at `rel` (`metadata.xml`, `shapes.svg`,
    /// `video/webcams.webm`, `presentation/<id>/slide-1.png`, …), fetched on demand;
    /// `Ok(None)` when the recording has no such file (HTTP 404); `Err` on any other failure.
    fn fetch(&self, rel: &str) -> anyhow::Result<Option<PathBuf>>;
}

/// A published recording already on disk (`--from-dir`).
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn fetch(&self, rel: &str) -> anyhow::Result<Option<PathBuf>> {
        if rel.split('/').any(|p| p == ".." || p.is_empty()) {
            anyhow::bail!("unsafe path in recording: {rel:?}");
        }
        let p = self.0.join(rel);
        Ok(if p.is_file() { Some(p) } else { None })
    }
}

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

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub layout: Layout,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub quality: Quality,
    pub preset: String,
    /// Add a chat column (from slides_new.xml).
    pub chat: bool,
    /// The ffmpeg binary.
    pub ffmpeg: PathBuf,
    /// ffmpeg runs at once (0: one per core).
    pub parallel: usize,
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
            preset: "ultrafast".into(),
            chat: false,
            ffmpeg: PathBuf::from("ffmpeg"),
            parallel: 0,
        }
    }
}

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
    // BBBMIG_RENDER_KEEP (debugging aid) keeps the frames, lists and filter graph.
    let tmp = std::env::temp_dir();
    crate::stale::sweep(&tmp, WORK_PREFIX);
    let mut work = crate::stale::tempdir_in(&tmp, WORK_PREFIX)
        .with_context(|| format!("creating a temporary directory in {}", tmp.display()))?;
    work.disable_cleanup(std::env::var_os("BBBMIG_RENDER_KEEP").is_some());
    let dir = work.path();
    let has_cams = p.webcams.is_some() && opts.layout != Layout::Presentation;
    let geo = compose::Geometry::new(opts, has_cams);
    let (_, _, aw, ah) = geo.area;

    let t0 = std::time::Instant::now();
    let (states, segs) = timeline::segments(&p);
    let files = raster::render_states(&p, &states, aw, ah, dir)?;
    let slides: Vec<(PathBuf, f64)> = segs
        .iter()
        .map(|s| (files[s.state].clone(), s.end - s.start))
        .collect();

    let r = (ah / 90).max(3);
    let cursor_png = dir.join("cursor.png");
    raster::cursor_png(r, &cursor_png)?;
    let off = r as f64 + 1.0;
    let track: Vec<(f64, f64, f64)> = timeline::cursor_track(&p, aw as f64, ah as f64, &segs)
        .into_iter()
        .map(|(t, pos)| match pos {
            Some((x, y)) => (t, geo.area.0 as f64 + x - off, geo.area.1 as f64 + y - off),
            None => (t, -1000.0, -1000.0),
        })
        .collect();
    let chat = match geo.chat {
        Some((_, _, cw, chh)) => {
            let msgs = chat::load(src)?;
            Some(chat::panels(&msgs, p.duration, cw, chh, dir)?)
        }
        None => None,
    };
    let chapters = chat::chapters(&p, &dir.join("chapters.txt"))?;
    let inputs = compose::Inputs {
        geo,
        duration: p.duration,
        slides,
        cursor_png,
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
