//! The external bbb-recorder plugin (`node export.js URL NAME DURATION false` in its
//! folder): spawned without a shell, with a timeout from the recording's length, its
//! output kept in a log file, success = exit code 0 AND a file of the right duration.
//!
//! bbb-recorder plays the recording in Chrome, writes the webm to `~/Downloads` of the
//! user running it, then copies it to its `copyToPath` (`.env` or `config.json` of the
//! plugin, or `--recorder-copy-to`). Each run gets a unique export name, so parallel
//! runs sharing `~/Downloads` never collide.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A configured bbb-recorder.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// `node`, found on PATH.
    pub node: PathBuf,
    /// The plugin folder (holds export.js).
    pub dir: PathBuf,
    /// Where the plugin copies finished videos.
    pub copy_to: PathBuf,
    /// Time allowed on top of the recording's length.
    pub grace: Duration,
}

impl Recorder {
    /// Checks the plugin folder, finds node and the plugin's copyToPath.
    pub fn new(dir: &Path, copy_to: Option<&Path>, grace: Duration) -> anyhow::Result<Recorder> {
        if !dir.join("export.js").is_file() {
            anyhow::bail!("--bbb-recorder {}: no export.js there", dir.display());
        }
        let node = which::which("node").map_err(|_| {
            anyhow::anyhow!("node is not installed (bbb-recorder needs it: apt-get install nodejs)")
        })?;
        let copy_to = match copy_to {
            Some(p) => p.to_path_buf(),
            None => copy_to_path(dir)?,
        };
        if !copy_to.is_dir() {
            anyhow::bail!(
                "bbb-recorder copies its videos to {}, which is not a folder (set --recorder-copy-to)",
                copy_to.display()
            );
        }
        Ok(Recorder {
            node,
            dir: dir.to_path_buf(),
            copy_to,
            grace,
        })
    }

    /// Runs the plugin on `url` for a recording of `duration_s` seconds; returns the
    /// file it produced (in its copyToPath), checked by the caller.
    pub async fn run(
        &self,
        url: &str,
        export_name: &str,
        duration_s: f64,
        log: &Path,
    ) -> anyhow::Result<PathBuf> {
        if let Some(parent) = log.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the log folder {}", parent.display()))?;
        }
        let logf = std::fs::File::create(log)
            .with_context(|| format!("cannot create the log {}", log.display()))?;
        let produced = self.copy_to.join(export_name);
        let _ = std::fs::remove_file(&produced);
        let secs = duration_s.ceil().max(1.0) as u64;
        let mut child = crate::orphan::command(&self.node)
            .arg("export.js")
            .arg(url)
            .arg(export_name)
            .arg(secs.to_string())
            .arg("false")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(logf.try_clone()?)
            .stderr(logf)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {} export.js", self.node.display()))?;
        let limit = Duration::from_secs_f64(duration_s.max(1.0) * 1.25) + self.grace;
        let status = match tokio::time::timeout(limit, child.wait()).await {
            Ok(s) => s.context("bbb-recorder did not run")?,
            Err(_) => {
                let _ = child.kill().await;
                let _ = std::fs::remove_file(&produced);
                anyhow::bail!(
                    "bbb-recorder still running after {} s (recording of {secs} s); killed, see {}",
                    limit.as_secs(),
                    log.display()
                );
            }
        };
        if !status.success() {
            let _ = std::fs::remove_file(&produced);
            anyhow::bail!(
                "bbb-recorder failed ({}), see {}: {}",
                describe_exit(status),
                log.display(),
                last_line(log)
            );
        }
        if !produced.is_file() {
            anyhow::bail!(
                "bbb-recorder exited 0 but wrote no {}, see {}",
                produced.display(),
                log.display()
            );
        }
        Ok(produced)
    }
}

fn describe_exit(s: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(1), _) => "exit 1: bad URL or recording not found".into(),
        (Some(2), _) => "exit 2: playback URL unreachable".into(),
        (Some(c), _) => format!("exit {c}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "unknown exit".into(),
    }
}

fn last_line(log: &Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().chars().take(200).collect())
        })
        .unwrap_or_default()
}

/// The plugin's copyToPath: `copyToPath=…` in its `.env`, or `"copyToPath": "…"` in its
/// `config.json`.
fn copy_to_path(dir: &Path) -> anyhow::Result<PathBuf> {
    if let Ok(env) = std::fs::read_to_string(dir.join(".env")) {
        for l in env.lines() {
            if let Some(v) = l.trim().strip_prefix("copyToPath=") {
                return Ok(PathBuf::from(v.trim().trim_matches(['"', '\''])));
            }
        }
    }
    if let Ok(cfg) = std::fs::read_to_string(dir.join("config.json")) {
        let v: serde_json::Value =
            serde_json::from_str(&cfg).context("config.json of bbb-recorder")?;
        if let Some(p) = v["copyToPath"].as_str() {
            return Ok(PathBuf::from(p));
        }
    }
    anyhow::bail!(
        "cannot find copyToPath in {}/.env or config.json (set --recorder-copy-to)",
        dir.display()
    )
}
