//! Settings checked before the first record is read: [`Missing`] collects every missing
//! or invalid setting so that all are reported at once, and [`Check`] is the `--check`
//! pre-flight of the tools that write (connect, validate, exit 0 or 2, read no record).

use crate::diag;
use crate::error::fatal;

/// Collects the problems of a tool's settings, each one naming its option and its
/// environment variable, so that an administrator fixes them all in one go.
pub struct Missing {
    tool: &'static str,
    problems: usize,
}

impl Missing {
    /// Starts collecting for `tool` (the prefix of its messages).
    pub fn new(tool: &'static str) -> Missing {
        Missing { tool, problems: 0 }
    }

    /// Records a problem: printed at once as `tool: error: PROBLEM`.
    pub fn add(&mut self, problem: &str) {
        self.problems += 1;
        diag::error(self.tool, problem);
    }

    /// Runs one check: its value, or `None` with its error recorded (see [`Missing::add`]).
    pub fn take<T>(&mut self, result: anyhow::Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(&crate::error::describe(&e));
                None
            }
        }
    }

    /// [`Missing::finish`], then the value of a setting checked with [`Missing::take`].
    pub fn finish_with<T>(self, value: Option<T>) -> anyhow::Result<T> {
        self.finish()?;
        value.ok_or_else(|| anyhow::anyhow!("a setting was neither given nor reported"))
    }

    /// Ends collecting: `Ok` when every setting is usable, else one fatal error (exit 2)
    /// saying how many were reported above and that no record was read.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.problems {
            0 => Ok(()),
            n => Err(fatal(anyhow::anyhow!(
                "{n} setting{} missing or invalid (above): nothing was read or written",
                if n == 1 { " is" } else { "s are" }
            ))),
        }
    }
}

/// The pre-flight flag of the tools that write.
#[derive(clap::Args, Debug, Clone)]
pub struct Check {
    /// Check the settings, connect and check the database, privileges and folders, then
    /// exit (0 ready, 2 not) without reading any record.
    #[arg(long)]
    pub check: bool,
}

/// Ends a `--check` run: every result is `ok: WHAT` on stderr, the summary says `ready`.
pub fn ready(out: &mut crate::cli::Out, checked: &[String]) -> anyhow::Result<()> {
    for c in checked {
        diag::line(&format!("{}: ok: {c}", out.tool()));
    }
    out.set_summary("ready: every check passed, no record read".to_string());
    Ok(())
}

/// Refuses an account that lacks privileges a tool needs (from
/// `db::probe::missing_privileges`): one fatal error listing the GRANTs to run.
pub fn refuse_missing(db: &str, missing: Vec<String>) -> anyhow::Result<String> {
    if missing.is_empty() {
        return Ok(format!("{db}: the account has every privilege needed"));
    }
    Err(fatal(anyhow::anyhow!(
        "{db}: the account lacks what the tool needs: {}",
        missing.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_counted_and_fatal() {
        let mut m = Missing::new("t");
        assert_eq!(m.take(Ok::<_, anyhow::Error>(3)), Some(3));
        assert!(Missing::new("t").finish().is_ok());
        assert_eq!(m.take::<i32>(Err(anyhow::anyhow!("no A"))), None);
        m.add("no B");
        let e = m.finish().unwrap_err();
        assert!(crate::error::is_fatal(&e));
        assert!(e.to_string().contains("2 settings are missing"), "{e}");
    }
}
