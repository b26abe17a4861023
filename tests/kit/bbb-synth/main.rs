//! `bbb-synth`: writes synthetic published BBB presentation recordings (slides, strokes, undo,
//! zooms, cursor, screen share, webcams with audio and beep+flash sync markers, chat,
//! captions; any length) for tests and benchmarks, plus `synth.json` describing them.
//! `--render DIR OUT` runs the native renderer on a published folder (test/bench hook).

mod files;
mod media;
mod plan;

use anyhow::{Context, bail};
use bbbmig_core::media::render_args::RenderFlags;
use bbbmig_core::render::{self, DirSource};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Synthetic BBB published recordings, and a hook to render one.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// Write a recording into DIR (created); `bbb-standin --published DIR` serves it.
    #[arg(long, value_name = "DIR", required_unless_present = "render")]
    out: Option<PathBuf>,
    /// Length in seconds.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Number of slides.
    #[arg(long, default_value_t = 3)]
    slides: usize,
    /// Strokes per slide (the last one is undone when there are two or more).
    #[arg(long, default_value_t = 3)]
    strokes: usize,
    /// Seconds between cursor events.
    #[arg(long, default_value_t = 0.5)]
    cursor_interval: f64,
    /// Screen-share interval START-END in seconds (repeatable).
    #[arg(long, value_name = "START-END", value_parser = parse_interval)]
    deskshare: Vec<(f64, f64)>,
    /// Media container of webcams and screen share (none: no media files).
    #[arg(long, value_enum, default_value = "webm")]
    media: media::Media,
    /// Only audio/audio.webm, no webcams video.
    #[arg(long)]
    audio_only: bool,
    /// Seconds between beep+flash sync markers (first at 2.4 s; 0: none).
    #[arg(long, default_value_t = 20.0)]
    flash_every: f64,
    /// Number of chat messages.
    #[arg(long, value_name = "N", default_value_t = 4)]
    chat_messages: usize,
    /// Render the published recording DIR to the MP4 OUT with the native renderer.
    #[arg(long, num_args = 2, value_names = ["DIR", "OUT"])]
    render: Vec<PathBuf>,
    /// The renderer's flags: bbb-record's own.
    #[command(flatten)]
    render_flags: RenderFlags,
}

fn parse_interval(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once('-').ok_or("expected START-END")?;
    let a: f64 = a.parse().map_err(|_| "bad START")?;
    let b: f64 = b.parse().map_err(|_| "bad END")?;
    if b <= a {
        return Err("END must be after START".into());
    }
    Ok((a, b))
}

fn main() -> ExitCode {
    let args = Args::parse();
    bbbmig_core::diag::init("bbb-synth", 0, false);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bbb-synth: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(a: Args) -> anyhow::Result<()> {
    if let [dir, out] = a.render.as_slice() {
        let opts = a.render_flags.options();
        let t0 = std::time::Instant::now();
        let s = render::render(&DirSource(dir.clone()), &opts, out)?;
        eprintln!(
            "bbb-synth: rendered {:.1} s ({} frames, {} distinct slide states) in {:.1} s (rasterising {:.1} s, ffmpeg {:.1} s)",
            s.duration_s,
            s.frames,
            s.states,
            t0.elapsed().as_secs_f64(),
            s.raster_s,
            s.encode_s
        );
        return Ok(());
    }
    let dir = a.out.clone().context("--out DIR")?;
    if a.duration < 5.0 || a.slides == 0 {
        bail!("--duration must be at least 5 s and --slides at least 1");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let plan = plan::Plan::new(plan::Spec {
        duration: a.duration,
        slides: a.slides,
        strokes: a.strokes,
        cursor_interval: a.cursor_interval,
        deskshare: a.deskshare.clone(),
        flash_every: a.flash_every,
        chat: a.chat_messages,
    });
    files::write(&plan, &dir)?;
    media::webcams(&plan, &dir, a.media, a.audio_only)?;
    media::deskshare(&plan, &dir, a.media)?;
    std::fs::write(
        dir.join("synth.json"),
        serde_json::to_string_pretty(&plan.manifest())?,
    )?;
    Ok(())
}
