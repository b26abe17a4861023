//! The throwaway PostgreSQL server that `scripts/test` starts (scripts/pg-throwaway): a fresh
//! database per test.

use bbbmig_core::db::Engine;
use bbbmig_core::db::sql::{Db, Value};
use std::sync::atomic::{AtomicU32, Ordering};

/// A database created for one test, on either engine.
pub struct TestDb {
    pub name: String,
    /// PostgreSQL: a conninfo without password. MariaDB: a `mysql://` URL WITH the
    /// password: give it through the environment or a database file, never argv.
    pub conninfo: String,
    pub engine: Engine,
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
    let name = unique_name(hint);
    let mut c = bbbmig_core::pg::connect(&server_conninfo()).expect("connect to the test server");
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let conninfo = server_conninfo().replace("dbname=postgres", &format!("dbname={name}"));
    TestDb {
        name,
        conninfo,
        engine: Engine::Postgres,
    }
}

/// A database name no other test of this run uses.
pub fn unique_name(hint: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "t_{}_{}_{}",
        hint,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

impl TestDb {
    /// Runs SQL statements (a schema, sample data).
    pub fn exec(&self, sql: &str) {
        self.sql()
            .batch(sql)
            .unwrap_or_else(|e| panic!("SQL failed on {}: {e}", self.name));
    }

    /// A PostgreSQL connection for assertions (PostgreSQL databases only).
    pub fn client(&self) -> postgres::Client {
        assert_eq!(
            self.engine,
            Engine::Postgres,
            "client() is PostgreSQL only: use sql()"
        );
        bbbmig_core::pg::connect(&self.conninfo).expect("connect")
    }

    /// A connection through the tools' own seam, on either engine.
    pub fn sql(&self) -> Db {
        Db::connect(&self.conninfo).unwrap_or_else(|e| panic!("connect to {}: {e:#}", self.name))
    }

    /// The rows of a query, every column as text (NULL as `NULL`, booleans as 0/1), the
    /// same on both engines.
    pub fn strings(&self, sql: &str) -> Vec<Vec<String>> {
        let rows = self
            .sql()
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("query failed on {}: {sql}: {e}", self.name));
        rows.into_iter()
            .map(|r| {
                r.0.into_iter()
                    .map(|v| match v {
                        Value::Null => "NULL".to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => (b as i32).to_string(),
                        Value::Text(t) => t,
                        Value::Time(t) => t.to_rfc3339(),
                    })
                    .collect()
            })
            .collect()
    }

    /// One number (`SELECT COUNT(*) …`).
    pub fn number(&self, sql: &str) -> i64 {
        let v = self.strings(sql);
        v.first()
            .and_then(|r| r.first())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{sql} gave no number: {v:?}"))
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
