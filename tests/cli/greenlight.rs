//! Tests of greenlight-owners against real Greenlight databases (v2 in both physical forms,
//! v3) in the throwaway PostgreSQL server.

use crate::support::greenlight::{self, Form};
use crate::support::pg::{TestDb, fresh_db};
use crate::support::{Run, cmd, moodle, run};
use serde_json::{Map, Value, json};
use std::os::unix::fs::PermissionsExt;

type Obj = Map<String, Value>;

const GL2: &str = "gl2.example.org";
const GL3: &str = "gl3.example.org";
const M_A: &str = "gl2roomaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const M_SHA: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const M_DEL: &str = "gl2deletedroomxxxxxxxxxxxxxxxxxxxxxxxxxx";
const M_NOOWNER: &str = "gl2noownerroomxxxxxxxxxxxxxxxxxxxxxxxxxx";
const M_DANGLING: &str = "gl2danglingroomxxxxxxxxxxxxxxxxxxxxxxxxx";
const M_NOID: &str = "gl2noidentityroomxxxxxxxxxxxxxxxxxxxxxxx";
const M_SELF: &str = "gl2selfsharedroomxxxxxxxxxxxxxxxxxxxxxxx";
const M_BANNED2: &str = "gl2bannedownerroomxxxxxxxxxxxxxxxxxxxxxx";
const M_MIGRATED: &str = "migratedmeetingidmigratedmeetingidmigrat";
const M3_A: &str = "gl3roommmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm";
const M3_NOOWNER: &str = "gl3noownerroomxxxxxxxxxxxxxxxxxxxxxxxxxx";
const M3_BANNED: &str = "gl3bannedownerxxxxxxxxxxxxxxxxxxxxxxxxxx";
const M3_TENANT: &str = "gl3tenantbroomxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// A record in bbb-list's shape with this metadata, and a key added by jq.
fn rec_meta(record_id: &str, meeting_id: &str, metadata: Value) -> String {
    let origin = metadata.get("bbb-origin-server-name").cloned();
    let url = format!("https://bbb.example.org/playback/presentation/2.3/{record_id}");
    let r = json!({
        "record_id": record_id,
        "meeting_id": meeting_id,
        "name": "Salle",
        "state": "published",
        "published": true,
        "metadata": metadata,
        "source_url": url,
        "origin_server": origin.unwrap_or(Value::Null),
        "x_from_jq": {"a": [1, 2]},
    });
    format!("{r}\n")
}

/// A Greenlight 2.3+ / 3.3+ record: origin server name in the metadata.
fn rec(record_id: &str, meeting_id: &str, server: &str) -> String {
    rec_meta(
        record_id,
        meeting_id,
        json!({"bbb-origin": "Greenlight", "bbb-origin-server-name": server, "gl-listed": "false"}),
    )
}

fn owners(dbs: &[(&str, &TestDb)], extra: &[&str], input: &str) -> Run {
    crate::support::pg::run_with_dbs("greenlight-owners", dbs, extra, input)
}

/// `username/source` of each moderator.
fn mods(r: &Obj) -> Vec<String> {
    crate::support::moderator_names(r, "greenlight:")
}

fn moderator(r: &Obj, username: &str) -> Value {
    r["moderators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == json!(username))
        .unwrap_or_else(|| panic!("{username} not in {r:?}"))
        .clone()
}

#[test]
fn greenlight_v2_in_both_forms_gives_owners_and_shared_users() {
    for form in [Form::V2Loaded, Form::V2Migrated] {
        let db = greenlight::db("glv2", form);
        let cases: &[(&str, Vec<&str>)] = &[
            // owner + shares; deleted and banned (denied) users left out, pending kept,
            // the duplicated share once
            (
                M_A,
                vec![
                    "jean.dupont@example.org/owner",
                    "mdupont/shared",
                    "amelie.o'connor@example.org/shared",
                    "penny@example.org/shared",
                    "lbernard/shared",
                ],
            ),
            // two live rooms with the same bbb_id: both owners first, then the shares
            (
                M_SHA,
                vec![
                    "mdupont/owner",
                    "zoe.martin/owner",
                    "sean.obrien@example.org/shared",
                ],
            ),
            (M_DEL, vec![]),
            (M_NOOWNER, vec!["madonna/shared"]),
            (M_DANGLING, vec!["zoe.martin/shared"]),
            (M_NOID, vec!["sean.obrien@example.org/shared"]),
            (M_SELF, vec!["jean.dupont@example.org/owner"]),
            (M_BANNED2, vec!["jean.dupont@example.org/shared"]),
            (M_MIGRATED, vec!["mdupont/owner"]),
            ("no-such-meeting", vec![]),
        ];
        let input: String = cases
            .iter()
            .enumerate()
            .map(|(i, (m, _))| rec(&format!("r{i}"), m, GL2))
            .collect();
        let out = owners(&[(GL2, &db)], &["--batch", "4"], &input);
        assert_eq!(out.code, 0, "{form:?}: {out:?}");
        let recs = out.records();
        assert_eq!(recs.len(), cases.len(), "{out:?}");
        for (r, (m, want)) in recs.iter().zip(cases) {
            assert_eq!(r["meeting_id"], json!(m));
            assert_eq!(mods(r), *want, "{form:?} {m}");
        }
        assert_eq!(
            recs[0]["greenlight"],
            json!({"server": GL2, "version": 2, "room_id": 101, "friendly_id": "jea-abc-def-ghi",
                   "room_name": "Salle de Jean", "matched_by": "meetingid"})
        );
        assert_eq!(recs[1]["greenlight"]["room_id"], json!(102));
        assert_eq!(recs[2]["greenlight"], Value::Null, "soft-deleted room");
        assert_eq!(recs[3]["greenlight"]["friendly_id"], json!("orp-han-roo"));
        // names split without losing anything; e-mails as stored
        assert_eq!(
            moderator(&recs[0], "jean.dupont@example.org"),
            json!({"username": "jean.dupont@example.org", "email": "jean.dupont@example.org",
                   "firstname": "Jean", "lastname": "Dupont", "source": "greenlight:owner"})
        );
        assert_eq!(
            moderator(&recs[0], "mdupont"),
            json!({"username": "mdupont", "email": "marie.dupont@example.org",
                   "firstname": "Marie", "lastname": "DUPONT", "source": "greenlight:shared"})
        );
        let amelie = moderator(&recs[0], "amelie.o'connor@example.org");
        assert_eq!(amelie["firstname"], json!("Ame\u{301}lie"));
        assert_eq!(amelie["lastname"], json!("O'Connor-Poulain \u{1f3ac}"));
        assert_eq!(
            moderator(&recs[0], "lbernard")["email"],
            json!("Luc.Bernard@Example.org")
        );
        let madonna = moderator(&recs[3], "madonna");
        assert_eq!(
            (
                &madonna["firstname"],
                &madonna["lastname"],
                &madonna["email"]
            ),
            (&json!(""), &json!("Madonna"), &json!(""))
        );
        assert!(
            out.stderr.contains("has no username nor e-mail: left out"),
            "{out:?}"
        );
        assert!(out.stderr.contains("8 found, 2 not-found"), "{out:?}");
    }
}

#[test]
fn greenlight_v3_owners_shares_banned_and_the_recordings_table() {
    let db = greenlight::db("glv3", Form::V3);
    let input = [
        rec("rec-v3-alice", M3_A, GL3),
        // the recordings table names another room: the meetingID wins, with a warning
        rec("rec-conflict", M3_A, GL3),
        // the meetingID names no room: the recordings table does (two identical rows)
        rec(
            "rec-fallback",
            "gl3breakoutofthefallbackroomxxxxxxxxxxxx",
            GL3,
        ),
        rec("r-mig", M_MIGRATED, GL3),
        rec("r-noowner", M3_NOOWNER, GL3),
        rec("r-banned", M3_BANNED, GL3),
        rec("r-none", "nothing-here", GL3),
    ]
    .concat();
    let out = owners(&[(GL3, &db)], &[], &input);
    assert_eq!(out.code, 0, "{out:?}");
    let recs = out.records();
    let alice = vec![
        "alice.martin@example.org/owner",
        "penny3@example.org/shared",
        "zoe@example.org/shared",
        "emile@example.org/shared",
    ];
    assert_eq!(mods(&recs[0]), alice);
    assert_eq!(mods(&recs[1]), alice);
    assert_eq!(mods(&recs[2]), vec!["emile@example.org/owner"]);
    assert_eq!(mods(&recs[3]), vec!["zoe@example.org/owner"]);
    assert_eq!(mods(&recs[4]), vec!["alice.martin@example.org/shared"]);
    assert_eq!(mods(&recs[5]), vec!["alice.martin@example.org/shared"]);
    assert_eq!(mods(&recs[6]), Vec::<String>::new());
    assert_eq!(
        recs[0]["greenlight"],
        json!({"server": GL3, "version": 3, "room_id": "b0000000-0000-0000-0000-000000000001",
               "friendly_id": "abc-def-ghi-jkl", "room_name": "Alice's room", "matched_by": "meetingid"})
    );
    assert_eq!(
        recs[1]["greenlight"]["friendly_id"],
        json!("abc-def-ghi-jkl")
    );
    assert_eq!(recs[2]["greenlight"]["matched_by"], json!("recordingid"));
    assert_eq!(
        recs[2]["greenlight"]["friendly_id"],
        json!("fal-lba-ckr-oom")
    );
    assert_eq!(recs[3]["greenlight"]["friendly_id"], json!("mig-rat-ed1"));
    assert_eq!(recs[6]["greenlight"], Value::Null);
    let zoe = moderator(&recs[0], "zoe@example.org");
    assert_eq!(zoe["firstname"], json!("Zoë"));
    assert_eq!(zoe["lastname"], json!("A\u{30a}ngstro\u{308}m"));
    let emile = moderator(&recs[0], "emile@example.org");
    assert_eq!(emile["firstname"], json!("\u{c9}mile"));
    assert_eq!(emile["lastname"], json!("\u{1f600} D'Artagnan"));
    assert!(
        out.stderr.contains(
            "lists it in room own-erl-ess-room but its meetingID is room abc-def-ghi-jkl's"
        ),
        "{out:?}"
    );
    assert!(!out.stderr.contains("luc.bernard"), "{out:?}");
}

#[test]
fn greenlight_same_meeting_on_a_v2_and_a_v3_server_and_every_way_of_routing() {
    let v2 = greenlight::db("route2", Form::V2Loaded);
    let v3 = greenlight::db("route3", Form::V3);
    let dbs = [(GL2, &v2), (GL3, &v3), ("b.gl3.example.org", &v3)];
    let input = [
        rec("on-v2", M_MIGRATED, GL2),
        rec("on-v3", M_MIGRATED, GL3),
        // Greenlight 3.0-3.2: no server name, the host of the ready URL (any case of "greenlight")
        rec_meta(
            "v3-0",
            M3_A,
            json!({"bbb-origin": "GreenLight", "bbb-origin-version": "3",
                   "bbb-recording-ready-url": "https://gl3.example.org/recording_ready"}),
        ),
        // a tenant of a multi-tenant v3: its own host, the same database
        rec("tenant", M3_TENANT, "b.gl3.example.org"),
        // Greenlight before 2.3: no origin at all
        rec_meta("old", M_A, json!({"gl-listed": "true"})),
        // a Moodle recording and a Greenlight server without a database
        rec_meta(
            "moodle",
            M_A,
            json!({"bbb-origin": "Moodle", "bbb-origin-server-name": "moodle.example.org"}),
        ),
        rec("elsewhere", M_A, "gl-unknown.example.org"),
    ]
    .concat();
    let out = owners(&dbs, &[], &input);
    assert_eq!(out.code, 0, "{out:?}");
    let recs = out.records();
    assert_eq!(mods(&recs[0]), vec!["mdupont/owner"]);
    assert_eq!(recs[0]["greenlight"]["version"], json!(2));
    assert_eq!(mods(&recs[1]), vec!["zoe@example.org/owner"]);
    assert_eq!(recs[1]["greenlight"]["version"], json!(3));
    assert_eq!(recs[2]["greenlight"]["server"], json!(GL3));
    assert_eq!(mods(&recs[2])[0], "alice.martin@example.org/owner");
    assert_eq!(mods(&recs[3]), vec!["bob@tenant-b.example.org/owner"]);
    assert_eq!(recs[3]["greenlight"]["server"], json!("b.gl3.example.org"));
    // no database: unchanged but for greenlight null at the end
    let lines: Vec<&str> = input.lines().collect();
    for i in 4..7 {
        let mut want: Obj = serde_json::from_str(lines[i]).unwrap();
        want.insert("greenlight".into(), Value::Null);
        assert_eq!(recs[i], want, "record {i}");
    }
    assert!(
        out.stderr
            .contains("no Greenlight database for origin server \"gl-unknown.example.org\""),
        "{out:?}"
    );
    assert!(!out.stderr.contains("moodle.example.org"), "{out:?}");
    // a `default` entry serves the recordings without any origin
    let out = owners(&[("default", &v2)], &[], lines[4]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(mods(&out.records()[0])[0], "jean.dupont@example.org/owner");
}

#[test]
fn greenlight_existing_moderators_stay_first_and_a_rerun_changes_nothing() {
    let db = greenlight::db("merge", Form::V2Migrated);
    let moodle = json!([
        {"username": "MDupont", "email": "marie@univ.example.org", "firstname": "Marie",
         "lastname": "Dupont", "source": "role:editingteacher", "x_extra": 1},
        {"username": "teacher1", "email": "", "firstname": "T", "lastname": "One", "source": "user"}
    ]);
    let mut r: Obj = serde_json::from_str(&rec("with-mods", M_A, GL2)).unwrap();
    r.insert("moderators".into(), moodle.clone());
    let input = format!("{}\n{}", Value::Object(r), rec("plain", M_SHA, GL2));
    let first = owners(&[(GL2, &db)], &[], &input);
    assert_eq!(first.code, 0, "{first:?}");
    let recs = first.records();
    let got = recs[0]["moderators"].as_array().unwrap();
    assert_eq!(
        got[..2],
        moodle.as_array().unwrap()[..],
        "kept first, unchanged"
    );
    assert_eq!(
        mods(&recs[0])[2..],
        [
            "jean.dupont@example.org/owner",
            "amelie.o'connor@example.org/shared",
            "penny@example.org/shared",
            "lbernard/shared"
        ]
    );
    // key order: the input's, moderators in place, greenlight last
    let keys: Vec<&String> = recs[0].keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "greenlight");
    assert_eq!(keys[keys.len() - 2].as_str(), "moderators");
    assert_eq!(recs[0]["x_from_jq"], json!({"a": [1, 2]}));
    let second = owners(&[(GL2, &db)], &[], &first.stdout);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.stdout, first.stdout, "a rerun changes nothing");
    // --owner-only: shared users left out
    let only = owners(&[(GL2, &db)], &["--owner-only"], &input);
    assert_eq!(
        mods(&only.records()[1]),
        vec!["mdupont/owner", "zoe.martin/owner"]
    );
    assert_eq!(mods(&only.records()[0]).len(), 3);
}

#[test]
fn greenlight_db_file_runs_like_db_and_is_batched() {
    let v2 = greenlight::db("file2", Form::V2Loaded);
    let v3 = greenlight::db("file3", Form::V3);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gl.dbs");
    std::fs::write(
        &file,
        format!(
            "# Greenlight databases\n{GL2}={}\n\n{GL3}={}\n",
            v2.conninfo, v3.conninfo
        ),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let input: String = (0..7)
        .map(|i| {
            if i % 2 == 0 {
                rec(&format!("r{i}"), M_A, GL2)
            } else {
                rec(&format!("r{i}"), M3_A, GL3)
            }
        })
        .collect();
    let by_db = owners(&[(GL2, &v2), (GL3, &v3)], &["--batch", "3", "-v"], &input);
    let mut c = cmd("greenlight-owners");
    c.arg("--db-file").arg(&file).args(["--batch", "3", "-v"]);
    let by_file = run(c, &input);
    assert_eq!(by_db.code, 0, "{by_db:?}");
    assert_eq!(by_file.stdout, by_db.stdout);
    // 2 setup queries per database, then one per database and batch: batches of 3 over
    // 7 alternating records reach both databases twice, then only gl2 (r6)
    assert!(
        by_db.stderr.contains("9 queries on 2 database(s)"),
        "{by_db:?}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = cmd("greenlight-owners");
    c.arg("--db-file").arg(&file);
    let open = run(c, &input);
    assert_eq!(open.code, 2, "{open:?}");
    assert!(open.stderr.contains("readable by others"), "{open:?}");
    let pw = run(
        cmd("greenlight-owners").args(["--db", "gl=dbname=x password=secret"]),
        "",
    );
    assert_eq!(pw.code, 2, "{pw:?}");
    assert!(!pw.stderr.contains("secret"), "{pw:?}");
}

#[test]
fn greenlight_wrong_database_kinds_are_named_clearly() {
    let m = moodle::moodle4("glwrong");
    let input = rec("r", M_A, GL2);
    let out = owners(&[(GL2, &m)], &[], &input);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.contains("this is a Moodle database") && out.stderr.contains(GL2),
        "{out:?}"
    );
    let empty = fresh_db("glempty");
    let out = owners(&[(GL2, &empty)], &[], &input);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not a Greenlight database"), "{out:?}");
    let out = run(
        cmd("greenlight-owners").args(["--db", "gl2.example.org=https://moodle.example.org/"]),
        &input,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is a web address"), "{out:?}");
}

#[test]
fn greenlight_bad_records_fail_alone() {
    let db = greenlight::db("bad", Form::V3);
    let mut bad: Obj = serde_json::from_str(&rec("bad-mods", M3_A, GL3)).unwrap();
    bad.insert("moderators".into(), json!("nobody"));
    let input = format!(
        "{}{}\n{}",
        rec_meta("no-meeting", "", json!({"bbb-origin-server-name": GL3})),
        Value::Object(bad),
        rec("fine", M3_A, GL3)
    );
    let out = owners(&[(GL3, &db)], &[], &input);
    assert_eq!(out.code, 1, "{out:?}");
    let recs = out.records();
    assert_eq!(recs.len(), 1, "{out:?}");
    assert_eq!(recs[0]["record_id"], json!("fine"));
    assert!(
        out.stderr
            .contains("record no-meeting: missing field meeting_id"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("moderators must be an array"),
        "{out:?}"
    );
}

#[test]
fn greenlight_composes_with_moodle_moderators_in_either_order() {
    let gl = greenlight::db("compose", Form::V2Loaded);
    let m = moodle::moodle4("composem");
    let moodle_rec = rec_meta(
        "7b52009b64fd0a2a49e6d8a939753077792b0554-1700000000000",
        "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3-2-10[0]",
        json!({"bbb-origin": "Moodle", "bbb-origin-server-name": "moodle.example.org"}),
    );
    let input = format!("{moodle_rec}{}", rec("gl", M_A, GL2));
    let mdb = format!("moodle.example.org={}", m.conninfo);
    let moodle_stage = |input: &str, extra: &[&str]| {
        let mut c = cmd("moodle-moderators");
        c.args(["--db", &mdb]).args(extra);
        let r = run(c, input);
        assert_eq!(r.code, 0, "{r:?}");
        r.stdout
    };
    let a = owners(&[(GL2, &gl)], &[], &moodle_stage(&input, &[]));
    let first = owners(&[(GL2, &gl)], &[], &input);
    // No --ignore-origin-server needed: moodle-moderators keeps the entries it did not
    // find itself (Greenlight's), also where it has no database for the origin.
    let b = moodle_stage(&first.stdout, &[]);
    let b: Vec<Obj> = b
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = a.records();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["moderators"], y["moderators"]);
        assert_eq!(x["greenlight"], y["greenlight"]);
    }
    assert_eq!(mods(&a[0])[0], "oowner/user");
    assert_eq!(mods(&a[1])[0], "jean.dupont@example.org/owner");
}

#[test]
fn greenlight_v2_before_2_6_reads_roles_from_users_roles() {
    let db = fresh_db("glrolify");
    db.exec(&greenlight::sql(Form::V2Loaded));
    db.exec(
        "CREATE TABLE users_roles (user_id integer, role_id integer);
         INSERT INTO users_roles SELECT id, role_id FROM users WHERE role_id IS NOT NULL;
         ALTER TABLE users DROP COLUMN role_id;",
    );
    let out = owners(&[(GL2, &db)], &[], &rec("r", M_A, GL2));
    assert_eq!(out.code, 0, "{out:?}");
    let got = mods(&out.records()[0]);
    assert!(
        got.contains(&"penny@example.org/shared".to_string())
            && !got.iter().any(|m| m.starts_with("bruno")),
        "{got:?}"
    );
}

#[test]
fn greenlight_pipeline_from_bbb_list() {
    let v2 = greenlight::db("pipe2", Form::V2Loaded);
    let v3 = greenlight::db("pipe3", Form::V3);
    let mut c = cmd("bbb-list");
    c.arg("--from-xml")
        .arg(crate::support::fixture("greenlight/getrecordings.xml"));
    let listed = run(c, "");
    assert_eq!(listed.code, 0, "{listed:?}");
    let out = owners(&[("gl.example.org", &v2), (GL3, &v3)], &[], &listed.stdout);
    assert_eq!(out.code, 0, "{out:?}");
    let by_name: Vec<(String, Value)> = out
        .records()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["greenlight"]
                    .get("friendly_id")
                    .cloned()
                    .unwrap_or(Value::Null),
            )
        })
        .collect();
    let want = [
        ("Migrated room", json!("mig-rat-ed1")),
        ("Alice's room", json!("abc-def-ghi-jkl")),
        ("Salle de Jean", json!("jea-abc-def-ghi")),
        ("Cours de Marie", Value::Null),
    ];
    for (name, friendly) in want {
        assert!(
            by_name.contains(&(name.to_string(), friendly.clone())),
            "{name}: {by_name:?}"
        );
    }
    assert!(out.stderr.contains("3 found, 1 no-database"), "{out:?}");
}
