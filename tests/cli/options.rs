//! Options with a fixed set of values or a lower bound: clap refuses what the tool cannot
//! use (exit 2, the valid values named) before any record is read or written.

use crate::support::{Run, cmd, fixture, run};

const SAVED: &str = "bbb/api/getRecordings_success_moodle-meta_multi-format_php-lib.xml";

fn refused(r: &Run, flag: &str, says: &[&str]) {
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "nothing may be listed: {r:?}");
    assert!(r.stderr.contains(flag), "the flag is named: {r:?}");
    for s in says {
        assert!(r.stderr.contains(s), "stderr should say {s:?}: {r:?}");
    }
}

#[test]
fn a_misspelt_state_is_refused_with_the_valid_ones() {
    let saved = fixture(SAVED);
    let ok = run(
        cmd("bbb-list")
            .arg("--from-xml")
            .arg(&saved)
            .args(["--state", "published,unpublished"]),
        "",
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(!ok.records().is_empty(), "{ok:?}");
    // Before, `publishd` matched no recording: 0 records and exit 0, as if the server were empty.
    let r = run(
        cmd("bbb-list")
            .arg("--from-xml")
            .arg(&saved)
            .args(["--state", "publishd"]),
        "",
    );
    refused(
        &r,
        "--state",
        &[
            "publishd",
            "processing",
            "processed",
            "published",
            "unpublished",
            "deleted",
            "any",
        ],
    );
}

#[test]
fn an_unknown_auth_type_is_refused_with_pods_values() {
    let r = run(
        cmd("pod-import").args(["--auth-type", "cas", "--admin", "1"]),
        "",
    );
    refused(&r, "--auth-type", &["local", "CAS", "OIDC", "Shibboleth"]);
}

#[test]
fn zero_concurrency_is_refused() {
    let r = run(
        cmd("bbb-list").args(["--server", "http://127.0.0.1:9/", "--concurrency", "0"]),
        "",
    );
    refused(&r, "--concurrency", &["must be at least 1"]);
}

#[test]
fn zero_timeout_jobs_and_batch_are_refused() {
    let r = run(
        cmd("bbb-list").args(["--server", "http://127.0.0.1:9/", "--timeout", "0"]),
        "",
    );
    refused(&r, "--timeout", &["must be at least 1"]);
    let r = run(
        cmd("bbb-record").args(["--out", "/nonexistent", "--jobs", "0"]),
        "",
    );
    refused(&r, "--jobs", &["must be at least 1"]);
    let r = run(
        cmd("moodle-moderators").args(["--db", "default=dbname=x", "--batch", "0"]),
        "",
    );
    refused(&r, "--batch", &["must be at least 1"]);
}
