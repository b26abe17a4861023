//! Pod (esup-pod 4.x) written the way Pod's own code writes it: the connection to its
//! database (PostgreSQL or MariaDB/MySQL, one SQL logic through `db::sql`), users with
//! every row Pod makes for them, external recordings ("My external recordings"), and
//! recorder files ready to be claimed; records committed in batches ([`commit`]).

pub mod claim;
pub mod commit;
pub mod done;
pub mod import;
pub mod lock;
pub mod owner;
pub mod recorders;
pub mod users;

use crate::db::sql::Db;
use crate::db::{self, Engine};
use crate::error::fatal;
use anyhow::{Context, bail};
use std::path::PathBuf;

/// How to reach Pod's database: `--pod-db`, else `--pod-db-file`, else `POD_DATABASE_URL`.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArgs {
    /// Pod's database: a PostgreSQL connection string or URI, or a mysql:// or mariadb://
    /// URL; no password here (PGPASSWORD, ~/.pgpass, ~/.my.cnf or --pod-db-file). Default:
    /// the POD_DATABASE_URL variable.
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
            db::refuse_password_in_argv(c).context("--pod-db")?;
            c.clone()
        } else if let Some(p) = &self.pod_db_file {
            db::check_private(p)?;
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
        db::check_syntax(&conninfo).context(self.setting())?;
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
    pub fn connect(&self, conninfo: &str) -> anyhow::Result<Db> {
        let mut db = Db::connect(conninfo).map_err(fatal)?;
        if db.engine() == Engine::MySql {
            // As Pod's own sessions (its init_command): a value too long for its column
            // is an error, never a silent cut. And each statement sees what others
            // committed before it (PostgreSQL's default), not the snapshot of the batch's
            // first read: a record lock granted after another host's commit must show
            // that host's rows.
            db.batch(
                "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES'); \
                 SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            )
            .map_err(fatal)?;
        }
        for t in ["auth_user", "authentication_owner"] {
            if !db.table_exists(t).map_err(fatal)? {
                let what = crate::db::probe::wrong_app(&mut db, crate::db::probe::App::Pod)
                    .map_err(fatal)?;
                return Err(fatal(anyhow::anyhow!(
                    "{what}: this {} database is not Pod's, it has no {t} table (check {})",
                    db.engine().name(),
                    self.setting()
                )));
            }
        }
        Ok(db)
    }
}

/// `--check` of the Pod tools, once connected and set up: the privileges `needed`
/// (`(table, "SELECT, INSERT")`) each named as a GRANT when missing (fatal), else the
/// `ready` summary with what was checked, `also` last.
pub fn check_ready(
    db: &mut Db,
    out: &mut crate::cli::Out,
    needed: &[(&str, &str)],
    also: String,
) -> anyhow::Result<()> {
    let needed: Vec<(String, &str)> = needed.iter().map(|(t, p)| (t.to_string(), *p)).collect();
    let missing = crate::db::probe::missing_privileges(db, &needed)?;
    let privileges = crate::settings::refuse_missing("Pod database", missing)?;
    crate::settings::ready(
        out,
        &[
            "the Pod database is reachable and holds Pod's tables".to_string(),
            privileges,
            also,
        ],
    )
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
/// no migrations, so sizes differ between installs); `default` when not found. Both
/// engines count characters (MariaDB utf8mb4: up to 4 bytes each).
pub fn column_len(db: &mut Db, table: &str, column: &str, default: usize) -> anyhow::Result<usize> {
    Ok(db
        .column_len(table, column)?
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
