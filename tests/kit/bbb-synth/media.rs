//! Synthetic media made with ffmpeg: webcams (colour + white flashes + beeps at the same
//! instants), audio-only, and the screen share (black, green during its intervals).

use crate::plan::Plan;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// Container of the generated media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Media {
    Webm,
    Mp4,
    None,
}

fn ffmpeg(args: &[String]) -> Result<()> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .context("cannot run ffmpeg")?;
    if !out.status.success() {
        bail!("ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn codecs(m: Media) -> Vec<String> {
    let v: &[&str] = match m {
        Media::Mp4 => &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "stillimage",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-movflags",
            "+faststart",
        ],
        _ => &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "150k",
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
        ],
    };
    v.iter().map(|s| s.to_string()).collect()
}

fn flash_expr(plan: &Plan) -> String {
    let e = plan.spec.flash_every;
    if plan.flashes.is_empty() {
        return "0".into();
    }
    let f0 = crate::plan::FIRST_FLASH;
    format!(
        "gte(t\\,{f0})*lt(mod(t-{f0}\\,{e})\\,0.2)*lt(t\\,{})",
        plan.flashes.last().unwrap() + 0.3
    )
}

/// Silence with 1 kHz beeps at the flashes; gated per 10 ms audio frame so a beep starts
/// exactly at its flash (a per-sample expression would be far too slow for long recordings).
fn audio_src(plan: &Plan) -> String {
    let d = plan.spec.duration;
    let f = flash_expr(plan);
    format!("sine=f=1000:r=48000:samples_per_frame=480:d={d},volume=6,volume=0:enable='not({f})'")
}

/// video/webcams.{webm,mp4} (or audio/audio.webm when `audio_only`).
pub fn webcams(plan: &Plan, dir: &Path, m: Media, audio_only: bool) -> Result<()> {
    let d = plan.spec.duration;
    if m == Media::None {
        return Ok(());
    }
    if audio_only {
        std::fs::create_dir_all(dir.join("audio"))?;
        let mut a = vec!["-f".into(), "lavfi".into(), "-i".into(), audio_src(plan)];
        a.extend(["-c:a", "libopus", "-b:a", "32k"].map(String::from));
        a.push(dir.join("audio/audio.webm").to_string_lossy().into_owned());
        return ffmpeg(&a);
    }
    std::fs::create_dir_all(dir.join("video"))?;
    let ext = if m == Media::Mp4 { "mp4" } else { "webm" };
    let mut a: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("color=c=0x305080:s=640x480:r=15:d={d}"),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        audio_src(plan),
        "-vf".into(),
        format!(
            "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{}'",
            flash_expr(plan)
        ),
    ];
    a.extend(codecs(m));
    a.extend(["-t".into(), d.to_string()]);
    a.push(
        dir.join(format!("video/webcams.{ext}"))
            .to_string_lossy()
            .into_owned(),
    );
    ffmpeg(&a)
}

/// deskshare/deskshare.{webm,mp4}: full length, green during the share intervals.
pub fn deskshare(plan: &Plan, dir: &Path, m: Media) -> Result<()> {
    if plan.spec.deskshare.is_empty() || m == Media::None {
        return Ok(());
    }
    let d = plan.spec.duration;
    std::fs::create_dir_all(dir.join("deskshare"))?;
    let en: Vec<String> = plan
        .spec
        .deskshare
        .iter()
        .map(|(a, b)| format!("between(t\\,{a}\\,{b})"))
        .collect();
    let ext = if m == Media::Mp4 { "mp4" } else { "webm" };
    let mut a: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("color=c=black:s=1280x720:r=5:d={d}"),
        "-vf".into(),
        format!(
            "drawbox=x=0:y=0:w=iw:h=ih:color=0x30c030:t=fill:enable='{}'",
            en.join("+")
        ),
    ];
    // Video codec options only (no audio), faststart kept for HTTP readers.
    let c = codecs(m);
    let video_only: Vec<String> = match m {
        Media::Mp4 => c[..6].iter().chain(&c[10..]).cloned().collect(),
        _ => c[..8].to_vec(),
    };
    a.extend(video_only);
    a.push("-an".into());
    a.push(
        dir.join(format!("deskshare/deskshare.{ext}"))
            .to_string_lossy()
            .into_owned(),
    );
    ffmpeg(&a)
}
