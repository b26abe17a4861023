//! The database seam (`db::sql::Db`) on both real servers: the same statements, written
//! once with `$n` placeholders, behave alike on PostgreSQL and MariaDB (ids, repeated
//! parameters, UTC times, emoji, savepoints, locks, and the kinds of errors tools act on).

use bbbmig_core::db::sql::{Db, ErrorKind, Value};
use bbbmig_core::params;
use chrono::{TimeZone, Utc};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} unset: run scripts/test"))
}

/// A database on each engine the test may create tables in.
fn both() -> Vec<(&'static str, String)> {
    let pg = crate::support::pg::fresh_db("seam");
    let s = crate::support::mysql::server();
    let my = format!(
        "mysql://{}:{}@{}:{}/{}?ssl-mode=DISABLED",
        var("BBBMIG_TEST_MYSQL_BBBMIG_USER"),
        var("BBBMIG_TEST_MYSQL_BBBMIG_PASSWORD"),
        s.host,
        s.port,
        s.pod_db
    );
    vec![("postgres", pg.conninfo), ("mariadb", my)]
}

fn create(db: &mut Db, table: &str) {
    let (id, text) = match db.engine() {
        bbbmig_core::db::Engine::Postgres => ("serial PRIMARY KEY", "varchar(5)"),
        bbbmig_core::db::Engine::MySql => ("int AUTO_INCREMENT PRIMARY KEY", "varchar(5)"),
    };
    db.batch(&format!("DROP TABLE IF EXISTS {table}")).unwrap();
    db.batch(&format!(
        "CREATE TABLE {table} (id {id}, name {text} NOT NULL UNIQUE, at timestamp{} NULL, \
         flag boolean NOT NULL DEFAULT false)",
        if db.engine() == bbbmig_core::db::Engine::Postgres {
            "tz"
        } else {
            ""
        }
    ))
    .unwrap();
}

#[test]
fn one_sql_text_behaves_alike_on_both_engines() {
    for (engine, url) in both() {
        let mut db = Db::connect(&url).unwrap_or_else(|e| panic!("{engine}: {e:#}"));
        let t = format!("seam_{}", std::process::id());
        create(&mut db, &t);
        let when = Utc.with_ymd_and_hms(2024, 3, 31, 1, 30, 0).unwrap();
        let a = db
            .insert(
                &format!("INSERT INTO {t} (name, at, flag) VALUES ($1, $2, $3)"),
                params!["é😀", when, true],
            )
            .unwrap();
        let b = db
            .insert(&format!("INSERT INTO {t} (name) VALUES ($1)"), params!["b"])
            .unwrap();
        assert!(b > a && a > 0, "{engine}: ids {a} {b}");
        // $1 twice, parameters out of order.
        let rows = db
            .query(
                &format!("SELECT id, name, at, flag FROM {t} WHERE name = $2 OR (id = $1 AND $1 > 0) ORDER BY id"),
                params![a, "b"],
            )
            .unwrap();
        assert_eq!(rows.len(), 2, "{engine}");
        assert_eq!(rows[0].get::<String>(1), "é😀", "{engine}");
        assert_eq!(
            rows[0].get::<Option<chrono::DateTime<Utc>>>(2),
            Some(when),
            "{engine}"
        );
        assert!(rows[0].get::<bool>(3), "{engine}");
        assert!(!rows[1].get::<bool>(3), "{engine}");
        assert_eq!(rows[1].0[2], Value::Null, "{engine}");
        // Unique violation and too long are their own kinds; the transaction survives
        // through a savepoint.
        db.begin().unwrap();
        db.savepoint("r").unwrap();
        let e = db
            .execute(&format!("INSERT INTO {t} (name) VALUES ($1)"), params!["b"])
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unique, "{engine}: {e}");
        db.rollback_to("r").unwrap();
        let e = db
            .execute(
                &format!("INSERT INTO {t} (name) VALUES ($1)"),
                params!["abcdef"],
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLong, "{engine}: {e}");
        db.rollback_to("r").unwrap();
        db.execute(&format!("INSERT INTO {t} (name) VALUES ($1)"), params!["c"])
            .unwrap();
        db.commit().unwrap();
        let n: i64 = db
            .query_one(&format!("SELECT COUNT(*) FROM {t}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 3, "{engine}");
        // An update counts the rows it matched, even when nothing changes.
        let n = db
            .execute(
                &format!(
                    "UPDATE {t} SET flag = flag WHERE name IN ({})",
                    Db::list(1, 2)
                ),
                params!["b", "c"],
            )
            .unwrap();
        assert_eq!(n, 2, "{engine}");
        let insert = format!("INSERT INTO {t} (name) VALUES ($1)");
        assert!(
            !db.insert_or_skip(&insert, &["name"], params!["c"]).unwrap(),
            "{engine}"
        );
        assert!(
            db.insert_or_skip(&insert, &["name"], params!["d"]).unwrap(),
            "{engine}"
        );
        assert!(db.table_exists(&t).unwrap(), "{engine}");
        assert!(!db.table_exists("no_such_table").unwrap(), "{engine}");
        assert_eq!(db.column_len(&t, "name").unwrap(), Some(5), "{engine}");
        // A read-only snapshot refuses writes with its own kind.
        db.begin_snapshot().unwrap();
        let e = db.execute(&format!("DELETE FROM {t}"), &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ReadOnly, "{engine}: {e}");
        db.rollback().unwrap();
        // Named locks: taken, re-entrant for the session, released.
        db.lock(1, "import https://x/y").unwrap();
        db.unlock(1, "import https://x/y").unwrap();
        db.batch(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn fresh_fixture_databases_on_both_engines_read_alike() {
    use crate::support::mysql::{Fixture, fresh_db};
    let pg = crate::support::pod::pod_db("seampod");
    let my = fresh_db("seampod", Fixture::Pod);
    let sql = "SELECT username, is_staff FROM auth_user ORDER BY id";
    let (a, b) = (pg.strings(sql), my.strings(sql));
    assert!(!a.is_empty());
    assert_eq!(a, b);
    let m = fresh_db("seammoodle", Fixture::Moodle);
    assert!(m.number("SELECT COUNT(*) FROM mdl_bigbluebuttonbn") > 0);
}
