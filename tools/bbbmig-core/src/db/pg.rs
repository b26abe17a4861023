//! PostgreSQL connections: conninfo (key=value or URI) with libpq's environment defaults,
//! password file and TLS modes (`sslmode` up to verify-full, `sslrootcert` or the system CA
//! store), and the rule that no password is given in argv.

// The secret-file rules are the connection layer's, for both engines.
use super::{TlsMode, tls};
pub use super::{check_private, read_db_file, refuse_password_in_argv};
use anyhow::{Context, bail};
use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A connection string resolved: the driver's settings, the TLS asked for, and where the
/// password came from (for messages).
pub struct Target {
    pub config: Config,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub password_from: String,
}

/// A parsed connection string, completed with `PGHOST`, `PGPORT`, `PGUSER`,
/// `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT` and, when it has no password, `PGPASSWORD`
/// or the password file (`PGPASSFILE`, else `~/.pgpass`), as libpq does.
pub fn target(conninfo: &str) -> anyhow::Result<Target> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (rest, mode, ca) = split_tls(conninfo)?;
    let tls = match mode.or_else(|| env("PGSSLMODE")) {
        Some(m) => TlsMode::parse(&m).context("sslmode")?,
        None => TlsMode::Prefer,
    };
    let ca_file = ca
        .or_else(|| env("PGSSLROOTCERT"))
        .filter(|c| c != "system")
        .map(PathBuf::from);
    let mut cfg =
        Config::from_str(&rest).map_err(|e| anyhow::anyhow!("bad connection string: {e}"))?;
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
    let password_from = if cfg.get_password().is_some() {
        "the connection string".to_string()
    } else if let Some(pw) = env("PGPASSWORD") {
        cfg.password(pw);
        "PGPASSWORD".to_string()
    } else {
        let (pw, from) = password_from_file(&cfg)?;
        if let Some(pw) = pw {
            cfg.password(pw);
        }
        from
    };
    cfg.ssl_mode(match tls {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        _ => SslMode::Require,
    });
    Ok(Target {
        config: cfg,
        tls,
        ca_file,
        password_from,
    })
}

/// The driver's settings of `conninfo` (see [`target`]).
pub fn config(conninfo: &str) -> anyhow::Result<Config> {
    target(conninfo).map(|t| t.config)
}

/// Checks the syntax of `conninfo` (keys, TLS mode) without reading any password file.
pub fn check_syntax(conninfo: &str) -> anyhow::Result<()> {
    let (rest, mode, _) = split_tls(conninfo)?;
    if let Some(m) = mode {
        TlsMode::parse(&m).context("sslmode")?;
    }
    Config::from_str(&rest).map_err(|e| anyhow::anyhow!("bad connection string: {e}"))?;
    Ok(())
}

/// Whether `conninfo` itself holds a password.
pub fn has_password(conninfo: &str) -> anyhow::Result<bool> {
    let (rest, _, _) = split_tls(conninfo)?;
    let cfg = Config::from_str(&rest).map_err(|e| anyhow::anyhow!("bad connection string: {e}"))?;
    Ok(cfg.get_password().is_some())
}

/// Connects with the TLS the connection string asks for (libpq's default: prefer).
pub fn connect(conninfo: &str) -> anyhow::Result<Client> {
    if super::Engine::of(conninfo) != super::Engine::Postgres {
        bail!(
            "this {}:// URL names a MariaDB/MySQL database: this tool reads only PostgreSQL so far \
             (the MariaDB/MySQL connection layer is in, the tools' queries are not yet)",
            conninfo.trim().split("://").next().unwrap_or_default()
        );
    }
    let t = target(conninfo)?;
    let shown = format!(
        "{} (password from {}; TLS {})",
        describe(&t.config),
        t.password_from,
        tls_words(t.tls, t.ca_file.as_deref())
    );
    let done = if t.tls == TlsMode::Disable {
        t.config.connect(NoTls)
    } else {
        let rustls = tls::client_config(t.tls, t.ca_file.as_deref())?;
        t.config
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(rustls))
    };
    done.map_err(|e| anyhow::anyhow!("{}", error_text(&e)))
        .with_context(|| format!("cannot connect to PostgreSQL {shown}"))
}

/// The error with its cause (the driver's own text is often just "db error").
pub fn error_text(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(s) => format!("{e}: {s}"),
        None => e.to_string(),
    }
}

/// The TLS of a connection in words, for messages.
pub fn tls_words(mode: TlsMode, ca: Option<&Path>) -> String {
    let roots = match ca {
        Some(p) => format!("CA {}", p.display()),
        None => "the system CA store".to_string(),
    };
    match mode {
        TlsMode::Disable => "off".to_string(),
        TlsMode::Prefer => "if offered, certificate unchecked".to_string(),
        TlsMode::Require => "required, certificate unchecked".to_string(),
        TlsMode::VerifyCa => format!("required, certificate checked against {roots}"),
        TlsMode::VerifyFull => {
            format!("required, certificate and host name checked against {roots}")
        }
    }
}

/// The connection parameters understood (libpq's that the driver knows, plus `sslrootcert`).
const KNOWN_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "options",
    "application_name",
    "sslmode",
    "sslrootcert",
    "sslnegotiation",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// Whether `word` is a connection parameter (`host`, `dbname`…).
pub fn is_conninfo_key(word: &str) -> bool {
    KNOWN_KEYS.contains(&word)
}

/// Refuses a misspelled parameter (`dbnmae=`) with the nearest known one.
fn check_key(key: &str) -> anyhow::Result<()> {
    if KNOWN_KEYS.contains(&key) {
        return Ok(());
    }
    let hint = match crate::columns::nearest(key, KNOWN_KEYS.iter().copied()) {
        Some(k) => format!("did you mean {k}?"),
        None => "known: host, port, dbname, user, sslmode, sslrootcert…".to_string(),
    };
    bail!("bad connection string: unknown parameter {key:?} ({hint})")
}

/// Takes `sslmode` and `sslrootcert` out of a conninfo (the driver knows neither
/// verify-ca/verify-full nor root certificates): the rest, the mode, the CA file.
fn split_tls(conninfo: &str) -> anyhow::Result<(String, Option<String>, Option<String>)> {
    let (mut mode, mut ca) = (None, None);
    let t = conninfo.trim();
    if t.starts_with("postgres://") || t.starts_with("postgresql://") {
        let Some((base, query)) = t.split_once('?') else {
            return Ok((t.to_string(), None, None));
        };
        let mut kept = Vec::new();
        for (part, (k, v)) in query
            .split('&')
            .zip(url::form_urlencoded::parse(query.as_bytes()))
        {
            check_key(&k)?;
            match k.as_ref() {
                "sslmode" => mode = Some(v.into_owned()),
                "sslrootcert" => ca = Some(v.into_owned()),
                _ => kept.push(part),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, mode, ca));
    }
    let mut kept = Vec::new();
    for (k, v) in conninfo_pairs(t)? {
        check_key(&k)?;
        match k.as_str() {
            "sslmode" => mode = Some(v),
            "sslrootcert" => ca = Some(v),
            _ => kept.push(format!(
                "{k}='{}'",
                v.replace('\\', "\\\\").replace('\'', "\\'")
            )),
        }
    }
    Ok((kept.join(" "), mode, ca))
}

/// The `key=value` pairs of a libpq conninfo (values bare or single-quoted, `\` escapes).
fn conninfo_pairs(s: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    loop {
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        if it.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = it.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        if it.next() != Some('=') {
            bail!(
                "bad connection string: {key:?} has no =value (a connection string is key=value \
                 pairs such as host=db1 dbname=moodle user=reader, or postgresql://user@host/db)"
            );
        }
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if it.next_if_eq(&'\'').is_some() {
            loop {
                match it.next() {
                    Some('\\') => value.extend(it.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => bail!("bad connection string: unterminated quote after {key}="),
                }
            }
        } else {
            while let Some(c) = it.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(it.next());
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
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

/// The password of the password file line matching `cfg`, and where it came from (or
/// why none did) for messages.
fn password_from_file(cfg: &Config) -> anyhow::Result<(Option<String>, String)> {
    let path = match std::env::var_os("PGPASSFILE") {
        Some(p) => PathBuf::from(p),
        None => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".pgpass"),
            None => return Ok((None, "nowhere (no HOME for ~/.pgpass)".to_string())),
        },
    };
    // libpq ignores a password file readable by others, with a warning; so do we.
    let Some(text) = super::read_password_file(&path)? else {
        return Ok((
            None,
            format!("nowhere ({})", super::password_file_unused(&path)),
        ));
    };
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
            return Ok((Some(fields[4].clone()), path.display().to_string()));
        }
    }
    Ok((
        None,
        format!("nowhere (no line of {} matches)", path.display()),
    ))
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
    fn tls_options_taken_out() {
        let (rest, mode, ca) =
            split_tls("host=h sslmode=verify-full sslrootcert='/a b/ca.pem' dbname=m").unwrap();
        assert_eq!(rest, "host='h' dbname='m'");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(ca.as_deref(), Some("/a b/ca.pem"));
        let (rest, mode, ca) = split_tls(
            "postgresql://u@h/db?sslmode=verify-ca&sslrootcert=%2Ftmp%2Fca.pem&application_name=t",
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u@h/db?application_name=t");
        assert!(split_tls("postgresql://u@h/db?dbnmae=x").is_err());
        assert_eq!(mode.as_deref(), Some("verify-ca"));
        assert_eq!(ca.as_deref(), Some("/tmp/ca.pem"));
        assert!(has_password("host=h password=x").unwrap());
        assert!(!has_password("host=h sslmode=verify-full").unwrap());
        assert!(config("host=h sslmode=maybe").is_err());
    }

    #[test]
    fn pgpass_escapes() {
        assert_eq!(
            split_pgpass(r"h:5432:db:u:pa\:ss\\w"),
            vec!["h", "5432", "db", "u", r"pa:ss\w"]
        );
    }
}
