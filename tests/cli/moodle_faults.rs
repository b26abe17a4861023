//! Faults around the Moodle tools' databases, each on PostgreSQL and MariaDB: a wrong
//! password, a database of another kind, an account without the privileges, a row locked by
//! someone else, the connection lost with a record half written, long values.

use crate::moodle::{
    REC10, SEED10, enriched, inform, intro, kill_sessions, mid, moderators, rec, statuses,
};
use crate::support::moodle::{self, account};
use crate::support::mysql::{self, Fixture};
use crate::support::pg::{TestDb, db_file};
use crate::support::{cmd, engines, pod};
use bbbmig_core::db::Engine;
use bbbmig_core::params;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn moodle_wrong_password_says_where_the_password_came_from() {
    // MariaDB only: the throwaway PostgreSQL trusts its socket (db_tls.rs tests passwords
    // over PostgreSQL TLS).
    let db = moodle::moodle4_on(Engine::MySql, "wrongpw");
    let at = db.conninfo.find('@').unwrap();
    let colon = db.conninfo[..at].rfind(':').unwrap();
    let wrong = TestDb {
        name: db.name.clone(),
        conninfo: format!(
            "{}:not-the-password{}",
            &db.conninfo[..colon],
            &db.conninfo[at..]
        ),
        engine: Engine::MySql,
    };
    let input = rec(REC10, &mid(SEED10, 2, 10), None);
    for out in [
        moderators(&[("default", &wrong)], &[], &input),
        inform(&wrong, &[], &enriched(&db)),
    ] {
        out.fails_with(2)
            .stderr_has("Moodle database default")
            .stderr_has("Access denied")
            .stderr_has("password from the connection string");
        assert!(!out.stderr.contains("not-the-password"), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
    }
    // No password in the URL and none in ~/.my.cnf: said so.
    let home = tempfile::tempdir().unwrap();
    let bare = TestDb {
        name: db.name.clone(),
        conninfo: format!("{}{}", &db.conninfo[..colon], &db.conninfo[at..]),
        engine: Engine::MySql,
    };
    let dbs = db_file(&[("default", &bare)]);
    let mut c = cmd("moodle-moderators");
    c.env("HOME", home.path()).arg("--db-file").arg(&dbs.path);
    crate::support::run(c, &input)
        .fails_with(2)
        .stderr_has("Access denied")
        .stderr_has("password from nowhere");
}

#[test]
fn moodle_a_pod_database_is_not_a_moodle_database() {
    for engine in engines() {
        eprintln!("engine {engine:?}");
        let pod = match engine {
            Engine::Postgres => pod::pod_db(Engine::Postgres, "podnotmoodle"),
            Engine::MySql => mysql::fresh_db("podnotmoodle", Fixture::Pod),
        };
        let out = moderators(
            &[("default", &pod)],
            &[],
            &rec(REC10, &mid(SEED10, 2, 10), None),
        );
        out.fails_with(2)
            .stderr_has("Moodle database default")
            .stderr_has("is not a Moodle database")
            .stderr_has("no table mdl_bigbluebuttonbn");
        assert!(out.stdout.is_empty(), "{out:?}");
        let m = moodle::moodle4_on(engine, "podnotmoodle_m");
        let out = inform(&pod, &[], &enriched(&m));
        out.fails_with(2).stderr_has("is not a Moodle database");
    }
}

#[test]
fn moodle_privileges_reader_suffices_for_moderators_and_inform_needs_update() {
    for engine in engines() {
        eprintln!("engine {engine:?}");
        let db = moodle::moodle4_on(engine, "grants");
        let reader = account(&db, "reader");
        let input = enriched(&reader);
        assert!(input.contains("\"activity_id\":10"), "{input}");
        let before = intro(&db, 10);
        let out = inform(&reader, &[], &input);
        out.fails_with(2)
            .stderr_has("the account lacks a privilege")
            .stderr_has("UPDATE on mdl_bigbluebuttonbn and mdl_course");
        assert!(out.stdout.is_empty(), "{out:?}");
        assert_eq!(intro(&db, 10), before);
        // --dry-run writes nothing: SELECT is enough
        inform(&reader, &["--dry-run"], &input).ok();
        // SELECT and UPDATE: the notices are written
        let out = inform(&account(&db, "writer"), &[], &input);
        out.ok();
        assert_eq!(statuses(&out)[0], "updated");
        assert!(intro(&db, 10).unwrap().contains("bbbmig-notice"));
    }
}

/// Holds a lock on one row in an open transaction until dropped (or committed).
fn hold_row(db: &TestDb, table: &str, id: i64) -> bbbmig_core::db::sql::Db {
    let mut c = db.sql();
    c.begin().unwrap();
    let got = c
        .query(
            &format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE"),
            params![id],
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    c
}

#[test]
fn moodle_inform_lock_wait_timeout_fails_that_activity_alone() {
    for engine in engines() {
        eprintln!("engine {engine:?}");
        let db = moodle::moodle4_on(engine, "lockwait");
        let input = enriched(&db);
        let mut holder = hold_row(&db, "mdl_bigbluebuttonbn", 10);
        let start = Instant::now();
        let out = inform(&db, &["--lock-timeout", "1"], &input);
        assert!(start.elapsed() < Duration::from_secs(20), "{out:?}");
        out.fails_with(1)
            .stderr_has("line 1: record ")
            .stderr_has("activity 10 of Moodle database default: another session holds a lock")
            .stderr_has("waited 1 s");
        // The other activities are done; the locked one's two records failed.
        assert_eq!(statuses(&out), ["updated", "updated", "no-activity"]);
        out.stderr_has("5 records: 1 no-activity, 2 updated, 2 failed");
        holder.rollback().unwrap();
        assert_eq!(intro(&db, 10).as_deref(), Some("<p>Weekly lecture.</p>"));
        let again = inform(&db, &["--lock-timeout", "1"], &input);
        again.ok();
        assert_eq!(statuses(&again)[0], "updated");
    }
}

#[test]
fn moodle_inform_database_lost_mid_record_is_fatal_and_rolls_that_record_back() {
    for engine in engines() {
        eprintln!("engine {engine:?}");
        let db = moodle::moodle4_on(engine, "lostinform");
        let lines: Vec<String> = enriched(&db).lines().map(|l| format!("{l}\n")).collect();
        let dbs = db_file(&[("default", &db)]);
        let mut child = cmd("moodle-inform")
            .env("POD_URL", "https://pod.example.org/")
            .arg("--db-file")
            .arg(&dbs.path)
            .args(["--batch", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // activity 10: written and committed
        stdin.write_all(lines[0].as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.contains("\"status\":\"updated\""), "{first}");
        // activity 12 (same course): its description is written, then the course's cache
        // bump waits for our lock, and the connection is cut there.
        let mut holder = hold_row(&db, "mdl_course", 2);
        stdin.write_all(lines[1].as_bytes()).unwrap();
        stdin.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let killed = loop {
            std::thread::sleep(Duration::from_millis(100));
            let n = kill_sessions(&db, true);
            if n > 0 || Instant::now() > deadline {
                break n;
            }
        };
        assert_eq!(killed, 1, "the tool never waited for the course row");
        holder.rollback().unwrap();
        let _ = stdin.write_all(lines[2].as_bytes());
        drop(stdin);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(rest, "", "nothing emitted after the database went away");
        assert!(
            stderr.contains("moodle-inform: error: lost the Moodle database default"),
            "{stderr}"
        );
        // the record in flight was rolled back: activity 12's description is still NULL
        assert_eq!(intro(&db, 12), None);
        assert!(intro(&db, 10).unwrap().contains("bbbmig-notice"));
    }
}

#[test]
fn moodle_long_values_in_bytes_and_characters_pass_or_fail_alone() {
    for engine in engines() {
        eprintln!("engine {engine:?}");
        let db = moodle::moodle4_on(engine, "long");
        // Longer than recordingid (64) and meetingid (255) in characters and in bytes: not
        // found, no error.
        let long_id = "é".repeat(300);
        let long_meeting = format!("{}-2-10[0]", "ß".repeat(300));
        let input = [
            rec(&long_id, &long_meeting, None),
            rec(REC10, &mid(SEED10, 2, 10), None),
        ]
        .concat();
        let out = moderators(&[("default", &db)], &[], &input);
        out.ok().stderr_has("1 found, 1 not-found");
        // A name of 40,000 characters (80,000 bytes, more than a MySQL TEXT holds): Moodle's
        // intro is TEXT on PostgreSQL and LONGTEXT on MariaDB, it fits, and comes out again.
        let line = enriched(&db).lines().next().unwrap().to_string();
        let name = format!("{}😀", "é".repeat(40_000));
        let long = line.replacen(
            "\"name\":\"Lecture <1>\"",
            &format!("\"name\":\"{name}\""),
            1,
        );
        assert_ne!(long, line);
        let out = inform(&db, &[], &format!("{long}\n"));
        out.ok();
        let text = intro(&db, 10).unwrap();
        assert!(text.contains(&name), "the name came back whole");
        inform(&db, &["--remove"], &format!("{long}\n")).ok();
        assert_eq!(intro(&db, 10).as_deref(), Some("<p>Weekly lecture.</p>"));
    }
}

/// The GRANT statements of a man page's block marked `.\" grants: TOOL ENGINE`.
fn man_grants(page: &str, marker: &str) -> Vec<String> {
    let text = std::fs::read_to_string(crate::support::root().join("man").join(page)).unwrap();
    let start = text
        .find(&format!(".\\\" grants: {marker}\n"))
        .unwrap_or_else(|| panic!("no grants {marker} in {page}"));
    let block = &text[start..];
    let block = &block[block.find(".nf\n").unwrap() + 4..block.find(".fi\n").unwrap()];
    let grants: Vec<String> = block
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| s.starts_with("GRANT "))
        .collect();
    assert!(grants.len() >= 2, "{marker}: {grants:?}");
    grants
}

#[test]
fn moodle_the_grants_the_man_pages_give_are_enough() {
    for engine in engines() {
        eprintln!("engine {engine:?}");
        let db = moodle::moodle4_on(engine, "mangrants");
        let which = match engine {
            Engine::Postgres => "postgresql",
            Engine::MySql => "mysql",
        };
        let reader = moodle::grantee(
            &db,
            "bbbmig_reader",
            &man_grants("moodle-moderators.1", &format!("moodle-moderators {which}")),
        );
        let writer = moodle::grantee(
            &db,
            "bbbmig_writer",
            &man_grants("moodle-inform.1", &format!("moodle-inform {which}")),
        );
        // The reader finds what the admin finds.
        assert_eq!(enriched(&reader), enriched(&db));
        let input = enriched(&db);
        let out = inform(&writer, &[], &input);
        out.ok();
        assert_eq!(
            statuses(&out),
            ["updated", "updated", "updated", "updated", "no-activity"]
        );
        inform(&writer, &["--remove"], &input).ok();
        assert_eq!(intro(&db, 10).as_deref(), Some("<p>Weekly lecture.</p>"));
        // and the reader may not write
        inform(&reader, &[], &input)
            .fails_with(2)
            .stderr_has("lacks a privilege");
        // --check agrees: the man page's grants (UPDATE on some columns) are ready, the
        // reader's lack UPDATE on both tables, named as statements to run.
        inform(&writer, &["--check"], "").ok().stderr_has("ready");
        let (activity, course) = match engine {
            Engine::Postgres => (
                "\"public\".\"mdl_bigbluebuttonbn\"",
                "\"public\".\"mdl_course\"",
            ),
            Engine::MySql => ("`mdl_bigbluebuttonbn`", "`mdl_course`"),
        };
        inform(&reader, &["--check"], "")
            .fails_with(2)
            .stderr_has(&format!("GRANT UPDATE ON {activity}"))
            .stderr_has(&format!("GRANT UPDATE ON {course}"));
    }
}
#[test]
fn mariadb_batch_reports_an_error_in_a_later_statement() {
    // The test support loads fixtures with Db::batch: a statement failing after the first
    // must fail the batch (the server stops there), not vanish with the result.
    let db = moodle::moodle4_on(Engine::MySql, "batcherr");
    let e = db
        .sql()
        .batch(
            "DELETE FROM mdl_user WHERE id = 1; DELETE FROM no_such_table; DELETE FROM mdl_course",
        )
        .unwrap_err();
    assert!(e.text.contains("no_such_table"), "{e}");
    assert!(db.number("SELECT count(*) FROM mdl_course") > 0);
}
