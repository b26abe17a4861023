//! Pod (esup-pod 4.x) written the way Pod's own code writes it: the connection to its
//! PostgreSQL database, users with every row Pod makes for them, external recordings
//! ("My external recordings"), and recorder files ready to be claimed.

pub mod claim;
pub mod import;
pub mod lock;
pub mod owner;
pub mod users;

use crate::error::fatal;
use crate::pg;
use anyhow::{Context, bail};
use std::path::PathBuf;

/// How to reach Pod's database: `--pod-db`, else `--pod-db-file`, else `POD_DATABASE_URL`.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArgs {
    /// Pod's PostgreSQL database (libpq connection string or URI, no password: use
    /// PGPASSWORD, ~/.pgpass or --pod-db-file). Default: the POD_DATABASE_URL variable.
    #[arg(long, value_name = "CONNINFO")]
    pub pod_db: Option<String>,
    /// Read the connection string (which may hold a password) from FILE, mode 600.
    #[arg(long, value_name = "FILE", conflicts_with = "pod_db")]
    pub pod_db_file: Option<PathBuf>,
}

impl DbArgs {
    /// The connection string, from the first of `--pod-db`, `--pod-db-file`,
    /// `POD_DATABASE_URL` that is given (a setting: checked before any record is read).
    pub fn conninfo(&self) -> anyhow::Result<String> {
        let conninfo = if let Some(c) = &self.pod_db {
            pg::refuse_password_in_argv(c).context("--pod-db")?;
            c.clone()
        } else if let Some(p) = &self.pod_db_file {
            pg::check_private(p)?;
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            match text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
            {
                Some(l) => l.to_string(),
                None => bail!("{} holds no connection string", p.display()),
            }
        } else {
            match std::env::var("POD_DATABASE_URL") {
                Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
                _ => bail!(
                    "no Pod database: give --pod-db CONNINFO or --pod-db-file FILE, or set POD_DATABASE_URL"
                ),
            }
        };
        crate::db::check_syntax(&conninfo).context(self.setting())?;
        Ok(conninfo)
    }

    /// Which setting gave the connection string, for messages.
    fn setting(&self) -> &'static str {
        if self.pod_db.is_some() {
            "--pod-db"
        } else if self.pod_db_file.is_some() {
            "--pod-db-file"
        } else {
            "POD_DATABASE_URL"
        }
    }

    /// Opens the connection to `conninfo` (from [`DbArgs::conninfo`]) and makes sure it
    /// is Pod's database; every failure here is fatal.
    pub fn connect(&self, conninfo: &str) -> anyhow::Result<postgres::Client> {
        let mut client = pg::connect(conninfo).map_err(fatal)?;
        crate::db::probe::expect(
            &mut client,
            crate::db::probe::App::Pod,
            self.setting(),
            true,
        )
        .map_err(fatal)?;
        Ok(client)
    }
}

/// Turns a database error met while handling one record into the right kind of error:
/// a lost connection or a server shutting down dooms every later record (fatal, exit 2);
/// anything else (a constraint, a value too long) fails this record only.
pub fn classify(client: &postgres::Client, e: postgres::Error) -> anyhow::Error {
    if client.is_closed() || crate::error::db_lost(&e) {
        fatal(anyhow::Error::new(e).context("lost the Pod database"))
    } else {
        anyhow::Error::new(e)
    }
}

/// The first `max` characters of `s` (PostgreSQL's varchar(n) counts characters); when
/// cut, the last kept character becomes `…` so that readers see it was shortened.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Length limit of a varchar column as this install's migrations made it (Pod commits
/// no migrations, so sizes differ between installs); `default` when not found.
pub fn column_len(
    client: &mut postgres::Client,
    table: &str,
    column: &str,
    default: usize,
) -> anyhow::Result<usize> {
    let row = client.query_opt(
        "SELECT character_maximum_length FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
        &[&table, &column],
    )?;
    Ok(row
        .and_then(|r| r.get::<_, Option<i32>>(0))
        .map_or(default, |n| n as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("abcd", 3), "ab…");
        let long = "é".repeat(300);
        let t = truncate_chars(&long, 250);
        assert_eq!(t.chars().count(), 250);
        assert!(t.ends_with('…'));
    }
}
