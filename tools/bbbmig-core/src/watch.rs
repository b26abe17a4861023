//! Notices that the reader of standard output has gone (the next stage of a pipeline
//! exited, say at start on a missing folder), so that a long-running tool stops starting
//! work at once instead of finding out at its next write, possibly hours later.

use std::fmt;
use std::time::Duration;

/// How often [`reader_left`] looks.
const EVERY: Duration = Duration::from_millis(200);

/// Whether standard output is a pipe (or socket, or terminal) whose other end has closed:
/// `poll` reports POLLERR on a pipe's write end once the reader has closed it (POLLHUP on
/// a socket or a hung-up terminal). A file or /dev/null never does.
pub fn reader_gone() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let out = std::io::stdout();
    let mut fds = [PollFd::new(&out, PollFlags::empty())];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&zero)) {
        Ok(n) if n > 0 => fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP),
        _ => false,
    }
}

/// Resolves once the reader of standard output has gone (checked every 200 ms).
pub async fn reader_left() {
    while !reader_gone() {
        tokio::time::sleep(EVERY).await;
    }
}

/// The run was stopped because the reader of standard output left while work was in
/// flight: `cli::run` says so with the summary, and exits 0 (the pipe was closed).
#[derive(Debug)]
pub struct ReaderLeft(pub String);

impl fmt::Display for ReaderLeft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the next stage of the pipeline closed its input (it exited): stopped, {}",
            self.0
        )
    }
}

impl std::error::Error for ReaderLeft {}

/// The error that ends such a run; `what` says what was left undone.
pub fn stopped(what: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(ReaderLeft(what.into()))
}

/// True when an error is [`ReaderLeft`].
pub fn is_reader_left(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<ReaderLeft>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_seen_and_marked() {
        assert!(is_reader_left(&stopped("x").context("y")));
        assert!(!is_reader_left(&anyhow::anyhow!("x")));
    }
}
