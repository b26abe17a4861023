//! The renderer's command-line flags (`--layout --size --fps --qp --crf --preset --chat`, and
//! the hidden `--render-span --render-keep`), shared by bbb-record and bbb-synth, plus
//! bbb-record's `--from-dir`; turned into [`RenderOptions`].

use crate::render::{Layout, Preset, Quality, RenderOptions};
use std::path::PathBuf;

/// Flags that tune the native renderer (bbb-record's, flattened into bbb-synth's too).
#[derive(clap::Args, Debug, Clone)]
pub struct RenderFlags {
    /// Render: screen layout.
    #[arg(long, value_enum, default_value = "bbb")]
    pub layout: Layout,
    /// Render: video size WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Render: frames per second.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..))]
    pub fps: u32,
    /// Render: x264 constant quantizer, lower is better [default: 23].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=51), conflicts_with = "crf")]
    pub qp: Option<u8>,
    /// Render: x264 constant rate factor instead of --qp (slower).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: Option<u8>,
    /// Render: x264 preset.
    #[arg(long, value_enum, default_value = "ultrafast")]
    pub preset: Preset,
    /// Render: add the chat column.
    #[arg(long)]
    pub chat: bool,
    /// Render: one length in seconds for every stretch of video an ffmpeg run encodes
    /// (tests; by default about an eighth of the recording per core, 20 s to 5 min).
    #[arg(long, value_name = "SECONDS", hide = true, env = "BBBMIG_RENDER_SPAN", value_parser = parse_seconds)]
    pub render_span: Option<f64>,
    /// Render: leave the temporary folder (pictures, ffmpeg lists, filter graphs).
    #[arg(long, hide = true, env = "BBBMIG_RENDER_KEEP", value_parser = clap::builder::FalseyValueParser::new())]
    pub render_keep: bool,
}

impl RenderFlags {
    /// The renderer's options (ffmpeg from PATH, one run per core, a fresh cancel token).
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            layout: self.layout,
            width: self.size.0,
            height: self.size.1,
            fps: self.fps,
            quality: match (self.crf, self.qp) {
                (Some(c), _) => Quality::Crf(c),
                (None, q) => Quality::Qp(q.unwrap_or(23)),
            },
            preset: self.preset,
            chat: self.chat,
            span: self.render_span,
            keep_work: self.render_keep,
            ..RenderOptions::default()
        }
    }
}

/// bbb-record's renderer flags.
#[derive(clap::Args, Debug, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub flags: RenderFlags,
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
            ffmpeg,
            parallel: (cores / jobs.max(1)).max(1),
            ..self.flags.options()
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

/// A positive number of seconds.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s}: expected a positive number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// A command with the renderer's flags alone.
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        flags: RenderFlags,
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert!(parse_size("1281x720").is_err());
        assert!(parse_size("big").is_err());
    }

    #[test]
    fn unknown_presets_are_refused_with_the_list() {
        let e = Cli::try_parse_from(["t", "--preset", "ultrafats"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("ultrafast") && e.contains("veryslow"), "{e}");
        let c = Cli::try_parse_from(["t", "--preset", "veryfast", "--render-span", "7"]).unwrap();
        let o = c.flags.options();
        assert_eq!((o.preset, o.span), (Preset::Veryfast, Some(7.0)));
        assert!(Cli::try_parse_from(["t", "--render-span", "0"]).is_err());
    }
}
