//! Progress of the running jobs: byte counts per job, and one status line redrawn on
//! stderr when it is a terminal.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct JobState {
    label: String,
    done: u64,
    total: Option<u64>,
}

#[derive(Default)]
struct State {
    next: u64,
    jobs: BTreeMap<u64, JobState>,
    finished: u64,
    bytes: u64,
}

/// The board every job reports to.
pub struct Board {
    state: Mutex<State>,
    shown: bool,
    started: Instant,
}

/// One job's handle; removed from the board when dropped.
pub struct Job {
    board: Arc<Board>,
    id: u64,
}

impl Board {
    /// A board that draws on stderr only when `show` and stderr is a terminal.
    pub fn new(show: bool) -> Arc<Board> {
        Arc::new(Board {
            state: Mutex::new(State::default()),
            shown: show && std::io::stderr().is_terminal(),
            started: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a job.
    pub fn job(self: &Arc<Self>, label: &str) -> Job {
        let mut s = self.lock();
        s.next += 1;
        let id = s.next;
        s.jobs.insert(
            id,
            JobState {
                label: label.chars().take(40).collect(),
                ..JobState::default()
            },
        );
        Job {
            board: self.clone(),
            id,
        }
    }

    /// Bytes received by every job so far.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// Seconds since the board was made.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Redraws the status line every 250 ms until the returned task is aborted.
    pub fn spawn_ticker(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        if !self.shown {
            return None;
        }
        let b = self.clone();
        Some(tokio::spawn(async move {
            loop {
                b.draw();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }))
    }

    fn draw(&self) {
        let line = {
            let s = self.lock();
            let rate = s.bytes as f64 / self.elapsed().max(0.001) / 1e6;
            let mut line = format!(
                "bbb-record: {} done, {} running, {:.1} MB/s",
                s.finished,
                s.jobs.len(),
                rate
            );
            for j in s.jobs.values().take(3) {
                match j.total {
                    Some(t) if t > 0 => line.push_str(&format!(
                        " | {} {:>3}%",
                        j.label,
                        j.done.saturating_mul(100) / t
                    )),
                    _ => line.push_str(&format!(" | {} {:.1} MB", j.label, j.done as f64 / 1e6)),
                }
            }
            line
        };
        let line = crate::diag::escape(&line);
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
    }

    /// Erases the status line.
    pub fn clear(&self) {
        if self.shown {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

impl Job {
    /// The expected size.
    pub fn set_total(&self, t: u64) {
        if let Some(j) = self.board.lock().jobs.get_mut(&self.id) {
            j.total = Some(t);
            j.done = 0;
        }
    }

    /// Counts `n` bytes already on disk from an earlier attempt (not in the rate).
    pub fn skip(&self, n: u64) {
        if let Some(j) = self.board.lock().jobs.get_mut(&self.id) {
            j.done += n;
        }
    }

    /// Counts `n` more bytes.
    pub fn add(&self, n: u64) {
        let mut s = self.board.lock();
        s.bytes += n;
        if let Some(j) = s.jobs.get_mut(&self.id) {
            j.done += n;
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        let mut s = self.board.lock();
        s.jobs.remove(&self.id);
        s.finished += 1;
    }
}
