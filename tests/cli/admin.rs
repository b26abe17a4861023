//! The administrator's first runs (issue 12): every missing setting reported at once before
//! any record is read, the `--check` pre-flight of the writing tools, upstream stages that
//! stop when the next stage dies at start, clear words for common mistakes, `--help`
//! examples that copy and paste, `bbb-synth --out` served by `bbb-standin --published`.

use crate::support::pg::fresh_db;
use crate::support::pod::{self, SECRET as POD_SECRET, pod_db};
use crate::support::standin::{SECRET, StandIn};
use crate::support::{bin, cmd, moodle, run};
use bbbmig_core::db::Engine;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A record that would fail if it were read: its `record_id` is missing.
const UNREAD: &str = "{\"not\":\"read\"}\n";

#[test]
fn every_missing_setting_is_reported_at_once_before_any_record() {
    let r = run(cmd("pod-import"), "{garbled\n");
    r.fails_with(2)
        .stderr_has("no Pod database: give --pod-db CONNINFO or --pod-db-file FILE, or set POD_DATABASE_URL")
        .stderr_has("no secret: set POD_SECRET_KEY or give --secret-key-file FILE")
        .stderr_has("give --admin ID")
        .stderr_has("3 settings are missing or invalid");
    assert!(!r.stderr.contains("line 1"), "the input was read: {r:?}");

    let r = run(cmd("bbb-list"), "");
    r.fails_with(2)
        .stderr_has("give --server URL or set BBB_URL")
        .stderr_has("set BBB_SECRET or give --secret-file FILE")
        .stderr_has("2 settings are missing");

    let mut c = cmd("bbb-record");
    c.args(["--name", "{nmae}"]).env("PATH", "/nonexistent");
    let r = run(c, "{garbled\n");
    r.fails_with(2)
        .stderr_has("give --out DIR")
        .stderr_has("{nmae}")
        .stderr_has("ffprobe is not installed")
        .stderr_has("ffmpeg is not installed")
        .stderr_has("4 settings are missing");

    let mut c = cmd("moodle-inform");
    c.args(["--db", "host=/tmp dbname=moodle", "--prefix", "MDL"]);
    let r = run(c, "{garbled\n");
    r.fails_with(2)
        .stderr_has("give --pod-url URL or set POD_URL")
        .stderr_has("without NAME= in front")
        .stderr_has("bad --prefix")
        .stderr_has("3 settings are missing");

    let mut c = cmd("pod-claim");
    c.args(["--recorder", "1", "--recorder-root", "relative/"]);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("--recorder-root must be absolute")
        .stderr_has("set POD_DATABASE_URL")
        .stderr_has("2 settings are missing");
    let mut c = cmd("pod-claim");
    c.args(["--recorder", "1", "--recorder-root", "/nonexistent/ftp/"]);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("--recorder-root /nonexistent/ftp/ does not exist or is not a folder")
        .stderr_has("2 settings are missing");

    for tool in ["moodle-moderators", "greenlight-owners"] {
        run(cmd(tool), "{garbled\n")
            .fails_with(2)
            .stderr_has("give --db NAME=CONNINFO or --db-file FILE")
            .stderr_has("1 setting is missing");
    }
    let mut c = cmd("bbb-csv");
    c.args(["--columns", "a,,b", "--delimiter", "\""]);
    run(c, "{garbled\n")
        .fails_with(2)
        .stderr_has("empty column")
        .stderr_has("--delimiter must be")
        .stderr_has("2 settings are missing");
}

/// Runs `c` with `--check` on input that would fail if it were read.
fn check(mut c: Command) -> crate::support::Run {
    c.arg("--check");
    run(c, "{garbled\n")
}

#[test]
fn pod_tools_check_their_database_privileges_and_folder_without_reading() {
    let db = pod_db(Engine::Postgres, "admin_check");
    let mut c = pod::import(&db);
    c.args(["--admin", "1"]);
    let r = check(c);
    r.ok()
        .stderr_has("ok: the Pod database is reachable")
        .stderr_has("every privilege needed")
        .stderr_has("ready");
    assert_eq!(r.stdout, "");

    // A wrong secret key is found by the check too.
    let mut c = pod::import(&db);
    c.env("POD_SECRET_KEY", "not-the-key")
        .args(["--admin", "1"]);
    check(c).fails_with(2);

    // An account that may only read: the check lists the GRANTs it lacks.
    let role = format!("ro_{}", std::process::id());
    db.exec(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    ));
    let mut c = pod::import(&db);
    c.env("POD_DATABASE_URL", format!("{} user={role}", db.conninfo))
        .args(["--admin", "1"]);
    let r = check(c);
    r.fails_with(2)
        .stderr_has("GRANT INSERT ON auth_user;")
        .stderr_has("GRANT USAGE ON SEQUENCE public.auth_user_id_seq")
        .stderr_has("GRANT INSERT, DELETE ON import_video_externalrecording");
    db.exec(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"
    ));

    // pod-claim: the recorder folder must exist and be writable.
    let root = tempfile::tempdir().unwrap();
    let mut c = pod::claim(&db, root.path());
    c.args(["--recorder", "1"]);
    check(c)
        .fails_with(2)
        .stderr_has("does not exist")
        .stderr_has("--recorder-root");
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    let mut c = pod::claim(&db, root.path());
    c.args(["--recorder", "1"]);
    check(c)
        .ok()
        .stderr_has("ok: recorder 1")
        .stderr_has("ready");
}

/// The MariaDB GRANT statements of a Pod tool's man page (the lines naming `'bbbmig'@'%'`),
/// for a database named `pod`.
fn pod_man_grants(page: &str) -> Vec<String> {
    let text = std::fs::read_to_string(crate::support::root().join("man").join(page)).unwrap();
    let grants: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("GRANT ") && l.contains("'bbbmig'@'%'"))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    assert!(grants.len() >= 3, "{page}: {grants:?}");
    grants
}

#[test]
fn pod_tools_check_their_privileges_on_mariadb_too() {
    let db = pod_db(Engine::MySql, "admin_check_my");
    let mut c = pod::import(&db);
    c.args(["--admin", "1"]);
    check(c)
        .ok()
        .stderr_has("every privilege needed")
        .stderr_has("ready");

    // The man page's grants are enough for --check (and the check sees table grants).
    let page = pod_man_grants("pod-import.1")
        .iter()
        .map(|g| {
            g.replace(" pod.", " moodle.")
                .replace("'bbbmig'", "'bbbmig_podcheck'")
        })
        .collect::<Vec<_>>();
    let granted = moodle::grantee(&db, "bbbmig_podcheck", &page);
    let mut c = pod::import(&granted);
    c.args(["--admin", "1"]);
    check(c).ok().stderr_has("every privilege needed");

    // The server's read-only account: the GRANTs it lacks, named.
    let reader = moodle::account(&db, "reader");
    let mut c = pod::import(&reader);
    c.args(["--admin", "1"]);
    check(c)
        .fails_with(2)
        .stderr_has("GRANT INSERT ON auth_user;")
        .stderr_has("GRANT INSERT, DELETE ON import_video_externalrecording");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    let mut c = pod::claim(&reader, root.path());
    c.args(["--recorder", "1"]);
    check(c)
        .fails_with(2)
        .stderr_has("GRANT INSERT ON recorder_recordingfiletreatment");
}

#[test]
fn moodle_inform_and_bbb_record_check_without_reading() {
    let m = moodle::moodle4("admin_check_m");
    let mut c = cmd("moodle-inform");
    c.arg("--db")
        .arg(format!("moodle.example.org={}", m.conninfo))
        .args(["--pod-url", "https://pod.example.org/"]);
    check(c)
        .ok()
        .stderr_has("Moodle database moodle.example.org: the account has every privilege")
        .stderr_has("ready");

    let role = format!("mro_{}", std::process::id());
    m.exec(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    ));
    let mut c = cmd("moodle-inform");
    c.arg("--db")
        .arg(format!("moodle.example.org={} user={role}", m.conninfo))
        .args(["--pod-url", "https://pod.example.org/"]);
    check(c)
        .fails_with(2)
        .stderr_has("GRANT UPDATE ON \"public\".\"mdl_bigbluebuttonbn\"; GRANT UPDATE ON \"public\".\"mdl_course\"");
    m.exec(&format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"
    ));

    let d = tempfile::tempdir().unwrap();
    let mut c = cmd("bbb-record");
    c.arg("--out").arg(d.path().join("videos"));
    check(c).ok().stderr_has("is writable").stderr_has("ffmpeg");
    let ro = d.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if !crate::support::is_root() {
        let mut c = cmd("bbb-record");
        c.arg("--out").arg(&ro);
        check(c).fails_with(2).stderr_has("not writable");
    }
}

#[test]
fn a_database_of_the_wrong_application_is_named() {
    let m = moodle::moodle4("admin_wrong_m");
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &m.conninfo)
        .env("POD_SECRET_KEY", POD_SECRET)
        .args(["--admin", "1"]);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("this looks like a Moodle database, not a Pod one")
        .stderr_has("POD_DATABASE_URL");

    let p = pod_db(Engine::Postgres, "admin_wrong_p");
    let r = crate::support::pg::run_with_dbs(
        "moodle-moderators",
        &[("default", &p)],
        &[],
        &pod::ndjson(&[pod::record(1, "m", "n", &[])]),
    );
    r.fails_with(2)
        .stderr_has("this looks like a Pod database, not a Moodle one");

    let empty = fresh_db("admin_wrong_e");
    let mut c = cmd("pod-claim");
    c.env("POD_DATABASE_URL", &empty.conninfo).args([
        "--recorder",
        "1",
        "--recorder-root",
        "/tmp/",
    ]);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("this database has none of Pod's tables");
}

#[test]
fn connection_string_mistakes_each_get_their_own_words() {
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", "host=/tmp dbnmae=pod")
        .env("POD_SECRET_KEY", "x")
        .args(["--admin", "1"]);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("unknown parameter \"dbnmae\" (did you mean dbname?)");

    let mut c = cmd("moodle-moderators");
    c.args(["--db", "postgresql://reader@db1/moodle"]);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("connection string without NAME= in front");

    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("moodle.dbs");
    std::fs::write(&f, "# Moodle\nmoodle.example.org\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd("moodle-moderators");
    c.arg("--db-file").arg(&f);
    run(c, UNREAD)
        .fails_with(2)
        .stderr_has("moodle.dbs:2: no '=' in \"moodle.example.org\"");

    // A password file others may read is ignored, and the reason is given.
    let pgpass = d.path().join("pgpass");
    std::fs::write(&pgpass, "*:*:*:*:secret\n").unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db = pod_db(Engine::Postgres, "admin_pgpass");
    let mut c = pod::import(&db);
    c.env("PGPASSFILE", &pgpass)
        .args(["--check", "--admin", "1"]);
    run(c, "").ok().stderr_has(&format!(
        "ignoring {}: it is readable by others (mode 644), chmod 600 it",
        pgpass.display()
    ));
}

#[test]
fn input_in_the_wrong_format_says_how_to_fix_it() {
    let xml = std::fs::read_to_string(crate::support::fixture("moodle/getrecordings.xml")).unwrap();
    run(cmd("bbb-csv"), &xml)
        .fails_with(2)
        .stderr_has("this looks like XML: bbb-list --from-xml FILE");
    let pretty = "{\n  \"record_id\": \"a\"\n}\n";
    run(cmd("bbb-csv"), pretty)
        .fails_with(2)
        .stderr_has("pretty-printed JSON")
        .stderr_has("jq -c .");
    run(
        cmd("bbb-csv"),
        "[{\"record_id\":\"a\"},{\"record_id\":\"b\"}]\n",
    )
    .fails_with(1)
    .stderr_has("jq -c '.[]'");
    // A UTF-8 BOM (a file saved by a Windows editor) is accepted.
    let r = run(cmd("bbb-csv"), "\u{feff}{\"record_id\":\"a\"}\n");
    r.ok();
    assert!(r.stdout.lines().nth(1).unwrap().starts_with("a,"), "{r:?}");
}

#[test]
fn help_examples_are_printed_verbatim() {
    for tool in [
        "bbb-list",
        "bbb-csv",
        "bbb-record",
        "moodle-moderators",
        "moodle-inform",
        "greenlight-owners",
        "pod-import",
        "pod-claim",
    ] {
        let src =
            std::fs::read_to_string(crate::support::root().join(format!("tools/{tool}/main.rs")))
                .unwrap();
        let examples: Vec<&str> = src
            .split("const EXAMPLES: &str = \"")
            .nth(1)
            .and_then(|s| s.split("\";").next())
            .unwrap_or_else(|| panic!("{tool}: no EXAMPLES"))
            .lines()
            .collect();
        let mut c = cmd(tool);
        c.arg("--help").env("COLUMNS", "60");
        let r = run(c, "");
        r.ok();
        let help: Vec<&str> = r.stdout.lines().collect();
        let at = help
            .iter()
            .position(|l| *l == "Examples:")
            .unwrap_or_else(|| panic!("{tool}: no Examples in {r:?}"));
        assert_eq!(help[at..], examples[..], "{tool}");
        assert!(
            examples.iter().any(|l| l.len() > 60),
            "{tool}: no long example to test"
        );
    }
}

/// `bbb-list | bbb-record --out V | pod-claim …` where pod-claim stops at start (its
/// recorder folder is missing): bbb-record stops within seconds, says why with its
/// summary, leaves no finished-looking file; each stage's stderr in its own file.
#[test]
fn upstream_stages_stop_when_the_next_one_dies_at_start() {
    let d = tempfile::tempdir().unwrap();
    let published = d.path().join("published");
    for i in 0..3 {
        let id = format!("{:040x}-{}", i + 1, 1_700_000_000_000u64 + i * 1000);
        let rec = published.join(&id);
        std::fs::create_dir_all(rec.join("video")).unwrap();
        std::fs::write(
            rec.join("metadata.xml"),
            format!("<recording><id>{id}</id><start_time>1700000000000</start_time><end_time>1700000060000</end_time><meta><meetingName>r{i}</meetingName></meta></recording>"),
        )
        .unwrap();
        std::fs::write(rec.join("video/video-0.m4v"), vec![7u8; 2_000_000]).unwrap();
    }
    let si = StandIn::start(&[
        "--published",
        published.to_str().unwrap(),
        "--file-fault",
        "slow:20000",
    ]);
    let db = pod_db(Engine::Postgres, "admin_pipe");
    let videos = d.path().join("videos");
    let script = format!(
        "set -o pipefail; {list} --server {url} 2>{d}/list.err | {record} --out {videos} --jobs 2 2>{d}/record.err \
         | {claim} --recorder 1 --recorder-root {d}/ 2>{d}/claim.err",
        list = bin("bbb-list").display(),
        url = si.url,
        record = bin("bbb-record").display(),
        claim = bin("pod-claim").display(),
        videos = videos.display(),
        d = d.path().display(),
    );
    let t0 = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("BBB_SECRET", SECRET)
        .env("POD_DATABASE_URL", &db.conninfo)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let took = t0.elapsed();
    let read = |f: &str| std::fs::read_to_string(d.path().join(f)).unwrap();
    let (claim, record) = (read("claim.err"), read("record.err"));
    assert_eq!(status.code(), Some(2), "{claim}\n{record}");
    assert!(claim.contains("does not exist"), "{claim}");
    // 3 × 2 MB at 20 kB/s would take minutes.
    assert!(took < Duration::from_secs(20), "took {took:?}: {record}");
    assert!(
        record.contains("the next stage of the pipeline closed its input (it exited): stopped"),
        "{record}"
    );
    assert!(record.contains("bbb-record: 0 records"), "{record}");
    // Only what a rerun resumes (partial downloads) may stay: no video under its final name.
    let left: Vec<String> = walk(&videos)
        .into_iter()
        .filter(|p| p.ends_with(".mp4") || p.ends_with(".m4v") || p.ends_with(".webm"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn bbb_list_stops_listing_when_its_reader_dies() {
    let si = StandIn::start(&["--generate", "5", "--fault", "delay:60000@getRecordings"]);
    let d = tempfile::tempdir().unwrap();
    let script = format!(
        "{list} --server {url} 2>{d}/list.err | {claim} --recorder 1 2>/dev/null; wait",
        list = bin("bbb-list").display(),
        url = si.url,
        claim = bin("pod-claim").display(),
        d = d.path().display(),
    );
    let t0 = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("BBB_SECRET", SECRET)
        .env_remove("POD_DATABASE_URL")
        .status()
        .unwrap();
    let took = t0.elapsed();
    let err = std::fs::read_to_string(d.path().join("list.err")).unwrap();
    assert!(status.code().is_some());
    assert!(took < Duration::from_secs(20), "took {took:?}: {err}");
    assert!(
        err.contains("stopped, the listing was not finished"),
        "{err}"
    );
    assert!(err.contains("bbb-list: 0 records"), "{err}");
}

#[test]
fn a_synthetic_recording_is_served_by_the_stand_in() {
    let d = tempfile::tempdir().unwrap();
    let rec = d.path().join("synth");
    bbbmig_testkit::synth(
        &rec,
        &["--duration", "5", "--media", "none", "--slides", "1"],
    );
    let si = StandIn::start(&["--published", rec.to_str().unwrap()]);
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET).arg("--server").arg(&si.url);
    let listed = run(c, "");
    listed.ok();
    let recs = listed.records();
    assert_eq!(recs.len(), 1, "{listed:?}");
    let id = recs[0]["record_id"].as_str().unwrap().to_string();
    let out = d.path().join("videos");
    let mut c = cmd("bbb-record");
    c.arg("--out").arg(&out);
    let r = run(c, &listed.stdout);
    r.ok();
    let video = r.records()[0]["video"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(Path::new(&video).is_file(), "{r:?}");
    assert!(!id.is_empty());
}
