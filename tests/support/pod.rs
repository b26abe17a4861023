//! Pod test support: a throwaway database on either engine loaded with Pod 4.1's own schema
//! and seed data, commands for pod-import and pod-claim pointed at it, records in the
//! bbb-list shape, each test body run once per engine.

use super::pg::{TestDb, fresh_db};
use super::{cmd, fixture};
use bbbmig_core::db::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::process::Command;

/// The SECRET_KEY the seed's hashkeys were made with.
pub const SECRET: &str = "test-pod-secret-key";

/// A fresh database with Pod's schema (tests/fixtures/pod) and the seed data, on
/// `engine` (MariaDB: its URL holds the password, given to the tools by the environment).
pub fn pod_db(engine: Engine, hint: &str) -> TestDb {
    if engine == Engine::MySql {
        return super::mysql::fresh_db(hint, super::mysql::Fixture::Pod);
    }
    let db = fresh_db(hint);
    for f in ["pod/stubs.sql", "pod/pod_schema.sql", "pod/seed.sql"] {
        db.exec(&std::fs::read_to_string(fixture(f)).expect("read fixture"));
    }
    db
}

/// Runs a test body once per engine ([`super::engines`]), saying which on failure.
pub fn each_engine(body: impl Fn(Engine)) {
    for engine in super::engines() {
        eprintln!("--- on {}", engine.name());
        body(engine);
    }
}

/// `pod-import` on that database, with the secret in the environment.
pub fn import(db: &TestDb) -> Command {
    let mut c = cmd("pod-import");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .env("POD_SECRET_KEY", SECRET);
    c
}

/// `pod-claim` on that database with recorder root `root` (add `--recorder ID`).
pub fn claim(db: &TestDb, root: &std::path::Path) -> Command {
    let mut c = cmd("pod-claim");
    c.env("POD_DATABASE_URL", &db.conninfo)
        .arg("--recorder-root")
        .arg(root);
    c
}

/// Pod's hashkey of a username under [`SECRET`].
pub fn hashkey(username: &str) -> String {
    hex::encode(Sha256::digest(format!("{SECRET}{username}").as_bytes()))
}

/// A moderator as moodle-moderators adds it.
pub fn moderator(username: &str) -> Value {
    json!({"username": username, "email": format!("{username}@example.org"),
           "firstname": format!("First {username}"), "lastname": format!("Last {username}"),
           "source": "moodle.example.org"})
}

/// A record in the bbb-list shape; `n` makes the ids and the URL unique.
pub fn record(n: u32, meeting_id: &str, name: &str, moderators: &[&str]) -> Value {
    let rid = format!(
        "{:040x}-{}",
        n,
        1_700_000_000_000u64 + u64::from(n) * 3_600_000
    );
    json!({
        "record_id": rid,
        "meeting_id": meeting_id,
        "internal_meeting_id": rid,
        "name": name,
        "state": "published",
        "published": true,
        "start_time": format!("2024-03-{:02}T09:{:02}:00Z", 1 + n % 28, n % 60),
        "end_time": format!("2024-03-{:02}T10:{:02}:00Z", 1 + n % 28, n % 60),
        "source_url": format!("https://bbb.example.org/playback/presentation/2.3/{rid}"),
        "x_from_jq": {"kept": [n]},
        "moderators": moderators.iter().map(|m| moderator(m)).collect::<Vec<_>>(),
    })
}

/// Records as NDJSON lines.
pub fn ndjson(recs: &[Value]) -> String {
    recs.iter().map(|r| format!("{r}\n")).collect()
}

/// One number from SQL.
pub fn count(db: &TestDb, sql: &str) -> i64 {
    db.number(sql)
}

/// Every row of every table the tools write, as text: equal snapshots = nothing written.
pub fn snapshot(db: &TestDb) -> String {
    let mut out = String::new();
    for t in [
        "auth_user",
        "authentication_owner",
        "authentication_owner_sites",
        "podfile_userfolder",
        "playlist_playlist",
        "import_video_externalrecording",
        "recorder_recordingfiletreatment",
    ] {
        out.push_str(&format!("== {t}\n"));
        for row in db.strings(&format!("SELECT * FROM {t} ORDER BY id")) {
            out.push_str(&row.join("|"));
            out.push('\n');
        }
    }
    out
}
