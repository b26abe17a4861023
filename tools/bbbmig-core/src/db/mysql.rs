//! MariaDB and MySQL connections: `mysql://` / `mariadb://` URLs with `ssl-mode` and
//! `ssl-ca`, the password from the URL (files only) or the MySQL client's option file
//! (`~/.my.cnf`, `[client]`), utf8mb4 and UTC on every session.

use super::{TlsMode, read_password_file};
use anyhow::{Context, bail};
use mysql::{Conn, OptsBuilder, SslOpts};
use std::path::{Path, PathBuf};

/// The MySQL port when the URL names none.
const DEFAULT_PORT: u16 = 3306;

/// Where the system CA bundle lives when no `ssl-ca` is given (Debian's, or `SSL_CERT_FILE`).
const SYSTEM_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A parsed `mysql://user[:password]@host[:port]/database?ssl-mode=..&ssl-ca=..&socket=..`.
#[derive(Debug, Clone)]
pub struct Target {
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub socket: Option<String>,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl Target {
    /// Parses the URL (the driver's own parser knows no `ssl-mode` nor `ssl-ca`).
    pub fn parse(conninfo: &str) -> anyhow::Result<Target> {
        let u =
            url::Url::parse(conninfo.trim()).map_err(|e| anyhow::anyhow!("bad MySQL URL: {e}"))?;
        if !matches!(u.scheme(), "mysql" | "mariadb") {
            bail!("bad MySQL URL: the scheme must be mysql:// or mariadb://");
        }
        let database = decode(u.path().trim_start_matches('/'));
        if database.is_empty() || database.contains('/') {
            bail!("bad MySQL URL: name one database after the host (mysql://user@host/DATABASE)");
        }
        let mut t = Target {
            user: Some(decode(u.username())).filter(|s| !s.is_empty()),
            password: u.password().map(decode),
            host: u.host_str().unwrap_or("localhost").to_string(),
            port: u.port().unwrap_or(DEFAULT_PORT),
            database,
            socket: None,
            tls: TlsMode::Prefer,
            ca_file: None,
        };
        for (k, v) in u.query_pairs() {
            match k.to_ascii_lowercase().replace('_', "-").as_str() {
                "ssl-mode" | "sslmode" => t.tls = TlsMode::parse(&v).context("ssl-mode")?,
                "ssl-ca" | "sslca" | "sslrootcert" => t.ca_file = Some(PathBuf::from(&*v)),
                "socket" => t.socket = Some(v.into_owned()),
                other => bail!(
                    "bad MySQL URL: unknown parameter {other:?} (known: ssl-mode, ssl-ca, socket)"
                ),
            }
        }
        Ok(t)
    }

    /// `user@host:port/db`, without any password, for messages.
    pub fn describe(&self) -> String {
        let at = match &self.socket {
            Some(s) => s.clone(),
            None => format!("{}:{}", self.host, self.port),
        };
        format!(
            "{}@{at}/{}",
            self.user.as_deref().unwrap_or("?"),
            self.database
        )
    }
}

/// The `[client]` (and `[client-mariadb]`, `[mysql]`) settings of the MySQL option file
/// (`MYSQL_HOME/my.cnf` is not read; `~/.my.cnf` is), ignored with a warning when others
/// can read it; with the file's name for messages.
fn option_file() -> anyhow::Result<(Vec<(String, String)>, String)> {
    let Some(home) = std::env::var_os("HOME") else {
        return Ok((Vec::new(), "no HOME for ~/.my.cnf".to_string()));
    };
    option_file_at(&PathBuf::from(home).join(".my.cnf"))
}

/// The client settings of the option file at `path` (see [`option_file`]).
fn option_file_at(path: &Path) -> anyhow::Result<(Vec<(String, String)>, String)> {
    let Some(text) = read_password_file(path)? else {
        return Ok((Vec::new(), format!("{} absent or ignored", path.display())));
    };
    let mut out = Vec::new();
    let mut ours = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            ours = matches!(section.trim(), "client" | "client-mariadb" | "mysql");
            continue;
        }
        if !ours {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            out.push((k.trim().replace('_', "-"), v.to_string()));
        }
    }
    Ok((out, path.display().to_string()))
}

/// Fills user and password from `~/.my.cnf` when the URL has none; says where the password
/// came from.
fn complete(t: &mut Target) -> anyhow::Result<String> {
    if t.password.is_some() && t.user.is_some() {
        return Ok("the connection string".to_string());
    }
    let (opts, file) = option_file()?;
    let get = |k: &str| {
        opts.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    if t.user.is_none() {
        t.user = get("user").or_else(|| std::env::var("USER").ok());
    }
    if t.password.is_some() {
        return Ok("the connection string".to_string());
    }
    match get("password") {
        Some(pw) => {
            t.password = Some(pw);
            Ok(format!("{file} [client]"))
        }
        None if opts.is_empty() => Ok(format!("nowhere ({file})")),
        None => Ok(format!("nowhere ({file} [client] has no password)")),
    }
}

/// Connects as the URL says: TLS per `ssl-mode` (MySQL's default: PREFERRED), the session in
/// utf8mb4 (accents and emoji survive) and in UTC (dates written are UTC whatever the
/// server's zone).
pub fn connect(conninfo: &str) -> anyhow::Result<Conn> {
    let mut t = Target::parse(conninfo)?;
    let from = complete(&mut t)?;
    let ca = t
        .ca_file
        .clone()
        .or_else(|| std::env::var_os("SSL_CERT_FILE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(SYSTEM_CA));
    let shown = format!(
        "{} (password from {from}; TLS {})",
        t.describe(),
        super::pg::tls_words(t.tls, t.ca_file.as_deref())
    );
    super::tls::install_provider();
    let base = OptsBuilder::new()
        .ip_or_hostname(Some(t.host.clone()))
        .tcp_port(t.port)
        .socket(t.socket.clone())
        .prefer_socket(t.socket.is_some())
        .user(t.user.clone())
        .pass(t.password.clone())
        .db_name(Some(t.database.clone()))
        .tcp_connect_timeout(Some(std::time::Duration::from_secs(30)))
        // UPDATE reports the rows it matched, as PostgreSQL does, not only those it changed.
        .additional_capabilities(mysql::consts::CapabilityFlags::CLIENT_FOUND_ROWS)
        .init(vec![
            "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci",
            "SET time_zone = '+00:00'",
        ]);
    let unchecked = SslOpts::default()
        .with_danger_accept_invalid_certs(true)
        .with_danger_skip_domain_validation(true);
    let ssl = match t.tls {
        TlsMode::Disable => None,
        TlsMode::Prefer | TlsMode::Require => Some(unchecked),
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            if !ca.is_file() {
                bail!(
                    "cannot connect to MariaDB/MySQL {shown}: no CA file {} (give ssl-ca=FILE)",
                    ca.display()
                );
            }
            Some(
                SslOpts::default()
                    .with_root_cert_path(Some(ca))
                    .with_danger_skip_domain_validation(t.tls == TlsMode::VerifyCa),
            )
        }
    };
    let first = Conn::new(base.clone().ssl_opts(ssl));
    let done = match first {
        Err(mysql::Error::DriverError(mysql::DriverError::TlsNotSupported))
            if t.tls == TlsMode::Prefer =>
        {
            Conn::new(base.ssl_opts(None))
        }
        other => other,
    };
    done.map_err(|e| anyhow::anyhow!("{}", error_text(&e)))
        .with_context(|| format!("cannot connect to MariaDB/MySQL {shown}"))
}

/// The error in words, with the server's code when there is one.
pub fn error_text(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(m) => format!("{} (error {})", m.message, m.code),
        mysql::Error::DriverError(mysql::DriverError::TlsNotSupported) => {
            "the server does not offer TLS".to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_file_client_sections() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".my.cnf");
        std::fs::write(
            &p,
            "[mysqld]\npassword=server\n[client]\nuser = pod\npassword=\"p w#1\"\n# c\n[mysqldump]\npassword=dump\n",
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (opts, file) = option_file_at(&p).unwrap();
        assert_eq!(file, p.display().to_string());
        assert_eq!(
            opts,
            vec![
                ("user".to_string(), "pod".to_string()),
                ("password".to_string(), "p w#1".to_string())
            ]
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (opts, file) = option_file_at(&p).unwrap();
        assert!(opts.is_empty());
        assert!(file.contains("absent or ignored"), "{file}");
    }

    #[test]
    fn urls() {
        let t = Target::parse(
            "mariadb://pod%40x:p%2Bw@db.example.org:3307/pod?ssl-mode=VERIFY_IDENTITY&ssl-ca=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(t.user.as_deref(), Some("pod@x"));
        assert_eq!(t.password.as_deref(), Some("p+w"));
        assert_eq!(t.host, "db.example.org");
        assert_eq!(t.port, 3307);
        assert_eq!(t.database, "pod");
        assert_eq!(t.tls, TlsMode::VerifyFull);
        assert_eq!(t.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(t.describe(), "pod@x@db.example.org:3307/pod");
        let t = Target::parse("mysql://u@h/m").unwrap();
        assert_eq!((t.port, t.tls), (3306, TlsMode::Prefer));
        assert!(Target::parse("mysql://u@h/").is_err());
        assert!(Target::parse("mysql://u@h/m?sslmode=sometimes").is_err());
        assert!(Target::parse("mysql://u@h/m?compress=1").is_err());
    }
}
