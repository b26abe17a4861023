//! The encode: the video cut into stretches rendered by ffmpeg runs in parallel (one per
//! core), the audio encoded alongside, then one stream-copy mux with captions and chapters
//! into the MP4 (faststart).

use super::audio::Sound;
use super::compose::{FfmpegArgs, Inputs, Span, span_args};
use super::options::{Cancel, Progress, RenderOptions};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How many ffmpeg runs at once: `opts.parallel`, else one per core.
pub fn parallelism(opts: &RenderOptions) -> usize {
    if opts.parallel > 0 {
        opts.parallel
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Cuts `frames` frames into stretches: one when running alone, else about four per
/// parallel run, each 20 s to 5 min long, and halved for the last round so that the runs
/// finish together. Fewer, longer stretches cost less: each run starts ffmpeg, reads its
/// pictures and decodes the webcams from the keyframe before it (eight per run cost 10% more
/// CPU on a 10-minute lecture). `forced` (seconds) sets one length for all
/// (`RenderOptions::span`, tests).
pub fn plan(frames: u64, fps: u32, parallel: usize, forced: Option<f64>) -> Vec<Span> {
    let fps = fps.max(1) as f64;
    let to_frames = |s: f64| ((s * fps).round() as u64).max(1);
    let (len, tail) = match forced {
        Some(s) => (to_frames(s), 0),
        None if parallel <= 1 => (frames.max(1), 0),
        None => {
            let len = to_frames((frames as f64 / fps / (parallel as f64 * 4.0)).clamp(20.0, 300.0));
            (len, parallel as u64 * len)
        }
    };
    let mut spans = Vec::new();
    let mut first = 0;
    while first < frames {
        let left = frames - first;
        let len = if left <= tail {
            (len / 2).max(to_frames(10.0))
        } else {
            len
        };
        let mut n = len.min(left);
        // No stub of a few frames at the end: the last stretch takes them.
        if left - n < len / 4 {
            n = left;
        }
        spans.push(Span { first, frames: n });
        first += n;
    }
    spans
}

/// The threads of each ffmpeg run (0: ffmpeg's choice) when `spans` stretches are encoded
/// `parallel` at a time on `cores` cores. Several runs at once share the cores: one thread
/// each wastes least; so does a render given fewer runs than cores (bbb-record --jobs: other
/// renders use the rest; with ffmpeg's threads, two 10-minute renders at once took 21.6 s
/// on 2 cores, one after the other 16.3 s, one thread each 16.0 s). Only a render alone with
/// a single run lets x264, the filters and the decoders use every core.
fn threads_per_run(spans: usize, parallel: usize, cores: usize) -> usize {
    if (spans > 1 && parallel > 1) || parallel < cores {
        1
    } else {
        0
    }
}

/// One ffmpeg run of the pool.
struct Job {
    what: String,
    args: Vec<String>,
    log: PathBuf,
    /// Frames of the video it encodes (counted in the progress when it ends).
    frames: u64,
}

/// A running ffmpeg, killed if dropped before it ends (an error elsewhere, a panic).
struct Running {
    job: usize,
    child: Child,
    stderr: super::stderr_tail::Tail,
    started: std::time::Instant,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last lines ffmpeg wrote to its log.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(8)..].join(" | ")
}

/// Runs the jobs, `parallel` at a time, in order; returns for each whether it succeeded.
/// A failure of a job for which `may_fail` says yes is returned; any other failure, or
/// `cancel`, stops the others and is the error.
fn run_pool(
    ffmpeg: &Path,
    jobs: &[Job],
    parallel: usize,
    (cancel, progress): (&Cancel, &Progress),
    may_fail: impl Fn(usize, &str) -> bool,
) -> Result<Vec<bool>> {
    let mut ok = vec![false; jobs.len()];
    let mut running: Vec<Running> = Vec::new();
    let mut next = 0;
    loop {
        if cancel.is_set() {
            // `running` is dropped: the runs are killed.
            bail!("rendering interrupted");
        }
        while running.len() < parallel.max(1) && next < jobs.len() {
            let j = &jobs[next];
            log::debug!("ffmpeg {}", j.args.join(" "));
            let log = std::fs::File::create(&j.log)
                .with_context(|| format!("creating {}", j.log.display()))?;
            let mut child = crate::orphan::die_with_parent(&mut Command::new(ffmpeg))
                .args(&j.args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("cannot run {}", ffmpeg.display()))?;
            let stderr = child.stderr.take().expect("piped");
            running.push(Running {
                job: next,
                stderr: super::stderr_tail::Tail::start(stderr, log),
                child,
                started: std::time::Instant::now(),
            });
            next += 1;
        }
        if running.is_empty() {
            return Ok(ok);
        }
        let mut done = None;
        for (k, r) in running.iter_mut().enumerate() {
            if let Some(status) = r.child.try_wait()? {
                done = Some((k, status));
                break;
            }
        }
        let Some((k, status)) = done else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let mut r = running.swap_remove(k);
        let j = &jobs[r.job];
        log::debug!(
            "ffmpeg on {} ended after {:.1} s: {status}",
            j.what,
            r.started.elapsed().as_secs_f64()
        );
        if status.success() {
            ok[r.job] = true;
            progress.frames_done(j.frames);
            continue;
        }
        // Kept in memory: the log itself may be on the disk that filled up.
        let mut tail = r.stderr.text();
        if tail.is_empty() {
            tail = log_tail(&j.log);
        }
        if !may_fail(r.job, &tail) {
            // `running` is dropped: the other runs are killed.
            bail!("ffmpeg failed on {} ({status}): {tail}", j.what);
        }
    }
}

fn lang3(locale: &str) -> &'static str {
    match locale.split(['-', '_']).next().unwrap_or("") {
        "en" => "eng",
        "fr" => "fra",
        "de" => "deu",
        "es" => "spa",
        "it" => "ita",
        "pt" => "por",
        "nl" => "nld",
        "ru" => "rus",
        "ar" => "ara",
        "zh" => "zho",
        "ja" => "jpn",
        "pl" => "pol",
        "tr" => "tur",
        _ => "und",
    }
}

/// Encodes the picture and the sound of `inp` and muxes them into `out`.
pub fn run(inp: &Inputs, opts: &RenderOptions, out: &Path) -> Result<()> {
    let fps = opts.fps.max(1);
    let frames = ((inp.duration * fps as f64).round() as u64).max(1);
    let parallel = parallelism(opts);
    let spans = plan(frames, fps, parallel, opts.span.filter(|s| *s > 0.0));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads_per_run(spans.len(), parallel, cores);
    let work = inp.work;
    let mut jobs = Vec::new();
    // The sound first: it runs beside the first stretches.
    let audio_out = work.join("audio.m4a");
    let audio_src = inp.webcams.or(inp.audio);
    if let Some(src) = audio_src {
        jobs.push(audio_job(inp.sound, src, inp.duration, &audio_out, work));
    }
    let first_span_job = jobs.len();
    let mut parts = Vec::new();
    for (k, span) in spans.iter().enumerate() {
        let name = format!("span{k:03}");
        let part = work.join(format!("{name}.mp4"));
        let (a, b) = span.times(fps);
        jobs.push(Job {
            what: format!("the video from {a:.1} s to {b:.1} s"),
            args: span_args(inp, opts, *span, &name, threads, &part)?,
            log: work.join(format!("{name}.log")),
            frames: span.frames,
        });
        parts.push(part);
    }
    opts.progress.frames(frames);
    let watch = (&opts.cancel, &opts.progress);
    let ok = run_pool(&opts.ffmpeg, &jobs, parallel, watch, |job, tail| {
        // A sound file without a sound stream: the video is silent, as in BBB's player.
        job < first_span_job && tail.contains("matches no streams")
    })?;
    let audio = (audio_src.is_some() && ok[0]).then_some(audio_out.as_path());
    let mux = [Job {
        what: "the final mux".into(),
        args: mux_args(inp, &parts, audio, out)?,
        log: work.join("mux.log"),
        frames: 0,
    }];
    run_pool(&opts.ffmpeg, &mux, 1, watch, |_, _| false)?;
    Ok(())
}

/// The run that makes the sound of the first `duration` seconds of `src`'s first sound
/// stream in `out` (see `audio`: copied when already AAC, else encoded).
fn audio_job(sound: Sound, src: &Path, duration: f64, out: &Path, work: &Path) -> Job {
    let mut args = FfmpegArgs::quiet();
    args.extend(["-i".into(), src.to_string_lossy().into_owned()]);
    args.extend(super::audio::sound_args(sound, duration));
    args.extend(["-f".into(), "mp4".into()]);
    args.push(out.to_string_lossy().into_owned());
    Job {
        what: "the sound".into(),
        args,
        log: work.join("audio.log"),
        frames: 0,
    }
}

/// The mux, stream copies only: the video stretches `parts` joined, the sound, the captions
/// and the chapters into the MP4 `out` (faststart).
fn mux_args(
    inp: &Inputs,
    parts: &[PathBuf],
    audio: Option<&Path>,
    out: &Path,
) -> Result<Vec<String>> {
    let list = inp.work.join("spans.txt");
    let mut s = String::from("ffconcat version 1.0\n");
    for p in parts {
        let name = p.to_string_lossy();
        if name.contains('\'') || name.contains('\n') {
            bail!("unsupported temporary path {name:?}");
        }
        let _ = writeln!(s, "file '{name}'");
    }
    std::fs::write(&list, s).with_context(|| format!("writing {}", list.display()))?;
    let mut args = FfmpegArgs::quiet();
    let mut cmd = FfmpegArgs::default();
    let mut input = |args: &mut Vec<String>, pre: &[&str], file: &Path| cmd.input(args, pre, file);
    let i_video = input(&mut args, &["-f", "concat", "-safe", "0"], &list);
    let i_audio = audio.map(|f| input(&mut args, &[], f));
    let i_caps: Vec<usize> = inp
        .captions
        .iter()
        .map(|(_, f)| input(&mut args, &[], f))
        .collect();
    let i_chap = inp
        .chapters
        .as_ref()
        .map(|f| input(&mut args, &["-f", "ffmetadata"], f));
    args.extend(["-map".into(), format!("{i_video}:v:0")]);
    if let Some(i) = i_audio {
        args.extend(["-map".into(), format!("{i}:a:0")]);
    }
    for (j, (i, (locale, _))) in i_caps.iter().zip(&inp.captions).enumerate() {
        args.extend(["-map".into(), format!("{i}:s:0")]);
        args.extend([
            format!("-metadata:s:s:{j}"),
            format!("language={}", lang3(locale)),
        ]);
        args.extend([format!("-metadata:s:s:{j}"), format!("title={locale}")]);
    }
    args.extend(["-c:v".into(), "copy".into(), "-c:a".into(), "copy".into()]);
    if !i_caps.is_empty() {
        args.extend(["-c:s".into(), "mov_text".into()]);
    }
    match i_chap {
        Some(i) => args.extend(["-map_chapters".into(), i.to_string()]),
        None => args.extend(["-map_chapters".into(), "-1".into()]),
    }
    args.extend(
        [
            "-t",
            &format!("{:.3}", inp.duration),
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ]
        .map(String::from),
    );
    args.push(out.to_string_lossy().into_owned());
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_sharing_the_cores_get_one_thread_each() {
        // A render alone, its stretches two at a time on 2 cores.
        assert_eq!(threads_per_run(10, 2, 2), 1);
        // A short render alone: one run, every core.
        assert_eq!(threads_per_run(1, 2, 2), 0);
        assert_eq!(threads_per_run(1, 1, 1), 0);
        // bbb-record --jobs 2 on 2 cores: each render one run of one thread.
        assert_eq!(threads_per_run(1, 1, 2), 1);
        // --jobs 3 on 8 cores: two runs per render.
        assert_eq!(threads_per_run(6, 2, 8), 1);
    }

    fn total(spans: &[Span]) -> u64 {
        let mut next = 0;
        for s in spans {
            assert_eq!(s.first, next, "{spans:?}");
            assert!(s.frames > 0);
            next += s.frames;
        }
        next
    }

    #[test]
    fn one_run_alone_or_for_short_videos() {
        assert_eq!(
            plan(900, 15, 1, None),
            vec![Span {
                first: 0,
                frames: 900
            }]
        );
        // 30 s on 2 cores: all of it is the last rounds, so 10 s stretches.
        let p = plan(450, 15, 2, None);
        assert_eq!(total(&p), 450);
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn an_hour_on_two_cores_is_cut_into_stretches_that_shrink_at_the_end() {
        let p = plan(54_000, 15, 2, None);
        assert_eq!(total(&p), 54_000);
        let lens: Vec<u64> = p.iter().map(|s| s.frames).collect();
        // 5 min stretches, then 2.5 min ones for the last 2 x 5 min.
        assert_eq!(lens[..10], [4500; 10]);
        assert_eq!(lens[10..], [2250; 4]);
    }

    #[test]
    fn a_forced_length_cuts_short_videos_and_no_stub_is_left() {
        let p = plan(135, 15, 1, Some(3.0));
        assert_eq!(p.len(), 3);
        assert_eq!(total(&p), 135);
        let p = plan(100, 10, 2, Some(3.0)); // 30 + 30 + 30 + 10 frames
        assert_eq!(
            p.iter().map(|s| s.frames).collect::<Vec<_>>(),
            vec![30, 30, 30, 10]
        );
        let p = plan(95, 10, 2, Some(3.0)); // a 5-frame stub joins the last stretch
        assert_eq!(
            p.iter().map(|s| s.frames).collect::<Vec<_>>(),
            vec![30, 30, 35]
        );
    }
}
