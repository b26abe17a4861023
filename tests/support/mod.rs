//! Test support: running the real binaries, the BBB stand-in (from the test kit,
//! `tests/kit/`), the throwaway PostgreSQL and MariaDB.
#![allow(dead_code)]

pub mod cluster;
pub mod greenlight;
pub mod moodle;
pub mod mysql;
pub mod pg;
pub mod pod;
pub use bbbmig_testkit::standin;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of one of the project's binaries, as cargo built it for these tests (the test
/// kit's, `bbb-standin` and `bbb-synth`, from the kit: see `bbbmig_testkit::bin`).
pub fn bin(name: &str) -> PathBuf {
    PathBuf::from(match name {
        "bbb-standin" | "bbb-synth" => return bbbmig_testkit::bin(name),
        "bbb-list" => env!("CARGO_BIN_EXE_bbb-list"),
        "bbb-csv" => env!("CARGO_BIN_EXE_bbb-csv"),
        "bbb-record" => env!("CARGO_BIN_EXE_bbb-record"),
        "moodle-moderators" => env!("CARGO_BIN_EXE_moodle-moderators"),
        "greenlight-owners" => env!("CARGO_BIN_EXE_greenlight-owners"),
        "moodle-inform" => env!("CARGO_BIN_EXE_moodle-inform"),
        "pod-import" => env!("CARGO_BIN_EXE_pod-import"),
        "pod-claim" => env!("CARGO_BIN_EXE_pod-claim"),
        other => panic!("unknown binary {other}"),
    })
}

/// A command for one of the project's binaries with a clean environment: none of the
/// variables the tools read leak in from the developer's shell.
pub fn cmd(name: &str) -> Command {
    let mut c = Command::new(bin(name));
    for v in [
        "BBB_URL",
        "BBB_SECRET",
        "POD_DATABASE_URL",
        "POD_SECRET_KEY",
        "BBBMIG_LOG",
        "BBBMIG_RENDER_SPAN",
        "BBBMIG_RENDER_KEEP",
        "PGPASSWORD",
        "PGDATABASE",
    ] {
        c.env_remove(v);
    }
    c
}

/// What a finished run left. Its checks (`ok`, `fails_with`, `stderr_has`, `stdout_has`)
/// chain, and a failing one panics with the whole run: command, exit code, stdout, stderr.
pub struct Run {
    /// The command line, as `Command`'s Debug shows it.
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exited 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.exits(0)
    }

    /// Exited with `code` (1: some records failed; 2: a fatal error).
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_ne!(code, 0, "fails_with(0): use ok()");
        self.exits(code)
    }

    #[track_caller]
    fn exits(&self, code: i32) -> &Self {
        assert!(self.code == code, "expected exit {code}, got {self:?}");
        self
    }

    /// stderr contains `text`.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Self {
        self.has("stderr", &self.stderr, text)
    }

    /// stdout contains `text`.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Self {
        self.has("stdout", &self.stdout, text)
    }

    #[track_caller]
    fn has(&self, name: &str, stream: &str, text: &str) -> &Self {
        assert!(stream.contains(text), "{name} lacks {text:?} in {self:?}");
        self
    }

    /// The stdout lines parsed as JSON objects.
    pub fn records(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("stdout line is not a JSON object ({e}): {l}"))
            })
            .collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\nexit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `c` (a `Command` or `&mut Command`) with `stdin` as its input.
pub fn run(mut c: impl std::borrow::BorrowMut<Command>, stdin: &str) -> Run {
    let c = c.borrow_mut();
    let command = format!("{c:?}");
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out: Output = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    Run {
        command,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The project's root directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// Says on the terminal (not in the captured test output) why a test did not run.
pub fn skip(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// Whether the tests run as root (network namespaces, dpkg).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `username/source` of each moderator of a record, with `strip` taken off the sources.
pub fn moderator_names(r: &serde_json::Map<String, serde_json::Value>, strip: &str) -> Vec<String> {
    r["moderators"]
        .as_array()
        .unwrap_or_else(|| panic!("no moderators array in {r:?}"))
        .iter()
        .map(|m| {
            let source = m["source"].as_str().unwrap();
            format!(
                "{}/{}",
                m["username"].as_str().unwrap(),
                source.strip_prefix(strip).unwrap_or(source)
            )
        })
        .collect()
}

/// The database engines every database test runs on: the same test body, once per engine.
pub fn engines() -> [bbbmig_core::db::Engine; 2] {
    [
        bbbmig_core::db::Engine::Postgres,
        bbbmig_core::db::Engine::MySql,
    ]
}
