//! pod-claim: videos placed in the recorder folder under unique names, atomically, with the
//! row that makes them claimable in Pod at once.

use crate::support::pg::TestDb;
use crate::support::pod::{claim, count, each_engine, ndjson, pod_db, record};
use crate::support::run;
use bbbmig_core::db::Engine;
use bbbmig_core::params;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Setup {
    db: TestDb,
    root: tempfile::TempDir,
    src: tempfile::TempDir,
}

impl Setup {
    fn new(engine: Engine, hint: &str) -> Setup {
        let s = Setup {
            db: pod_db(engine, hint),
            root: tempfile::tempdir().unwrap(),
            src: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(s.folder()).unwrap();
        s
    }
    fn folder(&self) -> PathBuf {
        self.root.path().join("bbb")
    }
    /// DEFAULT_RECORDER_PATH as Pod spells it, ending in /.
    fn root_arg(&self) -> String {
        format!("{}/", self.root.path().display())
    }
    fn cmd(&self) -> Command {
        let mut c = claim(&self.db, Path::new(&self.root_arg()));
        c.args(["--recorder", "1", "-v"]);
        c
    }
    /// A video file of `len` bytes and a record pointing at it.
    fn rec(&self, n: u32, name: &str, len: usize) -> Value {
        let path = self.src.path().join(format!("{n}.webm"));
        std::fs::write(&path, pattern(len, n)).unwrap();
        with_video(record(n, "m", name, &[]), &path, len)
    }
    /// Files in the recorder folder: (name, size).
    fn files(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = std::fs::read_dir(self.folder())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        v.sort();
        v
    }
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32 ^ seed).wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect()
}

fn with_video(mut rec: Value, path: &Path, len: usize) -> Value {
    rec["video"] = json!({"path": path, "bytes": len, "duration_s": 60.0, "method": "render", "container": "webm"});
    rec
}

fn pod_claim(v: &serde_json::Map<String, Value>) -> &Value {
    &v["pod_claim"]
}

#[test]
fn claim_moves_the_video_into_the_recorder_folder_with_a_claimable_row() {
    each_engine(claim_moves_the_video_into_the_recorder_folder_with_a_claimable_row_on);
}

fn claim_moves_the_video_into_the_recorder_folder_with_a_claimable_row_on(engine: Engine) {
    let s = Setup::new(engine, "claim_move");
    let rec = s.rec(3, "Cours de Maths L1 – Groupe A", 5000);
    let src = PathBuf::from(rec["video"]["path"].as_str().unwrap());
    let r = run(s.cmd(), &ndjson(std::slice::from_ref(&rec)));
    r.ok();
    let pc = pod_claim(&r.records()[0]).clone();
    assert_eq!(pc["status"], "created");
    let name = "cours-de-maths-l1-groupe-a-2024-03-04-090300-00000000.webm".to_string();
    let pod_path = format!("{}bbb/{name}", s.root_arg());
    assert_eq!(pc["file"], pod_path.as_str());
    assert_eq!(
        s.files(),
        vec![(name.clone(), 5000)],
        "no temporary file left"
    );
    assert_eq!(
        std::fs::read(s.folder().join(&name)).unwrap(),
        pattern(5000, 3)
    );
    assert!(!src.exists(), "moved, not copied");
    let row =
        s.db.sql()
            .query_one(
                "SELECT id, file, file_size, recorder_id, require_manual_claim, email_sent, \
             date_email_sent IS NULL, type, date_added \
             FROM recorder_recordingfiletreatment",
                &[],
            )
            .unwrap();
    assert_eq!(pc["treatment_id"], row.get::<i64>(0));
    assert_eq!(row.get::<String>(1), pod_path);
    assert_eq!(row.get::<i64>(2), 5000);
    assert_eq!(row.get::<i64>(3), 1);
    assert!(row.get::<bool>(4), "claimable at once");
    assert!(!row.get::<bool>(5) && row.get::<bool>(6));
    assert_eq!(row.get::<String>(7), "video");
    assert_eq!(
        row.get::<chrono::DateTime<chrono::Utc>>(8),
        chrono::DateTime::parse_from_rfc3339(rec["start_time"].as_str().unwrap()).unwrap(),
        "date_added is the recording's start, in UTC"
    );

    // Second run: the source is gone, the file and row are there.
    let r = run(s.cmd(), &ndjson(&[rec]));
    r.ok();
    assert_eq!(pod_claim(&r.records()[0])["status"], "exists");
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        1
    );
}

#[test]
fn claim_copy_keeps_the_source_and_a_second_run_reports_exists() {
    each_engine(claim_copy_keeps_the_source_and_a_second_run_reports_exists_on);
}

fn claim_copy_keeps_the_source_and_a_second_run_reports_exists_on(engine: Engine) {
    let s = Setup::new(engine, "claim_copy");
    let rec = s.rec(1, "Copie", 3000);
    let mut c = s.cmd();
    c.arg("--copy");
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    r.ok();
    assert!(Path::new(rec["video"]["path"].as_str().unwrap()).exists());
    let mut c = s.cmd();
    c.arg("--copy");
    let r = run(c, &ndjson(&[rec]));
    assert_eq!(pod_claim(&r.records()[0])["status"], "exists", "{r:?}");
    assert_eq!(s.files().len(), 1);
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        1
    );
}

#[test]
fn claim_gives_two_recordings_with_the_same_name_and_date_distinct_files() {
    each_engine(claim_gives_two_recordings_with_the_same_name_and_date_distinct_files_on);
}

fn claim_gives_two_recordings_with_the_same_name_and_date_distinct_files_on(engine: Engine) {
    let s = Setup::new(engine, "claim_same");
    let a = s.rec(1, "Amphi", 100);
    let mut b = s.rec(29, "Amphi", 200); // 29 % 28 == 1: same day as 1
    assert_eq!(
        a["start_time"].as_str().unwrap()[..10],
        b["start_time"].as_str().unwrap()[..10]
    );
    // Same meeting (same recordID prefix), same minute: still two files.
    b["start_time"] = Value::from(a["start_time"].as_str().unwrap().replace(":00Z", ":30Z"));
    b["record_id"] = Value::from(a["record_id"].as_str().unwrap().replace("-17", "-18"));
    let r = run(s.cmd(), &ndjson(&[a, b]));
    r.ok();
    let files = s.files();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_ne!(files[0].0, files[1].0);
    assert_eq!(
        count(
            &s.db,
            "SELECT count(DISTINCT file) FROM recorder_recordingfiletreatment"
        ),
        2
    );
}

#[test]
fn claim_missing_video_fails_only_that_record() {
    each_engine(claim_missing_video_fails_only_that_record_on);
}

fn claim_missing_video_fails_only_that_record_on(engine: Engine) {
    let s = Setup::new(engine, "claim_missing");
    let gone = with_video(
        record(1, "m", "gone", &[]),
        &s.src.path().join("nope.webm"),
        10,
    );
    let mut novideo = record(2, "m", "no video", &[]);
    novideo.as_object_mut().unwrap().remove("video");
    let ok = s.rec(3, "ok", 10);
    let r = run(s.cmd(), &ndjson(&[gone, novideo, ok]));
    r.fails_with(1);
    assert!(
        r.stderr.contains("line 1: record") && r.stderr.contains("nope.webm is missing"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("line 2: record") && r.stderr.contains("no video.path"),
        "{r:?}"
    );
    assert_eq!(r.records().len(), 1);
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        1
    );
}

#[test]
fn claim_never_reuses_a_path_pod_already_processed() {
    each_engine(claim_never_reuses_a_path_pod_already_processed_on);
}

fn claim_never_reuses_a_path_pod_already_processed_on(engine: Engine) {
    let s = Setup::new(engine, "claim_used");
    let rec = s.rec(1, "Claimed", 10);
    let mut c = s.cmd();
    c.arg("--dry-run");
    let r = run(c, &ndjson(std::slice::from_ref(&rec)));
    let path = pod_claim(&r.records()[0])["file"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(pod_claim(&r.records()[0])["status"], "dry-run");
    assert!(s.files().is_empty() && Path::new(rec["video"]["path"].as_str().unwrap()).exists());
    s.db.sql()
        .execute(
            "INSERT INTO recorder_recording (title, type, source_file, comment, date_added, recorder_id, user_id) \
             VALUES ('t', 'video', $1, '', $2, 1, 2)",
            params![path, chrono::Utc::now()],
        )
        .unwrap();
    let r = run(s.cmd(), &ndjson(&[rec]));
    r.ok();
    assert_eq!(pod_claim(&r.records()[0])["status"], "claimed");
    assert!(s.files().is_empty());
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        0
    );
}

#[test]
fn claim_refuses_a_bad_recorder_before_reading_records() {
    each_engine(claim_refuses_a_bad_recorder_before_reading_records_on);
}

fn claim_refuses_a_bad_recorder_before_reading_records_on(engine: Engine) {
    let s = Setup::new(engine, "claim_setup");
    let input = ndjson(&[s.rec(1, "x", 10)]);
    for (recorder, root, want) in [
        ("99", s.root_arg(), "no recorder with id 99"),
        ("2", s.root_arg(), "has a manager"),
        ("3", s.root_arg(), "not linked to site 1"),
        (
            "1",
            format!("{}/elsewhere/", s.root_arg()),
            "does not exist",
        ),
    ] {
        let mut c = claim(&s.db, Path::new(&root));
        c.args(["--recorder", recorder]);
        let r = run(c, &input);
        r.fails_with(2);
        assert!(r.stderr.contains(want), "{want}: {r:?}");
        assert!(r.stdout.is_empty());
    }
}

/// A tmpfs mounted for one test, unmounted on drop (tests run as root: permission bits
/// alone would not stop root, a read-only or full file system does).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, opts: &str) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("cannot mount a tmpfs here (not root?): this check is skipped");
        }
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn claim_read_only_recorder_folder_is_fatal_at_start() {
    each_engine(claim_read_only_recorder_folder_is_fatal_at_start_on);
}

fn claim_read_only_recorder_folder_is_fatal_at_start_on(engine: Engine) {
    let s = Setup::new(engine, "claim_ro");
    let Some(_m) = Tmpfs::mount(&s.folder(), "ro,size=1m") else {
        return;
    };
    let r = run(s.cmd(), &ndjson(&[s.rec(1, "x", 10)]));
    r.fails_with(2).stderr_has("is not writable");
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        0
    );
}

#[test]
fn claim_full_recorder_folder_is_fatal_and_leaves_nothing() {
    each_engine(claim_full_recorder_folder_is_fatal_and_leaves_nothing_on);
}

fn claim_full_recorder_folder_is_fatal_and_leaves_nothing_on(engine: Engine) {
    let s = Setup::new(engine, "claim_full");
    let Some(_m) = Tmpfs::mount(&s.folder(), "size=64k") else {
        return;
    };
    let big = s.rec(1, "too big", 400_000);
    let r = run(s.cmd(), &ndjson(&[big.clone(), s.rec(2, "next", 10)]));
    r.fails_with(2).stderr_has("No space left");
    assert!(s.files().is_empty(), "no partial file: {:?}", s.files());
    assert!(
        Path::new(big["video"]["path"].as_str().unwrap()).exists(),
        "the source stays"
    );
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        0
    );
}

#[test]
fn kill_during_claim_leaves_no_partial_file() {
    each_engine(kill_during_claim_leaves_no_partial_file_on);
}

fn kill_during_claim_leaves_no_partial_file_on(engine: Engine) {
    let s = Setup::new(engine, "claim_kill");
    const LEN: usize = 24 << 20;
    let src = s.src.path().join("big.webm");
    std::fs::write(&src, pattern(LEN, 7)).unwrap();
    let recs: Vec<Value> = (1..=6)
        .map(|n| with_video(record(n, "m", "Big", &[]), &src, LEN))
        .collect();
    for delay in [20u64, 120, 400] {
        let mut c = s.cmd();
        c.arg("--copy")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), ndjson(&recs).as_bytes())
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let rows: Vec<String> =
            s.db.sql()
                .query("SELECT file FROM recorder_recordingfiletreatment", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        let mut orphans = 0;
        for (name, size) in s.files() {
            if name.starts_with('.') {
                continue; // a temporary name, which Pod's recorder job ignores
            }
            assert_eq!(
                size, LEN as u64,
                "partial file under the final name {name} (kill after {delay} ms)"
            );
            if !rows.iter().any(|f| f.ends_with(&format!("/{name}"))) {
                orphans += 1; // killed between the rename and the row's commit
            }
        }
        assert!(
            orphans <= 1,
            "{orphans} complete files without row after {delay} ms"
        );
        for f in &rows {
            assert!(Path::new(f).exists(), "row without file {f}");
        }
    }
    let mut c = s.cmd();
    c.arg("--copy");
    let r = run(c, &ndjson(&recs));
    r.ok(); // the rerun completes everything
    let files = s.files();
    assert_eq!(files.len(), 6, "no temporary file left: {files:?}");
    assert!(files.iter().all(|(_, n)| *n == LEN as u64));
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        6
    );
}

#[test]
fn claim_names_fit_an_older_install_with_a_100_character_path_column() {
    each_engine(claim_names_fit_an_older_install_with_a_100_character_path_column_on);
}

fn claim_names_fit_an_older_install_with_a_100_character_path_column_on(engine: Engine) {
    let s = Setup::new(engine, "claim_short");
    s.db.exec(match engine {
        Engine::Postgres => {
            "ALTER TABLE recorder_recordingfiletreatment ALTER COLUMN file TYPE varchar(100)"
        }
        Engine::MySql => {
            "ALTER TABLE recorder_recordingfiletreatment MODIFY file varchar(100) NOT NULL"
        }
    });
    let long = "Un intitulé de cours vraiment très long, bien plus que quarante caractères";
    let r = run(s.cmd(), &ndjson(&[s.rec(1, long, 10)]));
    r.ok();
    let file = pod_claim(&r.records()[0])["file"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(file.chars().count() <= 100, "{file}");
    assert!(file.contains("/bbb/un-intitule-de-cours"), "{file}");
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        1
    );
}

#[test]
fn claim_never_takes_another_recordings_file_sharing_its_name() {
    each_engine(claim_never_takes_another_recordings_file_sharing_its_name_on);
}

fn claim_never_takes_another_recordings_file_sharing_its_name_on(engine: Engine) {
    // Same name slug, same start second, same first 8 characters of the record ID, same
    // size: one file name for two recordings.
    let s = Setup::new(engine, "claim_collide");
    let a = s.rec(1, "Amphi", 4000);
    let mut b = s.rec(2, "Amphi", 4000);
    b["start_time"] = a["start_time"].clone();
    b["record_id"] = Value::from(a["record_id"].as_str().unwrap().replace("-17", "-18"));
    let b_src = PathBuf::from(b["video"]["path"].as_str().unwrap());
    let r = run(s.cmd(), &ndjson(std::slice::from_ref(&a)));
    r.ok();
    let placed = s.files();
    assert_eq!(placed.len(), 1);
    for _ in 0..2 {
        let r = run(s.cmd(), &ndjson(std::slice::from_ref(&b)));
        r.fails_with(1).stderr_has("is another recording's video");
        assert!(r.records().is_empty(), "{r:?}");
        assert_eq!(std::fs::read(&b_src).unwrap(), pattern(4000, 2), "kept");
        assert_eq!(s.files(), placed);
        assert_eq!(
            std::fs::read(s.folder().join(&placed[0].0)).unwrap(),
            pattern(4000, 1)
        );
    }
    // The first recording itself is still recognised.
    let r = run(s.cmd(), &ndjson(&[a]));
    r.ok();
    assert_eq!(pod_claim(&r.records()[0])["status"], "exists");
}

#[test]
fn claim_recognises_a_renamed_recording_by_its_record_id() {
    each_engine(claim_recognises_a_renamed_recording_by_its_record_id_on);
}

fn claim_recognises_a_renamed_recording_by_its_record_id_on(engine: Engine) {
    let s = Setup::new(engine, "claim_renamed");
    let rec = s.rec(5, "Ancien nom", 3000);
    let r = run(s.cmd(), &ndjson(std::slice::from_ref(&rec)));
    r.ok();
    let first = pod_claim(&r.records()[0]).clone();
    // Renamed in BBB since; its video made again (the source was moved away).
    let mut renamed = s.rec(5, "Nouveau nom", 3000);
    renamed["record_id"] = rec["record_id"].clone();
    let r = run(s.cmd(), &ndjson(std::slice::from_ref(&renamed)));
    r.ok();
    let pc = pod_claim(&r.records()[0]).clone();
    assert_eq!(pc["status"], "exists", "{r:?}");
    assert_eq!(pc["file"], first["file"]);
    assert_eq!(pc["treatment_id"], first["treatment_id"]);
    assert_eq!(s.files().len(), 1, "{:?}", s.files());
    assert_eq!(
        count(
            &s.db,
            "SELECT count(*) FROM recorder_recordingfiletreatment"
        ),
        1
    );
    // Its new source was this recording's video: moved, that is removed.
    assert!(!Path::new(renamed["video"]["path"].as_str().unwrap()).exists());
}
