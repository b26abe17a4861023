//! Writing the output is always fatal: stdout on a full disk (/dev/full) stops a tool with
//! exit 2 and one message, and no record is blamed for it in --rejects.

use crate::bbb_csv::listed;
use crate::support::{cmd, run};
use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `c` with `stdin` as its input and /dev/full as its standard output; returns the
/// exit code and stderr.
fn to_full_disk(c: &mut Command, stdin: &str) -> (i32, String) {
    let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), stdin).unwrap();
    let out = c
        .stdin(std::fs::File::open(input.path()).unwrap())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// Exit 2, one error line that says standard output could not be written, no reject.
fn assert_one_fatal_write_error(tool: &str, code: i32, stderr: &str, rejects: &Path) {
    assert_eq!(code, 2, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(&format!("{tool}: error: ")),
        "{stderr}"
    );
    assert!(
        errors[0].contains("cannot write to standard output"),
        "{stderr}"
    );
    let rejected = std::fs::read_to_string(rejects).unwrap_or_default();
    assert_eq!(rejected, "", "no record is to blame for a full disk");
}

#[test]
fn bbb_csv_on_a_full_disk_exits_2_with_one_message() {
    let input = listed();
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    for extra in [&[][..], &["--no-header"][..]] {
        let (code, stderr) = to_full_disk(
            cmd("bbb-csv").arg("--rejects").arg(&rejects).args(extra),
            &input,
        );
        assert_one_fatal_write_error("bbb-csv", code, &stderr, &rejects);
    }
}

#[test]
fn an_ndjson_filter_on_a_full_disk_exits_2_with_one_message() {
    let input = listed();
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let videos = dir.path().join("videos");
    let record = || {
        let mut c = cmd("bbb-record");
        c.arg("--out").arg(&videos).arg("--dry-run");
        c.arg("--rejects").arg(&rejects);
        c
    };
    let (code, stderr) = to_full_disk(&mut record(), &input);
    assert_one_fatal_write_error("bbb-record", code, &stderr, &rejects);
    // The same input with a working stdout: every record is written.
    let ok = run(record(), &input);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.records().len() > 1);
    assert_eq!(ok.records().len(), input.lines().count());
}

#[test]
fn a_closed_stdout_is_fatal_and_a_reader_that_left_is_not() {
    let input = listed();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &input).unwrap();
    // `>&-`: no output descriptor at all. Nothing can be written: exit 2, not "N rows".
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" \"$1\" >&-")
        .arg(crate::support::bin("bbb-csv"))
        .arg(file.path())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("standard output is closed"), "{stderr}");
    assert!(!stderr.contains("rows"), "{stderr}");
    // A reader that went away (`| head -0`): a broken pipe on stdout ends the run quietly.
    let mut child = cmd("bbb-csv")
        .arg(file.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
