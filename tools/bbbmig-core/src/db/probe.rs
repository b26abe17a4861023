//! What a connected database is, told from its tables (Moodle, Pod, Greenlight), so that a
//! URL given to the wrong tool is named at once; and which of the table privileges a tool
//! needs its account lacks (the `--check` pre-flight). Both engines.

use crate::db::Engine;
use crate::db::sql::Db;
use crate::params;

/// The application whose tables a database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    Moodle,
    Pod,
    Greenlight,
}

impl App {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            App::Moodle => "Moodle",
            App::Pod => "Pod",
            App::Greenlight => "Greenlight",
        }
    }

    /// Whether the table names (any schema, any Moodle prefix) are this application's.
    fn holds(self, names: &[String]) -> bool {
        let has = |t: &str| names.iter().any(|n| n == t);
        let ends = |t: &str| names.iter().any(|n| n.ends_with(t));
        match self {
            App::Pod => has("authentication_owner") && has("import_video_externalrecording"),
            App::Moodle => ends("bigbluebuttonbn") && ends("course_modules"),
            App::Greenlight => {
                has("rooms") && has("users") && (has("shared_accesses") || has("recordings"))
            }
        }
    }
}

/// The names of the tables that tell the applications apart (the database's own
/// schemas on PostgreSQL, the current database on MariaDB/MySQL).
fn telling_tables(db: &mut Db) -> anyhow::Result<Vec<String>> {
    let place = match db.engine() {
        Engine::Postgres => "table_schema NOT IN ('pg_catalog', 'information_schema')",
        Engine::MySql => "table_schema = DATABASE()",
    };
    let sql = format!(
        "SELECT table_name FROM information_schema.tables WHERE {place} AND \
         (table_name IN ('authentication_owner', 'import_video_externalrecording', 'rooms', \
         'users', 'shared_accesses', 'recordings') \
         OR table_name LIKE '%bigbluebuttonbn' OR table_name LIKE '%course_modules')"
    );
    Ok(db
        .query(&sql, &[])?
        .iter()
        .map(|r| r.get::<String>(0))
        .collect())
}

/// Which application's tables the database holds (`None`: none of them, or several).
pub fn app(db: &mut Db) -> anyhow::Result<Option<App>> {
    let names = telling_tables(db)?;
    let found: Vec<App> = [App::Pod, App::Moodle, App::Greenlight]
        .into_iter()
        .filter(|a| a.holds(&names))
        .collect();
    Ok(match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// For a database that lacks `want`'s tables, what it is instead, in words: "this looks
/// like a Moodle database, not a Pod one" or "this database has none of Pod's tables".
pub fn wrong_app(db: &mut Db, want: App) -> anyhow::Result<String> {
    Ok(match app(db)? {
        Some(other) if other != want => format!(
            "this looks like a {} database, not a {} one ({} tables found)",
            other.name(),
            want.name(),
            other.name()
        ),
        _ => format!("this database has none of {}'s tables", want.name()),
    })
}

/// The privileges the account lacks among `needed` (`(table, "SELECT, INSERT")`), and
/// the tables missing, in words (`GRANT INSERT ON t`). A privilege held on some columns
/// only counts as held (the man pages grant UPDATE on the written columns). On
/// PostgreSQL each inserting table also needs its id sequence; each privilege is asked
/// alone (a list answers true when any one is held). On MariaDB/MySQL the account's own
/// grants are read from information_schema (global, database, table and column ones;
/// privileges that come only through a role are not seen there and are reported).
pub fn missing_privileges(db: &mut Db, needed: &[(String, &str)]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for (table, privs) in needed {
        if !exists(db, table)? {
            out.push(format!("table {table} is missing"));
            continue;
        }
        let held = match db.engine() {
            Engine::Postgres => None,
            Engine::MySql => Some(mysql_privileges(db, table)?),
        };
        let mut lacking = Vec::new();
        for p in privs.split(',').map(str::trim) {
            let ok = match &held {
                Some(held) => held.iter().any(|h| h.eq_ignore_ascii_case(p)),
                None => pg_privilege(db, table, p)?,
            };
            if !ok {
                lacking.push(p);
            }
        }
        if !lacking.is_empty() {
            out.push(format!("GRANT {} ON {table}", lacking.join(", ")));
        }
        if privs.contains("INSERT") && db.engine() == Engine::Postgres {
            let seq: Option<String> = db
                .query_one("SELECT pg_get_serial_sequence($1, 'id')", params![table])?
                .get(0);
            if let Some(seq) = seq {
                let ok: bool = db
                    .query_one("SELECT has_sequence_privilege($1, 'USAGE')", params![&seq])?
                    .get(0);
                if !ok {
                    out.push(format!("GRANT USAGE ON SEQUENCE {seq}"));
                }
            }
        }
    }
    Ok(out)
}

/// Whether `table` (as written in SQL: `t`, `schema.t`, or quoted parts) exists.
fn exists(db: &mut Db, table: &str) -> anyhow::Result<bool> {
    Ok(match db.engine() {
        Engine::Postgres => db
            .query_one("SELECT to_regclass($1) IS NOT NULL", params![table])?
            .get(0),
        Engine::MySql => db.table_exists(unquoted(table))?,
    })
}

/// One PostgreSQL privilege on a table, any column counting for SELECT, INSERT, UPDATE.
fn pg_privilege(db: &mut Db, table: &str, p: &str) -> anyhow::Result<bool> {
    let sql = if ["SELECT", "INSERT", "UPDATE"].contains(&p) {
        "SELECT has_any_column_privilege($1::text::regclass, $2)"
    } else {
        "SELECT has_table_privilege($1::text::regclass, $2)"
    };
    Ok(db.query_one(sql, params![table, p])?.get(0))
}

/// A MariaDB/MySQL table name without its quotes (the tools quote with backquotes).
fn unquoted(table: &str) -> &str {
    table.trim_matches('`')
}

/// The privileges the current account holds on `table` of the current database:
/// global, database (its name may be a LIKE pattern), table and column grants.
fn mysql_privileges(db: &mut Db, table: &str) -> anyhow::Result<Vec<String>> {
    let grantee = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
                   SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    let sql = format!(
        "SELECT privilege_type FROM information_schema.user_privileges WHERE grantee = {grantee} \
         UNION SELECT privilege_type FROM information_schema.schema_privileges \
           WHERE grantee = {grantee} AND DATABASE() LIKE table_schema \
         UNION SELECT privilege_type FROM information_schema.table_privileges \
           WHERE grantee = {grantee} AND table_schema = DATABASE() AND table_name = $1 \
         UNION SELECT privilege_type FROM information_schema.column_privileges \
           WHERE grantee = {grantee} AND table_schema = DATABASE() AND table_name = $1"
    );
    Ok(db
        .query(&sql, params![unquoted(table)])?
        .iter()
        .map(|r| r.get::<String>(0))
        .collect())
}
