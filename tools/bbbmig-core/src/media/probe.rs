//! ffprobe: the duration and container of a video file, and the proof that it is
//! complete: its packets must reach the duration its header announces (a truncated
//! file keeps a header that lies), or, without a header duration (Chrome's webm), the
//! duration is where its packets end.

use anyhow::Context;
use std::path::Path;
use std::process::Stdio;

/// What ffprobe says about a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Seconds.
    pub duration_s: f64,
    /// `mp4`, `webm`, `matroska`, … (first name of ffprobe's `format_name`, with the
    /// ISO family named `mp4`).
    pub container: String,
}

async fn ffprobe_json(ffprobe: &Path, file: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let out = crate::orphan::command(ffprobe)
        .args(["-v", "error"])
        .args(args)
        .arg(file)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run {}", ffprobe.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} is not a readable video: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// Runs `ffprobe` on `file`: a file it cannot read, without audio or video, without a
/// duration, or whose packets stop short of its announced duration is an error.
pub async fn probe(ffprobe: &Path, file: &Path) -> anyhow::Result<Probe> {
    let head = ffprobe_json(
        ffprobe,
        file,
        &[
            "-show_entries",
            "format=duration,format_name:stream=codec_type,duration",
            "-of",
            "json",
        ],
    )
    .await?;
    let (announced, container) =
        parse(&head).with_context(|| format!("{} is not a complete video", file.display()))?;
    // Read the packets of the last 30 s (all of them without an announced duration).
    let from = if announced > 60.0 {
        announced - 30.0
    } else {
        0.0
    };
    let packets = ffprobe_json(
        ffprobe,
        file,
        &[
            "-read_intervals",
            &format!("{from:.3}%"),
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ],
    )
    .await?;
    let end = packets_end(&String::from_utf8_lossy(&packets));
    let duration = if announced > 0.0 {
        if end < announced - (announced * 0.02).max(2.0) {
            anyhow::bail!(
                "{} is truncated: its data ends at {end:.1} s of {announced:.1} s",
                file.display()
            );
        }
        announced
    } else {
        end
    };
    if duration.is_nan() || duration <= 0.0 {
        anyhow::bail!("{} is not a complete video: no duration", file.display());
    }
    Ok(Probe {
        duration_s: (duration * 1000.0).round() / 1000.0,
        container,
    })
}

/// Where the last packet ends (`pts_time,duration_time` lines), in seconds.
fn packets_end(csv: &str) -> f64 {
    csv.lines()
        .filter_map(|l| {
            let mut f = l.split(',');
            let pts = f.next()?.trim().parse::<f64>().ok()?;
            let dur = f
                .next()
                .and_then(|d| d.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            Some(pts + dur)
        })
        .fold(0.0, f64::max)
}

/// The announced duration (0 when none) and the container.
fn parse(json: &[u8]) -> anyhow::Result<(f64, String)> {
    let v: serde_json::Value = serde_json::from_slice(json).context("ffprobe output")?;
    let fmt = &v["format"];
    let mut duration = fmt["duration"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0);
    if duration.is_nan() || duration <= 0.0 {
        // Some webm files carry durations only on their streams.
        duration = v["streams"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["duration"].as_str().and_then(|d| d.parse::<f64>().ok()))
            .fold(0.0, f64::max);
    }
    let has_av = v["streams"].as_array().is_some_and(|a| {
        a.iter()
            .any(|s| matches!(s["codec_type"].as_str(), Some("video" | "audio")))
    });
    if !has_av {
        anyhow::bail!("no audio or video stream");
    }
    let name = fmt["format_name"].as_str().unwrap_or("unknown");
    let container = if name.contains("mp4") {
        "mp4".to_string()
    } else if name.contains("webm") {
        "webm".to_string()
    } else {
        name.split(',').next().unwrap_or(name).to_string()
    };
    Ok((duration.max(0.0), container))
}

/// The file extension for a container.
pub fn extension(container: &str) -> &'static str {
    match container {
        "mp4" => "mp4",
        "webm" => "webm",
        _ => "mkv",
    }
}

/// True when `got` seconds is close enough to the `expected` length: within 2 s or
/// 2 % short, within 30 s or 10 % long (players pad the end).
pub fn duration_matches(got: f64, expected: f64) -> bool {
    let short = (expected * 0.02).max(2.0);
    let long = (expected * 0.10).max(30.0);
    got >= expected - short && got <= expected + long
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffprobe_json() {
        let p = parse(br#"{"streams":[{"codec_type":"video"}],"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"12.500000"}}"#).unwrap();
        assert_eq!(p, (12.5, "mp4".into()));
        let w = parse(br#"{"streams":[{"codec_type":"video","duration":"3.0"}],"format":{"format_name":"matroska,webm"}}"#).unwrap();
        assert_eq!(w, (3.0, "webm".into()));
        let chrome = parse(br#"{"streams":[{"codec_type":"video"}],"format":{"format_name":"matroska,webm","duration":"N/A"}}"#).unwrap();
        assert_eq!(chrome.0, 0.0);
        assert!(parse(br#"{"streams":[],"format":{"format_name":"mp4","duration":"1"}}"#).is_err());
    }

    #[test]
    fn packets_end_is_the_last_pts_plus_duration() {
        assert_eq!(
            packets_end("0.000000,0.040000\n9.960000,0.040000\n5.0,N/A\n"),
            10.0
        );
        assert_eq!(packets_end(""), 0.0);
    }

    #[test]
    fn duration_tolerance() {
        assert!(duration_matches(600.0, 600.0));
        assert!(duration_matches(590.0, 600.0) && !duration_matches(580.0, 600.0));
        assert!(duration_matches(655.0, 600.0) && !duration_matches(700.0, 600.0));
    }
}
