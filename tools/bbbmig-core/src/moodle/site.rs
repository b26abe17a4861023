//! One Moodle database: its connection, table names, site settings and a count of queries.

use super::config::{DbEntry, Tables};
use crate::error::fatal;
use crate::pg;
use anyhow::Context;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row, Statement};
use std::collections::HashMap;

/// A connected Moodle site.
pub struct Site {
    /// The configured name (origin server name or `default`).
    pub name: String,
    /// The connection.
    pub client: Client,
    /// Table naming.
    pub tables: Tables,
    /// Queries sent so far and the prepared statements.
    pub queries: Meter,
}

/// Counts the queries sent to one database (the benchmark's figure) and keeps each SQL
/// text prepared once per connection, so that batches do not plan it again.
#[derive(Default)]
pub struct Meter {
    /// Queries sent.
    pub count: u64,
    prepared: HashMap<String, Statement>,
}

/// What moodle-moderators needs to know about a site once.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Whether `bigbluebuttonbn_recordings` exists (Moodle ≥ 4.0).
    pub has_recordings: bool,
    /// `mdl_config.siteadmins` user ids.
    pub siteadmins: Vec<i64>,
    /// `bigbluebuttonbn_participant_moderator_default` entries (`0` = owner, else a role id).
    pub moderator_default: Vec<String>,
    /// Every role.
    pub roles: Vec<Role>,
}

/// A Moodle role (`mdl_role`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// `mdl_role.id`.
    pub id: i64,
    /// `mdl_role.shortname`.
    pub shortname: String,
}

impl Site {
    /// Connects; `read_only` makes every transaction of the session read-only.
    /// A connection failure is fatal.
    pub fn connect(
        entry: &DbEntry,
        tables: &Tables,
        tool: &str,
        read_only: bool,
    ) -> anyhow::Result<Site> {
        let mut client = pg::connect(&entry.conninfo)
            .with_context(|| format!("Moodle database {}", entry.name))
            .map_err(fatal)?;
        crate::db::probe::expect(
            &mut client,
            crate::db::probe::App::Moodle,
            &format!("the Moodle database {} (--db, --db-file)", entry.name),
            false,
        )
        .map_err(fatal)?;
        let mut setup = format!("SET application_name = '{tool}'");
        if read_only {
            setup.push_str("; SET default_transaction_read_only = on");
        }
        client
            .batch_execute(&setup)
            .with_context(|| format!("Moodle database {}", entry.name))
            .map_err(fatal)?;
        Ok(Site {
            name: entry.name.clone(),
            client,
            tables: tables.clone(),
            queries: Meter {
                count: 1,
                ..Default::default()
            },
        })
    }

    /// Reads the settings that the participant rules depend on (3 queries).
    pub fn settings(&mut self) -> anyhow::Result<Settings> {
        let t = self.tables.clone();
        let probe = self.query(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&t.t("bigbluebuttonbn_recordings")],
        )?;
        let has_recordings: bool = probe.first().map(|r| r.get(0)).unwrap_or(false);
        let cfg = self.query(
            &format!(
                "SELECT name::text, value::text FROM {} WHERE name = ANY($1)",
                t.t("config")
            ),
            &[&vec![
                "siteadmins",
                "bigbluebuttonbn_participant_moderator_default",
            ]],
        )?;
        let mut s = Settings {
            has_recordings,
            moderator_default: vec!["0".to_string()], // the plugin's default: the owner
            ..Default::default()
        };
        for row in cfg {
            let (name, value): (String, String) = (row.get(0), row.get(1));
            let items = value.split(',').map(str::trim).filter(|x| !x.is_empty());
            if name == "siteadmins" {
                s.siteadmins = items.filter_map(|x| x.parse().ok()).collect();
            } else {
                s.moderator_default = items.map(String::from).collect();
            }
        }
        let roles = self.query(
            &format!(
                "SELECT id::bigint, shortname::text FROM {} ORDER BY id",
                t.t("role")
            ),
            &[],
        )?;
        s.roles = roles
            .iter()
            .map(|r| Role {
                id: r.get(0),
                shortname: r.get(1),
            })
            .collect();
        Ok(s)
    }

    /// Runs one query outside any explicit transaction; counts it.
    pub fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> anyhow::Result<Vec<Row>> {
        run(&mut self.client, &mut self.queries, &self.name, sql, params)
    }
}

/// A query that failed: fatal, and said "lost the Moodle database" when the connection
/// is gone (not the Moodle we expect otherwise).
pub fn failed(e: postgres::Error, site: &str) -> anyhow::Error {
    let what = if crate::error::db_lost(&e) {
        format!("lost the Moodle database {site}")
    } else {
        format!("Moodle database {site}")
    };
    fatal(anyhow::Error::new(e).context(what))
}

/// Runs one query on a connection or transaction (of the meter's connection) and counts
/// it. Any database error is fatal: the database is gone, or it is not the Moodle we expect.
pub fn run(
    c: &mut impl GenericClient,
    meter: &mut Meter,
    site: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> anyhow::Result<Vec<Row>> {
    meter.count += 1;
    let start = std::time::Instant::now();
    let stmt = match meter.prepared.get(sql) {
        Some(s) => s.clone(),
        None => {
            let s = c.prepare(sql).map_err(|e| failed(e, site))?;
            meter.prepared.insert(sql.to_string(), s.clone());
            s
        }
    };
    let rows = c.query(&stmt, params).map_err(|e| failed(e, site))?;
    log::debug!(
        "Moodle database {site}: {} rows in {} ms from {}",
        rows.len(),
        start.elapsed().as_millis(),
        sql.split_whitespace()
            .take(12)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(rows)
}
