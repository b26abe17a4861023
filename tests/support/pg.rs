//! The throwaway PostgreSQL server that `scripts/test` starts (scripts/pg-throwaway): a fresh
//! database per test.

use std::sync::atomic::{AtomicU32, Ordering};

/// A database created for one test; its connection string has no password.
pub struct TestDb {
    pub name: String,
    pub conninfo: String,
}

/// Connection string of the server's maintenance database.
pub fn server_conninfo() -> String {
    let host = std::env::var("BBBMIG_TEST_PGHOST").unwrap_or_else(|_| {
        panic!(
            "these tests need the throwaway PostgreSQL server: run scripts/test \
             (or eval \"$(scripts/pg-throwaway start DIR)\" and export BBBMIG_TEST_PGHOST=$PGHOST \
             BBBMIG_TEST_PGPORT=$PGPORT BBBMIG_TEST_PGUSER=$PGUSER before cargo test)"
        )
    });
    let port = std::env::var("BBBMIG_TEST_PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("BBBMIG_TEST_PGUSER").unwrap_or_else(|_| "postgres".into());
    format!("host={host} port={port} user={user} dbname=postgres")
}

/// Creates an empty database with a unique name starting with `hint`.
pub fn fresh_db(hint: &str) -> TestDb {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t_{}_{}_{}",
        hint,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = bbbmig_core::pg::connect(&server_conninfo()).expect("connect to the test server");
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let conninfo = server_conninfo().replace("dbname=postgres", &format!("dbname={name}"));
    TestDb { name, conninfo }
}

impl TestDb {
    /// Runs SQL statements (a schema, sample data).
    pub fn exec(&self, sql: &str) {
        let mut c = bbbmig_core::pg::connect(&self.conninfo).expect("connect");
        c.batch_execute(sql)
            .unwrap_or_else(|e| panic!("SQL failed on {}: {e}", self.name));
    }

    /// A connection for assertions.
    pub fn client(&self) -> postgres::Client {
        bbbmig_core::pg::connect(&self.conninfo).expect("connect")
    }
}

/// Runs `tool` with one `--db NAME=CONNINFO` per database, then `extra`, on `input`.
pub fn run_with_dbs(
    tool: &str,
    dbs: &[(&str, &TestDb)],
    extra: &[&str],
    input: &str,
) -> super::Run {
    let mut c = super::cmd(tool);
    for (name, db) in dbs {
        c.arg("--db").arg(format!("{name}={}", db.conninfo));
    }
    c.args(extra);
    super::run(c, input)
}
