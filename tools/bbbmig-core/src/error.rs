//! The two kinds of failure every tool knows: a record that failed, and a fatal error.

use std::fmt;

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

/// True when an error (or one of its causes) is a closed pipe on our output.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Formats an error with its causes joined by `: `.
pub fn describe(e: &anyhow::Error) -> String {
    format!("{e:#}")
}
