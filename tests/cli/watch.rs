//! Watching long unattended runs: the status line of bbb-record and bbb-list on a terminal
//! (a pseudo-terminal made by script(1)) and none of it without one, `--log FILE` shared by
//! several tools, the time on `-v` lines, each phase's time named right.

use crate::record::{Published, clip, list, rid, standin};
use crate::support::standin::{SECRET, StandIn};
use crate::support::{bin, cmd, run};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// What a status line is drawn after: back to the first column, row erased.
const CLEAR: &str = "\r\x1b[2K";

/// `p` quoted for sh.
fn q(p: impl AsRef<Path>) -> String {
    format!(
        "'{}'",
        p.as_ref().display().to_string().replace('\'', "'\\''")
    )
}

/// Everything a terminal of `cols` columns received while `sh -c line` ran on it.
fn on_a_terminal(line: &str, cols: u16) -> String {
    let o = Command::new("script")
        .args([
            "-qfec",
            &format!("stty cols {cols} rows 24; {line}"),
            "/dev/null",
        ])
        .env_remove("BBBMIG_LOG")
        .env_remove("BBBMIG_LOG_FILE")
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux)");
    let tty = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{line}: {:?}\n{tty:?}", o.status);
    tty
}

/// The status lines drawn: the text after each clear, up to the next carriage return or
/// line end, when it starts with `prefix` and holds `mark`.
fn frames<'a>(tty: &'a str, prefix: &str, mark: &str) -> Vec<&'a str> {
    tty.split(CLEAR)
        .skip(1)
        .filter_map(|c| c.split(['\r', '\n']).next())
        .filter(|f| f.starts_with(prefix) && f.contains(mark))
        .collect()
}

/// The rows the terminal shows at the end: each line's text after its last carriage
/// return and clear.
fn rows(tty: &str) -> Vec<String> {
    tty.split("\r\n")
        .map(|l| {
            let last = l.rsplit('\r').next().unwrap_or("");
            last.strip_prefix("\x1b[2K").unwrap_or(last).to_string()
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// The line starts with an RFC 3339 UTC time with milliseconds and a space.
fn timed(line: &str) -> bool {
    let b = line.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd.dddZ ";
    b.len() > shape.len()
        && shape.iter().zip(b).all(|(s, c)| match s {
            b'd' => c.is_ascii_digit(),
            other => other == c,
        })
}

#[test]
fn watch_record_status_line_shows_each_phase_and_an_eta_within_the_terminal() {
    let p = Published::new();
    let (a, b, c) = (rid(801), rid(802), rid(803));
    p.slides(
        &a,
        "Cours numéro un, un titre bien trop long pour la ligne",
        20_000,
    );
    p.slides(&b, "Travaux dirigés", 20_000);
    p.video(&c, "Vidéo", clip());
    let si = standin(&p, &["--file-fault", "slow:20000@video-0.m4v"]);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    std::fs::write(&input, list(&si)).unwrap();
    // Wide enough for the second job's phase word whatever the first job shows (at 60
    // columns it was sometimes cut to "encode…" or less), narrow enough to cut the long
    // title.
    let cols = 72;
    let tty = on_a_terminal(
        &format!(
            "{} --out {} --jobs 2 -v < {} > {}",
            q(bin("bbb-record")),
            q(dir.path().join("v")),
            q(&input),
            q(dir.path().join("out.ndjson"))
        ),
        cols,
    );
    let drawn = frames(&tty, "bbb-record: ", " done");
    assert!(drawn.len() >= 4, "{tty:?}");
    // The phases that last (probe and move are too quick to be sure to be drawn), with
    // their shares, and the ETA of the run.
    for want in ["/3 done", "ETA ", "| render ", "| encode "] {
        assert!(
            drawn.iter().any(|f| f.contains(want)),
            "no {want:?} in {drawn:#?}"
        );
    }
    let downloading = drawn.iter().any(|f| {
        f.split("download ")
            .skip(1)
            .filter_map(|rest| rest.split('%').next()?.parse::<u32>().ok())
            .any(|pct| pct > 0 && pct < 100)
    });
    assert!(downloading, "no download percentage in {drawn:#?}");
    // Never wider than the terminal (its last column left free), cut with "…".
    for f in &drawn {
        assert!(f.chars().count() < usize::from(cols), "too wide: {f:?}");
    }
    assert!(drawn.iter().any(|f| f.ends_with('…')), "{drawn:#?}");
    // What stays on the terminal: whole diagnostic lines, each after its time, never a
    // status line or a piece of one.
    let rows = rows(&tty);
    for r in &rows {
        assert!(timed(r), "a row without its time: {r:?} in {rows:#?}");
        assert!(!r.contains(" done") && !r.contains(" | "), "{r:?}");
    }
    assert!(
        rows.last()
            .unwrap()
            .ends_with("bbb-record: 3 records: 3 created"),
        "{rows:#?}"
    );
    // -v names each phase's time: a render is render and encode, a download is download.
    let of = |id: &str| {
        rows.iter()
            .find(|r| r.contains(id) && r.contains(": created: "))
    };
    let rendered = of(&a).unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(
        rendered.contains(", render ") && rendered.contains(", encode "),
        "{rendered}"
    );
    let downloaded = of(&c).unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(downloaded.contains("created: download "), "{downloaded}");
    assert!(!downloaded.contains("render"), "{downloaded}");
    assert!(
        rows.iter()
            .any(|r| r.contains("info: downloaded ") && r.contains(" s of downloading (")),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("time in each phase, all jobs: download ")),
        "{rows:#?}"
    );
}

#[test]
fn watch_record_without_a_terminal_writes_no_escape_and_logs_each_record() {
    let p = Published::new();
    let id = rid(811);
    p.video(&id, "Vidéo", clip());
    let si = standin(&p, &["--file-fault", "slow:50000@video-0.m4v"]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run.log");
    let input = format!("{}{{\"record_id\":\"bad-1\"}}\n", list(&si));
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(dir.path().join("v"))
        .args(["--jobs", "2", "-v", "--log"])
        .arg(&log);
    let r = run(c, &input);
    r.fails_with(1);
    assert!(!r.stderr.contains('\x1b'), "{r:?}");
    for l in r.stderr.lines() {
        assert!(timed(l), "{l:?} in {r:?}");
    }
    r.stderr_has(" s of downloading (");

    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert!(mode & 0o600 == 0o600 && mode & 0o037 == 0, "mode {mode:o}");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines.iter().all(|l| timed(l)), "{text}");
    assert!(lines.iter().all(|l| l.contains(" bbb-record[")), "{text}");
    assert!(
        lines[0].contains(" start version=") && lines[0].contains(" --jobs=2"),
        "{text}"
    );
    let created = lines
        .iter()
        .find(|l| l.contains(&format!(" record id={id} status=created ")))
        .unwrap_or_else(|| panic!("{text}"));
    for figure in [
        " video.path=",
        " video.bytes=",
        " video.duration_s=",
        " download_s=",
    ] {
        assert!(created.contains(figure), "{figure} missing: {created}");
    }
    let failed = lines
        .iter()
        .find(|l| l.contains(" record id=bad-1 status=failed "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(failed.contains(" line=2 error=\""), "{failed}");
    assert!(
        lines[3].contains(" end exit=1 ") && lines[3].contains(" created=1 failed=1 records=2"),
        "{text}"
    );
}

#[test]
fn watch_list_status_line_shows_requests_and_recordings_found() {
    let si = StandIn::start(&["--generate", "300", "--fault", "delay:250"]);
    let dir = tempfile::tempdir().unwrap();
    let line = |cols: u16| {
        on_a_terminal(
            &format!(
                "BBB_SECRET={SECRET} {} --server {} --concurrency 1 > {}",
                q(bin("bbb-list")),
                si.url,
                q(dir.path().join("out.ndjson"))
            ),
            cols,
        )
    };
    let tty = line(100);
    let drawn = frames(&tty, "bbb-list: ", " requests, ");
    let counts: Vec<(u64, u64)> = drawn
        .iter()
        .filter_map(|f| {
            let mut n = f
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|w| w.parse::<u64>().ok());
            Some((n.next()?, n.next()?))
        })
        .collect();
    assert!(
        counts.iter().any(|(req, found)| *req >= 3 && *found > 0),
        "{drawn:#?}"
    );
    assert!(
        drawn.iter().all(|f| f.contains(" recordings found, ")),
        "{drawn:#?}"
    );
    let rows = rows(&tty);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(
        rows[0].starts_with("bbb-list: ") && rows[0].ends_with(" listed"),
        "{rows:?}"
    );

    let narrow = line(30);
    let drawn = frames(&narrow, "bbb-list: ", " requests");
    assert!(!drawn.is_empty(), "{narrow:?}");
    for f in drawn {
        assert!(f.chars().count() < 30 && f.ends_with('…'), "{f:?}");
    }

    // No status line with -q, nor when the records themselves go to the terminal.
    let list = format!(
        "BBB_SECRET={SECRET} {} --server {}",
        q(bin("bbb-list")),
        si.url
    );
    let quiet = on_a_terminal(&format!("{list} -q > /dev/null"), 100);
    assert!(!quiet.contains('\x1b'), "{quiet:?}");
    let shown = on_a_terminal(&format!("{list} --state published"), 100);
    assert!(
        !shown.contains('\x1b') && shown.contains("record_id"),
        "{shown:?}"
    );
}

#[test]
fn watch_log_file_is_shared_by_tools_appended_whole_and_never_shows_secrets() {
    let si = StandIn::start(&["--generate", "5"]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("shared.log");
    let url = si.url.replacen("http://", "http://admin:hunter2@", 1);
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET)
        .env("BBB_URL", &url)
        .arg("--log")
        .arg(&log);
    let listed = run(c, "");
    listed.ok();
    // Default verbosity: no time on stderr lines.
    assert!(listed.stderr.starts_with("bbb-list: "), "{listed:?}");
    assert!(!listed.stderr.contains('\x1b'), "{listed:?}");
    let n = listed.stdout.lines().count();
    assert!(n > 0);

    // The environment variable, and several writers at once: lines stay whole.
    let input: String = (0..300)
        .map(|i| format!("{{\"record_id\":\"r-{i}\"}}\n"))
        .collect();
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let mut c = cmd("bbb-csv");
            c.env("BBBMIG_LOG_FILE", &log);
            let input = input.clone();
            std::thread::spawn(move || run(c, &input))
        })
        .collect();
    for w in writers {
        w.join().unwrap().ok();
    }
    let mut c = cmd("pod-claim");
    c.args(["--recorder", "1", "--log"]).arg(&log);
    run(c, "").fails_with(2);

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains(SECRET),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), (n + 2) + 3 * 302 + 2, "{text}");
    for l in &lines {
        let event = l.split(' ').nth(2).unwrap_or("");
        assert!(
            timed(l) && ["start", "record", "end"].contains(&event),
            "a broken line: {l:?}"
        );
    }
    let with = |tool: &str, what: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!(" {tool}[")) && l.contains(what))
            .count()
    };
    // bbb-list: the server URL from BBB_URL without its password; one line per recording.
    let version = env!("CARGO_PKG_VERSION");
    let start = format!(" start version={version} --server={}/", si.url);
    assert_eq!(with("bbb-list", &start), 1, "{text}");
    assert_eq!(with("bbb-list", " status=listed"), n, "{text}");
    assert_eq!(with("bbb-list", " end exit=0 seconds="), 1, "{text}");
    assert_eq!(
        with("bbb-list", &format!(" listed={n} failed=0 records={n}")),
        1
    );
    assert_eq!(with("bbb-csv", " start version="), 3);
    assert_eq!(with("bbb-csv", " record id=r-299 status=written"), 3);
    assert_eq!(with("bbb-csv", " written=300 failed=0 records=300"), 3);
    let start = format!(" start version={version} --recorder=1 --log=");
    assert_eq!(with("pod-claim", &start), 1, "{text}");
    assert_eq!(with("pod-claim", " end exit=2 "), 1, "{text}");
    assert_eq!(with("pod-claim", " error="), 1, "{text}");

    // A log that cannot be opened stops the tool at once, naming it.
    let mut c = cmd("bbb-csv");
    c.args(["--log", "/nonexistent-dir/run.log"]);
    run(c, "{\"record_id\":\"x\"}\n")
        .fails_with(2)
        .stderr_has("cannot open the log file /nonexistent-dir/run.log");
    // Nor through a link planted at its name: the file it points to stays untouched.
    let target = dir.path().join("target");
    std::fs::write(&target, "").unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut c = cmd("bbb-csv");
    c.arg("--log").arg(&link);
    run(c, "{\"record_id\":\"x\"}\n")
        .fails_with(2)
        .stderr_has("is a symbolic link");
    assert_eq!(std::fs::read(&target).unwrap().len(), 0);
}
