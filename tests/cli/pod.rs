//! Tests of pod-import and pod-claim against a real PostgreSQL loaded with Pod 4.1's own
//! schema (tests/fixtures/pod), checking the rows as Pod's code would read them.

mod claim;

use crate::support::pod::{SECRET, count, hashkey, import, ndjson, pod_db, record, snapshot};
use crate::support::{cmd, run};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn pod_import(v: &serde_json::Map<String, Value>) -> &Value {
    &v["pod_import"]
}

#[test]
fn import_creates_each_user_once_with_every_row_pod_makes() {
    let db = pod_db("pod_users");
    let recs = [
        record(1, "m-1", "Cours A", &["alice", "bob"]),
        record(2, "m-2", "Cours B", &["alice"]),
        record(3, "m-3", "Cours C", &["bob", "carol"]),
    ];
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&recs));
    assert_eq!(r.code, 0, "{r:?}");
    let out = r.records();
    assert_eq!(out.len(), 3);
    let created: i64 = out
        .iter()
        .map(|o| pod_import(o)["users_created"].as_i64().unwrap())
        .sum();
    assert_eq!(created, 3, "{r:?}");
    assert_eq!(
        out[0]["x_from_jq"]["kept"][0], 1,
        "unknown keys ride through"
    );

    let mut c = db.client();
    for name in ["alice", "bob", "carol"] {
        let u = c
            .query_one(
                "SELECT u.id, u.password, u.last_login IS NULL, u.is_superuser, u.first_name, \
                 u.last_name, u.email, u.is_staff, u.is_active, \
                 o.auth_type, o.affiliation, o.commentaire, o.hashkey, o.establishment, \
                 o.accepts_notifications IS NULL, o.userpicture_id IS NULL, o.id \
                 FROM auth_user u JOIN authentication_owner o ON o.user_id = u.id WHERE u.username = $1",
                &[&name],
            )
            .unwrap();
        let uid: i32 = u.get(0);
        assert_eq!(u.get::<_, &str>(1), "");
        assert!(u.get::<_, bool>(2));
        assert!(!u.get::<_, bool>(3));
        assert_eq!(u.get::<_, &str>(4), format!("First {name}"));
        assert_eq!(u.get::<_, &str>(5), format!("Last {name}"));
        assert_eq!(u.get::<_, &str>(6), format!("{name}@example.org"));
        assert!(u.get::<_, bool>(7), "staff by default");
        assert!(u.get::<_, bool>(8));
        assert_eq!(u.get::<_, &str>(9), "local");
        assert_eq!(u.get::<_, &str>(10), "student");
        assert_eq!(u.get::<_, &str>(11), "");
        assert_eq!(u.get::<_, &str>(12), hashkey(name));
        assert_eq!(u.get::<_, &str>(13), "Etab_1");
        assert!(u.get::<_, bool>(14) && u.get::<_, bool>(15));
        let owner: i64 = u.get(16);
        let sites: Vec<i32> = c
            .query(
                "SELECT site_id FROM authentication_owner_sites WHERE owner_id = $1",
                &[&owner],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(sites, vec![1]);
        let folders = c
            .query(
                "SELECT name FROM podfile_userfolder WHERE owner_id = $1",
                &[&uid],
            )
            .unwrap();
        assert_eq!(folders.len(), 1);
        assert_eq!(folders[0].get::<_, &str>(0), "home");
        let p = c
            .query(
                "SELECT id, name, description, password, visibility, autoplay, promoted, editable, slug, \
                 site_id, date_created = date_updated FROM playlist_playlist WHERE owner_id = $1",
                &[&uid],
            )
            .unwrap();
        assert_eq!(p.len(), 1, "one Favorites playlist per site");
        let p = &p[0];
        assert_eq!(p.get::<_, &str>(1), "Favorites");
        assert_eq!(p.get::<_, &str>(2), "Vos vidéos favorites.");
        assert_eq!(p.get::<_, &str>(3), "");
        assert_eq!(p.get::<_, &str>(4), "private");
        assert!(p.get::<_, bool>(5) && !p.get::<_, bool>(6) && !p.get::<_, bool>(7));
        assert_eq!(
            p.get::<_, String>(8),
            format!("{}-favorites", p.get::<_, i64>(0))
        );
        assert_eq!(p.get::<_, i32>(9), 1);
        assert!(p.get::<_, bool>(10));
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        5
    );

    // A rerun, and a new record naming the same people: no user is made twice.
    let before = snapshot(&db);
    let r2 = run(
        {
            let mut c = import(&db);
            c.args(["--admin", "1"]);
            c
        },
        &ndjson(&recs),
    );
    assert_eq!(r2.code, 0, "{r2:?}");
    assert_eq!(snapshot(&db), before, "a rerun writes nothing");
    for o in r2.records() {
        assert_eq!(pod_import(&o)["status"], "exists");
        assert_eq!(pod_import(&o)["users_created"], 0);
    }
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r3 = run(
        c,
        &ndjson(&[record(4, "m-4", "Cours D", &["carol", "alice"])]),
    );
    assert_eq!(r3.code, 0, "{r3:?}");
    assert_eq!(pod_import(&r3.records()[0])["users_created"], 0);
    assert_eq!(count(&db, "SELECT count(*) FROM auth_user"), 4 + 3);
}

#[test]
fn import_gives_several_moderators_one_external_recording_each() {
    let db = pod_db("pod_several");
    let rec = record(7, "m-7", "Amphi", &["ann", "ben", "cat", "ann"]);
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    assert_eq!(r.code, 0, "{r:?}");
    let pi = pod_import(&r.records()[0]).clone();
    assert_eq!(pi["status"], "created");
    assert_eq!(pi["owners_from"], "moderators");
    assert_eq!(
        pi["owners"].as_array().unwrap().len(),
        3,
        "duplicates merged: {pi}"
    );
    let rows = db
        .client()
        .query(
            "SELECT u.username, e.name, e.start_at = '2024-03-08T09:07:00Z'::timestamptz, e.type, \
             e.source_url, e.state IS NULL, e.site_id, e.uploaded_to_pod_by_id IS NULL, e.id \
             FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id ORDER BY e.id",
            &[],
        )
        .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["ann", "ben", "cat"]);
    for (row, owner) in rows.iter().zip(pi["owners"].as_array().unwrap()) {
        assert_eq!(row.get::<_, &str>(1), "Amphi");
        assert!(row.get::<_, bool>(2), "start_at is the recording's start");
        assert_eq!(row.get::<_, &str>(3), "bigbluebutton");
        assert_eq!(row.get::<_, &str>(4), rec["source_url"].as_str().unwrap());
        assert!(row.get::<_, bool>(5) && row.get::<_, bool>(7));
        assert_eq!(row.get::<_, i32>(6), 1);
        assert_eq!(owner["external_recording_id"], row.get::<_, i64>(8));
        assert_eq!(owner["external_recording"], "created");
        assert_eq!(owner["user"], "created");
    }
}

#[test]
fn import_prefers_the_pod_meeting_owners_over_moderators() {
    let db = pod_db("pod_meeting");
    let mut c = import(&db);
    c.args(["--admin", "1", "--site", "2"]);
    let r = run(
        c,
        &ndjson(&[record(1, "0001-pod-meeting", "Pod meeting", &["dave"])]),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let pi = pod_import(&r.records()[0]).clone();
    assert_eq!(pi["owners_from"], "pod_meeting");
    assert_eq!(pi["site_id"], 1, "the meeting's own site");
    let users: Vec<&str> = pi["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["username"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["podteacher", "cohost"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM auth_user WHERE username = 'dave'"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_video_externalrecording WHERE owner_id IN (2, 3) AND site_id = 1"
        ),
        2
    );
}

#[test]
fn import_gives_recordings_without_known_owner_to_the_admin_unless_moderators_only() {
    let db = pod_db("pod_admin");
    let lone = record(5, "greenlight-room", "No owner", &[]);
    let mut c = import(&db);
    c.arg("--moderators-only");
    let r = run(c, &ndjson(std::slice::from_ref(&lone)));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(pod_import(&r.records()[0])["status"], "skipped");
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        0
    );

    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&[lone]));
    assert_eq!(r.code, 0, "{r:?}");
    let pi = pod_import(&r.records()[0]).clone();
    assert_eq!(pi["owners_from"], "admin");
    assert_eq!(pi["owners"][0]["user_id"], 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_video_externalrecording WHERE owner_id = 1"
        ),
        1
    );
}

#[test]
fn import_rerun_creates_nothing() {
    let db = pod_db("pod_rerun");
    let recs = [
        record(1, "0001-pod-meeting", "Pod", &[]),
        record(2, "m-2", "Moodle", &["x1", "x2"]),
        record(3, "m-3", "Nobody", &[]),
    ];
    let go = || {
        let mut c = import(&db);
        c.args(["--admin", "1"]);
        run(c, &ndjson(&recs))
    };
    assert_eq!(go().code, 0);
    let before = snapshot(&db);
    let r = go();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(snapshot(&db), before);
    assert!(r.stderr.contains("3 exists"), "{r:?}");
}

#[test]
fn import_dry_run_writes_nothing_and_says_what_it_would_do() {
    let db = pod_db("pod_dry");
    let before = snapshot(&db);
    let mut c = import(&db);
    c.args(["--admin", "1", "--dry-run"]);
    let r = run(
        c,
        &ndjson(&[record(1, "m", "n", &["newbie", "podteacher"])]),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(snapshot(&db), before);
    let pi = pod_import(&r.records()[0]).clone();
    assert_eq!(pi["status"], "dry-run");
    assert_eq!(pi["owners"][0]["user"], "would-create");
    assert_eq!(pi["owners"][1]["user"], "exists");
    assert_eq!(pi["owners"][1]["external_recording"], "would-create");
}

#[test]
fn import_remove_deletes_the_external_recordings_and_leaves_users() {
    let db = pod_db("pod_remove");
    let recs = [
        record(1, "m-1", "A", &["r1", "r2"]),
        record(2, "m-2", "B", &[]),
    ];
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    assert_eq!(run(c, &ndjson(&recs)).code, 0);
    // A row of another recording and one made by hand in Pod stay.
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    assert_eq!(run(c, &ndjson(&[record(3, "m-3", "C", &["r1"])])).code, 0);
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        4
    );
    let users = count(&db, "SELECT count(*) FROM auth_user");

    let mut c = import(&db);
    c.args(["--admin", "1", "--remove"]);
    let r = run(c, &ndjson(&recs));
    assert_eq!(r.code, 0, "{r:?}");
    let out = r.records();
    assert_eq!(pod_import(&out[0])["status"], "removed");
    assert_eq!(
        pod_import(&out[0])["owners"][0]["external_recording"],
        "removed"
    );
    assert_eq!(pod_import(&out[1])["status"], "removed");
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        1
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM auth_user"),
        users,
        "users stay"
    );
    // Removing again finds nothing.
    let mut c = import(&db);
    c.args(["--admin", "1", "--remove"]);
    let r = run(c, &ndjson(&recs));
    assert_eq!(pod_import(&r.records()[0])["status"], "absent");
}

#[test]
fn import_cuts_a_name_over_250_characters_and_fails_only_unusable_records() {
    let db = pod_db("pod_long");
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
    assert_eq!(r.code, 1, "{r:?}");
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
        .client()
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
    let db = pod_db("pod_inject");
    let evil = "x'); DROP TABLE auth_user; --";
    let mut rec = record(1, "m'; DELETE FROM meeting; --", evil, &[]);
    rec["moderators"] = serde_json::json!([{"username": "o'brien\"; DROP TABLE auth_user;--",
        "email": "o'brien@example.org", "firstname": "Robert'); --", "lastname": "\\\"Tables\"", "source": "m"}]);
    rec["source_url"] =
        Value::from("https://bbb.example.org/playback/presentation/2.3/x?a=1&b=');--");
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    assert_eq!(r.code, 0, "{r:?}");
    let row = db
        .client()
        .query_one(
            "SELECT u.username, u.first_name, u.last_name, e.name, e.source_url, o.hashkey \
             FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id \
             JOIN authentication_owner o ON o.user_id = u.id",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "o'brien\"; DROP TABLE auth_user;--");
    assert_eq!(row.get::<_, &str>(1), "Robert'); --");
    assert_eq!(row.get::<_, &str>(2), "\\\"Tables\"");
    assert_eq!(row.get::<_, &str>(3), evil);
    assert_eq!(row.get::<_, &str>(4), rec["source_url"].as_str().unwrap());
    assert_eq!(
        row.get::<_, String>(5),
        hashkey("o'brien\"; DROP TABLE auth_user;--")
    );
    assert_eq!(count(&db, "SELECT count(*) FROM meeting"), 1);
}

#[test]
fn import_matches_existing_users_by_email_only_when_asked() {
    let db = pod_db("pod_email");
    let mut rec = record(1, "m-1", "n", &[]);
    rec["moderators"] = serde_json::json!([{"username": "mdupont", "email": "marie.dupont@EXAMPLE.org",
        "firstname": "Marie", "lastname": "Dupont", "source": "moodle"}]);
    let mut c = import(&db);
    c.args(["--admin", "1", "--match-email", "--dry-run"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    assert_eq!(
        pod_import(&r.records()[0])["owners"][0]["user_id"],
        4,
        "{r:?}"
    );
    let mut c = import(&db);
    c.args(["--admin", "1", "--match-email"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(pod_import(&r.records()[0])["users_created"], 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM import_video_externalrecording WHERE owner_id = 4"
        ),
        1
    );
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&[rec]));
    assert_eq!(
        pod_import(&r.records()[0])["users_created"],
        1,
        "without --match-email: {r:?}"
    );
}

#[test]
fn import_creates_users_with_the_site_options_given() {
    let db = pod_db("pod_opts");
    let mut c = import(&db);
    c.args([
        "--admin",
        "1",
        "--site",
        "2",
        "--auth-type",
        "CAS",
        "--affiliation",
        "faculty",
        "--establishment",
        "UNIV",
        "--no-staff",
        "--favorites-description",
        "Your favorites videos.",
    ]);
    let r = run(c, &ndjson(&[record(1, "m-1", "n", &["zoe"])]));
    assert_eq!(r.code, 0, "{r:?}");
    let row = db
        .client()
        .query_one(
            "SELECT u.is_staff, o.auth_type, o.affiliation, o.establishment, s.site_id, p.description, \
             p.site_id, e.site_id FROM auth_user u JOIN authentication_owner o ON o.user_id = u.id \
             JOIN authentication_owner_sites s ON s.owner_id = o.id \
             JOIN playlist_playlist p ON p.owner_id = u.id \
             JOIN import_video_externalrecording e ON e.owner_id = u.id WHERE u.username = 'zoe'",
            &[],
        )
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    assert_eq!(row.get::<_, &str>(1), "CAS");
    assert_eq!(row.get::<_, &str>(2), "faculty");
    assert_eq!(row.get::<_, &str>(3), "UNIV");
    assert_eq!(row.get::<_, i32>(4), 2);
    assert_eq!(row.get::<_, &str>(5), "Your favorites videos.");
    assert_eq!((row.get::<_, i32>(6), row.get::<_, i32>(7)), (2, 2));
    assert!(
        r.stderr.contains("not staff"),
        "warns that Pod hides them: {r:?}"
    );
}

#[test]
fn import_refuses_a_bad_setup_before_reading_records() {
    let db = pod_db("pod_setup");
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
                format!("{} password=hunter2", db.conninfo),
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
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(want), "{args:?}: want {want:?}: {r:?}");
        assert!(r.stdout.is_empty() && !r.stderr.contains("hunter2"));
    }
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .args(["--admin", "1"]);
    let r = run(c, &input);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("POD_SECRET_KEY"), "{r:?}");
    // The key from a file works.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("key");
    std::fs::write(&f, format!("{SECRET}\n")).unwrap();
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .args(["--admin", "1", "--dry-run", "--secret-key-file"])
        .arg(&f);
    assert_eq!(run(c, &input).code, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM auth_user"), 4);
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
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("readable by others"), "{r:?}");
    assert_eq!(with_file(0o600).code, 0);
}

#[test]
fn import_database_lost_mid_stream_rolls_back_the_record_in_flight_and_exits_2() {
    let db = pod_db("pod_lost");
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
    let mut locker = db.client();
    locker
        .batch_execute("BEGIN; LOCK TABLE import_video_externalrecording IN SHARE MODE")
        .unwrap();
    stdin
        .write_all(ndjson(&[record(2, "m-2", "second", &["late"])]).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    let mut admin = db.client();
    let t0 = Instant::now();
    let pid: i32 = loop {
        let rows = admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
                &[&db.name],
            )
            .unwrap();
        if let Some(r) = rows.first() {
            break r.get(0);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the tool never waited on the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    locker.batch_execute("ROLLBACK").unwrap();
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

/// Every `--long` flag of `--help` is in the man page, and every one of the man page is a flag.
#[test]
fn pod_man_pages_match_help() {
    for tool in ["pod-import", "pod-claim"] {
        let mut c = cmd(tool);
        c.arg("--help");
        let help = run(c, "").stdout;
        let man = std::fs::read_to_string(crate::support::root().join(format!("man/{tool}.1")))
            .unwrap()
            .replace('\\', "");
        let flags = |s: &str| -> std::collections::BTreeSet<String> {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(str::to_string)
                .collect()
        };
        assert_eq!(flags(&help), flags(&man), "{tool}");
    }
}

#[test]
fn import_finds_a_user_created_in_pod_while_it_runs() {
    let db = pod_db("pod_race");
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
         is_staff, is_active, date_joined) VALUES ('', false, 'racer', 'R', 'Acer', 'r@example.org', true, true, now())",
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
