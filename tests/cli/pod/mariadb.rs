//! pod-import on MariaDB as Pod's own schema there behaves: usernames that collide by the
//! `_ci` collation are one user, accents and emoji survive, datetimes are UTC while the
//! server runs in Europe/Paris, names too long in bytes or in characters; a wrong
//! password; and, on both engines, a Moodle database given by mistake and a lock wait
//! that times out.

use crate::support::pod::{count, each_engine, import, moderator, ndjson, pod_db, record};
use crate::support::{cmd, run};
use bbbmig_core::db::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

fn pod_import(v: &serde_json::Map<String, Value>) -> &Value {
    &v["pod_import"]
}

#[test]
fn mariadb_matches_usernames_the_way_its_collation_compares() {
    let db = pod_db(Engine::MySql, "pod_collate");
    // Someone Pod already knows, accented and capitalised.
    db.exec(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, \
         is_staff, is_active, date_joined) VALUES ('', 0, 'Élodie', 'É', 'L', 'e@example.org', 1, 1, UTC_TIMESTAMP(6))",
    );
    let recs = [
        record(1, "m-1", "A", &["elodie"]),
        record(2, "m-2", "B", &["Alice"]),
        record(3, "m-3", "C", &["alice", "ALICE"]),
    ];
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&recs));
    r.ok();
    let out = r.records();
    assert_eq!(pod_import(&out[0])["owners"][0]["user"], "exists", "{r:?}");
    assert_eq!(pod_import(&out[1])["owners"][0]["user"], "created");
    assert_eq!(pod_import(&out[2])["users_created"], 0, "{r:?}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username IN ('elodie', 'alice')"
        ),
        2,
        "one Élodie, one Alice"
    );
    assert_eq!(
        db.strings("SELECT username FROM auth_user WHERE username = 'alice'"),
        [["Alice"]],
        "the first spelling is kept"
    );
}

#[test]
fn mariadb_keeps_accents_and_emoji_and_writes_utc() {
    let db = pod_db(Engine::MySql, "pod_utf8");
    let name = "Cours d'été 🎓 — Ωmega ✓";
    let mut rec = record(1, "m-1", name, &[]);
    let mut m = moderator("zoe");
    m["username"] = json!("zoë");
    m["firstname"] = json!("Zoë 🦀");
    m["lastname"] = json!("Ł'Éa");
    rec["moderators"] = json!([m]);
    rec["start_time"] = json!("2024-07-01T09:07:00.123Z");
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&[rec]));
    r.ok();
    assert_eq!(
        db.strings(
            "SELECT e.name, u.first_name, u.last_name, u.username, \
             DATE_FORMAT(e.start_at, '%Y-%m-%d %H:%i:%s.%f') \
             FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id"
        ),
        [[
            name,
            "Zoë 🦀",
            "Ł'Éa",
            "zoë",
            // 11:07 in Paris that summer day: the column holds UTC, as Django reads it.
            "2024-07-01 09:07:00.123000"
        ]]
    );
    // The server's zone is Europe/Paris: the rows written now are UTC, not local time.
    assert_eq!(
        db.strings("SELECT @@global.time_zone")[0][0],
        "Europe/Paris",
        "the throwaway server runs in Europe/Paris"
    );
    for (t, c) in [
        ("auth_user", "date_joined"),
        ("podfile_userfolder", "created_at"),
        ("playlist_playlist", "date_created"),
    ] {
        let skew = db.number(&format!(
            "SELECT ABS(TIMESTAMPDIFF(SECOND, {c}, UTC_TIMESTAMP())) FROM {t} ORDER BY id DESC LIMIT 1"
        ));
        assert!(skew < 120, "{t}.{c} is {skew} s away from UTC now");
    }
}

#[test]
fn mariadb_names_too_long_in_bytes_fit_and_too_long_in_characters_are_cut() {
    let db = pod_db(Engine::MySql, "pod_long");
    // 250 characters of 4 bytes each: 1,000 bytes, still 250 characters (utf8mb4).
    let fits = "🎓".repeat(250);
    let too_many = "é".repeat(300);
    let long_user = "é".repeat(150);
    let mut recs = vec![
        record(1, "m-1", &fits, &[]),
        record(2, "m-2", &too_many, &[]),
        record(3, "m-3", "ok", &[&long_user]),
        record(4, "m-4", "no", &[&format!("{long_user}x")]),
    ];
    recs[2]["moderators"][0]["email"] = json!("long@example.org");
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&recs));
    r.fails_with(1)
        .stderr_has("longer than Pod's 150 characters");
    let names = db.strings("SELECT name FROM import_video_externalrecording ORDER BY id");
    assert_eq!(
        names[0][0], fits,
        "1,000 bytes in 250 characters are kept whole"
    );
    assert_eq!(names[1][0].chars().count(), 250);
    assert!(names[1][0].ends_with('…'));
    assert_eq!(
        db.strings(&format!(
            "SELECT count(*) FROM auth_user WHERE username = '{long_user}'"
        )),
        [["1"]]
    );
    assert_eq!(count(&db, "SELECT count(*) FROM auth_user"), 5);
}

#[test]
fn mariadb_wrong_password_is_fatal_and_never_shown() {
    let db = pod_db(Engine::MySql, "pod_badpw");
    let (user, host) = db.conninfo.split_once('@').unwrap();
    let wrong = format!("{}:Wr0ngPassw0rd@{host}", user.rsplit_once(':').unwrap().0);
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &wrong)
        .env("POD_SECRET_KEY", crate::support::pod::SECRET)
        .args(["--admin", "1"]);
    let r = run(c, &ndjson(&[record(1, "m", "n", &[])]));
    r.fails_with(2)
        .stderr_has("cannot connect to MariaDB/MySQL")
        .stderr_has("1045");
    assert!(!r.stderr.contains("Wr0ngPassw0rd"), "{r:?}");
    assert!(r.stdout.is_empty());
}

#[test]
fn a_moodle_database_given_to_pod_import_is_refused() {
    each_engine(|engine| {
        let moodle = match engine {
            Engine::Postgres => crate::support::moodle::moodle4("pod_moodle"),
            Engine::MySql => crate::support::mysql::fresh_db(
                "pod_moodle",
                crate::support::mysql::Fixture::Moodle,
            ),
        };
        let mut c = import(&moodle);
        c.args(["--admin", "1"]);
        let r = run(c, &ndjson(&[record(1, "m", "n", &[])]));
        r.fails_with(2).stderr_has("database is not Pod's");
        assert!(r.stdout.is_empty());
    });
}

#[test]
fn a_lock_wait_timeout_fails_that_record_only() {
    each_engine(lock_wait_timeout_on);
}

fn lock_wait_timeout_on(engine: Engine) {
    let db = pod_db(engine, "pod_lockwait");
    let mut c = import(&db);
    let mut restore = None;
    match engine {
        // The session's lock_timeout, from the connection string.
        Engine::Postgres => {
            c.env(
                "POD_DATABASE_URL",
                format!("{} options='-c lock_timeout=1500'", db.conninfo),
            );
        }
        // New sessions take the global value: lowered only until the tool has connected.
        Engine::MySql => {
            let old = db.number("SELECT @@global.innodb_lock_wait_timeout");
            db.exec("SET GLOBAL innodb_lock_wait_timeout = 2");
            restore = Some(old);
        }
    }
    c.args(["--admin", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin
        .write_all(ndjson(&[record(1, "m-1", "warm-up", &["warm"])]).as_bytes())
        .unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("\"status\":\"created\""), "{line}");
    if let Some(old) = restore {
        db.exec(&format!("SET GLOBAL innodb_lock_wait_timeout = {old}"));
    }
    // Another session holds the admin's row: the next record (the admin's) must wait to
    // check its foreign key, and gives up.
    let mut locker = db.sql();
    locker.begin().unwrap();
    locker
        .query("SELECT id FROM auth_user WHERE id = 1 FOR UPDATE", &[])
        .unwrap();
    stdin
        .write_all(
            ndjson(&[
                record(2, "m-2", "blocked", &[]),
                record(3, "m-3", "free", &["free"]),
            ])
            .as_bytes(),
        )
        .unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    locker.rollback().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("line 2: record"), "{err}");
    assert!(
        err.to_lowercase().contains("lock"),
        "the message says it was a lock: {err}"
    );
    assert!(rest.contains("\"name\":\"free\""), "{rest}");
    assert!(!rest.contains("\"name\":\"blocked\""), "{rest}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_video_externalrecording WHERE name = 'blocked'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_video_externalrecording WHERE name IN ('warm-up', 'free')"
        ),
        2
    );
}
