//! Writing the output is always fatal: stdout on a full disk (/dev/full) stops a tool with
//! exit 2 and one message, and no record is blamed for it in --rejects. So is writing the
//! --rejects file (a full disk, a pipe whose reader left): only stdout's reader leaving
//! ends a run quietly.

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

/// A line that fails its record in every tool (not a JSON object).
const BAD: &str = "[1]\n";

#[test]
fn a_rejects_file_on_a_full_disk_is_fatal_and_said() {
    let input = listed();
    let mut lines = input.lines();
    let (first, second) = (lines.next().unwrap(), lines.next().unwrap());
    let mut c = cmd("bbb-csv");
    c.args(["--rejects", "/dev/full"]);
    let r = run(c, &format!("{first}\n{BAD}{second}\n"));
    r.fails_with(2)
        .stderr_has("bbb-csv: error: cannot write the rejects file /dev/full")
        .stderr_has("No space left on device");
    // The record before the failed one was written, nothing after it.
    let id = |l: &str| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["record_id"].as_str().unwrap().to_string()
    };
    assert!(r.stdout.contains(&id(first)), "{r:?}");
    assert!(!r.stdout.contains(&id(second)), "{r:?}");
}

#[test]
fn a_rejects_pipe_whose_reader_left_is_fatal_not_a_quiet_end() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rejects.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut child = cmd("bbb-csv")
        .arg("--rejects")
        .arg(&fifo)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening our end returns once the tool has opened its end; then the reader leaves.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || tx.send(std::fs::File::open(path).unwrap()));
    let reader = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("bbb-csv never opened its rejects file");
    drop(reader);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{BAD}{}", listed()).as_bytes())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the rejects file") && stderr.contains("Broken pipe"),
        "{stderr}"
    );
}
