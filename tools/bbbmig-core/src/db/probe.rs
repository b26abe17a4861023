//! What a connected PostgreSQL database is, told from its tables (Moodle, Pod, Greenlight),
//! so that a URL given to the wrong tool is named at once; and which of the table
//! privileges a tool needs its account lacks (the `--check` pre-flight).

use anyhow::bail;
use postgres::Client;

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
}

/// Table names (any schema, any Moodle prefix) that tell the applications apart.
const PROBE: &str = "SELECT \
    bool_or(relname = 'authentication_owner') AND bool_or(relname = 'import_video_externalrecording'), \
    bool_or(relname LIKE '%bigbluebuttonbn') AND bool_or(relname LIKE '%course_modules'), \
    bool_or(relname = 'rooms') AND bool_or(relname = 'users') \
      AND (bool_or(relname = 'shared_accesses') OR bool_or(relname = 'recordings')) \
    FROM pg_catalog.pg_class WHERE relkind IN ('r', 'p', 'v')";

/// Which application's tables the database holds (`None`: none of them, or several).
pub fn app(client: &mut Client) -> anyhow::Result<Option<App>> {
    let row = client.query_one(PROBE, &[])?;
    let has = |i: usize| row.get::<_, Option<bool>>(i).unwrap_or(false);
    let found: Vec<App> = [(0, App::Pod), (1, App::Moodle), (2, App::Greenlight)]
        .into_iter()
        .filter(|(i, _)| has(*i))
        .map(|(_, a)| a)
        .collect();
    Ok(match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// Refuses a database that holds another application's tables ("this looks like a Moodle
/// database"); `setting` says where the tool got its URL. With `strict`, also one that
/// holds none of `want`'s tables.
pub fn expect(client: &mut Client, want: App, setting: &str, strict: bool) -> anyhow::Result<()> {
    match app(client)? {
        Some(a) if a == want => Ok(()),
        Some(other) => bail!(
            "this looks like a {} database, not a {} one ({} tables found): check {setting}",
            other.name(),
            want.name(),
            other.name()
        ),
        None if strict => bail!(
            "this database has none of {}'s tables: check {setting}",
            want.name()
        ),
        None => Ok(()),
    }
}

/// The privileges the account lacks among `needed` (`(table, "SELECT, INSERT")`), and
/// the tables missing, in words (`GRANT INSERT ON t`); each inserting table also needs
/// its id sequence. Each privilege is asked alone: PostgreSQL answers true for a list
/// when any one of them is held.
pub fn missing_privileges(
    client: &mut Client,
    needed: &[(String, &str)],
) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for (table, privs) in needed {
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[table])?
            .get(0);
        if !exists {
            out.push(format!("table {table} is missing"));
            continue;
        }
        let mut lacking = Vec::new();
        for p in privs.split(',').map(str::trim) {
            let ok: bool = client
                .query_one(
                    "SELECT has_table_privilege($1::text::regclass, $2)",
                    &[table, &p],
                )?
                .get(0);
            if !ok {
                lacking.push(p);
            }
        }
        if !lacking.is_empty() {
            out.push(format!("GRANT {} ON {table}", lacking.join(", ")));
        }
        if privs.contains("INSERT") {
            let seq: Option<String> = client
                .query_one("SELECT pg_get_serial_sequence($1, 'id')", &[table])?
                .get(0);
            if let Some(seq) = seq {
                let ok: bool = client
                    .query_one("SELECT has_sequence_privilege($1, 'USAGE')", &[&seq])?
                    .get(0);
                if !ok {
                    out.push(format!("GRANT USAGE ON SEQUENCE {seq}"));
                }
            }
        }
    }
    Ok(out)
}
