//! Progress of bbb-record's jobs: each job's phase (download with its share, render,
//! encode, record, probe, move) and the time spent in each, the records read and done, and
//! the status line drawn from them (through [`crate::statusline`]) with an ETA for the run.

use crate::render::{Progress as RenderProgress, Step};
use crate::statusline::Ticker;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a job is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before any work: waiting for the lease, checking for an existing video.
    Wait,
    Download,
    /// The native renderer (reading the recording, drawing its pictures).
    Render,
    /// The native renderer's ffmpeg runs.
    Encode,
    /// bbb-recorder playing the recording.
    Record,
    /// ffprobe checking the video.
    Probe,
    /// The video put in place under its final name.
    Move,
}

const PHASES: [Phase; 7] = [
    Phase::Wait,
    Phase::Download,
    Phase::Render,
    Phase::Encode,
    Phase::Record,
    Phase::Probe,
    Phase::Move,
];

impl Phase {
    /// The name shown.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Wait => "wait",
            Phase::Download => "download",
            Phase::Render => "render",
            Phase::Encode => "encode",
            Phase::Record => "record",
            Phase::Probe => "probe",
            Phase::Move => "move",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Seconds spent in each phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times([f64; PHASES.len()]);

impl Times {
    /// The phases that took time, in order: `(name, seconds)`.
    pub fn spent(&self) -> Vec<(&'static str, f64)> {
        PHASES
            .iter()
            .filter(|p| **p != Phase::Wait && self.0[p.index()] > 0.0)
            .map(|p| (p.name(), self.0[p.index()]))
            .collect()
    }

    /// `download 1.2 s, render 8.0 s, …`.
    pub fn describe(&self) -> String {
        self.spent()
            .iter()
            .map(|(n, s)| format!("{n} {s:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn add(&mut self, other: &Times) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

struct JobState {
    label: String,
    phase: Phase,
    since: Instant,
    times: Times,
    /// Bytes of the file being downloaded, and its size when known.
    done: u64,
    total: Option<u64>,
    render: Option<RenderProgress>,
    /// bbb-recorder: the seconds it is expected to play.
    expected: f64,
}

impl JobState {
    /// The share of the record's work done, for the ETA.
    fn share(&self) -> f64 {
        let of = |d: u64, t: Option<u64>| match t {
            Some(t) if t > 0 => (d as f64 / t as f64).min(1.0),
            _ => 0.0,
        };
        match self.phase {
            Phase::Wait => 0.0,
            Phase::Download => 0.9 * of(self.done, self.total),
            Phase::Render | Phase::Encode => match self.render.as_ref().map(|r| r.step()) {
                Some(Step::Raster(f)) => 0.2 * f,
                Some(Step::Encode(f)) => 0.2 + 0.7 * f,
                None => 0.0,
            },
            Phase::Record => {
                0.9 * (self.since.elapsed().as_secs_f64() / self.expected.max(1.0)).min(1.0)
            }
            Phase::Probe => 0.95,
            Phase::Move => 0.98,
        }
    }

    /// `download 45% name`, `encode 80% name`, `probe name`: the phase first, so that a
    /// narrow terminal cuts names, not phases.
    fn describe(&self) -> String {
        let pct = |f: f64| format!("{:.0}%", (f * 100.0).floor());
        let what = match self.phase {
            Phase::Download => match self.total {
                Some(t) if t > 0 => format!("download {}", pct(self.done as f64 / t as f64)),
                _ => format!("download {:.1} MB", self.done as f64 / 1e6),
            },
            Phase::Render | Phase::Encode => match self.render.as_ref().map(|r| r.step()) {
                Some(Step::Raster(f)) => format!("render {}", pct(f)),
                Some(Step::Encode(f)) => format!("encode {}", pct(f)),
                None => self.phase.name().to_string(),
            },
            Phase::Record => format!(
                "record {}",
                pct((self.since.elapsed().as_secs_f64() / self.expected.max(1.0)).min(1.0))
            ),
            other => other.name().to_string(),
        };
        format!("{what} {}", self.label)
    }

    /// Ends the current phase: its time is added up.
    fn close(&mut self, now: Instant) {
        self.times.0[self.phase.index()] += now.duration_since(self.since).as_secs_f64();
        self.since = now;
    }
}

#[derive(Default)]
struct State {
    next: u64,
    jobs: BTreeMap<u64, JobState>,
    finished: u64,
    /// Records read from the input so far, and whether it is all read.
    read: u64,
    all_read: bool,
    bytes: u64,
    /// Jobs downloading now, since when one is, and the seconds with a download running.
    downloading: usize,
    download_since: Option<Instant>,
    download_s: f64,
    /// Time in each phase, all finished jobs.
    times: Times,
    /// (when, work done then): the ETA follows the pace of the last minutes, not of a run
    /// that began with many quick records (videos already made).
    samples: std::collections::VecDeque<(Instant, f64)>,
}

/// How far back the pace of the ETA is measured.
const PACE_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

impl State {
    /// Seconds and work done over the pace window (the whole run while it is shorter).
    fn recent_rate(&mut self, started: Instant, work: f64) -> (f64, f64) {
        let now = Instant::now();
        self.samples.push_back((now, work));
        while self
            .samples
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > PACE_WINDOW)
        {
            self.samples.pop_front();
        }
        match self.samples.front() {
            Some((t, w)) if now.duration_since(started) > PACE_WINDOW => {
                (now.duration_since(*t).as_secs_f64(), work - w)
            }
            _ => (now.duration_since(started).as_secs_f64(), work),
        }
    }

    fn download_started(&mut self, now: Instant) {
        if self.downloading == 0 {
            self.download_since = Some(now);
        }
        self.downloading += 1;
    }

    fn download_ended(&mut self, now: Instant) {
        self.downloading = self.downloading.saturating_sub(1);
        if self.downloading == 0 {
            if let Some(t) = self.download_since.take() {
                self.download_s += now.duration_since(t).as_secs_f64();
            }
        }
    }
}

/// The board every job reports to.
pub struct Board {
    state: Mutex<State>,
    started: Instant,
}

/// One job's handle (clones report for the same job).
#[derive(Clone)]
pub struct Job {
    board: Arc<Board>,
    id: u64,
}

/// The job of one record, on the board until dropped (then counted as finished).
pub struct Running(Job);

impl std::ops::Deref for Running {
    type Target = Job;
    fn deref(&self) -> &Job {
        &self.0
    }
}

impl Board {
    /// An empty board; the run's clock starts now.
    pub fn new() -> Arc<Board> {
        Arc::new(Board {
            state: Mutex::new(State::default()),
            started: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers the job of a record, shown as `label` (a short name).
    pub fn job(self: &Arc<Self>, label: &str) -> Running {
        let mut s = self.lock();
        s.next += 1;
        let id = s.next;
        s.jobs.insert(
            id,
            JobState {
                label: label.chars().take(40).collect(),
                phase: Phase::Wait,
                since: Instant::now(),
                times: Times::default(),
                done: 0,
                total: None,
                render: None,
                expected: 0.0,
            },
        );
        Running(Job {
            board: self.clone(),
            id,
        })
    }

    /// One more record read from the input.
    pub fn record_read(&self) {
        self.lock().read += 1;
    }

    /// The input is all read: the number of records is known.
    pub fn all_read(&self) {
        self.lock().all_read = true;
    }

    /// Bytes received by every job so far, and the seconds during which at least one job
    /// was downloading.
    pub fn received(&self) -> (u64, f64) {
        let s = self.lock();
        let running = s.download_since.map_or(0.0, |t| t.elapsed().as_secs_f64());
        (s.bytes, s.download_s + running)
    }

    /// The time every finished job spent in each phase, added up.
    pub fn times(&self) -> Times {
        self.lock().times
    }

    /// Redraws the status line until the returned ticker is dropped.
    pub fn ticker(self: &Arc<Self>) -> Ticker {
        let b = self.clone();
        Ticker::start(move || b.status())
    }

    /// The status line: records done of those read (`+` while more may come), the ETA
    /// of the run, then each running job's phase.
    pub fn status(&self) -> String {
        let mut s = self.lock();
        let more = if s.all_read { "" } else { "+" };
        let mut line = format!("bbb-record: {}/{}{more} done", s.finished, s.read);
        let work: f64 = s.finished as f64 + s.jobs.values().map(JobState::share).sum::<f64>();
        let left = s.read as f64 - work;
        let (secs, done) = s.recent_rate(self.started, work);
        if done >= 0.05 && secs >= 1.0 && left > 0.0 {
            let eta = secs * left / done;
            let at_least = if s.all_read { "" } else { "≥" };
            line.push_str(&format!(", ETA {at_least}{}", duration(eta)));
        }
        for j in s.jobs.values() {
            line.push_str(" | ");
            line.push_str(&j.describe());
        }
        line
    }
}

/// `45s`, `3m20s`, `1h05m`.
fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

impl Job {
    fn with<T>(&self, f: impl FnOnce(&mut State, u64) -> T) -> T {
        let mut s = self.board.lock();
        f(&mut s, self.id)
    }

    /// Starts `phase` (the time of the one before is added up).
    pub fn phase(&self, phase: Phase) {
        self.with(|s, id| {
            let now = Instant::now();
            let Some(j) = s.jobs.get_mut(&id) else { return };
            let before = j.phase;
            if before == phase {
                return;
            }
            j.close(now);
            j.phase = phase;
            if phase == Phase::Download {
                j.done = 0;
                j.total = None;
            }
            match (before == Phase::Download, phase == Phase::Download) {
                (false, true) => s.download_started(now),
                (true, false) => s.download_ended(now),
                _ => {}
            }
        });
    }

    /// The phase now.
    pub fn current(&self) -> Phase {
        self.with(|s, id| s.jobs.get(&id).map_or(Phase::Wait, |j| j.phase))
    }

    /// Starts the render phase: its progress (picture and frame counts) is read from the
    /// returned handle, which the renderer updates.
    pub fn render(&self) -> RenderProgress {
        let p = RenderProgress::default();
        self.with(|s, id| {
            if let Some(j) = s.jobs.get_mut(&id) {
                j.render = Some(p.clone());
            }
        });
        self.phase(Phase::Render);
        p
    }

    /// After a render: `encode_s` of its time was the encode.
    pub fn encode_took(&self, encode_s: f64) {
        self.with(|s, id| {
            if let Some(j) = s.jobs.get_mut(&id) {
                j.close(Instant::now());
                let e = encode_s.min(j.times.0[Phase::Render.index()]).max(0.0);
                j.times.0[Phase::Render.index()] -= e;
                j.times.0[Phase::Encode.index()] += e;
            }
        });
    }

    /// Starts bbb-recorder's phase, expected to last `secs`.
    pub fn record(&self, secs: f64) {
        self.with(|s, id| {
            if let Some(j) = s.jobs.get_mut(&id) {
                j.expected = secs;
            }
        });
        self.phase(Phase::Record);
    }

    /// The time spent in each phase so far.
    pub fn times(&self) -> Times {
        self.with(|s, id| {
            s.jobs.get_mut(&id).map_or_else(Times::default, |j| {
                j.close(Instant::now());
                j.times
            })
        })
    }

    /// The expected size of the file being downloaded.
    pub fn set_total(&self, t: u64) {
        self.with(|s, id| {
            if let Some(j) = s.jobs.get_mut(&id) {
                j.total = Some(t);
                j.done = 0;
            }
        });
    }

    /// Counts `n` bytes already on disk from an earlier attempt (not in the rate).
    pub fn skip(&self, n: u64) {
        self.with(|s, id| {
            if let Some(j) = s.jobs.get_mut(&id) {
                j.done += n;
            }
        });
    }

    /// Counts `n` more bytes.
    pub fn add(&self, n: u64) {
        self.with(|s, id| {
            s.bytes += n;
            if let Some(j) = s.jobs.get_mut(&id) {
                j.done += n;
            }
        });
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.phase(Phase::Wait);
        self.0.with(|s, id| {
            if let Some(j) = s.jobs.remove(&id) {
                s.times.add(&j.times);
            }
            s.finished += 1;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_shows_each_phase_and_an_eta() {
        let b = Board::new();
        for _ in 0..4 {
            b.record_read();
        }
        let a = b.job("Cours 1");
        a.phase(Phase::Download);
        a.set_total(200);
        a.add(90);
        let c = b.job("Maths");
        let r = c.render();
        r.states(4);
        r.state_done();
        assert_eq!(
            b.status(),
            "bbb-record: 0/4+ done | download 45% Cours 1 | render 25% Maths"
        );
        r.frames(100);
        r.frames_done(50);
        a.phase(Phase::Probe);
        b.all_read();
        assert!(
            b.status().ends_with("| probe Cours 1 | encode 50% Maths"),
            "{}",
            b.status()
        );
        drop(a);
        assert!(b.status().starts_with("bbb-record: 1/4 done"));
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(200.0), "3m20s");
    }

    #[test]
    fn download_time_is_the_time_a_download_ran() {
        let b = Board::new();
        let j = b.job("x");
        j.phase(Phase::Download);
        std::thread::sleep(std::time::Duration::from_millis(50));
        j.phase(Phase::Render);
        std::thread::sleep(std::time::Duration::from_millis(100));
        j.encode_took(0.04);
        let t = j.times();
        let spent: BTreeMap<_, _> = t.spent().into_iter().collect();
        assert!(
            spent["download"] >= 0.05 && spent["download"] < 0.1,
            "{spent:?}"
        );
        assert!(
            spent["render"] >= 0.06 && spent["render"] < 0.1,
            "{spent:?}"
        );
        assert!((spent["encode"] - 0.04).abs() < 1e-9, "{spent:?}");
        let (_, secs) = b.received();
        assert!((0.05..0.1).contains(&secs), "{secs}");
    }
}
