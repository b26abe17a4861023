//! An ffmpeg's stderr kept twice: in its log file (best effort) and its last lines in
//! memory, so that a failure is explained even when the log's disk is full.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::process::ChildStderr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const KEEP: usize = 8;

/// The reader of one child's stderr.
pub struct Tail {
    lines: Arc<Mutex<VecDeque<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Tail {
    /// Reads `stderr` until the child closes it, copying it into `log`.
    pub fn start(stderr: ChildStderr, mut log: File) -> Tail {
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let kept = Arc::clone(&lines);
        let thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr).split(b'\n') {
                let Ok(line) = line else { break };
                let _ = log.write_all(&line).and_then(|()| log.write_all(b"\n"));
                let text = String::from_utf8_lossy(&line).trim().to_string();
                if text.is_empty() {
                    continue;
                }
                let mut k = kept.lock().unwrap_or_else(|e| e.into_inner());
                if k.len() == KEEP {
                    k.pop_front();
                }
                k.push_back(text);
            }
        });
        Tail {
            lines,
            thread: Some(thread),
        }
    }

    /// The last lines, once the child has closed its stderr, joined by ` | `.
    pub fn text(&mut self) -> String {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let k = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        k.iter().map(String::as_str).collect::<Vec<_>>().join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    #[test]
    fn the_last_lines_survive_a_log_on_a_full_disk() {
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3 4 5 6 7 8 9; do echo line$i >&2; done; echo 'audio.m4a: No space left on device' >&2; exit 1"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Every write to /dev/full fails with ENOSPC, as a log on a full TMPDIR does.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut tail = Tail::start(child.stderr.take().unwrap(), full);
        assert!(!child.wait().unwrap().success());
        let text = tail.text();
        assert!(
            text.ends_with("audio.m4a: No space left on device"),
            "{text}"
        );
        assert!(!text.contains("line2 "), "{text}");
        assert_eq!(text.split(" | ").count(), KEEP, "{text}");
    }
}
