//! Moodle databases for tests: the fixture schemas and data of tests/fixtures/moodle loaded
//! into a fresh database of the throwaway PostgreSQL (any table prefix and schema) or MariaDB
//! server (any prefix; MariaDB has no schemas), and other accounts on them.

use super::fixture;
use super::mysql::{self, Fixture};
use super::pg::{TestDb, fresh_db};
use bbbmig_core::db::Engine;

/// Which Moodle to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Moodle 4.x: the spec's schema and sample data plus bbbmig's extra rows.
    Moodle4,
    /// Moodle 3.x with the 2.x plugin: no recordings table.
    Moodle3,
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("moodle/{name}")))
        .unwrap_or_else(|e| panic!("fixture moodle/{name}: {e}"))
}

/// The SQL that builds a site: files of the flavor with `mdl_` replaced by `prefix`.
pub fn site_sql(flavor: Flavor, prefix: &str) -> String {
    let files: &[&str] = match flavor {
        Flavor::Moodle4 => &[
            "moodle4_schema.sql",
            "moodle4_sample_data.sql",
            "moodle4_extra.sql",
        ],
        Flavor::Moodle3 => &["moodle3_schema.sql", "moodle3_data.sql"],
    };
    files
        .iter()
        .map(|f| read(f).replace("mdl_", prefix))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fresh database holding one Moodle site, its tables named `<schema>.<prefix>…`.
pub fn site(hint: &str, flavor: Flavor, schema: &str, prefix: &str) -> TestDb {
    let db = fresh_db(hint);
    let mut sql = String::new();
    if schema != "public" {
        sql.push_str(&format!(
            "CREATE SCHEMA {schema}; SET search_path = {schema};\n"
        ));
    }
    sql.push_str(&site_sql(flavor, prefix));
    db.exec(&sql);
    db
}

/// The usual Moodle 4 site (`public.mdl_…`).
pub fn moodle4(hint: &str) -> TestDb {
    site(hint, Flavor::Moodle4, "public", "mdl_")
}

/// A fresh database holding one Moodle site on `engine`, its tables named `<prefix>…` (in
/// `schema` on PostgreSQL). None for a combination MariaDB cannot have: a schema other
/// than `public` (Moodle on MySQL has none; the URL's database is the place).
pub fn site_on(
    engine: Engine,
    hint: &str,
    flavor: Flavor,
    schema: &str,
    prefix: &str,
) -> Option<TestDb> {
    if engine == Engine::Postgres {
        return Some(site(hint, flavor, schema, prefix));
    }
    if schema != "public" {
        return None;
    }
    // Moodle 4 as scripts/mariadb-fixtures loads it (Moodle's MySQL schema, the sample data).
    let db = mysql::fresh_db(hint, Fixture::Moodle);
    if flavor == Flavor::Moodle3 {
        // The same tables as moodle3_schema.sql is to moodle4_schema.sql: no recordings table,
        // the 2.x lock columns instead of the 4.1 guest ones; then only the seed rows of the
        // MySQL schema, and the Moodle 3 data.
        db.exec(
            "DROP TABLE mdl_bigbluebuttonbn_recordings;
             ALTER TABLE mdl_bigbluebuttonbn DROP COLUMN guestallowed, DROP COLUMN mustapproveuser,
               DROP COLUMN guestlinkuid, DROP COLUMN guestpassword,
               ADD COLUMN lockedlayout SMALLINT NOT NULL DEFAULT 0,
               ADD COLUMN lockonjoin SMALLINT NOT NULL DEFAULT 0,
               ADD COLUMN lockonjoinconfigurable SMALLINT NOT NULL DEFAULT 0",
        );
        let mut sql = String::new();
        for t in db.strings(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
        ) {
            sql.push_str(&format!("DELETE FROM `{}`;\n", t[0]));
        }
        let schema = read("moodle4_schema_mysql.sql");
        let seeds = &schema[schema.find("INSERT INTO").expect("seed rows")..];
        sql.push_str(seeds);
        sql.push_str(&mysql_data(&read("moodle3_data.sql")));
        db.exec(&sql);
    }
    if prefix != "mdl_" {
        let renames: Vec<String> = db
            .strings(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
            )
            .into_iter()
            .map(|t| format!("`{}` TO `{prefix}{}`", t[0], &t[0]["mdl_".len()..]))
            .collect();
        db.exec(&format!("RENAME TABLE {}", renames.join(", ")));
    }
    Some(db)
}

/// PostgreSQL test data for MariaDB: its sequence bumps dropped (AUTO_INCREMENT follows
/// explicit ids), as scripts/mariadb-fixtures does.
fn mysql_data(sql: &str) -> String {
    sql.lines()
        .filter(|l| !l.starts_with("SELECT setval("))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The usual Moodle 4 site (`mdl_…`, in `public` on PostgreSQL) on `engine`.
pub fn moodle4_on(engine: Engine, hint: &str) -> TestDb {
    site_on(engine, hint, Flavor::Moodle4, "public", "mdl_").expect("Moodle 4 on every engine")
}

/// An account with fewer privileges on `db`: `reader` (SELECT only) or `writer` (SELECT and
/// UPDATE). MariaDB: the throwaway server's accounts of those names; PostgreSQL: roles made
/// for the test with the same grants on the Moodle tables.
pub fn account(db: &TestDb, who: &str) -> TestDb {
    let conninfo = match db.engine {
        Engine::MySql => {
            let up = who.to_ascii_uppercase();
            let var = |k: &str| {
                std::env::var(format!("BBBMIG_TEST_MYSQL_{up}_{k}"))
                    .unwrap_or_else(|_| panic!("no MariaDB account {who}: run scripts/test"))
            };
            let (user, pw) = (var("USER"), var("PASSWORD"));
            let at = db.conninfo.find('@').expect("user@ in the URL");
            format!("mysql://{user}:{pw}{}", &db.conninfo[at..])
        }
        Engine::Postgres => {
            let role = format!("{}_{who}", db.name);
            let grant = match who {
                "reader" => "SELECT",
                "writer" => "SELECT, UPDATE",
                other => panic!("unknown account {other}"),
            };
            db.exec(&format!(
                "CREATE ROLE {role} LOGIN; GRANT {grant} ON ALL TABLES IN SCHEMA public TO {role}"
            ));
            let user = db
                .conninfo
                .split_whitespace()
                .find(|w| w.starts_with("user="))
                .expect("user=");
            db.conninfo.replace(user, &format!("user={role}"))
        }
    };
    TestDb {
        name: db.name.clone(),
        conninfo,
        engine: db.engine,
    }
}

/// A new account on `db`'s server holding only `grants` (statements as the man pages print
/// them, for a database named `moodle` and an account named `account`, which are replaced
/// by the test's).
pub fn grantee(db: &TestDb, account: &str, grants: &[String]) -> TestDb {
    let user = format!("{}_{}", db.name, account.trim_start_matches("bbbmig_"));
    let mut admin = db.sql();
    let conninfo = match db.engine {
        Engine::Postgres => {
            admin.batch(&format!("CREATE ROLE {user} LOGIN")).unwrap();
            let who = db
                .conninfo
                .split_whitespace()
                .find(|w| w.starts_with("user="))
                .expect("user=");
            db.conninfo.replace(who, &format!("user={user}"))
        }
        Engine::MySql => {
            let password = format!("pw-{}", std::process::id());
            admin
                .batch(&format!(
                    "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"
                ))
                .unwrap();
            let at = db.conninfo.find('@').expect("user@ in the URL");
            format!("mysql://{user}:{password}{}", &db.conninfo[at..])
        }
    };
    for g in grants {
        let g = g
            .replace(&format!("'{account}'@'%'"), &format!("'{user}'@'%'"))
            .replace(account, &user)
            .replace("DATABASE moodle ", &format!("DATABASE {} ", db.name))
            .replace(" moodle.", &format!(" {}.", db.name));
        admin.batch(&g).unwrap_or_else(|e| panic!("{g}: {e}"));
    }
    TestDb {
        name: db.name.clone(),
        conninfo,
        engine: db.engine,
    }
}
