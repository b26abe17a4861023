//! The renderer's command-line flags of bbb-record (`--layout --size --fps --qp --crf --preset
//! --chat --from-dir`), turned into [`RenderOptions`].

use crate::render::{Layout, Quality, RenderOptions};
use std::path::PathBuf;

/// Flags that tune the native renderer.
#[derive(clap::Args, Debug, Clone)]
pub struct RenderArgs {
    /// Render: screen layout.
    #[arg(long, value_enum, default_value = "bbb")]
    pub layout: Layout,
    /// Render: video size WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Render: frames per second.
    #[arg(long, default_value_t = 15)]
    pub fps: u32,
    /// Render: x264 constant quantizer, lower is better [default: 23].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=51), conflicts_with = "crf")]
    pub qp: Option<u8>,
    /// Render: x264 constant rate factor instead of --qp (slower).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: Option<u8>,
    /// Render: x264 preset.
    #[arg(long, default_value = "ultrafast")]
    pub preset: String,
    /// Render: add the chat column.
    #[arg(long)]
    pub chat: bool,
    /// Render from published recordings on disk (DIR/RECORD_ID/metadata.xml, …).
    #[arg(long, value_name = "DIR")]
    pub from_dir: Option<PathBuf>,
}

impl RenderArgs {
    /// The renderer's options, with the ffmpeg binary found on PATH; with `jobs` records
    /// worked on at once, each render runs as many ffmpeg processes as its share of the cores.
    pub fn options(&self, ffmpeg: PathBuf, jobs: usize) -> RenderOptions {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        RenderOptions {
            layout: self.layout,
            width: self.size.0,
            height: self.size.1,
            fps: self.fps,
            quality: match (self.crf, self.qp) {
                (Some(c), _) => Quality::Crf(c),
                (None, q) => Quality::Qp(q.unwrap_or(23)),
            },
            preset: self.preset.clone(),
            chat: self.chat,
            ffmpeg,
            parallel: (cores / jobs.max(1)).max(1),
        }
    }
}

/// `1280x720` → (1280, 720); both even and at least 16.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or("expected WIDTHxHEIGHT, e.g. 1280x720")?;
    let w: u32 = w.parse().map_err(|_| format!("bad width in {s}"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height in {s}"))?;
    if w < 16 || h < 16 || w % 2 == 1 || h % 2 == 1 {
        return Err(format!(
            "{s}: width and height must be even and at least 16"
        ));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert!(parse_size("1281x720").is_err());
        assert!(parse_size("big").is_err());
    }
}
