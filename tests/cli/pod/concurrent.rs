//! pod-import and pod-claim run from several hosts at once on the same records: no
//! duplicate rows, no failed record, each file claimed once (issue 13).

use crate::support::pod::{claim, count, each_engine, import, ndjson, pod_db, record};
use crate::support::{Run, run};
use bbbmig_core::db::Engine;
use serde_json::json;
use std::process::Command;

/// Runs both commands at once on the same input, and `meanwhile`; returns their runs.
fn at_once(a: Command, b: Command, input: &str, meanwhile: impl FnOnce()) -> (Run, Run) {
    let (ia, ib) = (input.to_string(), input.to_string());
    let ta = std::thread::spawn(move || run(a, &ia));
    let tb = std::thread::spawn(move || run(b, &ib));
    meanwhile();
    (ta.join().unwrap(), tb.join().unwrap())
}

#[test]
fn two_pod_imports_at_once_make_each_row_and_user_once() {
    each_engine(two_pod_imports_at_once_make_each_row_and_user_once_on);
}

fn two_pod_imports_at_once_make_each_row_and_user_once_on(engine: Engine) {
    let db = pod_db(engine, "pod_import_at_once");
    // 2,000 recordings whose 40 moderators are shared: both runs create the same users.
    let names: Vec<String> = (0..40).map(|i| format!("conc{i}")).collect();
    let recs: Vec<_> = (1..=2000u32)
        .map(|n| {
            let i = n as usize;
            let mods = [names[i % 40].as_str(), names[(i * 7 + 3) % 40].as_str()];
            record(n, &format!("m-{n}"), "Concurrent", &mods)
        })
        .collect();
    let input = ndjson(&recs);
    let cmd = || {
        let mut c = import(&db);
        c.args(["--admin", "1"]);
        c
    };
    // A slow disk: each insert takes 2 ms, the time another run's statement, started
    // meanwhile, needs to miss the row and insert it too (without a lock per record).
    db.exec(match engine {
        Engine::Postgres => {
            "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \
             $$BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END$$; \
             CREATE TRIGGER slow BEFORE INSERT ON import_video_externalrecording \
             FOR EACH ROW EXECUTE FUNCTION slow()"
        }
        Engine::MySql => {
            "CREATE TRIGGER slow BEFORE INSERT ON import_video_externalrecording \
             FOR EACH ROW DO SLEEP(0.002)"
        }
    });
    let (a, b) = at_once(cmd(), cmd(), &input, || {});
    a.ok();
    b.ok();
    assert_eq!(a.records().len(), 2000);
    assert_eq!(b.records().len(), 2000);
    let dups = count(
        &db,
        "SELECT count(*) FROM (SELECT source_url, owner_id FROM import_video_externalrecording \
         GROUP BY 1, 2 HAVING count(*) > 1) d",
    );
    assert_eq!(dups, 0, "duplicate (source_url, owner) rows");
    let rows = count(&db, "SELECT count(*) FROM import_video_externalrecording");
    // Two distinct moderators a record (i and 7i+3 differ mod 40): 4,000 rows.
    assert_eq!(rows, 4000, "one row per owner");
    let users = count(
        &db,
        "SELECT count(*) FROM auth_user WHERE username LIKE 'conc%'",
    );
    assert_eq!(users, 40);
}

#[test]
fn two_pod_claims_at_once_claim_each_file_once() {
    each_engine(two_pod_claims_at_once_claim_each_file_once_on);
}

fn two_pod_claims_at_once_claim_each_file_once_on(engine: Engine) {
    let db = pod_db(engine, "pod_claim_at_once");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    let src = tempfile::tempdir().unwrap();
    let recs: Vec<_> = (1..=60u32)
        .map(|n| {
            let path = src.path().join(format!("{n}.webm"));
            let body = vec![n as u8; 1000 + n as usize];
            std::fs::write(&path, &body).unwrap();
            let mut r = record(n, "m", &format!("Claimed {n}"), &[]);
            r["video"] = json!({"path": path, "bytes": body.len(), "method": "render"});
            r
        })
        .collect();
    let cmd = || {
        let mut c = claim(
            &db,
            std::path::Path::new(&format!("{}/", root.path().display())),
        );
        c.args(["--recorder", "1", "--copy"]);
        c
    };
    let (a, b) = at_once(cmd(), cmd(), &ndjson(&recs), || {});
    a.ok();
    b.ok();
    let mut created = 0;
    for r in a.records().iter().chain(b.records().iter()) {
        match r["pod_claim"]["status"].as_str().unwrap() {
            "created" => created += 1,
            "exists" => {}
            s => panic!("status {s}: {r:?}"),
        }
    }
    assert_eq!(created, 60, "each file claimed by one run only");
    assert_eq!(
        count(&db, "SELECT count(*) FROM recorder_recordingfiletreatment"),
        60
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM (SELECT file FROM recorder_recordingfiletreatment \
             GROUP BY file HAVING count(*) > 1) d"
        ),
        0
    );
    let placed = std::fs::read_dir(root.path().join("bbb")).unwrap().count();
    assert_eq!(placed, 60, "no temporary file left");
}
