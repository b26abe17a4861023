//! A database lost mid-stream, at a known point: a proxy between the tool and PostgreSQL
//! (support/proxy.rs) resets the connection when the tool sends its first statement for
//! the second record. Each tool must exit 2 saying it lost the database, with the records
//! done counted, stdout holding only the finished first record, nothing half written.

use crate::moodle::{REC10, SEED10, enriched, mid, rec};
use crate::support::pg::TestDb;
use crate::support::pod::{claim, count, import, ndjson, pod_db, record};
use crate::support::proxy::Proxy;
use crate::support::{cmd, moodle};
use bbbmig_core::db::Engine;
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// What a tool did when its database went away after its first record.
struct Cut {
    /// The line it wrote for the first record.
    first: Map<String, Value>,
    /// Everything it wrote to stdout after the cut.
    after: String,
    code: Option<i32>,
    stderr: String,
}

impl Cut {
    /// Exit 2, "lost the … database" naming `db`, one record counted, nothing more on stdout.
    fn check(&self, tool: &str, db: &str) {
        assert_eq!(self.code, Some(2), "{}", self.stderr);
        assert_eq!(
            self.after, "",
            "nothing is emitted after the database went away"
        );
        // One error line: the database is lost, by its socket (not by a server's notice).
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{tool}: error: ")))
            .collect();
        assert_eq!(errors.len(), 1, "{}", self.stderr);
        assert!(
            errors[0].contains(&format!("lost the {db}"))
                && errors[0].contains("Connection reset by peer"),
            "{}",
            self.stderr
        );
        let summary = self.stderr.lines().last().unwrap_or("");
        assert!(
            summary.starts_with(&format!("{tool}: 1 record")),
            "{}",
            self.stderr
        );
    }
}

/// Runs `c` on `first` (one record, which must finish), then has `proxy` cut the database
/// at the next statement and feeds `rest`.
fn cut_after_first(mut c: Command, proxy: &Proxy, first: &str, rest: &str) -> Cut {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(first.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let first: Map<String, Value> = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("first record not written whole ({e}): {line:?}"));
    proxy.cut_at_next_statement();
    let _ = stdin.write_all(rest.as_bytes());
    drop(stdin);
    let mut after = String::new();
    stdout.read_to_string(&mut after).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        proxy.was_cut(),
        "the tool never sent a statement after the first record: {stderr}"
    );
    Cut {
        first,
        after,
        code: status.code(),
        stderr,
    }
}

/// The same database reached through `proxy`.
fn through(proxy: &Proxy, db: &TestDb) -> TestDb {
    TestDb {
        name: db.name.clone(),
        conninfo: proxy.conninfo(db),
        engine: db.engine,
    }
}

#[test]
fn lost_db_moodle_moderators_exits_2_after_the_records_it_finished() {
    let db = moodle::moodle4("lost_mods");
    let proxy = Proxy::start();
    let mut c = cmd("moodle-moderators");
    c.arg("--db")
        .arg(format!("default={}", proxy.conninfo(&db)))
        .args(["--batch", "1"]);
    let first = rec(REC10, &mid(SEED10, 2, 10), None);
    let rest = [
        rec("second-of-10", &mid(SEED10, 2, 10), None),
        rec("third", &mid(SEED10, 2, 10), None),
    ]
    .concat();
    let cut = cut_after_first(c, &proxy, &first, &rest);
    assert_eq!(cut.first["moodle"]["activity_id"], 10);
    cut.check("moodle-moderators", "Moodle database default");
}

#[test]
fn lost_db_moodle_inform_exits_2_and_leaves_the_next_activity_untouched() {
    let db = moodle::moodle4("lost_inform");
    let input = enriched(&db);
    let mut lines = input.lines().map(|l| format!("{l}\n"));
    let first = lines.next().unwrap();
    let rest: String = lines.collect();
    let intro_12 = |db: &TestDb| -> Option<String> {
        db.client()
            .query_one("SELECT intro FROM mdl_bigbluebuttonbn WHERE id = 12", &[])
            .unwrap()
            .get(0)
    };
    let before = intro_12(&db);
    let proxy = Proxy::start();
    let mut c = cmd("moodle-inform");
    c.env("POD_URL", "https://pod.example.org/import_video/")
        .arg("--db")
        .arg(format!("default={}", proxy.conninfo(&db)))
        .args(["--batch", "1"]);
    let cut = cut_after_first(c, &proxy, &first, &rest);
    assert_eq!(cut.first["moodle_inform"]["status"], "updated");
    cut.check("moodle-inform", "Moodle database default");
    // The first notice was committed; the second record's activity was never touched.
    let mut client = db.client();
    let i10: String = client
        .query_one("SELECT intro FROM mdl_bigbluebuttonbn WHERE id = 10", &[])
        .unwrap()
        .get(0);
    assert!(i10.contains(&format!("bbbmig-recording:{REC10}")), "{i10}");
    assert_eq!(intro_12(&db), before);
}

#[test]
fn lost_db_pod_import_exits_2_and_rolls_back_the_record_in_flight() {
    let db = pod_db(Engine::Postgres, "lost_import");
    let proxy = Proxy::start();
    let mut c = import(&through(&proxy, &db));
    c.args(["--admin", "1"]);
    let first = ndjson(&[record(1, "m-1", "first", &["early"])]);
    let rest = ndjson(&[
        record(2, "m-2", "second", &["late"]),
        record(3, "m-3", "third", &["later"]),
    ]);
    let cut = cut_after_first(c, &proxy, &first, &rest);
    assert_eq!(
        cut.first["pod_import"]["status"], "created",
        "{:?}",
        cut.first
    );
    cut.check("pod-import", "Pod database");
    let users = |name: &str| {
        count(
            &db,
            &format!("SELECT count(*) FROM auth_user WHERE username = '{name}'"),
        )
    };
    assert_eq!((users("early"), users("late"), users("later")), (1, 0, 0));
}

#[test]
fn lost_db_pod_claim_exits_2_and_leaves_no_file_for_the_record_in_flight() {
    let db = pod_db(Engine::Postgres, "lost_claim");
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("bbb");
    std::fs::create_dir(&folder).unwrap();
    let src = tempfile::tempdir().unwrap();
    let with_video = |n: u32, name: &str| {
        let path = src.path().join(format!("{n}.webm"));
        std::fs::write(&path, vec![n as u8; 4096]).unwrap();
        let mut r = record(n, "m", name, &[]);
        r["video"] = json!({"path": path, "bytes": 4096, "duration_s": 60.0,
            "method": "render", "container": "webm"});
        r
    };
    let proxy = Proxy::start();
    let mut c = claim(
        &through(&proxy, &db),
        std::path::Path::new(&format!("{}/", root.path().display())),
    );
    c.args(["--recorder", "1"]);
    let first = ndjson(&[with_video(1, "first")]);
    let rest = ndjson(&[with_video(2, "second"), with_video(3, "third")]);
    let cut = cut_after_first(c, &proxy, &first, &rest);
    assert_eq!(
        cut.first["pod_claim"]["status"], "created",
        "{:?}",
        cut.first
    );
    cut.check("pod-claim", "Pod database");
    // Only the first video moved in, with its row; the others stay where they were.
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
    assert_eq!(
        count(&db, "SELECT count(*) FROM recorder_recordingfiletreatment"),
        1
    );
    assert!(src.path().join("2.webm").exists() && src.path().join("3.webm").exists());
}
