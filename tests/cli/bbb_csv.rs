//! Tests of bbb-csv and of the NDJSON layer every reading tool shares (exit codes, rejects).

use crate::support::{cmd, fixture, run};

/// The recordings of a saved getRecordings answer, as bbb-list prints them.
pub(crate) fn listed() -> String {
    let f = fixture("bbb/api/getRecordings_success_moodle-meta_multi-format_php-lib.xml");
    let r = run(
        cmd("bbb-list")
            .arg("--from-xml")
            .arg(f)
            .args(["--state", "any"]),
        "",
    );
    r.ok();
    r.stdout
}

fn parse_csv(text: &str, delim: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

#[test]
fn default_columns_with_header_one_row_per_recording() {
    let r = run(cmd("bbb-csv"), &listed());
    r.ok();
    let rows = parse_csv(&r.stdout, b',');
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0][0], "record_id");
    assert!(
        rows[0].contains(&"moderators".to_string()) && rows[0].contains(&"source_url".to_string())
    );
    // bbb-list sorts newest first: the recording of 2016-05-16 leads.
    assert_eq!(
        rows[1][0],
        "f71d810b6e90a4a34ae02b8c7143e8733178578e-1463413631320"
    );
}

#[test]
fn pod_export_layout_and_people_columns() {
    let input = r#"{"record_id":"r1","name":"Cours; \"A\"","start_time":"2024-03-01T08:00:00Z","metadata":{"bbb-origin":"Moodle"},"published":true,"state":"published","source_url":"https://h/p","moderators":[{"username":"jd","email":"jd@u.fr","firstname":"Jean","lastname":"Dupont","source":"user"}]}"#;
    let r = run(cmd("bbb-csv").arg("--pod-export"), input);
    r.ok();
    let rows = parse_csv(&r.stdout, b';');
    assert_eq!(rows[0][0], "meeting_name");
    assert_eq!(rows[0].last().unwrap(), "Moodle_owners");
    assert_eq!(rows[1][0], "Cours; \"A\"");
    assert_eq!(rows[1][2], "2024-03-01");
    assert_eq!(rows[1][3], "Moodle");
    assert_eq!(rows[1].last().unwrap(), "Jean Dupont (jd) <jd@u.fr>");
    let custom = run(
        cmd("bbb-csv").args([
            "--columns",
            "id=record_id,origin=metadata.bbb-origin",
            "--delimiter",
            "\t",
            "--no-header",
        ]),
        input,
    );
    assert_eq!(custom.stdout, "r1\tMoodle\n");
}

#[test]
fn wrong_shape_records_fail_alone_and_go_to_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let input = "{\"record_id\":\"a\"}\n[1,2]\n{\"record_id\":5,\"keep\":\"me\"}\n\n{\"record_id\":\"b\"}\n";
    let r = run(
        cmd("bbb-csv")
            .args(["--columns", "record_id", "--rejects"])
            .arg(&rejects),
        input,
    );
    r.fails_with(1);
    assert_eq!(r.stdout, "record_id\na\nb\n");
    assert!(
        r.stderr
            .contains("bbb-csv: error: line 2: record ?: a record must be a JSON object"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("bbb-csv: error: line 3: record 5: field record_id must be a string"),
        "{}",
        r.stderr
    );
    r.stderr_has("bbb-csv: 4 records: 2 written, 2 failed");
    let kept: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1]["keep"], "me");
    assert_eq!(kept[1]["error"]["tool"], "bbb-csv");
    assert_eq!(kept[1]["error"]["line"], 3);
    // Fed back after a fix, the old error key is not a problem.
    let fixed = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .replace("\"record_id\":5", "\"record_id\":\"5\"");
    let again = run(
        cmd("bbb-csv").args(["--columns", "record_id,keep", "--no-header"]),
        &fixed,
    );
    again.ok();
    assert_eq!(again.stdout, "5,me\n");
}

#[test]
fn a_garbled_line_is_fatal_and_names_its_line() {
    let r = run(
        cmd("bbb-csv").args(["--columns", "record_id"]),
        "{\"record_id\":\"a\"}\n{\"record_id\":\"b\"\n{\"record_id\":\"c\"}\n",
    );
    r.fails_with(2).stderr_has("line 2: not a JSON record");
    assert!(!r.stdout.contains("\nc\n"));
}

#[test]
fn a_missing_input_file_is_fatal() {
    let r = run(cmd("bbb-csv").arg("/nonexistent/recordings.ndjson"), "");
    r.fails_with(2);
    assert!(
        r.stderr
            .contains("cannot open /nonexistent/recordings.ndjson"),
        "{}",
        r.stderr
    );
}

#[test]
fn closing_the_pipe_early_exits_0_silently() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let line = listed().lines().next().unwrap().to_string();
    let mut child = cmd("bbb-csv")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for _ in 0..20_000 {
            if writeln!(stdin, "{line}").is_err() {
                break;
            }
        }
    });
    {
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut header = String::new();
        out.read_line(&mut header).unwrap();
        assert!(header.starts_with("record_id,"));
    }
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_record_id_null_or_empty_fails_the_record() {
    let input = "{\"record_id\":null}\n{\"record_id\":\"\"}\n{\"record_id\":\" \"}\n{\"record_id\":\"a\"}\n";
    let r = run(cmd("bbb-csv").args(["--columns", "record_id"]), input);
    r.fails_with(1);
    assert_eq!(r.stdout, "record_id\na\n");
    for line in 1..=3 {
        r.stderr_has(&format!("line {line}: record "));
    }
    r.stderr_has("record_id is missing, null or empty");
    r.stderr_has("bbb-csv: 4 records: 1 written, 3 failed");
    let one = run(
        cmd("bbb-csv").args(["--columns", "record_id"]),
        "{\"record_id\":\"a\"}\n",
    );
    one.ok().stderr_has("bbb-csv: 1 record: 1 written");
}

#[test]
fn terminal_escapes_in_a_record_are_shown_never_sent_raw() {
    // An ID holding a title-setting OSC and a colour change: printed escaped on stderr.
    let evil = r"x\u001b]0;pwned\u0007\u001b[31mred"; // JSON escapes
    let input = format!("{{\"record_id\":\"{evil}\",\"playback\":7}}\n");
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        cmd("bbb-record")
            .arg("--out")
            .arg(dir.path())
            .arg("--dry-run"),
        &input,
    );
    r.fails_with(1);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
    assert!(!r.stderr.contains('\u{7}'), "{:?}", r.stderr);
    r.stderr_has("x\\u{1b}]0;pwned\\u{7}\\u{1b}[31mred");
}

#[test]
fn a_line_over_16_mib_is_fatal_after_the_records_before_it() {
    let mut input = String::from("{\"record_id\":\"a\"}\n{\"record_id\":\"b\",\"x\":\"");
    input.push_str(&"x".repeat(17 << 20));
    input.push_str("\"}\n{\"record_id\":\"c\"}\n");
    let r = run(cmd("bbb-csv").args(["--columns", "record_id"]), &input);
    r.fails_with(2)
        .stderr_has("line 2: longer than 16 MiB, the limit of one record");
    assert_eq!(r.stdout, "record_id\na\n");
}

#[test]
fn a_tool_refuses_to_read_its_own_rejects_file() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    std::fs::write(&rejects, "{\"record_id\":null}\n").unwrap();
    let link = dir.path().join("same.ndjson");
    std::fs::hard_link(&rejects, &link).unwrap();
    for input in [&rejects, &link] {
        let r = run(cmd("bbb-csv").arg("--rejects").arg(&rejects).arg(input), "");
        r.fails_with(2).stderr_has("the input is the rejects file");
    }
    // Through stdin too.
    let out = cmd("bbb-csv")
        .arg("--rejects")
        .arg(&rejects)
        .stdin(std::fs::File::open(&rejects).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        "{\"record_id\":null}\n",
        "nothing appended"
    );
    // Moved aside, it is read once.
    let retry = dir.path().join("retry.ndjson");
    std::fs::rename(&rejects, &retry).unwrap();
    std::fs::remove_file(&link).unwrap();
    let r = run(
        cmd("bbb-csv").arg("--rejects").arg(&rejects).arg(&retry),
        "",
    );
    r.fails_with(1);
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap().lines().count(),
        1
    );
}
