//! The native renderer: a published BBB presentation recording to an MP4 (interface; the
//! renderer issue fills it in).

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

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub layout: Layout,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub crf: u8,
    pub preset: String,
    /// Add a chat column (from slides_new.xml).
    pub chat: bool,
    /// The ffmpeg binary.
    pub ffmpeg: PathBuf,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            layout: Layout::Bbb,
            width: 1280,
            height: 720,
            fps: 15,
            crf: 23,
            preset: "veryfast".into(),
            chat: false,
            ffmpeg: PathBuf::from("ffmpeg"),
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
}

/// Renders the recording of `src` into the MP4 file `out` (written exactly there; the
/// caller picks a temporary name and renames it).
pub fn render(
    _src: &dyn Source,
    _opts: &RenderOptions,
    _out: &Path,
) -> anyhow::Result<RenderSummary> {
    anyhow::bail!("the native renderer is not built yet")
}
