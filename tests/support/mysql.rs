//! The throwaway MariaDB server that `scripts/test` starts (scripts/mariadb-throwaway) with its
//! fixture databases (scripts/mariadb-fixtures), read through the `mariadb` command-line
//! client over TCP and TLS until the project has a MySQL driver.

use std::process::Command;

/// Where the server is and which databases scripts/test loaded.
pub struct Server {
    pub host: String,
    pub port: String,
    pub ca: String,
    pub pod_db: String,
    pub moodle_db: String,
}

/// One of the server's accounts (see scripts/mariadb-throwaway).
#[derive(Clone, Copy)]
pub enum Account {
    /// Every privilege.
    Admin,
    /// SELECT only.
    Reader,
    /// SELECT and UPDATE.
    Writer,
    /// SELECT, and the account requires TLS.
    Tls,
}

/// How the client treats TLS for one query.
#[derive(Clone, Copy, PartialEq)]
pub enum Tls {
    /// No TLS at all.
    Off,
    /// TLS with the server certificate checked against the test CA and the host name.
    VerifyIdentity,
}

fn var(name: &str) -> String {
    let full = format!("BBBMIG_TEST_MYSQL_{name}");
    std::env::var(&full).unwrap_or_else(|_| {
        panic!(
            "these tests need the throwaway MariaDB server: run scripts/test ({full} is unset; \
             scripts/test exports each MARIADB_* line of scripts/mariadb-throwaway as \
             BBBMIG_TEST_MYSQL_*, and BBBMIG_TEST_MYSQL_POD_DB / _MOODLE_DB after loading them \
             with scripts/mariadb-fixtures)"
        )
    })
}

/// The server of the environment scripts/test sets; panics with how to start it otherwise.
pub fn server() -> Server {
    Server {
        host: var("HOST"),
        port: var("PORT"),
        ca: var("CA"),
        pod_db: var("POD_DB"),
        moodle_db: var("MOODLE_DB"),
    }
}

/// Which fixture a fresh MariaDB database gets (scripts/mariadb-fixtures).
#[derive(Clone, Copy, Debug)]
pub enum Fixture {
    /// Pod 4.1's schema as its migrations make it on MariaDB, with the seed data.
    Pod,
    /// Moodle 4's schema as its MySQL installer makes it, with the sample data.
    Moodle,
}

/// A fresh MariaDB database loaded with a fixture; its URL holds the admin account's
/// password (give it through the environment or a database file).
pub fn fresh_db(hint: &str, fixture: Fixture) -> super::pg::TestDb {
    let name = super::pg::unique_name(hint);
    let kind = match fixture {
        Fixture::Pod => "pod",
        Fixture::Moodle => "moodle",
    };
    let st = Command::new(super::root().join("scripts/mariadb-fixtures"))
        .args([kind, &name])
        .env("MARIADB_SOCKET", var("SOCKET"))
        .env("MARIADB_BBBMIG_USER", var("BBBMIG_USER"))
        .env("MARIADB_BBBMIG_PASSWORD", var("BBBMIG_PASSWORD"))
        .status()
        .expect("run scripts/mariadb-fixtures");
    assert!(
        st.success(),
        "scripts/mariadb-fixtures {kind} {name} failed"
    );
    let s = server();
    super::pg::TestDb {
        conninfo: format!(
            "mysql://{}:{}@{}:{}/{name}?ssl-mode=DISABLED",
            var("BBBMIG_USER"),
            var("BBBMIG_PASSWORD"),
            s.host,
            s.port
        ),
        name,
        engine: bbbmig_core::db::Engine::MySql,
    }
}

/// What one client run left.
pub struct Answer {
    pub ok: bool,
    /// Rows of tab-separated fields.
    pub rows: Vec<Vec<String>>,
    pub stderr: String,
}

impl Server {
    /// Runs `sql` in database `db` as `account`; the password goes in the client's
    /// environment, not its arguments.
    pub fn query(&self, account: Account, tls: Tls, db: &str, sql: &str) -> Answer {
        let who = match account {
            Account::Admin => "BBBMIG",
            Account::Reader => "READER",
            Account::Writer => "WRITER",
            Account::Tls => "TLS",
        };
        let mut c = Command::new("mariadb");
        c.args([
            "--no-defaults",
            "--batch",
            "--skip-column-names",
            "--protocol=TCP",
        ])
        .arg(format!("--host={}", self.host))
        .arg(format!("--port={}", self.port))
        .arg(format!("--user={}", var(&format!("{who}_USER"))))
        .arg("--default-character-set=utf8mb4")
        .env("MYSQL_PWD", var(&format!("{who}_PASSWORD")));
        match tls {
            Tls::Off => c.arg("--skip-ssl"),
            Tls::VerifyIdentity => c
                .arg(format!("--ssl-ca={}", self.ca))
                .arg("--ssl-verify-server-cert"),
        };
        let out = c
            .arg(format!("--database={db}"))
            .arg("--execute")
            .arg(sql)
            .output()
            .expect("run the mariadb client (scripts/setup installs mariadb-client)");
        Answer {
            ok: out.status.success(),
            rows: String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.split('\t').map(str::to_owned).collect())
                .collect(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Like `query`, as the admin over verified TLS, panicking if the query fails.
    pub fn rows(&self, db: &str, sql: &str) -> Vec<Vec<String>> {
        let a = self.query(Account::Admin, Tls::VerifyIdentity, db, sql);
        assert!(a.ok, "query failed: {sql}\n{}", a.stderr);
        a.rows
    }
}
