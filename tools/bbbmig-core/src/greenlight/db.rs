//! One Greenlight database: its read-only connection, its schema (v2 or v3, read from the
//! database itself), and a count of the queries sent, each SQL text prepared once.

use super::schema::{self, Schema};
use crate::error::fatal;
use crate::moodle::config::DbEntry;
use crate::pg;
use anyhow::Context;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use std::collections::HashMap;

/// A connected Greenlight database.
pub struct GlDb {
    /// The configured name (origin server name or `default`).
    pub name: String,
    /// What the tables look like.
    pub schema: Schema,
    /// Queries sent so far (setup included).
    pub queries: u64,
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl GlDb {
    /// Connects (every transaction read-only) and reads the schema. Any failure is fatal,
    /// including a database that is not Greenlight's.
    pub fn connect(entry: &DbEntry, tool: &str) -> anyhow::Result<GlDb> {
        let what = || format!("Greenlight database {}", entry.name);
        let mut client = pg::connect(&entry.conninfo)
            .with_context(what)
            .map_err(fatal)?;
        client
            .batch_execute(&format!(
                "SET application_name = '{tool}'; SET default_transaction_read_only = on"
            ))
            .with_context(what)
            .map_err(fatal)?;
        let rows = client
            .query(schema::PROBE, &[])
            .with_context(what)
            .map_err(fatal)?;
        let schema = schema::detect(&rows).with_context(what).map_err(fatal)?;
        Ok(GlDb {
            name: entry.name.clone(),
            schema,
            queries: 2,
            client,
            prepared: HashMap::new(),
        })
    }

    /// Runs one query (prepared on first use) and counts it; a database error is fatal.
    pub fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> anyhow::Result<Vec<Row>> {
        self.queries += 1;
        let what = || format!("Greenlight database {}", self.name);
        let stmt = match self.prepared.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = self.client.prepare(sql).with_context(what).map_err(fatal)?;
                self.prepared.insert(sql.to_string(), s.clone());
                s
            }
        };
        let start = std::time::Instant::now();
        let rows = self
            .client
            .query(&stmt, params)
            .with_context(what)
            .map_err(fatal)?;
        log::debug!(
            "Greenlight database {}: {} rows in {} ms",
            self.name,
            rows.len(),
            start.elapsed().as_millis()
        );
        Ok(rows)
    }
}
