//! PostgreSQL connections: conninfo with libpq's environment defaults and password file,
//! `NAME=CONNINFO` database files, and the rule that no password is given in argv.

use anyhow::{Context, bail};
use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A parsed connection string, completed with `PGHOST`, `PGPORT`, `PGUSER`,
/// `PGDATABASE` and, when it has no password, `PGPASSWORD` or the password file
/// (`PGPASSFILE`, else `~/.pgpass`), as libpq does.
pub fn config(conninfo: &str) -> anyhow::Result<Config> {
    let mut cfg =
        Config::from_str(conninfo).map_err(|e| anyhow::anyhow!("bad connection string: {e}"))?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if cfg.get_hosts().is_empty() {
        cfg.host(&env("PGHOST").unwrap_or_else(|| "/var/run/postgresql".to_string()));
    }
    if cfg.get_ports().is_empty() {
        if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
            cfg.port(p);
        }
    }
    if cfg.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".to_string());
        cfg.user(&user);
    }
    if cfg.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            cfg.dbname(&db);
        }
    }
    if cfg.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            cfg.password(pw);
        } else if let Some(pw) = password_from_file(&cfg)? {
            cfg.password(pw);
        }
    }
    Ok(cfg)
}

/// Connects (no TLS: use a Unix socket or a trusted network).
pub fn connect(conninfo: &str) -> anyhow::Result<Client> {
    let cfg = config(conninfo)?;
    let shown = describe(&cfg);
    cfg.connect(NoTls)
        .with_context(|| format!("cannot connect to PostgreSQL {shown}"))
}

/// `user@host:port/db`, without any password, for messages.
pub fn describe(cfg: &Config) -> String {
    let host = match cfg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "?".to_string(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        cfg.get_user().unwrap_or("?"),
        cfg.get_dbname().unwrap_or("")
    )
}

/// Refuses a connection string given on the command line that carries a password
/// (argv is visible to every user in `ps`).
pub fn refuse_password_in_argv(conninfo: &str) -> anyhow::Result<()> {
    let cfg =
        Config::from_str(conninfo).map_err(|e| anyhow::anyhow!("bad connection string: {e}"))?;
    if cfg.get_password().is_some() {
        bail!(
            "a password on the command line is visible in ps: put it in a database file, PGPASSWORD or ~/.pgpass"
        );
    }
    Ok(())
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
        let Some((name, conninfo)) = line.split_once('=') else {
            bail!("{}:{}: expected NAME=CONNINFO", path.display(), i + 1);
        };
        let (name, conninfo) = (name.trim(), conninfo.trim());
        if name.is_empty() || conninfo.is_empty() {
            bail!("{}:{}: expected NAME=CONNINFO", path.display(), i + 1);
        }
        Config::from_str(conninfo).map_err(|e| {
            anyhow::anyhow!("{}:{}: bad connection string: {e}", path.display(), i + 1)
        })?;
        out.push((name.to_string(), conninfo.to_string()));
    }
    Ok(out)
}

fn password_from_file(cfg: &Config) -> anyhow::Result<Option<String>> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) => PathBuf::from(p),
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".pgpass"),
            None => return Ok(None),
        },
    };
    if !path.is_file() {
        return Ok(None);
    }
    // libpq ignores a password file readable by others, with a warning; so do we.
    if check_private(&path).is_err() {
        log::warn!(
            "ignoring {}: it is readable by others (chmod 600 it)",
            path.display()
        );
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let host = match cfg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432).to_string();
    let db = cfg
        .get_dbname()
        .or(cfg.get_user())
        .unwrap_or("")
        .to_string();
    let user = cfg.get_user().unwrap_or("").to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() != 5 {
            continue;
        }
        let want = [&host, &port, &db, &user];
        if fields[..4]
            .iter()
            .zip(want)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Ok(Some(fields[4].clone()));
        }
    }
    Ok(None)
}

/// Splits a `.pgpass` line on unescaped colons (`\:` and `\\` are escapes).
fn split_pgpass(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(s)) = (chars.next(), out.last_mut()) {
                    s.push(n);
                }
            }
            ':' => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_escapes() {
        assert_eq!(
            split_pgpass(r"h:5432:db:u:pa\:ss\\w"),
            vec!["h", "5432", "db", "u", r"pa:ss\w"]
        );
    }

    #[test]
    fn db_file_rules() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dbs");
        std::fs::write(&p, "# comment\nmoodle.example.org = host=/tmp dbname=moodle password=x\n\ndefault=dbname=m2\n").unwrap();
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
        assert!(refuse_password_in_argv("host=/tmp password=x").is_err());
        assert!(refuse_password_in_argv("host=/tmp dbname=m").is_ok());
    }
}
