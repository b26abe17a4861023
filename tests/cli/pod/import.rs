//! pod-import: users created once with every row Pod makes, owners in Pod's order,
//! reruns that write nothing, --dry-run, --remove, the options new users are made with.

use crate::support::pod::{count, each_engine, hashkey, import, ndjson, pod_db, record, snapshot};
use crate::support::run;
use bbbmig_core::db::Engine;
use bbbmig_core::params;
use serde_json::Value;

pub(super) fn pod_import(v: &serde_json::Map<String, Value>) -> &Value {
    &v["pod_import"]
}

#[test]
fn import_creates_each_user_once_with_every_row_pod_makes() {
    each_engine(import_creates_each_user_once_with_every_row_pod_makes_on);
}

fn import_creates_each_user_once_with_every_row_pod_makes_on(engine: Engine) {
    let db = pod_db(engine, "pod_users");
    let recs = [
        record(1, "m-1", "Cours A", &["alice", "bob"]),
        record(2, "m-2", "Cours B", &["alice"]),
        record(3, "m-3", "Cours C", &["bob", "carol"]),
    ];
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&recs));
    r.ok();
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

    let mut c = db.sql();
    for name in ["alice", "bob", "carol"] {
        let u = c
            .query_one(
                "SELECT u.id, u.password, u.last_login IS NULL, u.is_superuser, u.first_name, \
                 u.last_name, u.email, u.is_staff, u.is_active, \
                 o.auth_type, o.affiliation, o.commentaire, o.hashkey, o.establishment, \
                 o.accepts_notifications IS NULL, o.userpicture_id IS NULL, o.id \
                 FROM auth_user u JOIN authentication_owner o ON o.user_id = u.id WHERE u.username = $1",
                params![name],
            )
            .unwrap();
        let uid: i32 = u.get(0);
        assert_eq!(u.get::<String>(1), "");
        assert!(u.get::<bool>(2));
        assert!(!u.get::<bool>(3));
        assert_eq!(u.get::<String>(4), format!("First {name}"));
        assert_eq!(u.get::<String>(5), format!("Last {name}"));
        assert_eq!(u.get::<String>(6), format!("{name}@example.org"));
        assert!(u.get::<bool>(7), "staff by default");
        assert!(u.get::<bool>(8));
        assert_eq!(u.get::<String>(9), "local");
        assert_eq!(u.get::<String>(10), "student");
        assert_eq!(u.get::<String>(11), "");
        assert_eq!(u.get::<String>(12), hashkey(name));
        assert_eq!(u.get::<String>(13), "Etab_1");
        assert!(u.get::<bool>(14) && u.get::<bool>(15));
        let owner: i64 = u.get(16);
        let sites: Vec<i32> = c
            .query(
                "SELECT site_id FROM authentication_owner_sites WHERE owner_id = $1",
                params![owner],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(sites, vec![1]);
        let folders = c
            .query(
                "SELECT name FROM podfile_userfolder WHERE owner_id = $1",
                params![uid],
            )
            .unwrap();
        assert_eq!(folders.len(), 1);
        assert_eq!(folders[0].get::<String>(0), "home");
        let p = c
            .query(
                "SELECT id, name, description, password, visibility, autoplay, promoted, editable, slug, \
                 site_id, date_created = date_updated FROM playlist_playlist WHERE owner_id = $1",
                params![uid],
            )
            .unwrap();
        assert_eq!(p.len(), 1, "one Favorites playlist per site");
        let p = &p[0];
        assert_eq!(p.get::<String>(1), "Favorites");
        assert_eq!(p.get::<String>(2), "Vos vidéos favorites.");
        assert_eq!(p.get::<String>(3), "");
        assert_eq!(p.get::<String>(4), "private");
        assert!(p.get::<bool>(5) && !p.get::<bool>(6) && !p.get::<bool>(7));
        assert_eq!(p.get::<String>(8), format!("{}-favorites", p.get::<i64>(0)));
        assert_eq!(p.get::<i32>(9), 1);
        assert!(p.get::<bool>(10));
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
    r2.ok();
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
    r3.ok();
    assert_eq!(pod_import(&r3.records()[0])["users_created"], 0);
    assert_eq!(count(&db, "SELECT count(*) FROM auth_user"), 4 + 3);
}

#[test]
fn import_gives_several_moderators_one_external_recording_each() {
    each_engine(import_gives_several_moderators_one_external_recording_each_on);
}

fn import_gives_several_moderators_one_external_recording_each_on(engine: Engine) {
    let db = pod_db(engine, "pod_several");
    let rec = record(7, "m-7", "Amphi", &["ann", "ben", "cat", "ann"]);
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    r.ok();
    let pi = pod_import(&r.records()[0]).clone();
    assert_eq!(pi["status"], "created");
    assert_eq!(pi["owners_from"], "moderators");
    assert_eq!(
        pi["owners"].as_array().unwrap().len(),
        3,
        "duplicates merged: {pi}"
    );
    let rows = db
        .sql()
        .query(
            "SELECT u.username, e.name, e.start_at, e.type, \
             e.source_url, e.state IS NULL, e.site_id, e.uploaded_to_pod_by_id IS NULL, e.id \
             FROM import_video_externalrecording e JOIN auth_user u ON u.id = e.owner_id ORDER BY e.id",
            &[],
        )
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["ann", "ben", "cat"]);
    for (row, owner) in rows.iter().zip(pi["owners"].as_array().unwrap()) {
        assert_eq!(row.get::<String>(1), "Amphi");
        assert_eq!(
            row.get::<chrono::DateTime<chrono::Utc>>(2).to_rfc3339(),
            "2024-03-08T09:07:00+00:00",
            "start_at is the recording's start, in UTC"
        );
        assert_eq!(row.get::<String>(3), "bigbluebutton");
        assert_eq!(row.get::<String>(4), rec["source_url"].as_str().unwrap());
        assert!(row.get::<bool>(5) && row.get::<bool>(7));
        assert_eq!(row.get::<i32>(6), 1);
        assert_eq!(owner["external_recording_id"], row.get::<i64>(8));
        assert_eq!(owner["external_recording"], "created");
        assert_eq!(owner["user"], "created");
    }
}

#[test]
fn import_prefers_the_pod_meeting_owners_over_moderators() {
    each_engine(import_prefers_the_pod_meeting_owners_over_moderators_on);
}

fn import_prefers_the_pod_meeting_owners_over_moderators_on(engine: Engine) {
    let db = pod_db(engine, "pod_meeting");
    let mut c = import(&db);
    c.args(["--admin", "1", "--site", "2"]);
    let r = run(
        c,
        &ndjson(&[record(1, "0001-pod-meeting", "Pod meeting", &["dave"])]),
    );
    r.ok();
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
    each_engine(import_gives_recordings_without_known_owner_to_the_admin_unless_moderators_only_on);
}

fn import_gives_recordings_without_known_owner_to_the_admin_unless_moderators_only_on(
    engine: Engine,
) {
    let db = pod_db(engine, "pod_admin");
    let lone = record(5, "greenlight-room", "No owner", &[]);
    let mut c = import(&db);
    c.arg("--moderators-only");
    let r = run(c, &ndjson(std::slice::from_ref(&lone)));
    r.ok();
    assert_eq!(pod_import(&r.records()[0])["status"], "skipped");
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        0
    );

    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(&[lone]));
    r.ok();
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
    each_engine(import_rerun_creates_nothing_on);
}

fn import_rerun_creates_nothing_on(engine: Engine) {
    let db = pod_db(engine, "pod_rerun");
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
    go().ok();
    let before = snapshot(&db);
    let r = go();
    r.ok();
    assert_eq!(snapshot(&db), before);
    r.stderr_has("3 exists");
}

#[test]
fn import_dry_run_writes_nothing_and_says_what_it_would_do() {
    each_engine(import_dry_run_writes_nothing_and_says_what_it_would_do_on);
}

fn import_dry_run_writes_nothing_and_says_what_it_would_do_on(engine: Engine) {
    let db = pod_db(engine, "pod_dry");
    let before = snapshot(&db);
    let mut c = import(&db);
    c.args(["--admin", "1", "--dry-run"]);
    let r = run(
        c,
        &ndjson(&[record(1, "m", "n", &["newbie", "podteacher"])]),
    );
    r.ok();
    assert_eq!(snapshot(&db), before);
    let pi = pod_import(&r.records()[0]).clone();
    assert_eq!(pi["status"], "dry-run");
    assert_eq!(pi["owners"][0]["user"], "would-create");
    assert_eq!(pi["owners"][1]["user"], "exists");
    assert_eq!(pi["owners"][1]["external_recording"], "would-create");
}

#[test]
fn import_remove_deletes_the_external_recordings_and_leaves_users() {
    each_engine(import_remove_deletes_the_external_recordings_and_leaves_users_on);
}

fn import_remove_deletes_the_external_recordings_and_leaves_users_on(engine: Engine) {
    let db = pod_db(engine, "pod_remove");
    let recs = [
        record(1, "m-1", "A", &["r1", "r2"]),
        record(2, "m-2", "B", &[]),
    ];
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    run(c, &ndjson(&recs)).ok();
    // A row of another recording and one made by hand in Pod stay.
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    run(c, &ndjson(&[record(3, "m-3", "C", &["r1"])])).ok();
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        4
    );
    let users = count(&db, "SELECT count(*) FROM auth_user");

    let mut c = import(&db);
    c.args(["--admin", "1", "--remove"]);
    let r = run(c, &ndjson(&recs));
    r.ok();
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
fn remove_resolves_owners_as_import_does_and_dry_run_says_what_would_go() {
    each_engine(remove_resolves_owners_as_import_does_and_dry_run_says_what_would_go_on);
}

fn remove_resolves_owners_as_import_does_and_dry_run_says_what_would_go_on(engine: Engine) {
    let db = pod_db(engine, "pod_remove_admin");
    let recs = [record(1, "m-1", "A", &["r1"]), record(2, "m-2", "B", &[])];
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    run(c, &ndjson(&recs)).ok();
    let rows = "SELECT count(*) FROM import_video_externalrecording";
    assert_eq!(count(&db, rows), 2);
    // Without --admin the admin's rows would stay behind: refused before any record.
    let r = run(import(&db).arg("--remove"), &ndjson(&recs));
    r.fails_with(2).stderr_has("--admin");
    assert!(r.stdout.is_empty());
    let mut c = import(&db);
    c.args(["--admin", "1", "--remove", "--dry-run"]);
    let r = run(c, &ndjson(&recs));
    r.ok();
    let out = r.records();
    for o in &out {
        assert_eq!(pod_import(o)["status"], "dry-run", "{o:?}");
        assert_eq!(
            pod_import(o)["owners"][0]["external_recording"],
            "would-remove"
        );
    }
    assert_eq!(pod_import(&out[1])["owners_from"], "admin");
    assert_eq!(count(&db, rows), 2, "a dry run removed rows");
    let mut c = import(&db);
    c.args(["--admin", "1", "--remove"]);
    run(c, &ndjson(&recs)).ok();
    assert_eq!(count(&db, rows), 0, "the admin's row was left behind");
}

#[test]
fn one_time_tokens_are_not_stored_and_reruns_match_the_record() {
    each_engine(one_time_tokens_are_not_stored_and_reruns_match_the_record_on);
}

fn one_time_tokens_are_not_stored_and_reruns_match_the_record_on(engine: Engine) {
    let db = pod_db(engine, "pod_token");
    let mut rec = record(1, "m-1", "A", &["r1"]);
    let url = rec["source_url"].as_str().unwrap().to_string();
    rec["source_url"] = format!("{url}?token=first-secret").into();
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    run(c, &ndjson(std::slice::from_ref(&rec))).ok();
    let stored = db
        .sql()
        .query_one("SELECT source_url FROM import_video_externalrecording", &[])
        .unwrap()
        .get::<String>(0);
    assert_eq!(stored, url);
    // The next listing hands out another token: the same row, nothing new.
    rec["source_url"] = format!("{url}?token=second-secret").into();
    let mut c = import(&db);
    c.args(["--admin", "1"]);
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    r.ok();
    assert_eq!(pod_import(&r.records()[0])["status"], "exists");
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_video_externalrecording"),
        1
    );
}

#[test]
fn import_matches_existing_users_by_email_only_when_asked() {
    each_engine(import_matches_existing_users_by_email_only_when_asked_on);
}

fn import_matches_existing_users_by_email_only_when_asked_on(engine: Engine) {
    let db = pod_db(engine, "pod_email");
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
    r.ok();
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
    each_engine(import_creates_users_with_the_site_options_given_on);
}

fn import_creates_users_with_the_site_options_given_on(engine: Engine) {
    let db = pod_db(engine, "pod_opts");
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
    r.ok();
    let row = db
        .sql()
        .query_one(
            "SELECT u.is_staff, o.auth_type, o.affiliation, o.establishment, s.site_id, p.description, \
             p.site_id, e.site_id FROM auth_user u JOIN authentication_owner o ON o.user_id = u.id \
             JOIN authentication_owner_sites s ON s.owner_id = o.id \
             JOIN playlist_playlist p ON p.owner_id = u.id \
             JOIN import_video_externalrecording e ON e.owner_id = u.id WHERE u.username = 'zoe'",
            &[],
        )
        .unwrap();
    assert!(!row.get::<bool>(0));
    assert_eq!(row.get::<String>(1), "CAS");
    assert_eq!(row.get::<String>(2), "faculty");
    assert_eq!(row.get::<String>(3), "UNIV");
    assert_eq!(row.get::<i32>(4), 2);
    assert_eq!(row.get::<String>(5), "Your favorites videos.");
    assert_eq!((row.get::<i32>(6), row.get::<i32>(7)), (2, 2));
    assert!(
        r.stderr.contains("not staff"),
        "warns that Pod hides them: {r:?}"
    );
}
