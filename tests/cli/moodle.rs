//! Tests of moodle-moderators and moodle-inform against real Moodle databases (Moodle 4 and a
//! 3.x-style one) in the throwaway PostgreSQL server.

use crate::support::moodle::{self, Flavor};
use crate::support::pg::TestDb;
use crate::support::{Run, cmd, run};
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

type Obj = Map<String, Value>;

pub(crate) const SEED10: &str = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
pub(crate) const REC10: &str = "7b52009b64fd0a2a49e6d8a939753077792b0554-1700000000000";

/// A record in bbb-list's shape, with a key added by jq that must ride through.
pub(crate) fn rec(record_id: &str, meeting_id: &str, origin: Option<&str>) -> String {
    let mut metadata = json!({"bbb-origin": "Moodle", "meetingName": "Lecture"});
    if let Some(o) = origin {
        metadata["bbb-origin-server-name"] = json!(o);
    }
    let url = format!("https://bbb.example.org/playback/presentation/2.3/{record_id}");
    let r = json!({
        "record_id": record_id,
        "meeting_id": meeting_id,
        "internal_meeting_id": record_id,
        "name": "Lecture <1>",
        "state": "published",
        "published": true,
        "start_time": "2023-11-14T22:13:20Z",
        "end_time": "2023-11-14T23:13:20Z",
        "metadata": metadata,
        "playback": [{"type": "presentation", "url": url}],
        "presentation_url": url,
        "video_url": null,
        "source_url": url,
        "server": "https://bbb.example.org/bigbluebutton/",
        "origin_server": origin,
        "x_from_jq": {"a": [1, 2]},
    });
    format!("{r}\n")
}

pub(crate) fn mid(seed: &str, course: i64, id: i64) -> String {
    format!("{seed}-{course}-{id}[0]")
}

fn seed(n: i64) -> String {
    format!("e{n}").repeat(20)[..40].to_string()
}

fn moderators(dbs: &[(&str, &TestDb)], extra: &[&str], input: &str) -> Run {
    crate::support::pg::run_with_dbs("moodle-moderators", dbs, extra, input)
}

/// `username/source` of each moderator.
fn mods(r: &Obj) -> Vec<String> {
    crate::support::moderator_names(r, "")
}

#[test]
fn moodle_every_rule_shape_gives_every_moderator_as_moodle_does() {
    let db = moodle::moodle4("rules");
    let cases: Vec<(String, String, &str, Vec<&str>)> = vec![
        // role rule by id (course and category contexts) + user rule; deleted and
        // suspended editing teachers left out
        (
            REC10.into(),
            mid(SEED10, 2, 10),
            "recordingid",
            vec![
                "oowner/user",
                "ccat/role:editingteacher",
                "tteacher/role:editingteacher",
            ],
        ),
        // empty rules: the owner from the Add log, who is enrolled
        (
            "r11".into(),
            mid("b1d5781111d84f7b3fe45a0852e59758cd7a87e5", 2, 11),
            "meetingid",
            vec!["oowner/owner"],
        ),
        // role by shortname, role id as a JSON number, a teacher assigned in the module context
        (
            "rec-12-orig".into(),
            "not-from-moodle".into(),
            "recordingid",
            vec![
                "ccat/role:editingteacher",
                "tteacher/role:editingteacher",
                "nteacher/role:teacher",
                "oowner/role:teacher",
                "sstudent/role:teacher",
            ],
        ),
        // all = moderator: everyone with a role in the course or the activity
        (
            "r13".into(),
            mid("d3964f9dad9f60363c81b688324d95b4ec7c8038", 2, 13),
            "meetingid",
            vec![
                "nteacher/all",
                "oowner/all",
                "sstudent/all",
                "bobby/all",
                "tteacher/all",
            ],
        ),
        // NULL rules: owner fallback; status 3 row counts
        (
            "rec-15-notified".into(),
            mid(&seed(15), 2, 15),
            "recordingid",
            vec!["nteacher/owner"],
        ),
        // rules that are not JSON: owner fallback, as Moodle's json_decode gives null
        (
            "r16".into(),
            mid(&seed(16), 2, 16),
            "meetingid",
            vec!["tteacher/owner"],
        ),
        // a role rule matched by a system-level assignment
        (
            "r17".into(),
            mid(&seed(17), 2, 17),
            "meetingid",
            vec!["mmanager/role:manager"],
        ),
        // user rules naming a deleted and a suspended user
        (
            "r18".into(),
            mid(&seed(18), 2, 18),
            "meetingid",
            vec!["sstudent/user"],
        ),
        // empty rules and an owner who is not enrolled: nobody
        ("r19".into(), mid(&seed(19), 2, 19), "meetingid", vec![]),
    ];
    let input: String = cases.iter().map(|(r, m, _, _)| rec(r, m, None)).collect();
    let out = moderators(&[("default", &db)], &["--batch", "4"], &input);
    out.ok();
    let recs = out.records();
    assert_eq!(recs.len(), cases.len(), "{out:?}");
    for (r, (id, _, by, want)) in recs.iter().zip(&cases) {
        assert_eq!(r["record_id"], json!(id));
        assert_eq!(r["moodle"]["matched_by"], json!(by), "{id}: {r:?}");
        assert_eq!(mods(r), *want, "{id}");
    }
    assert_eq!(
        recs[0]["moodle"],
        json!({"server": "default", "activity_id": 10, "course_id": 2, "course_shortname": "PHY101",
               "activity_name": "Lecture room", "matched_by": "recordingid"})
    );
    assert_eq!(
        recs[0]["moderators"][0],
        json!({"username": "oowner", "email": "olga.owner@example.org", "firstname": "Olga",
               "lastname": "Owner", "source": "user"})
    );
    assert!(
        out.stderr
            .contains("activity 16 has participant rules that are not JSON"),
        "{out:?}"
    );
    out.stderr_has("9 found");
}

#[test]
fn moodle_restored_and_imported_copies_resolve_to_the_right_activity() {
    let db = moodle::moodle4("copies");
    let input = [
        // same recordingid in activity 10 and its restored copy 14: the meetingID decides
        rec(REC10, &mid(SEED10, 3, 14), None),
        // same seed, id 14: activity 14 by meetingID when there is no recordings row
        rec("other", &mid(SEED10, 3, 14), None),
        // seed of 10 with the id of 11: seed and id must both match
        rec("nope", &mid(SEED10, 2, 11), None),
        // an awaiting (status 0) row does not count; the meetingID does
        rec(
            "rec-11-awaiting",
            &mid("b1d5781111d84f7b3fe45a0852e59758cd7a87e5", 2, 11),
            None,
        ),
        // not from Moodle at all
        rec(
            "greenlight-1",
            "abcdefghijabcdefghijabcdefghijabcdefghij",
            None,
        ),
    ]
    .concat();
    let out = moderators(&[("default", &db)], &[], &input);
    out.ok();
    let r = out.records();
    assert_eq!(r[0]["moodle"]["activity_id"], 14);
    assert_eq!(r[0]["moodle"]["matched_by"], "recordingid");
    assert_eq!(r[0]["moodle"]["course_shortname"], "PHY101-2");
    assert_eq!(
        mods(&r[0]),
        ["ccat/role:editingteacher", "tteacher/role:editingteacher"]
    );
    assert_eq!(r[1]["moodle"]["activity_id"], 14);
    assert_eq!(r[1]["moodle"]["matched_by"], "meetingid");
    assert_eq!(r[2]["moodle"], Value::Null);
    assert_eq!(r[2]["moderators"], json!([]));
    assert_eq!(r[3]["moodle"]["activity_id"], 11);
    assert_eq!(r[3]["moodle"]["matched_by"], "meetingid");
    assert_eq!(r[4]["moodle"], Value::Null);
    out.stderr_has("3 found, 2 not-found");
}

fn two_server_input() -> String {
    [
        rec(REC10, &mid(SEED10, 2, 10), Some("moodle.example.org")),
        rec(
            "chem-1",
            "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed-2-30",
            Some("old.example.org"),
        ),
        rec(
            "r11",
            &mid("b1d5781111d84f7b3fe45a0852e59758cd7a87e5", 2, 11),
            Some("moodle.example.org"),
        ),
        rec(
            "chem-2",
            "beefcafebeefcafebeefcafebeefcafebeefcafe-2-31[0]",
            Some("old.example.org"),
        ),
        // right id, wrong seed
        rec(
            "chem-3",
            "0000feedf00dfeedf00dfeedf00dfeedf00dfeed-2-30",
            Some("old.example.org"),
        ),
    ]
    .concat()
}

fn check_two_servers(r: &[Obj]) {
    assert_eq!(r.len(), 5);
    assert_eq!(r[0]["moodle"]["server"], "moodle.example.org");
    assert_eq!(mods(&r[0])[0], "oowner/user");
    assert_eq!(r[1]["moodle"]["server"], "old.example.org");
    assert_eq!(r[1]["moodle"]["course_shortname"], "CHEM200");
    assert_eq!(r[1]["moodle"]["matched_by"], "meetingid");
    assert_eq!(mods(&r[1]), ["carol/user", "alice/role:editingteacher"]);
    assert_eq!(r[2]["moodle"]["activity_id"], 11);
    assert_eq!(r[3]["moodle"]["activity_id"], 31);
    assert_eq!(mods(&r[3]), ["alice/all", "bob/all", "carol/all"]);
    assert_eq!(r[4]["moodle"], Value::Null, "wrong seed");
}

#[test]
fn moodle_two_servers_in_one_stream_moodle4_and_moodle3() {
    let m4 = moodle::moodle4("two4");
    let m3 = moodle::site("two3", Flavor::Moodle3, "public", "mdl_");
    let dir = tempfile::tempdir().unwrap();
    let dbs = dir.path().join("moodle.dbs");
    std::fs::write(
        &dbs,
        format!(
            "# two Moodle sites\nmoodle.example.org = {}\n\nold.example.org={}\n",
            m4.conninfo, m3.conninfo
        ),
    )
    .unwrap();
    std::fs::set_permissions(&dbs, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = cmd("moodle-moderators");
    c.arg("--db-file").arg(&dbs).arg("-v");
    let out = run(c, &two_server_input());
    out.ok();
    check_two_servers(&out.records());
    assert!(
        out.stderr
            .contains("Moodle database old.example.org: no bigbluebuttonbn_recordings table"),
        "{out:?}"
    );
    out.stderr_has("4 found, 1 not-found");
}

#[test]
fn moodle_sites_with_other_prefix_and_schema_chain_through_ignored_origins() {
    // --prefix and --schema hold for every database of a run; sites named differently are
    // handled by two runs, each ignoring the other's origin (ignored records keep their keys).
    let m4 = moodle::moodle4("chain4");
    let m3 = moodle::site("chain3", Flavor::Moodle3, "oldmoodle", "m3_");
    let mut c = cmd("moodle-moderators");
    c.arg("--db")
        .arg(format!("old.example.org={}", m3.conninfo));
    c.args([
        "--prefix",
        "m3_",
        "--schema",
        "oldmoodle",
        "--ignore-origin-server",
        "moodle.example.org",
    ]);
    let step1 = run(c, &two_server_input());
    step1.ok();
    assert_eq!(step1.records()[0]["moodle"], Value::Null);
    let mut c = cmd("moodle-moderators");
    c.arg("--db")
        .arg(format!("moodle.example.org={}", m4.conninfo));
    c.args(["--ignore-origin-server", "old.example.org"]);
    let step2 = run(c, &step1.stdout);
    step2.ok();
    check_two_servers(&step2.records());
}

#[test]
fn moodle_unknown_origin_passes_with_null_and_a_warning() {
    let db = moodle::moodle4("unknown");
    let input = [
        rec("a", &mid(SEED10, 2, 10), Some("elsewhere.example.org")),
        rec("b", &mid(SEED10, 2, 10), Some("elsewhere.example.org")),
        rec("c", &mid(SEED10, 2, 10), Some("greenlight.example.org")),
        rec("d", &mid(SEED10, 2, 10), Some("moodle.example.org")),
    ]
    .concat();
    let out = moderators(
        &[("moodle.example.org", &db)],
        &["--ignore-origin-server", "greenlight.example.org"],
        &input,
    );
    out.ok();
    let r = out.records();
    for r in &r[..3] {
        assert_eq!(r["moodle"], Value::Null);
        assert_eq!(r["moderators"], json!([]));
    }
    assert_eq!(r[3]["moodle"]["activity_id"], 10);
    assert_eq!(
        out.stderr
            .matches("no Moodle database for origin server \"elsewhere.example.org\"")
            .count(),
        1,
        "{out:?}"
    );
    assert!(!out.stderr.contains("greenlight.example.org\""), "{out:?}");
    out.stderr_has("1 found, 1 ignored, 2 no-database");
}

#[test]
fn moodle_site_admins_only_with_the_flag() {
    let db = moodle::moodle4("admins");
    let input = rec("r17", &mid(&seed(17), 2, 17), None);
    let out = moderators(&[("default", &db)], &["--site-admins"], &input);
    assert_eq!(
        mods(&out.records()[0]),
        ["mmanager/role:manager", "admin/siteadmin"]
    );
    let out = moderators(&[("default", &db)], &[], &input);
    assert_eq!(mods(&out.records()[0]), ["mmanager/role:manager"]);
}

#[test]
fn moodle_injection_shaped_values_are_bound_never_interpolated() {
    let db = moodle::moodle4("inject");
    let input = [
        rec("x'); DROP TABLE mdl_user; --", &mid(&seed(20), 2, 20), None),
        rec("'; DELETE FROM mdl_user; --", "x'--2-10[0]", None),
        rec("r\"1", &format!("{}\"-2-20", seed(20)), None),
    ]
    .concat();
    let out = moderators(&[("default", &db)], &[], &input);
    out.ok();
    let r = out.records();
    assert_eq!(r[0]["moodle"]["activity_id"], 20);
    assert_eq!(r[0]["moodle"]["matched_by"], "recordingid");
    assert_eq!(
        r[0]["moodle"]["activity_name"],
        "Quiz'); DROP TABLE mdl_bigbluebuttonbn; --"
    );
    assert_eq!(
        r[0]["moderators"][0]["firstname"],
        "Robert'); DROP TABLE mdl_user; --"
    );
    assert_eq!(r[1]["moodle"], Value::Null);
    assert_eq!(r[2]["moodle"], Value::Null);
    let users: i64 = db
        .client()
        .query_one("SELECT count(*) FROM mdl_user", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 11);
}

#[test]
fn moodle_unknown_keys_pass_through_in_order_and_bad_records_fail_alone() {
    let db = moodle::moodle4("pass");
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let first = rec(REC10, &mid(SEED10, 2, 10), None);
    let input = format!("{first}{{\"meeting_id\":\"x\"}}\n[1]\n{{\"record_id\":5}}\n{first}");
    let mut c = cmd("moodle-moderators");
    c.arg("--db")
        .arg(format!("default={}", db.conninfo))
        .arg("--rejects")
        .arg(&rejects);
    let out = run(c, &input);
    out.fails_with(1);
    let r = out.records();
    assert_eq!(r.len(), 2);
    let keys: Vec<&str> = r[0].keys().map(String::as_str).collect();
    let mut want: Vec<String> = serde_json::from_str::<Obj>(&first)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    want.extend(["moodle".to_string(), "moderators".to_string()]);
    assert_eq!(keys, want);
    assert_eq!(r[0]["x_from_jq"], json!({"a": [1, 2]}));
    assert!(
        out.stderr
            .contains("line 2: record ?: missing field record_id"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("line 4: record 5: field record_id must be a string"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap().lines().count(),
        3
    );
    // rerun on its own output: same result
    let mut c = cmd("moodle-moderators");
    c.arg("--db").arg(format!("default={}", db.conninfo));
    let again = run(c, &out.stdout);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn moodle_a_nul_character_fails_its_record_alone_and_the_batch_goes_on() {
    let db = moodle::moodle4("nul");
    let first = rec(REC10, &mid(SEED10, 2, 10), None);
    let nul_id = rec("x\u{0}y", &mid(SEED10, 2, 10), None);
    let nul_seed = rec("r2", &mid("a\u{0}b", 2, 10), None);
    assert!(nul_id.contains("\\u0000") && nul_seed.contains("\\u0000"));
    let input = format!("{first}{nul_id}{nul_seed}{first}");
    let out = moderators(&[("default", &db)], &[], &input);
    out.fails_with(1);
    let r = out.records();
    assert_eq!(r.len(), 2, "{out:?}");
    assert!(
        r.iter().all(|x| x["moodle"]["activity_id"] == 10),
        "{out:?}"
    );
    for line in [2, 3] {
        assert!(
            out.stderr.contains(&format!("line {line}: record ")),
            "{out:?}"
        );
    }
    assert!(out.stderr.contains("NUL character"), "{out:?}");
}

#[test]
fn moodle_configuration_errors_are_fatal_and_passwords_stay_out_of_argv() {
    let db = moodle::moodle4("config");
    let input = rec(REC10, &mid(SEED10, 2, 10), None);
    let out = moderators(
        &[],
        &["--db", "default=host=/tmp dbname=x password=hunter2"],
        &input,
    );
    out.fails_with(2).stderr_has("password on the command line");
    assert!(!out.stderr.contains("hunter2"));
    let out = moderators(&[("default", &db)], &["--prefix", "mdl_; DROP"], &input);
    out.fails_with(2).stderr_has("bad --prefix");
    let out = moderators(&[("default", &db)], &["--schema", "a\"b"], &input);
    out.fails_with(2);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dbs");
    std::fs::write(&f, format!("default={} password=hunter2\n", db.conninfo)).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = cmd("moodle-moderators");
    c.arg("--db-file").arg(&f);
    let out = run(c, &input);
    out.fails_with(2).stderr_has("readable by others");
    assert!(out.stdout.is_empty());
    let out = moderators(&[], &[], &input);
    out.fails_with(2);
    // wrong prefix: the tables are not there, a clear fatal error
    let out = moderators(&[("default", &db)], &["--prefix", "zz_"], &input);
    out.fails_with(2).stderr_has("Moodle database default");
}

fn queries_of(out: &Run) -> u64 {
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains(" queries on "))
        .unwrap_or_else(|| panic!("{out:?}"));
    line.split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap()
}

#[test]
fn moodle_query_count_does_not_depend_on_batch_content() {
    let db = moodle::moodle4("count");
    let few = rec(REC10, &mid(SEED10, 2, 10), None);
    let many: String = (0..40)
        .map(|i| match i % 4 {
            0 => rec(REC10, &mid(SEED10, 2, 10), None),
            1 => rec(&format!("r{i}"), &mid(&seed(17), 2, 17), None),
            2 => rec(
                &format!("r{i}"),
                &mid("d3964f9dad9f60363c81b688324d95b4ec7c8038", 2, 13),
                None,
            ),
            _ => rec(&format!("n{i}"), "not-moodle", None),
        })
        .collect();
    let a = moderators(&[("default", &db)], &["-v", "--batch", "100"], &few);
    let b = moderators(&[("default", &db)], &["-v", "--batch", "100"], &many);
    assert_eq!(b.records().len(), 40);
    assert_eq!(queries_of(&a), queries_of(&b), "{a:?}\n{b:?}");
    let c = moderators(&[("default", &db)], &["-v", "--batch", "10"], &many);
    // 4 batches instead of 1: three more rounds of 4 queries
    assert_eq!(queries_of(&c), queries_of(&b) + 3 * 4, "{c:?}");
}

#[test]
fn moodle_database_stopped_mid_stream_is_fatal_and_emits_nothing_wrong() {
    let db = moodle::moodle4("stop");
    let mut child = cmd("moodle-moderators")
        .arg("--db")
        .arg(format!("default={}", db.conninfo))
        .args(["--batch", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin
        .write_all(rec(REC10, &mid(SEED10, 2, 10), None).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let first: Obj = serde_json::from_str(&first).unwrap();
    assert_eq!(first["moodle"]["activity_id"], 10);
    // the database goes away under the running tool
    let killed: i64 = db
        .client()
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db.name],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    let more = [
        rec(
            "r11",
            &mid("b1d5781111d84f7b3fe45a0852e59758cd7a87e5", 2, 11),
            None,
        ),
        rec("x", "y", None),
    ]
    .concat();
    let _ = stdin.write_all(more.as_bytes());
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(rest, "", "nothing emitted after the database went away");
    // Said as a lost database (never taken for a reader that closed stdout), with the
    // count of records done in the summary.
    assert!(
        stderr.contains("moodle-moderators: error: lost the Moodle database default"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("moodle-moderators: 1 "),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- moodle-inform

fn intro(db: &TestDb, id: i64) -> Option<String> {
    db.client()
        .query_one(
            "SELECT intro FROM mdl_bigbluebuttonbn WHERE id = $1",
            &[&id],
        )
        .unwrap()
        .get(0)
}

fn inform(db: &TestDb, extra: &[&str], input: &str) -> Run {
    let mut c = cmd("moodle-inform");
    c.env("POD_URL", "https://pod.example.org/import_video/");
    c.arg("--db")
        .arg(format!("default={}", db.conninfo))
        .args(extra);
    run(c, input)
}

fn statuses(out: &Run) -> Vec<String> {
    out.records()
        .iter()
        .map(|r| r["moodle_inform"]["status"].as_str().unwrap().to_string())
        .collect()
}

/// Records for activities 10 (two recordings), 12 (NULL intro) and 20 (quotes and tags),
/// plus one without activity, enriched by moodle-moderators.
pub(crate) fn enriched(db: &TestDb) -> String {
    let input = [
        rec(REC10, &mid(SEED10, 2, 10), None),
        rec("rec-12-orig", "x", None),
        rec("second-of-10", &mid(SEED10, 2, 10), None),
        rec("x'); DROP TABLE mdl_user; --", &mid(&seed(20), 2, 20), None),
        rec("none", "not-moodle", None),
    ]
    .concat();
    let out = moderators(&[("default", db)], &[], &input);
    out.ok();
    out.stdout
}

#[test]
fn moodle_inform_twice_gives_one_notice_then_remove_restores_intro_byte_for_byte() {
    let db = moodle::moodle4("inform");
    let before: Vec<Option<String>> = [10, 12, 20].iter().map(|i| intro(&db, *i)).collect();
    assert_eq!(before[1], None);
    let input = enriched(&db);
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("notice.html");
    std::fs::write(
        &msg,
        "<p>{name} ({start_date}) is now at <a href=\"{pod_url}\">Pod</a>, id {record_id}.</p>\n",
    )
    .unwrap();
    let args = [
        "--message-file",
        msg.to_str().unwrap(),
        "--pod-url",
        "https://pod.example.org/import_video/?a=1&b=2",
    ];
    let first = inform(&db, &args, &input);
    first.ok();
    assert_eq!(
        statuses(&first),
        ["updated", "updated", "updated", "updated", "no-activity"]
    );
    let r = first.records();
    assert_eq!(
        r[0]["moodle_inform"],
        json!({"status": "updated", "activity_id": 10, "course_id": 2, "notice_recordings": 2})
    );
    assert_eq!(r[0]["x_from_jq"], json!({"a": [1, 2]}));
    let i10 = intro(&db, 10).unwrap();
    assert!(
        i10.starts_with("<p>Weekly lecture.</p>\n<!-- bbbmig-notice:begin -->"),
        "{i10}"
    );
    assert_eq!(i10.matches("bbbmig-notice:begin").count(), 1);
    assert!(i10.contains("Lecture &lt;1&gt; (2023-11-14) is now at <a href=\"https://pod.example.org/import_video/?a=1&amp;b=2\">"), "{i10}");
    assert!(
        i10.contains(&format!("id {REC10}")) && i10.contains("id second-of-10"),
        "{i10}"
    );
    let (cacherev, modified): (i64, i64) = {
        let row = db.client().query_one(
            "SELECT c.cacherev, b.timemodified FROM mdl_course c JOIN mdl_bigbluebuttonbn b ON b.course = c.id WHERE b.id = 10",
            &[],
        ).unwrap();
        (row.get(0), row.get(1))
    };
    assert!(
        cacherev > 1700000000 && modified > 1700000000,
        "{cacherev} {modified}"
    );
    let i20 = intro(&db, 20).unwrap();
    assert!(
        !i20.contains("DROP TABLE mdl_user; --<"),
        "record id escaped in the marker: {i20}"
    );

    // a second run: one notice still, nothing written
    let second = inform(&db, &args, &input);
    assert_eq!(
        statuses(&second),
        [
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged",
            "no-activity"
        ],
        "{second:?}"
    );
    assert_eq!(intro(&db, 10).unwrap(), i10);
    let rev2: i64 = db
        .client()
        .query_one("SELECT cacherev FROM mdl_course WHERE id = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(rev2, cacherev);

    // dry-run of the removal: says what it would do, writes nothing
    let dry = inform(&db, &["--remove", "--dry-run"], &input);
    dry.ok();
    assert_eq!(dry.records()[0]["moodle_inform"]["status"], "dry-run");
    assert_eq!(dry.records()[0]["moodle_inform"]["would"], "removed");
    assert!(
        dry.stderr
            .contains("would take out of the description of activity 10"),
        "{dry:?}"
    );
    assert_eq!(intro(&db, 10).unwrap(), i10);

    // removing one recording of activity 10 keeps the other's entry
    let lines: Vec<&str> = input.lines().collect();
    let one = inform(&db, &["--remove"], &format!("{}\n", lines[0]));
    assert_eq!(statuses(&one), ["removed"]);
    assert_eq!(one.records()[0]["moodle_inform"]["notice_recordings"], 1);
    assert!(intro(&db, 10).unwrap().contains("second-of-10"));

    let removed = inform(&db, &["--remove"], &input);
    assert_eq!(
        statuses(&removed),
        ["unchanged", "removed", "removed", "removed", "no-activity"],
        "{removed:?}"
    );
    let after: Vec<Option<String>> = [10, 12, 20].iter().map(|i| intro(&db, *i)).collect();
    assert_eq!(
        after, before,
        "descriptions restored byte for byte (NULL stays NULL)"
    );
}

#[test]
fn moodle_inform_dry_run_writes_nothing_and_bad_templates_are_fatal() {
    let db = moodle::moodle4("informdry");
    let input = enriched(&db);
    let dry = inform(&db, &["--dry-run"], &input);
    dry.ok();
    assert_eq!(
        statuses(&dry),
        ["dry-run", "dry-run", "dry-run", "dry-run", "no-activity"]
    );
    assert_eq!(dry.records()[0]["moodle_inform"]["would"], "updated");
    assert_eq!(intro(&db, 10).as_deref(), Some("<p>Weekly lecture.</p>"));
    assert_eq!(intro(&db, 12), None);
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("bad.html");
    std::fs::write(&msg, "<p>{nmae}</p>").unwrap();
    let out = inform(&db, &["--message-file", msg.to_str().unwrap()], &input);
    out.fails_with(2).stderr_has("unknown placeholder {nmae}");
    assert!(out.stdout.is_empty());
    // a record naming a server that is not configured fails alone
    let other = input.replace("\"server\":\"default\"", "\"server\":\"elsewhere\"");
    let out = inform(&db, &[], &other);
    out.fails_with(1);
    assert!(
        out.stderr
            .contains("no database configured for Moodle server \"elsewhere\""),
        "{out:?}"
    );
    assert_eq!(statuses(&out), ["no-activity"]);
}

fn intro_and_format(db: &TestDb, id: i64) -> (Option<String>, i16) {
    let r = db
        .client()
        .query_one(
            "SELECT intro, introformat FROM mdl_bigbluebuttonbn WHERE id = $1",
            &[&id],
        )
        .unwrap();
    (r.get(0), r.get(1))
}

#[test]
fn moodle_inform_plain_text_descriptions_get_the_notice_and_come_back_byte_for_byte() {
    let db = moodle::moodle4("informplain");
    let input = enriched(&db);
    let plain = "Line <1> & \"two\"\n\n  indented\r\nend\n";
    db.client()
        .execute(
            "UPDATE mdl_bigbluebuttonbn SET introformat = 2, intro = $1 WHERE id = 10",
            &[&plain],
        )
        .unwrap();
    let out = inform(&db, &[], &input);
    out.ok();
    assert_eq!(statuses(&out)[0], "updated");
    let (html, format) = intro_and_format(&db, 10);
    let html = html.unwrap();
    assert_eq!(format, 1, "the description is HTML now");
    assert!(
        html.starts_with(
            "Line &lt;1&gt; &amp; &quot;two&quot;<br />\n<br />\n&nbsp; indented<br />\r\nend<br />\n\n"
        ),
        "{html}"
    );
    assert_eq!(html.matches("<!-- bbbmig-recording:").count(), 2, "{html}");
    let again = inform(&db, &[], &input);
    again.ok();
    assert_eq!(statuses(&again)[0], "unchanged");
    assert_eq!(intro_and_format(&db, 10).0.unwrap(), html);
    inform(&db, &["--remove"], &input).ok();
    assert_eq!(intro_and_format(&db, 10), (Some(plain.to_string()), 2));
}

#[test]
fn moodle_inform_javascript_links_nul_characters_and_duplicates_fail_or_count_alone() {
    let db = moodle::moodle4("informhostile");
    let input = enriched(&db);
    let lines: Vec<&str> = input.lines().collect();
    // A NUL in the name of the second recording of activity 10, javascript: in another.
    let with_nul = lines[2].replacen("\"name\":\"Lecture", "\"name\":\"Lec\\u0000ture", 1);
    assert_ne!(with_nul, lines[2]);
    let js = lines[3].replace(
        "\"source_url\":\"https://",
        "\"source_url\":\"javascript:alert(1)//",
    );
    assert_ne!(js, lines[3]);
    let batch = [lines[0], lines[0], &with_nul, &js, lines[1]].join("\n") + "\n";
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("msg.html");
    std::fs::write(&msg, "<a href=\"{source_url}\">{name}</a>").unwrap();
    let out = inform(&db, &["--message-file", msg.to_str().unwrap()], &batch);
    out.fails_with(1);
    // The first record, its duplicate and the one after the bad ones are all done: the
    // duplicate finds the first one's entry.
    assert_eq!(statuses(&out), ["updated", "unchanged", "updated"]);
    assert!(
        out.stderr.contains("line 3: record second-of-10: "),
        "{out:?}"
    );
    assert!(out.stderr.contains("NUL character"), "{out:?}");
    assert!(out.stderr.contains("line 4: record "), "{out:?}");
    assert!(
        out.stderr.contains("only http(s) URLs become links"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("5 records: 1 unchanged, 2 updated, 2 failed"),
        "{out:?}"
    );
    let text = intro(&db, 10).unwrap();
    assert!(!text.contains("javascript:"), "{text}");
    assert_eq!(text.matches("<!-- bbbmig-recording:").count(), 1, "{text}");
}

#[test]
fn moodle_inform_refuses_to_start_without_the_pod_url_its_message_needs() {
    let db = moodle::moodle4("informnourl");
    let input = enriched(&db);
    let mut c = cmd("moodle-inform");
    c.arg("--db").arg(format!("default={}", db.conninfo));
    let out = run(c, &input);
    out.fails_with(2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("--pod-url") && out.stderr.contains("POD_URL"),
        "{out:?}"
    );
    assert!(intro(&db, 10).unwrap_or_default().find("bbbmig").is_none());
    let bad = inform(&db, &["--pod-url", "javascript:alert(1)"], &input);
    bad.fails_with(2);
    assert!(bad.stderr.contains("not an http(s) URL"), "{bad:?}");
}

#[test]
fn moodle_inform_gone_activity_and_unreachable_database() {
    let db = moodle::moodle4("informgone");
    let input = enriched(&db);
    db.exec("DELETE FROM mdl_bigbluebuttonbn WHERE id = 20");
    let out = inform(&db, &[], &input);
    out.ok();
    assert_eq!(
        statuses(&out),
        [
            "updated",
            "updated",
            "updated",
            "no-activity",
            "no-activity"
        ]
    );
    let mut c = cmd("moodle-inform");
    c.env("POD_URL", "https://pod.example.org/");
    c.arg("--db").arg(format!(
        "default={}",
        db.conninfo.replace(&db.name, "no_such_moodle")
    ));
    let out = run(c, &input);
    out.fails_with(2);
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.contains("moodle-inform: error: ")
            && out.stderr.contains("Moodle database default"),
        "{out:?}"
    );
}

#[test]
fn moodle_pipeline_from_bbb_list_through_moderators_to_inform() {
    let db = moodle::moodle4("pipe");
    let mut c = cmd("bbb-list");
    c.arg("--from-xml")
        .arg(crate::support::fixture("moodle/getrecordings.xml"));
    let listed = run(c, "");
    listed.ok();
    let mods = moderators(
        &[("moodle.example.org", &db)],
        &["--ignore-origin-server", "gl.example.org"],
        &listed.stdout,
    );
    mods.ok();
    let r = mods.records();
    let moodle_rec = r
        .iter()
        .find(|x| x["moodle"] != Value::Null)
        .expect("one Moodle recording");
    assert_eq!(moodle_rec["moodle"]["activity_id"], 10);
    assert_eq!(moodle_rec["moderators"].as_array().unwrap().len(), 3);
    let mut c = cmd("moodle-inform");
    c.arg("--db")
        .arg(format!("moodle.example.org={}", db.conninfo));
    c.args(["--pod-url", "https://pod.example.org/import_video/"]);
    let informed = run(c, &mods.stdout);
    informed.ok();
    let mut st = statuses(&informed);
    st.sort();
    assert_eq!(st, ["no-activity", "updated"]);
    let i10 = intro(&db, 10).unwrap();
    assert!(
        i10.contains("The recording <strong>Lecture room</strong> of 2023-11-14"),
        "{i10}"
    );
}

#[test]
fn moodle_ignore_origin_server_splits_on_commas_and_default_means_no_origin() {
    let db = moodle::moodle4("ignore_default");
    let input = [
        rec("a", &mid(SEED10, 2, 10), None),
        rec("b", &mid(SEED10, 2, 10), Some("elsewhere.example.org")),
        rec("c", &mid(SEED10, 2, 10), Some("greenlight.example.org")),
        rec("d", &mid(SEED10, 2, 10), Some("moodle.example.org")),
    ]
    .concat();
    // Without it, the warning suggests `--ignore-origin-server default`.
    let out = moderators(&[("moodle.example.org", &db)], &[], &input);
    out.ok().stderr_has("--ignore-origin-server default");
    let out = moderators(
        &[("moodle.example.org", &db)],
        &[
            "--ignore-origin-server",
            "greenlight.example.org,elsewhere.example.org",
            "--ignore-origin-server",
            "default",
        ],
        &input,
    );
    out.ok();
    assert!(!out.stderr.contains("no Moodle database"), "{out:?}");
    out.stderr_has("1 found, 3 ignored");
}
