//! One Moodle database (PostgreSQL or MariaDB/MySQL): its connection, table names, site
//! settings and a count of queries.

use super::config::{DbEntry, Tables};
use crate::db::Engine;
use crate::db::sql::{self, Db, ErrorKind, Row, Value};
use crate::error::fatal;
use crate::params;
use anyhow::Context;

/// A connected Moodle site.
pub struct Site {
    /// The configured name (origin server name or `default`).
    pub name: String,
    /// The connection.
    pub db: Db,
    /// Table naming, for this database's engine.
    pub tables: Tables,
    /// Queries sent so far (the benchmark's figure).
    pub queries: u64,
    /// Whether `bigbluebuttonbn_recordings` exists (Moodle ≥ 4.0).
    pub has_recordings: bool,
    /// The privileges the tool needs, for messages.
    needs: String,
}

/// What moodle-moderators needs to know about a site once.
#[derive(Debug, Clone, Default)]
pub struct Settings {
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

/// How a tool uses its Moodle databases.
#[derive(Debug, Clone, Copy)]
pub struct Use {
    /// The tool's name (PostgreSQL `application_name`).
    pub tool: &'static str,
    /// Seconds to wait for a row lock another session holds (None: the server's setting).
    pub lock_timeout: Option<u64>,
    /// Whether it writes descriptions (needs UPDATE on the activity and course tables).
    pub writes: bool,
}

impl Site {
    /// Connects and checks that the database is a Moodle with the BigBlueButton plugin
    /// under the configured prefix (1 query). A failure is fatal.
    pub fn connect(entry: &DbEntry, tables: &Tables, how: Use) -> anyhow::Result<Site> {
        let context = || format!("Moodle database {}", entry.name);
        let db = Db::connect(&entry.conninfo)
            .with_context(context)
            .map_err(fatal)?;
        let tables = tables
            .on(db.engine())
            .with_context(context)
            .map_err(fatal)?;
        let mut needs = format!("{} needs SELECT on Moodle's tables", how.tool);
        if how.writes {
            needs.push_str(&format!(
                " and UPDATE on {} and {}",
                tables.name("bigbluebuttonbn"),
                tables.name("course")
            ));
        }
        needs.push_str(&format!(" (GRANT statements in {}(1))", how.tool));
        let mut site = Site {
            name: entry.name.clone(),
            db,
            tables,
            queries: 0,
            has_recordings: false,
            needs,
        };
        if site.db.engine() == Engine::Postgres {
            let set = format!("SET application_name = '{}'", how.tool);
            site.db.batch(&set).map_err(|e| site.fail(e))?;
        }
        if let Some(secs) = how.lock_timeout {
            site.db.set_lock_timeout(secs).map_err(|e| site.fail(e))?;
        }
        site.check_kind()?;
        Ok(site)
    }

    /// Finds which of the plugin's tables exist; fatal when it is not a Moodle database.
    fn check_kind(&mut self) -> anyhow::Result<()> {
        let t = self.tables.clone();
        let wanted = ["bigbluebuttonbn", "bigbluebuttonbn_recordings"].map(|x| t.name(x));
        // information_schema lists the tables the account holds a privilege on.
        let rows = self.query(
            &format!(
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = {} AND table_name IN ($1, $2)",
                t.schema_sql()
            ),
            params![&wanted[0], &wanted[1]],
        )?;
        let found: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        if !found.contains(&wanted[0]) {
            let what = crate::db::probe::wrong_app(&mut self.db, crate::db::probe::App::Moodle)
                .with_context(|| format!("Moodle database {}", self.name))
                .map_err(fatal)?;
            return Err(fatal(anyhow::anyhow!(
                "Moodle database {}: {what}; this is not a Moodle database with the \
                 BigBlueButton plugin: no table {} in {} (another kind of database, another \
                 --prefix{}, or an account without privileges on it; check --db, --db-file)",
                self.name,
                wanted[0],
                t.place(),
                if self.db.engine() == Engine::Postgres {
                    " or --schema"
                } else {
                    ""
                }
            )));
        }
        self.has_recordings = found.contains(&wanted[1]);
        Ok(())
    }

    /// Reads the settings that the participant rules depend on (2 queries).
    pub fn settings(&mut self) -> anyhow::Result<Settings> {
        let t = self.tables.clone();
        let cfg = self.query(
            &format!(
                "SELECT name, value FROM {} WHERE name IN ($1, $2)",
                t.t("config")
            ),
            params![
                "siteadmins",
                "bigbluebuttonbn_participant_moderator_default"
            ],
        )?;
        let mut s = Settings {
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
            &format!("SELECT id, shortname FROM {} ORDER BY id", t.t("role")),
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

    /// Runs one query and counts it; any database error is fatal: the database is gone, or
    /// it is not the Moodle we expect.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> anyhow::Result<Vec<Row>> {
        self.try_query(sql, params).map_err(|e| self.fail(e))
    }

    /// A database error as a fatal one: "lost the Moodle database NAME" when the connection
    /// is gone, else "Moodle database NAME", with the privileges the tool needs when the
    /// account lacks one.
    pub fn fail(&self, e: sql::Error) -> anyhow::Error {
        let site = &self.name;
        let what = match e.kind {
            ErrorKind::Lost => format!("lost the Moodle database {site}"),
            ErrorKind::Denied | ErrorKind::ReadOnly => format!(
                "Moodle database {site}: the account lacks a privilege: {}",
                self.needs
            ),
            _ => format!("Moodle database {site}"),
        };
        fatal(anyhow::Error::new(e).context(what))
    }

    /// Runs one query and counts it; the error as the database gave it.
    pub fn try_query(&mut self, sql: &str, params: &[Value]) -> sql::Result<Vec<Row>> {
        self.queries += 1;
        let start = std::time::Instant::now();
        let rows = self.db.query(sql, params)?;
        log::debug!(
            "Moodle database {}: {} rows in {} ms from {}",
            self.name,
            rows.len(),
            start.elapsed().as_millis(),
            sql.split_whitespace()
                .take(12)
                .collect::<Vec<_>>()
                .join(" ")
        );
        Ok(rows)
    }
}

/// Placeholders `$first, …` for an `IN (…)` list of `n` values; `NULL` (matching nothing)
/// when there are none, as `IN ()` is not SQL.
pub fn in_list(first: usize, n: usize) -> String {
    if n == 0 {
        "NULL".to_string()
    } else {
        Db::list(first, n)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn empty_in_lists_match_nothing() {
        assert_eq!(super::in_list(2, 0), "NULL");
        assert_eq!(super::in_list(2, 2), "$2, $3");
    }
}
