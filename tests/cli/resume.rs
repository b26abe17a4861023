//! Resuming a migration: `pod-claim --mark-done` marks what Pod already has (claimed
//! files, external recordings; read only, on both engines), bbb-record and pod-claim skip
//! it; `pod-claim --list-recorders` shows the Pod-side settings.

use crate::record::{Published, clip, files_log, list, rid, standin};
use crate::support::mysql::{self, Fixture};
use crate::support::pg::TestDb;
use crate::support::pod::{self, pod_db, record};
use crate::support::{cmd, engines, run};
use bbbmig_core::db::Engine;
use bbbmig_core::params;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::path::Path;

/// A fresh Pod database (schema and seed) on `engine`.
fn pod_on(engine: Engine, hint: &str) -> TestDb {
    match engine {
        Engine::Postgres => pod_db(Engine::Postgres, hint),
        Engine::MySql => mysql::fresh_db(hint, Fixture::Pod),
    }
}

/// A connection string for the same database that cannot write: a read-only session
/// (PostgreSQL), the SELECT-only account (MariaDB).
fn read_only(db: &TestDb) -> String {
    match db.engine {
        Engine::Postgres => format!(
            "{} options='-c default_transaction_read_only=on'",
            db.conninfo
        ),
        Engine::MySql => {
            let var = |n: &str| std::env::var(format!("BBBMIG_TEST_MYSQL_{n}")).unwrap();
            let (user, pw) = (var("READER_USER"), var("READER_PASSWORD"));
            let at = db.conninfo.find('@').unwrap();
            format!("mysql://{user}:{pw}{}", &db.conninfo[at..])
        }
    }
}

/// `pod-claim` on `conninfo`, with no recorder folder anywhere.
fn pod_claim(conninfo: &str, args: &[&str]) -> std::process::Command {
    let mut c = cmd("pod-claim");
    c.env("POD_DATABASE_URL", conninfo)
        .arg("--recorder-root")
        .arg("/nonexistent/ftp/")
        .args(args);
    c
}

/// A bbb-list record whose ID starts with `prefix` (pod-claim's names keep its first 8).
fn rec(n: u32, prefix: &str) -> Value {
    let mut r = record(n, &format!("m{n}"), &format!("Cours {n}"), &[]);
    r["record_id"] = json!(format!(
        "{prefix}{:032x}-{}",
        n,
        1_700_000_000_000u64 + u64::from(n)
    ));
    r
}

/// The end of the recorder file names pod-claim gives a record: `<start>-<ID prefix>`.
fn stem(r: &Value) -> String {
    let start: DateTime<Utc> = r["start_time"].as_str().unwrap().parse().unwrap();
    let id: String = r["record_id"].as_str().unwrap().chars().take(8).collect();
    format!("{}-{id}", start.format("%Y-%m-%d-%H%M%S"))
}

fn by_id(recs: &[Map<String, Value>], r: &Value) -> Map<String, Value> {
    let id = &r["record_id"];
    let found: Vec<_> = recs.iter().filter(|x| &x["record_id"] == id).collect();
    assert_eq!(found.len(), 1, "record {id} is not there once: {recs:?}");
    found[0].clone()
}

#[test]
fn mark_done_marks_claimed_and_imported_records_read_only_on_both_engines() {
    for engine in engines() {
        let db = pod_on(engine, "mark_done");
        let recs: Vec<Value> = [
            (1, "aaaaaaa1"),
            (2, "bbbbbbb2"),
            (3, "ccccccc3"),
            (4, "ddddddd4"),
            (5, "eeeeeee5"),
            (6, "fffffff6"),
        ]
        .iter()
        .map(|(n, p)| rec(*n, p))
        .collect();
        let when: DateTime<Utc> = "2024-03-01T09:00:00Z".parse().unwrap();
        let mut sql = db.sql();
        let treatment = |sql: &mut bbbmig_core::db::sql::Db, file: &str| {
            sql.insert(
                "INSERT INTO recorder_recordingfiletreatment (file, file_size, date_added, \
                 require_manual_claim, email_sent, date_email_sent, type, recorder_id) \
                 VALUES ($1, 10, $2, $3, $4, NULL, 'video', 1)",
                params![file, when, true, false],
            )
            .unwrap()
        };
        let root = "/data/ftp-pod/ftp/bbb";
        // 1: waits to be claimed, under the name it had before it was renamed.
        let t1 = treatment(
            &mut sql,
            &format!("{root}/old-name-{}.webm", stem(&recs[0])),
        );
        // 2: claimed by a user: Pod made it a recording.
        let r2 = sql
            .insert(
                "INSERT INTO recorder_recording (title, type, source_file, comment, date_added, \
                 recorder_id, user_id) VALUES ('x', 'video', $1, '', $2, 1, 2)",
                params![format!("{root}/cours-2-{}.mp4", stem(&recs[1])), when],
            )
            .unwrap();
        // 3: imported by pod-import (its source_url without the one-time token).
        let url3 = recs[2]["source_url"].as_str().unwrap().to_string();
        let external = |sql: &mut bbbmig_core::db::sql::Db, url: &str, owner: i32| {
            sql.insert(
                "INSERT INTO import_video_externalrecording (name, start_at, type, source_url, \
                 state, owner_id, site_id, uploaded_to_pod_by_id) \
                 VALUES ('x', $1, 'bigbluebutton', $2, NULL, $3, 1, NULL)",
                params![when, url, owner],
            )
            .unwrap()
        };
        let e3a = external(&mut sql, &url3, 2);
        let e3b = external(&mut sql, &url3, 3);
        let mut r3 = recs[2].clone();
        r3["source_url"] = json!(format!("{url3}?token=one-time-secret"));
        // 4: a file of the same start but another recording (ID prefix): not this one.
        let mut other = stem(&recs[3]);
        other.replace_range(other.len() - 1.., "X");
        treatment(&mut sql, &format!("{root}/cours-4-{other}.webm"));
        // 5: claimed and imported.
        let t5 = treatment(&mut sql, &format!("{root}/{}.m4v", stem(&recs[4])));
        let e5 = external(&mut sql, recs[4]["source_url"].as_str().unwrap(), 1);
        // 6: nowhere in Pod, but a stale mark from an earlier run.
        let mut r6 = recs[5].clone();
        r6["pod_done"] = json!({"imported": [999]});
        let before = counts(&db);

        let input = pod::ndjson(&[
            recs[0].clone(),
            recs[1].clone(),
            r3.clone(),
            recs[3].clone(),
            recs[4].clone(),
            r6.clone(),
        ]);
        let r = run(pod_claim(&read_only(&db), &["--mark-done", "-v"]), &input);
        r.ok().stderr_has("6 records: 4 found, 2 not-found");
        let out = r.records();
        assert_eq!(out.len(), 6, "{engine:?}");
        let done = |v: &Value| by_id(&out, v).get("pod_done").cloned();
        assert_eq!(
            done(&recs[0]),
            Some(
                json!({"claimed": {"file": format!("{root}/old-name-{}.webm", stem(&recs[0])),
                "recorder_id": 1, "treatment_id": t1, "recording_id": null}})
            ),
            "{engine:?}"
        );
        assert_eq!(
            done(&recs[1]),
            Some(
                json!({"claimed": {"file": format!("{root}/cours-2-{}.mp4", stem(&recs[1])),
                "recorder_id": 1, "treatment_id": null, "recording_id": r2}})
            )
        );
        assert_eq!(done(&r3), Some(json!({"imported": [e3a, e3b]})));
        assert_eq!(done(&recs[3]), None);
        assert_eq!(
            done(&recs[4]),
            Some(
                json!({"claimed": {"file": format!("{root}/{}.m4v", stem(&recs[4])),
                "recorder_id": 1, "treatment_id": t5, "recording_id": null}, "imported": [e5]})
            )
        );
        assert_eq!(done(&r6), None, "a stale mark is taken off");
        // Everything else rides through; the token stays in the record.
        assert_eq!(by_id(&out, &r3)["source_url"], r3["source_url"]);
        assert_eq!(by_id(&out, &r3)["x_from_jq"], json!({"kept": [3]}));
        assert_eq!(counts(&db), before, "{engine:?}: nothing written");

        // Only claims, or only imports, when asked.
        let r = run(pod_claim(&db.conninfo, &["--mark-done=claimed"]), &input);
        r.ok().stderr_has("3 found, 3 not-found");
        assert_eq!(by_id(&r.records(), &r3).get("pod_done"), None);
        let r = run(pod_claim(&db.conninfo, &["--mark-done=imported"]), &input);
        r.ok().stderr_has("2 found, 4 not-found");
    }
}

/// Rows of the tables pod-claim and pod-import write.
fn counts(db: &TestDb) -> Vec<i64> {
    [
        "recorder_recordingfiletreatment",
        "recorder_recording",
        "import_video_externalrecording",
        "auth_user",
    ]
    .iter()
    .map(|t| db.number(&format!("SELECT COUNT(*) FROM {t}")))
    .collect()
}

#[test]
fn mark_done_fails_records_it_cannot_recognise_and_refuses_claim_options() {
    let db = pod_db(Engine::Postgres, "mark_done_bad");
    let mut no_start = rec(1, "aaaaaaa1");
    no_start.as_object_mut().unwrap().remove("start_time");
    let input = pod::ndjson(&[no_start, rec(2, "bbbbbbb2")]);
    let r = run(pod_claim(&db.conninfo, &["--mark-done"]), &input);
    r.fails_with(1)
        .stderr_has("missing field start_time")
        .stderr_has("2 records: 1 not-found, 1 failed");
    assert_eq!(r.records().len(), 1);
    run(
        pod_claim(&db.conninfo, &["--mark-done", "--recorder", "1"]),
        "",
    )
    .fails_with(2)
    .stderr_has("cannot be used with");
    // The read-only modes have no pre-flight: --check is refused, not ignored.
    for mode in ["--mark-done", "--list-recorders"] {
        run(pod_claim(&db.conninfo, &[mode, "--check"]), "")
            .fails_with(2)
            .stderr_has("cannot be used with '--check'");
    }
    run(pod_claim(&db.conninfo, &[]), "")
        .fails_with(2)
        .stderr_has("--recorder");
}

#[test]
fn list_recorders_shows_sites_recorders_folders_and_admins_on_both_engines() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.path().join("bbb"),
        std::fs::Permissions::from_mode(0o2775),
    )
    .unwrap();
    for engine in engines() {
        let db = pod_on(engine, "list_recorders");
        let mut c = cmd("pod-claim");
        c.env("POD_DATABASE_URL", read_only(&db))
            .arg("--list-recorders")
            .arg("--recorder-root")
            .arg(root.path());
        let r = run(c, "");
        let folder = root.path().join("bbb");
        r.ok()
            .stdout_has(
                "site 1  domain \"pod.example.org\"  name \"Pod\"  --pod-url https://pod.example.org\n",
            )
            .stdout_has("site 2  domain \"pod2.example.org\"")
            .stdout_has(
                "recorder 1  name \"BBB migration\"  type \"video\"  manager none  sites 1  directory \"bbb\"\n",
            )
            .stdout_has(&format!("  folder {}: owner ", folder.display()))
            .stdout_has(" mode 2775\n")
            .stdout_has("recorder 2  name \"Managed\"  type \"video\"  manager \"podteacher\" (id 2)  sites 1")
            .stdout_has("  not for pod-claim: Pod hands every file of a recorder with a manager")
            .stdout_has("recorder 3  name \"Other site\"  type \"video\"  manager none  sites 2")
            .stdout_has("not on this host")
            .stdout_has("admin 1  username \"admin\"  email \"admin@example.org\"  superuser, staff\n")
            .stdout_has("admin 2  username \"podteacher\"");
        assert!(!r.stdout.contains("pod-claim: error"), "{r:?}");
    }
}

/// The README's video pipeline run twice, the first time stopped after two records (and
/// one recording imported meanwhile): the rerun with `pod-claim --mark-done` downloads
/// only the recording Pod lacks, and reports every record once.
#[test]
fn a_rerun_with_mark_done_makes_only_what_pod_lacks() {
    let p = Published::new();
    // Real IDs differ in their first 8 characters (a hash of the meeting), which
    // pod-claim's file names keep with the start time.
    let ids: Vec<String> = (0..4u64)
        .map(|i| format!("{:08x}{}", 0xa1b2_c3d0 + i, &rid(i * 60_000)[8..]))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        p.video(id, &format!("Cours {i}"), clip());
    }
    let si = standin(&p, &[]);
    let all = list(&si);
    let line_of = |id: &str| -> String {
        all.lines()
            .find(|l| l.contains(id))
            .map(|l| format!("{l}\n"))
            .unwrap()
    };
    let db = pod_db(Engine::Postgres, "resume");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    let videos = tempfile::tempdir().unwrap();
    let record = |input: &str| {
        let mut c = cmd("bbb-record");
        c.arg("--out").arg(videos.path()).arg("-v");
        run(c, input)
    };
    let claim = |input: &str| {
        let mut c = pod::claim(&db, &root.path().join(""));
        c.args(["--recorder", "1", "-v"]);
        run(c, input)
    };

    // First run: two records made and claimed, then stopped; one imported instead.
    let first = format!("{}{}", line_of(&ids[0]), line_of(&ids[1]));
    let made = record(&first);
    made.ok().stderr_has("2 records: 2 created");
    claim(&made.stdout).ok().stderr_has("2 records: 2 created");
    let mut imp = pod::import(&db);
    imp.args(["--admin", "1"]);
    run(imp, &line_of(&ids[2]))
        .ok()
        .stderr_has("1 record: 1 created");
    let downloads = files_log(&si).len();
    assert_eq!(downloads, 2);

    // Rerun of everything, the way bbbmig(7) says (the listing kept in a file).
    let listing = root.path().join("recordings.ndjson");
    std::fs::write(&listing, &all).unwrap();
    let mut mark = pod_claim(&db.conninfo, &["--mark-done"]);
    mark.arg(&listing);
    let marked = run(mark, "");
    marked.ok().stderr_has("4 records: 3 found, 1 not-found");
    let made = record(&marked.stdout);
    made.ok()
        .stderr_has("4 records: 1 created, 3 skipped")
        .stderr_has("already in Pod (pod_done); skipped");
    let log = files_log(&si);
    assert_eq!(log.len(), downloads + 1, "{log:?}");
    assert!(log[downloads].contains(&ids[3]), "{log:?}");
    for r in made.records() {
        let id = r["record_id"].as_str().unwrap();
        if id == ids[3] {
            assert_eq!(r["video"]["status"], "created");
        } else {
            // passed on as it came: no video, no lease, nothing in --out
            assert_eq!(r.get("video"), None, "{r:?}");
            assert!(r.get("pod_done").is_some());
        }
    }
    let claimed = claim(&made.stdout);
    claimed
        .ok()
        .stderr_has("4 records: 1 created, 2 exists, 1 skipped");
    let out = claimed.records();
    assert_eq!(out.len(), 4);
    for (i, id) in ids.iter().enumerate() {
        let r = by_id(&out, &json!({"record_id": id}));
        let want = ["exists", "exists", "skipped", "created"][i];
        assert_eq!(r["pod_claim"]["status"], want, "{r:?}");
    }
    assert_eq!(
        pod::count(&db, "SELECT count(*) FROM recorder_recordingfiletreatment"),
        3
    );
    assert_eq!(files_in(&root.path().join("bbb")), 3);
    assert_eq!(files_in(videos.path()), 0, "nothing left in --out");

    // Once everything is in Pod, a rerun fetches nothing at all.
    let marked = run(pod_claim(&db.conninfo, &["--mark-done"]), &all);
    marked.ok().stderr_has("4 records: 4 found");
    record(&marked.stdout)
        .ok()
        .stderr_has("4 records: 4 skipped");
    assert_eq!(files_log(&si).len(), downloads + 1);
}

/// Visible files in `dir`.
fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .count()
}

#[test]
fn bbb_record_passes_marked_records_on_as_they_came_and_fails_a_garbled_mark() {
    let out = tempfile::tempdir().unwrap();
    // No playback at all: made, it would fail; marked, it is not made.
    let marked = json!({"record_id": "r1", "x_from_jq": [1],
        "pod_done": {"claimed": {"file": "/f/x-2024-03-02-090100-r1.mp4", "recorder_id": 1,
                                 "treatment_id": 3, "recording_id": null}}});
    let garbled = json!({"record_id": "r2", "pod_done": "yes"});
    let input = pod::ndjson(&[marked.clone(), garbled]);
    let mut c = cmd("bbb-record");
    c.arg("--out").arg(out.path());
    let r = run(c, &input);
    r.fails_with(1)
        .stderr_has("record r2: field pod_done has the wrong shape")
        .stderr_has("2 records: 1 skipped, 1 failed");
    let recs = r.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(Value::Object(recs[0].clone()), marked, "unchanged");
    assert_eq!(files_in(out.path()), 0);
}

#[test]
fn pod_claim_reports_marked_records_without_touching_files() {
    let db = pod_db(Engine::Postgres, "claim_marked");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    let claimed = |recording: Option<i64>| {
        json!({"claimed": {"file": "/r/bbb/x-2024-03-02-090100-aaaaaaa1.mp4", "recorder_id": 3,
                           "treatment_id": 7, "recording_id": recording}})
    };
    let mut waiting = rec(1, "aaaaaaa1");
    waiting["pod_done"] = claimed(None);
    let mut taken = rec(2, "bbbbbbb2");
    taken["pod_done"] = claimed(Some(9));
    let mut imported = rec(3, "ccccccc3");
    imported["pod_done"] = json!({"imported": [4]});
    let before = pod::snapshot(&db);
    let mut c = pod::claim(&db, &root.path().join(""));
    c.args(["--recorder", "1"]);
    // None has a video: a record to claim would fail for want of one.
    let r = run(c, &pod::ndjson(&[waiting, taken, imported]));
    r.ok()
        .stderr_has("3 records: 1 claimed, 1 exists, 1 skipped");
    let out = r.records();
    let status: Vec<&Value> = out.iter().map(|r| &r["pod_claim"]["status"]).collect();
    assert_eq!(status, ["exists", "claimed", "skipped"]);
    assert_eq!(
        out[0]["pod_claim"],
        json!({"status": "exists", "file": "/r/bbb/x-2024-03-02-090100-aaaaaaa1.mp4",
               "treatment_id": 7, "bytes": null, "recorder_id": 3})
    );
    assert_eq!(pod::snapshot(&db), before, "nothing written");
    assert_eq!(files_in(&root.path().join("bbb")), 0);
}
