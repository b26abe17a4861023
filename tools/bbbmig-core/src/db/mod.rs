//! The one place that opens database connections: which engine a connection string names
//! (`postgresql://` or key=value conninfo, `mysql://`, `mariadb://`), its TLS mode, where its
//! password comes from, and the files that may hold secrets.
//!
//! - [`pg`]: PostgreSQL (Moodle, Pod, Greenlight), libpq's rules for defaults and `~/.pgpass`.
//! - [`mysql`]: MariaDB and MySQL (Moodle, Pod), the MySQL client's rules and `~/.my.cnf`.
//! - [`sql`]: one connection type for both engines: the seam every tool's queries use.
//! - [`probe`]: which application a PostgreSQL database holds (Moodle, Pod, Greenlight) and
//!   the privileges a tool lacks (`--check`).
//! - [`tls`]: the rustls settings both engines share (CA file or the system store).

pub mod mysql;
pub mod pg;
pub mod probe;
pub mod sql;
pub mod tls;

use anyhow::{Context, bail};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The database server a connection string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL: `postgresql://`, `postgres://` or a key=value conninfo.
    Postgres,
    /// MariaDB or MySQL: `mysql://` or `mariadb://`.
    MySql,
}

impl Engine {
    /// The engine of `conninfo`, by its URL scheme.
    pub fn of(conninfo: &str) -> Engine {
        let lower = conninfo.trim_start().to_ascii_lowercase();
        if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            Engine::MySql
        } else {
            Engine::Postgres
        }
    }

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MariaDB/MySQL",
        }
    }
}

/// How much TLS a connection asks for, in PostgreSQL's `sslmode` words (MySQL's `ssl-mode`
/// DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY map one to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, certificate not checked.
    Prefer,
    /// TLS or no connection, certificate not checked.
    Require,
    /// TLS, the certificate signed by a trusted CA, any host name.
    VerifyCa,
    /// TLS, the certificate signed by a trusted CA and naming the host.
    VerifyFull,
}

impl TlsMode {
    /// Parses either engine's spelling (case-insensitive, `-` or `_`).
    pub fn parse(s: &str) -> anyhow::Result<TlsMode> {
        Ok(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "disable" | "disabled" => TlsMode::Disable,
            "allow" | "prefer" | "preferred" => TlsMode::Prefer,
            "require" | "required" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" | "verify-identity" => TlsMode::VerifyFull,
            _ => bail!(
                "unknown TLS mode {s:?}: PostgreSQL sslmode is disable, prefer, require, verify-ca \
                 or verify-full; MySQL ssl-mode is DISABLED, PREFERRED, REQUIRED, VERIFY_CA or \
                 VERIFY_IDENTITY"
            ),
        })
    }
}

/// Refuses a connection string given on the command line that carries a password
/// (argv is visible to every user in `ps`).
pub fn refuse_password_in_argv(conninfo: &str) -> anyhow::Result<()> {
    let (has, hint) = match Engine::of(conninfo) {
        Engine::Postgres => (
            pg::has_password(conninfo)?,
            "a database file, PGPASSWORD or ~/.pgpass",
        ),
        Engine::MySql => (
            mysql::Target::parse(conninfo)?.password.is_some(),
            "a database file or ~/.my.cnf [client]",
        ),
    };
    if has {
        bail!("a password on the command line is visible in ps: put it in {hint}");
    }
    Ok(())
}

/// Splits a `NAME=CONNINFO` entry (`--db` values, database file lines) with a message of
/// its own for each usual mistake: no `=` at all, a bare connection string (the name
/// forgotten: `host=db1 dbname=moodle`, `postgresql://…`), an empty name or connection.
pub fn split_named(entry: &str) -> anyhow::Result<(String, String)> {
    const EXAMPLE: &str = "moodle.example.org=host=db1 dbname=moodle user=reader; NAME is the \
        recordings' bbb-origin-server-name, or default";
    let entry = entry.trim();
    let bare_url = ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .any(|p| entry.to_ascii_lowercase().starts_with(p));
    let Some((name, conninfo)) = entry.split_once('=').filter(|_| !bare_url) else {
        if bare_url || entry.contains("://") {
            bail!(
                "this is a connection string without NAME= in front: write NAME={entry} ({EXAMPLE})"
            );
        }
        bail!("no '=' in {entry:?}: expected NAME=CONNINFO ({EXAMPLE})");
    };
    let (name, conninfo) = (name.trim(), conninfo.trim());
    if pg::is_conninfo_key(name) {
        bail!(
            "this looks like a connection string without NAME= in front ({name}= is one of its \
             keys): write NAME={entry} ({EXAMPLE})"
        );
    }
    if name.is_empty() || conninfo.is_empty() {
        bail!("empty NAME or CONNINFO in {entry:?}: expected NAME=CONNINFO ({EXAMPLE})");
    }
    Ok((name.to_string(), conninfo.to_string()))
}

/// Checks that `conninfo` is a connection string one of the engines understands.
pub fn check_syntax(conninfo: &str) -> anyhow::Result<()> {
    match Engine::of(conninfo) {
        Engine::Postgres => pg::check_syntax(conninfo),
        Engine::MySql => mysql::Target::parse(conninfo).map(|_| ()),
    }
}

/// Refuses a file holding secrets that others may read (like ssh does).
pub fn check_private(path: &Path) -> anyhow::Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by others (mode {:o}): it may hold passwords, run chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

/// Reads a password file the way its client does: absent is no password; readable by
/// others is ignored with a warning naming it (as libpq does for `~/.pgpass`).
pub fn read_password_file(path: &Path) -> anyhow::Result<Option<String>> {
    if !path.is_file() {
        return Ok(None);
    }
    if check_private(path).is_err() {
        let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777);
        log::warn!(
            "ignoring {}: it is readable by others (mode {mode:o}), chmod 600 it",
            path.display()
        );
        return Ok(None);
    }
    std::fs::read_to_string(path)
        .map(Some)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Why a password file gave no password, for messages: absent, or ignored with its mode.
pub fn password_file_unused(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => format!(
            "{} ignored: readable by others (mode {:o}), chmod 600 it",
            path.display(),
            m.permissions().mode() & 0o777
        ),
        _ => format!("{} absent", path.display()),
    }
}

/// Reads a database file: `NAME=CONNINFO` lines, `#` comments and blank lines ignored.
/// The file must not be readable by group or others.
pub fn read_db_file(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    check_private(path)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let (name, conninfo) = split_named(line).with_context(at)?;
        check_syntax(&conninfo).with_context(at)?;
        out.push((name, conninfo));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_and_modes() {
        assert_eq!(Engine::of("mariadb://u@h/db"), Engine::MySql);
        assert_eq!(Engine::of("MySQL://u@h/db"), Engine::MySql);
        assert_eq!(Engine::of("postgresql://u@h/db"), Engine::Postgres);
        assert_eq!(Engine::of("host=/tmp dbname=m"), Engine::Postgres);
        assert_eq!(
            TlsMode::parse("VERIFY_IDENTITY").unwrap(),
            TlsMode::VerifyFull
        );
        assert_eq!(TlsMode::parse("verify-ca").unwrap(), TlsMode::VerifyCa);
        assert_eq!(TlsMode::parse("PREFERRED").unwrap(), TlsMode::Prefer);
        assert!(TlsMode::parse("maybe").is_err());
    }

    #[test]
    fn db_file_rules() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dbs");
        std::fs::write(&p, "# comment\nmoodle.example.org = host=/tmp dbname=moodle password=x\n\ndefault=dbname=m2\nm3=mariadb://u:p@h/m3?ssl-mode=REQUIRED\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            read_db_file(&p)
                .unwrap_err()
                .to_string()
                .contains("readable by others")
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let v = read_db_file(&p).unwrap();
        assert_eq!(v[0].0, "moodle.example.org");
        assert_eq!(v[1], ("default".to_string(), "dbname=m2".to_string()));
        assert_eq!(v[2].0, "m3");
        assert!(refuse_password_in_argv("host=/tmp password=x").is_err());
        assert!(refuse_password_in_argv("host=/tmp dbname=m").is_ok());
        assert!(refuse_password_in_argv("mysql://u:secret@h/db").is_err());
        assert!(refuse_password_in_argv("mysql://u@h/db").is_ok());
    }

    #[test]
    fn named_entries_say_what_is_wrong() {
        let e = |s: &str| format!("{:#}", split_named(s).unwrap_err());
        assert!(e("host=db1 dbname=m").contains("without NAME= in front"));
        assert!(e("postgresql://u@h/db?sslmode=require").contains("without NAME= in front"));
        assert!(e("moodle.example.org").contains("no '='"));
        assert!(e("=dbname=m").contains("empty NAME"));
        assert_eq!(
            split_named(" m1 = postgresql://u@h/db ").unwrap(),
            ("m1".to_string(), "postgresql://u@h/db".to_string())
        );
        let typo = format!("{:#}", check_syntax("host=h dbnmae=m").unwrap_err());
        assert!(typo.contains("did you mean dbname?"), "{typo}");
        assert!(check_syntax("host=h dbname=m sslmode=verify-full").is_ok());
        assert!(check_syntax("host=h sslmode=maybe").is_err());
    }
}
