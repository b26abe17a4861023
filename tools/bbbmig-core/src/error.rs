//! The two kinds of failure every tool knows: a record that failed, and a fatal error;
//! and which I/O errors are which.

use std::fmt;
use std::io;

/// Marks an error that dooms every later record too (service down, bad configuration,
/// malformed input stream): the filter loop stops and the tool exits 2.
#[derive(Debug)]
pub struct Fatal(pub anyhow::Error);

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

// Transparent: the message and the causes are those of the wrapped error, so that
// `{:#}` prints each once and a broken pipe deep inside is still found.
impl std::error::Error for Fatal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Wraps any error as [`Fatal`].
pub fn fatal(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Fatal(e.into()))
}

/// True when an error (or one of its causes) is a [`Fatal`].
pub fn is_fatal(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<Fatal>().is_some())
}

/// A failed write to standard output, marked at the source ([`output_error`]) so that it
/// is never confused with an I/O error on a database socket, a child's stdin, a file or
/// an HTTP upload (all of which can be a broken pipe too).
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// True when the reader of our standard output went away (a broken pipe on stdout, as
/// `| head` does): the run ends quietly with exit 0. A broken pipe anywhere else (a lost
/// database, ffmpeg gone, an upload cut) is not this.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let out = c.downcast_ref::<StdoutError>().or_else(|| {
            c.downcast_ref::<Fatal>()
                .and_then(|f| f.0.downcast_ref::<StdoutError>())
        });
        out.is_some_and(|o| o.0.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The I/O errors in an error's chain, also the one a [`Fatal`] wraps.
pub fn io_errors(e: &anyhow::Error) -> impl Iterator<Item = &io::Error> {
    e.chain().filter_map(|c| {
        c.downcast_ref::<io::Error>().or_else(|| {
            c.downcast_ref::<Fatal>()
                .and_then(|f| f.0.downcast_ref::<io::Error>())
        })
    })
}

/// A database error that means the connection is gone (closed, a socket error such as
/// EPIPE or ECONNRESET, a server shutting down or out of resources): every later record
/// would fail too.
pub fn db_lost(e: &postgres::Error) -> bool {
    use std::error::Error as _;
    e.is_closed()
        || e.source().is_some_and(|s| s.is::<io::Error>())
        || e.code().is_some_and(|c| {
            let s = c.code();
            s.starts_with("08") || s.starts_with("57") || s.starts_with("53")
        })
}

/// A full disk or an exhausted quota.
pub fn is_no_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// A file system that refuses every later write too: full, over quota or read-only.
pub fn dooms_every_write(e: &io::Error) -> bool {
    is_no_space(e) || e.kind() == io::ErrorKind::ReadOnlyFilesystem
}

/// Writing the tool's output (standard output) failed: always fatal, since every later
/// record would fail the same way and a failure could not even be reported in order. A
/// closed pipe stays recognisable ([`is_broken_pipe`]): the reader has had enough.
pub fn output_error(e: io::Error) -> anyhow::Error {
    fatal(StdoutError(e))
}

/// Formats an error with its causes joined by `: `.
pub fn describe(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_errors_are_fatal_and_a_closed_pipe_is_still_seen() {
        let full = output_error(io::Error::from(io::ErrorKind::StorageFull));
        assert!(is_fatal(&full) && !is_broken_pipe(&full));
        assert!(describe(&full).starts_with("cannot write to standard output: "));
        let pipe = output_error(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_fatal(&pipe) && is_broken_pipe(&pipe));
        // A broken pipe elsewhere (a database socket, ffmpeg's stdin) is not the reader
        // of our output going away.
        let bare = fatal(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!is_broken_pipe(&bare));
        let deep = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("Moodle database default");
        assert!(!is_broken_pipe(&fatal(deep)));
        let ctx = output_error(io::Error::from(io::ErrorKind::BrokenPipe)).context("line 3");
        assert!(is_broken_pipe(&ctx));
    }

    #[test]
    fn file_systems_that_refuse_every_write() {
        let e = |k| io::Error::from(k);
        assert!(is_no_space(&e(io::ErrorKind::StorageFull)));
        assert!(is_no_space(&io::Error::from_raw_os_error(122))); // EDQUOT on Linux
        assert!(dooms_every_write(&io::Error::from_raw_os_error(30))); // EROFS
        assert!(!dooms_every_write(&e(io::ErrorKind::PermissionDenied)));
    }
}
