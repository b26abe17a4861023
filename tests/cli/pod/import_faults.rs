//! pod-import under stress: bad setup, unusable records, hostile values, the database lost
//! mid-stream, a user created in Pod while the tool runs.

use super::import::pod_import;
use crate::support::pod::{SECRET, count, each_engine, hashkey, import, ndjson, pod_db, record};
use crate::support::{cmd, run};
use bbbmig_core::db::Engine;
use bbbmig_core::params;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn import_cuts_a_name_over_250_characters_and_fails_only_unusable_records() {
    each_engine(import_cuts_a_name_over_250_characters_and_fails_only_unusable_records_on);
}

fn import_cuts_a_name_over_250_characters_and_fails_only_unusable_records_on(engine: Engine) {
    let db = pod_db(engine, "pod_long");
    let long = "é".repeat(300);
    let mut bad_url = record(2, "m-2", "url", &["u2"]);
    bad_url["source_url"] = Value::from(format!("https://bbb.example.org/{}", "x".repeat(500)));
    let mut no_date = record(3, "m-3", "date", &["u3"]);
    no_date["start_time"] = Value::from("yesterday");
    let mut no_url = record(4, "m-4", "none", &["u4"]);
    no_url["source_url"] = Value::Null;
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let mut c = import(&db);
    c.args(["--admin", "1", "--rejects"]).arg(&rejects);
    let recs = [
        record(1, "m-1", &long, &["u1"]),
        bad_url,
        no_date,
        no_url,
        record(5, "m-5", "ok", &["u5"]),
    ];
    let r = run(c, &ndjson(&recs));
    r.fails_with(1);
    assert_eq!(r.records().len(), 2);
    assert!(
        r.stderr.contains("line 2: record") && r.stderr.contains("longer than Pod's 500"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("line 3: record") && r.stderr.contains("RFC 3339"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("line 4: record") && r.stderr.contains("no source_url"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap().lines().count(),
        3
    );
    let name: String = db
        .sql()
        .query_one("SELECT e.name FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id WHERE u.username = 'u1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(name.chars().count(), 250);
    assert!(name.starts_with("éé") && name.ends_with('…'));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username IN ('u2','u3','u4')"
        ),
        0,
        "failed records leave no user"
    );
}

#[test]
fn import_stores_sql_injection_shaped_values_verbatim() {
    each_engine(import_stores_sql_injection_shaped_values_verbatim_on);
}

fn import_stores_sql_injection_shaped_values_verbatim_on(engine: Engine) {
    let db = pod_db(engine, "pod_inject");
    let evil = "x'); DROP TABLE auth_user; --";
    let mut rec = record(1, "m'; DELETE FROM meeting; --", evil, &[]);
    // Usernames are Django's (letters, digits, @ . + - _): a quote there fails the record
    // (import_fails_users_django_would_refuse); the other fields take anything.
    rec["moderators"] = serde_json::json!([{"username": "o--brien.DROP.TABLE@auth_user--",
        "email": "o'brien@example.org", "firstname": "Robert'); --", "lastname": "\\\"Tables\"", "source": "m"}]);
    rec["source_url"] =
        Value::from("https://bbb.example.org/playback/presentation/2.3/x?a=1&b=');--");
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    r.ok();
    let row = db
        .sql()
        .query_one(
            "SELECT u.username, u.first_name, u.last_name, e.name, e.source_url, o.hashkey \
             FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id \
             JOIN authentication_owner o ON o.user_id = u.id",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<String>(0), "o--brien.DROP.TABLE@auth_user--");
    assert_eq!(row.get::<String>(1), "Robert'); --");
    assert_eq!(row.get::<String>(2), "\\\"Tables\"");
    assert_eq!(row.get::<String>(3), evil);
    assert_eq!(row.get::<String>(4), rec["source_url"].as_str().unwrap());
    assert_eq!(
        row.get::<String>(5),
        hashkey("o--brien.DROP.TABLE@auth_user--")
    );
    assert_eq!(count(&db, "SELECT count(*) FROM meeting"), 1);
}

#[test]
fn import_fails_users_django_would_refuse() {
    each_engine(import_fails_users_django_would_refuse_on);
}

fn import_fails_users_django_would_refuse_on(engine: Engine) {
    let db = pod_db(engine, "pod_django");
    let bad_users = [
        ("tab\tname", "t@example.org"),
        ("new\nline", "n@example.org"),
        ("o'brien", "o@example.org"),
        ("good1", "not-an-email"),
        ("good2", "a b@example.org"),
    ];
    let mut recs = Vec::new();
    for (i, (u, e)) in bad_users.iter().enumerate() {
        let mut r = record(i as u32 + 1, &format!("m-{i}"), "bad", &[]);
        r["moderators"] = serde_json::json!([{"username": u, "email": e,
            "firstname": "F", "lastname": "L", "source": "m"}]);
        recs.push(r);
    }
    recs.push(record(9, "m-9", "ok", &["fine.user+1"]));
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&recs));
    r.fails_with(1);
    assert_eq!(r.records().len(), 1, "{r:?}");
    for line in 1..=5 {
        assert!(r.stderr.contains(&format!("line {line}: record ")), "{r:?}");
    }
    assert!(r.stderr.contains("is not one Pod accepts"), "{r:?}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username <> 'fine.user+1' AND id > 4"
        ),
        0,
        "only the good user is made: {r:?}"
    );
}

#[test]
fn import_refuses_a_bad_setup_before_reading_records() {
    each_engine(import_refuses_a_bad_setup_before_reading_records_on);
}

fn import_refuses_a_bad_setup_before_reading_records_on(engine: Engine) {
    let db = pod_db(engine, "pod_setup");
    let input = ndjson(&[record(1, "m", "n", &["a"])]);
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--admin".into(), "99".into()],
            vec![],
            "no administrator with id 99",
        ),
        (
            vec!["--admin".into(), "1".into(), "--site".into(), "9".into()],
            vec![],
            "site 9 does not exist",
        ),
        (vec![], vec![], "--admin"),
        (
            vec!["--admin".into(), "1".into()],
            vec![("POD_SECRET_KEY", "not-the-key")],
            "not Pod's SECRET_KEY",
        ),
        (
            vec![
                "--admin".into(),
                "1".into(),
                "--pod-db".into(),
                match engine {
                    Engine::Postgres => format!("{} password=hunter2", db.conninfo),
                    Engine::MySql => {
                        let (user, host) = db.conninfo.split_once('@').unwrap();
                        format!("{}:hunter2@{host}", user.rsplit_once(':').unwrap().0)
                    }
                },
            ],
            vec![],
            "visible in ps",
        ),
    ];
    for (args, env, want) in cases {
        let mut c = import(&db);
        c.args(&args);
        for (k, v) in env {
            c.env(k, v);
        }
        let r = run(c, &input);
        r.fails_with(2);
        assert!(r.stderr.contains(want), "{args:?}: want {want:?}: {r:?}");
        assert!(r.stdout.is_empty() && !r.stderr.contains("hunter2"));
    }
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .args(["--admin", "1"]);
    let r = run(c, &input);
    r.fails_with(2).stderr_has("POD_SECRET_KEY");
    // The key from a file works.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("key");
    std::fs::write(&f, format!("{SECRET}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .args(["--admin", "1", "--dry-run", "--secret-key-file"])
        .arg(&f);
    run(c, &input).ok();
    assert_eq!(count(&db, "SELECT count(*) FROM auth_user"), 4);
    // Readable by others: refused like a database file.
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .args(["--admin", "1", "--dry-run", "--secret-key-file"])
        .arg(&f);
    run(c, &input).fails_with(2).stderr_has("chmod 600");
    // A database file readable by others is refused (it may hold a password); mode 600 works.
    let dbf = dir.path().join("pod.db");
    std::fs::write(&dbf, format!("# Pod\n{}\n", db.conninfo)).unwrap();
    let with_file = |mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dbf, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut c = cmd("pod-import");
        c.env("POD_SECRET_KEY", SECRET)
            .args(["--admin", "1", "--dry-run", "--pod-db-file"])
            .arg(&dbf);
        run(c, &input)
    };
    let r = with_file(0o644);
    r.fails_with(2).stderr_has("readable by others");
    with_file(0o600).ok();
}

#[test]
fn import_database_lost_mid_stream_rolls_back_the_record_in_flight_and_exits_2() {
    each_engine(import_database_lost_mid_stream_rolls_back_the_record_in_flight_and_exits_2_on);
}

fn import_database_lost_mid_stream_rolls_back_the_record_in_flight_and_exits_2_on(engine: Engine) {
    let db = pod_db(engine, "pod_lost");
    let mut c = import(&db);
    c.args(["--admin", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin
        .write_all(ndjson(&[record(1, "m-1", "first", &["early"])]).as_bytes())
        .unwrap();
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"status\":\"created\""), "{first}");

    // Hold a lock the next record needs, wait until the tool waits on it, cut it off.
    let mut locker = db.sql();
    locker
        .batch(match engine {
            Engine::Postgres => "BEGIN; LOCK TABLE import_video_externalrecording IN SHARE MODE",
            Engine::MySql => "LOCK TABLES import_video_externalrecording READ",
        })
        .unwrap();
    stdin
        .write_all(ndjson(&[record(2, "m-2", "second", &["late"])]).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    let mut admin = db.sql();
    let t0 = Instant::now();
    // The tool's own session, waiting on the lock: PostgreSQL's pg_stat_activity, MariaDB's
    // processlist (the admin account kills it there: the shared server stays up).
    let waiting = match engine {
        Engine::Postgres => {
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
        }
        Engine::MySql => {
            "SELECT id FROM information_schema.processlist WHERE db = $1 AND state LIKE 'Waiting for table%'"
        }
    };
    let pid: i64 = loop {
        let rows = admin.query(waiting, params![&db.name]).unwrap();
        if let Some(r) = rows.first() {
            break r.get(0);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the tool never waited on the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    match engine {
        Engine::Postgres => admin
            .execute("SELECT pg_terminate_backend($1)", params![pid])
            .map(|_| ())
            .unwrap(),
        Engine::MySql => admin.batch(&format!("KILL CONNECTION {pid}")).unwrap(),
    }
    locker
        .batch(match engine {
            Engine::Postgres => "ROLLBACK",
            Engine::MySql => "UNLOCK TABLES",
        })
        .unwrap();
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        rest.is_empty(),
        "the record in flight is not emitted: {rest}"
    );
    assert!(err.contains("lost the Pod database"), "{err}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username = 'early'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username = 'late'"
        ),
        0,
        "rolled back"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM playlist_playlist"), 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        1
    );
}

#[test]
fn import_finds_a_user_created_in_pod_while_it_runs() {
    each_engine(import_finds_a_user_created_in_pod_while_it_runs_on);
}

fn import_finds_a_user_created_in_pod_while_it_runs_on(engine: Engine) {
    let db = pod_db(engine, "pod_race");
    let mut c = import(&db);
    c.args(["--admin", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin
        .write_all(ndjson(&[record(1, "m-1", "warm-up", &[])]).as_bytes())
        .unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // The tool has read Pod's users; now someone logs in to Pod for the first time.
    db.exec(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, \
         is_staff, is_active, date_joined) VALUES ('', false, 'racer', 'R', 'Acer', 'r@example.org', true, true, CURRENT_TIMESTAMP)",
    );
    stdin
        .write_all(ndjson(&[record(2, "m-2", "race", &["racer"])]).as_bytes())
        .unwrap();
    drop(stdin);
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let out: serde_json::Map<String, Value> = serde_json::from_str(&line).unwrap();
    assert_eq!(pod_import(&out)["users_created"], 0, "{line}");
    assert_eq!(pod_import(&out)["owners"][0]["user"], "exists");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username = 'racer'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id WHERE u.username = 'racer'"
        ),
        1
    );
}
