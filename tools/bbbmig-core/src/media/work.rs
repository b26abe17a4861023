//! One record's work: reuse an existing output, or download / render / record the video
//! under a temporary name, check it, rename it, and describe it in `video`.

use super::download::{Fetcher, Space, media_extension};
use super::lease::{Acquired, Leases, clean_leftovers};
use super::naming::Template;
use super::output::{Target, ensure_space, is_disk_full};
use super::plan::{Plan, Presentation, choose};
use super::probe::{Probe, duration_matches, extension, probe};
use super::progress::{Board, Job, Phase, Times};
use super::recorder::Recorder;
use super::source::{HttpSource, metadata_duration};
use super::{Method, Prefer};
use crate::http::redact;
use crate::outcome::Status;
use crate::record::Record;
use crate::render::{DirSource, RenderOptions, Source, render};
use anyhow::Context;
use serde_json::json;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Everything a job needs, shared by all jobs.
pub struct Ctx {
    /// The output folder (absolute).
    pub out: PathBuf,
    pub template: Template,
    pub method: Method,
    pub prefer: Prefer,
    pub recorder: Option<Recorder>,
    /// Where bbb-recorder logs go.
    pub log_dir: PathBuf,
    pub render: RenderOptions,
    /// Published recordings already on disk: `DIR/<recordID>/`.
    pub from_dir: Option<PathBuf>,
    /// Bytes that must stay free on the output's file system.
    pub keep_free: u64,
    pub dry_run: bool,
    pub ffprobe: PathBuf,
    pub fetcher: Fetcher,
    pub board: Arc<Board>,
    /// Output names being written by this run (two records never write one file).
    pub claimed: Mutex<HashSet<String>>,
    /// The per-recording leases in `out` (other processes and hosts); `None` in a dry run.
    pub leases: Option<Leases>,
    /// `--wait-busy`: wait for a lease held by another job instead of reporting `busy`.
    pub wait_busy: bool,
}

struct Claim<'a>(&'a Ctx, String);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0
            .claimed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

/// Produces the video of `rec`; returns the record with `video` added, the status
/// (`created`, `exists`, `dry-run`, or `busy` when another job holds its lease) and the
/// time spent in each phase.
pub async fn process(ctx: &Ctx, rec: Record) -> anyhow::Result<(Record, &'static str, Times)> {
    let job = ctx.board.job(&progress_label(&rec));
    let (rec, status) = make(ctx, &job, rec).await?;
    Ok((rec, status, job.times()))
}

async fn make(ctx: &Ctx, job: &Job, mut rec: Record) -> anyhow::Result<(Record, &'static str)> {
    let base = ctx.template.render(&rec)?;
    let plan = choose(&rec, ctx.method, ctx.prefer, ctx.recorder.is_some())?;
    let target = Target {
        dir: ctx.out.clone(),
        base: base.clone(),
    };
    if !ctx
        .claimed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(base.clone())
    {
        anyhow::bail!(
            "another record of this input writes the same file {base}.* (duplicate record?)"
        );
    }
    let _claim = Claim(ctx, base.clone());
    let method = plan.method();
    let _lease = match &ctx.leases {
        None => None,
        Some(l) => match l.acquire(&base, ctx.wait_busy).await? {
            Acquired::Held(lease) => {
                clean_leftovers(&ctx.out, &base, matches!(plan, Plan::Download { .. }));
                Some(lease)
            }
            Acquired::Busy(holder) => {
                log::info!(
                    "record {}: {base} is being made by {holder}; skipped (--wait-busy waits)",
                    rec.id_for_messages()
                );
                rec.set(
                    "video",
                    json!({
                        "method": method.as_str(),
                        "status": Status::Busy,
                        "holder": holder.to_string(),
                        "lease": l.path(&base),
                    }),
                );
                return Ok((rec, Status::Busy.as_str()));
            }
        },
    };
    if let Some(path) = target.existing() {
        job.phase(Phase::Probe);
        let p = probe(&ctx.ffprobe, &path).await.with_context(|| {
            format!(
                "{} exists but is not a complete video; remove it to record again",
                path.display()
            )
        })?;
        let bytes = std::fs::metadata(&path)?.len();
        rec.set("video", video(&path, bytes, &p, method, Status::Exists));
        return Ok((rec, Status::Exists.as_str()));
    }
    if ctx.dry_run {
        let ext = match &plan {
            // A playback page: BBB's video format serves video-0.m4v, kept as .m4v.
            Plan::Download { url, .. } => media_extension(url)
                .filter(|e| super::output::EXTENSIONS.contains(e))
                .unwrap_or("m4v"),
            Plan::Render(_) => "mp4",
            Plan::Recorder(_) => "webm",
        };
        let mut v = json!({
            "path": target.final_path(ext),
            "method": method.as_str(),
            "url": plan.shown_url(),
            "status": Status::DryRun,
        });
        if let Plan::Render(p) | Plan::Recorder(p) = &plan {
            v["files"] = json!(p.files.as_str());
        }
        log::info!(
            "record {}: would {} {} into {}",
            rec.id_for_messages(),
            method.as_str(),
            plan.shown_url(),
            target.final_path(ext).display()
        );
        rec.set("video", v);
        return Ok((rec, Status::DryRun.as_str()));
    }
    ensure_space(&ctx.out, 0, ctx.keep_free)?;
    let (path, p) = match &plan {
        Plan::Download { url, length_min } => download(ctx, &target, job, url, *length_min).await?,
        Plan::Render(pres) => rendered(ctx, &target, job, pres).await?,
        Plan::Recorder(pres) => recorded(ctx, &target, job, pres).await?,
    };
    let bytes = std::fs::metadata(&path)?.len();
    rec.set("video", video(&path, bytes, &p, method, Status::Created));
    Ok((rec, Status::Created.as_str()))
}

fn video(path: &Path, bytes: u64, p: &Probe, method: Method, status: Status) -> serde_json::Value {
    json!({
        "path": path,
        "bytes": bytes,
        "duration_s": p.duration_s,
        "method": method.as_str(),
        "container": p.container,
        "status": status,
    })
}

/// Probes a finished temporary file; a file that is not a video is removed (a rerun
/// starts again) and reported.
async fn checked(ctx: &Ctx, job: &Job, part: &Path) -> anyhow::Result<Probe> {
    job.phase(Phase::Probe);
    match probe(&ctx.ffprobe, part).await {
        Ok(p) => Ok(p),
        Err(e) => {
            let _ = std::fs::remove_file(part);
            Err(e)
        }
    }
}

/// A short label of the record for the progress line: its name, else its ID.
fn progress_label(rec: &Record) -> String {
    let name = rec.str_field("name").ok().flatten().unwrap_or("");
    let label = if name.trim().is_empty() {
        rec.id_for_messages()
    } else {
        name.trim().to_string()
    };
    // No control characters (terminal escapes) from a recording's name on a terminal.
    let mut short: String = label.chars().filter(|c| !c.is_control()).take(24).collect();
    if label.chars().count() > 24 {
        short.push('…');
    }
    short
}

async fn download(
    ctx: &Ctx,
    target: &Target,
    job: &Job,
    url: &url::Url,
    length_min: Option<u64>,
) -> anyhow::Result<(PathBuf, Probe)> {
    job.phase(Phase::Download);
    let media = ctx.fetcher.resolve(url).await?;
    log::info!("downloading {}", redact(&media));
    let part = target.part();
    let space = Space {
        dir: ctx.out.clone(),
        keep_free: ctx.keep_free,
    };
    ctx.fetcher.download(&media, &part, &space, job).await?;
    let p = checked(ctx, job, &part).await?;
    if let Some(min) = length_min.filter(|m| *m >= 2) {
        let least = (min - 1) as f64 * 60.0 * 0.9;
        if p.duration_s < least {
            let _ = std::fs::remove_file(&part);
            anyhow::bail!(
                "the downloaded video lasts {:.0} s but the recording is listed as {min} min; removed",
                p.duration_s
            );
        }
    }
    let ext = media_extension(&media)
        .filter(|e| super::output::EXTENSIONS.contains(e))
        .unwrap_or_else(|| extension(&p.container));
    job.phase(Phase::Move);
    Ok((target.finish(&part, ext)?, p))
}

async fn rendered(
    ctx: &Ctx,
    target: &Target,
    job: &Job,
    pres: &Presentation,
) -> anyhow::Result<(PathBuf, Probe)> {
    let mut opts = ctx.render.clone();
    opts.progress = job.render();
    let src: Box<dyn Source> = match &ctx.from_dir {
        Some(dir) => {
            let d = dir.join(&pres.id);
            if !d.join("metadata.xml").is_file() {
                anyhow::bail!("no metadata.xml in {}", d.display());
            }
            Box::new(DirSource(d))
        }
        None => {
            let s =
                HttpSource::open(&ctx.fetcher, pres, &ctx.out, ctx.keep_free, job.clone()).await?;
            if s.get("metadata.xml").await?.is_none() {
                anyhow::bail!(
                    "no metadata.xml at {}: the published files are missing",
                    s.base()
                );
            }
            Box::new(s)
        }
    };
    // ffmpeg writes by name: into a folder of this run's own (mode 700, in --out so that
    // the finished video is linked, not copied), never at a name others could plant a
    // link at. Left by a killed run, it is swept like the fetched files' folders.
    let private = crate::stale::tempdir_in(&ctx.out, super::source::FILES_PREFIX)
        .with_context(|| format!("cannot create a folder in {}", ctx.out.display()))?;
    let part = private.path().join(format!("{}.mp4", target.base));
    let part2 = part.clone();
    let res = tokio::task::spawn_blocking(move || {
        let r = render(src.as_ref(), &opts, &part2);
        drop(src);
        r
    })
    .await
    .context("the renderer crashed")?;
    let summary = match res {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            let from = match &ctx.from_dir {
                Some(d) => d.join(&pres.id).display().to_string(),
                None => pres.files.to_string(),
            };
            return Err(e.context(format!("cannot render {from}")));
        }
    };
    job.encode_took(summary.encode_s);
    let p = checked(ctx, job, &part).await?;
    if summary.duration_s > 0.0 && !duration_matches(p.duration_s, summary.duration_s) {
        let _ = std::fs::remove_file(&part);
        anyhow::bail!(
            "the rendered video lasts {:.1} s, the recording {:.1} s; removed",
            p.duration_s,
            summary.duration_s
        );
    }
    job.phase(Phase::Move);
    Ok((target.finish(&part, "mp4")?, p))
}

async fn recorded(
    ctx: &Ctx,
    target: &Target,
    job: &Job,
    pres: &Presentation,
) -> anyhow::Result<(PathBuf, Probe)> {
    let Some(rec) = &ctx.recorder else {
        anyhow::bail!("--method bbb-recorder needs --bbb-recorder DIR");
    };
    if pres.token_url.is_some() {
        anyhow::bail!(
            "bbb-recorder cannot play a Scalelite protected recording (one-time token URL); use --method render"
        );
    }
    let expected = presentation_length(ctx, pres).await?;
    let export = format!("bbbmig-{}.webm", target.base);
    let log = ctx.log_dir.join(format!("{}.log", target.base));
    job.record(expected);
    let produced = rec.run(pres.url.as_str(), &export, expected, &log).await?;
    job.phase(Phase::Move);
    let part = target.part_with("webm");
    // Same file system: a rename. Otherwise a copy, after checking the space it needs.
    if std::fs::rename(&produced, &part).is_err() {
        let len = std::fs::metadata(&produced)?.len();
        if let Err(e) = ensure_space(&ctx.out, len, ctx.keep_free) {
            let _ = std::fs::remove_file(&produced);
            return Err(e);
        }
        // Never through a link planted at the temporary name.
        let copied = std::fs::File::open(&produced)
            .and_then(|mut from| {
                let mut to = super::safe_fs::open_write(&part, false)?;
                std::io::copy(&mut from, &mut to)
            })
            .and_then(|_| std::fs::remove_file(&produced));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&part);
            let e = anyhow::Error::new(e).context(format!(
                "cannot copy {} to {}",
                produced.display(),
                part.display()
            ));
            if is_disk_full(&e) {
                let _ = std::fs::remove_file(&produced);
            }
            return Err(e);
        }
    }
    let p = checked(ctx, job, &part).await?;
    if !duration_matches(p.duration_s, expected) {
        let _ = std::fs::remove_file(&part);
        anyhow::bail!(
            "bbb-recorder made a video of {:.1} s for a recording of {:.1} s; removed (see {})",
            p.duration_s,
            expected,
            log.display()
        );
    }
    job.phase(Phase::Move);
    Ok((target.finish(&part, "webm")?, p))
}

/// The recording's length in seconds: metadata.xml's playback duration, else the
/// listed length.
async fn presentation_length(ctx: &Ctx, pres: &Presentation) -> anyhow::Result<f64> {
    let url = pres.files.join("metadata.xml")?;
    if let Ok(r) = ctx.fetcher.client.get(url.clone()).send().await {
        if r.status().is_success() {
            if let Some(d) = r.text().await.ok().as_deref().and_then(metadata_duration) {
                return Ok(d);
            }
        }
    }
    match pres.length_min {
        Some(m) if m > 0 => Ok(m as f64 * 60.0),
        _ => anyhow::bail!(
            "cannot tell the length of the recording ({url} unreadable, no listed length)"
        ),
    }
}
