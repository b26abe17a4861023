//! Tests of bbb-list: real answers, the stand-in in every server mode, checksums, faults, filters.

use crate::support::standin::{SECRET, StandIn};
use crate::support::{Run, cmd, fixture, run};
use std::collections::HashSet;
use std::process::{Command, Stdio};

fn api(name: &str) -> String {
    fixture(&format!("bbb/api/{name}")).display().to_string()
}

fn list(si: &StandIn, extra: &[&str]) -> Run {
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET)
        .arg("--server")
        .arg(&si.url)
        .args(extra);
    if !extra.contains(&"--retries") {
        c.args(["--retries", "2"]);
    }
    run(c, "")
}

fn ids(r: &Run) -> Vec<String> {
    r.records()
        .iter()
        .map(|m| m["record_id"].as_str().expect("record_id").to_string())
        .collect()
}

fn assert_unique(v: &[String]) {
    let set: HashSet<&String> = v.iter().collect();
    assert_eq!(set.len(), v.len(), "a recording came twice");
}

#[test]
fn real_answers_parse_into_the_record_contract() {
    let r = run(
        cmd("bbb-list").args([
            "--from-xml",
            &api("getRecordings_success_moodle-meta_multi-format_php-lib.xml"),
            "--state",
            "any",
        ]),
        "",
    );
    r.ok();
    let recs = r.records();
    assert_eq!(recs.len(), 6);
    let first = &recs[0];
    for key in [
        "record_id",
        "meeting_id",
        "internal_meeting_id",
        "name",
        "state",
        "published",
        "start_time",
        "end_time",
        "start_time_ms",
        "end_time_ms",
        "participants",
        "is_breakout",
        "parent_meeting_id",
        "raw_size",
        "size",
        "metadata",
        "playback",
        "presentation_url",
        "video_url",
        "source_url",
        "server",
        "origin_server",
    ] {
        assert!(first.contains_key(key), "missing {key}");
    }
    assert_eq!(first["origin_server"], "planetinteractive.us");
    assert_eq!(first["metadata"]["bn-origin"], "Moodle");
    // One of them has podcast + presentation formats.
    assert!(recs.iter().any(|m| {
        m["playback"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["type"] == "podcast")
    }));

    let r = run(
        cmd("bbb-list").args([
            "--from-xml",
            &api("getRecordings_success_presentation23-plus-exporter-video_marsha.xml"),
        ]),
        "",
    );
    let recs = r.records();
    assert_eq!(recs.len(), 2);
    // URLs wrapped in whitespace are trimmed; a third-party video format wins source_url.
    let video = recs[0]["video_url"].as_str().unwrap();
    assert!(
        video.starts_with("https://") && video.ends_with("/meeting.mp4"),
        "{video}"
    );
    assert_eq!(recs[0]["source_url"], recs[0]["video_url"]);

    for empty in [
        "getRecordings_noRecordings_php-lib.xml",
        "getRecordings_noRecordings_scalelite-message_marsha.xml",
    ] {
        let r = run(cmd("bbb-list").args(["--from-xml", &api(empty)]), "");
        r.ok();
        assert_eq!(r.stdout, "", "{r:?}");
    }
    let r = run(
        cmd("bbb-list").args(["--from-xml", &api("error_checksumError_bbb-docs.xml")]),
        "",
    );
    r.fails_with(2).stderr_has("checksumError");
}

#[test]
fn newest_first_by_default_and_server_order_with_no_sort() {
    let f = api("getRecordings_success_moodle-meta_multi-format_php-lib.xml");
    let sorted = run(
        cmd("bbb-list").args(["--from-xml", &f, "--state", "any"]),
        "",
    )
    .records();
    let starts: Vec<i64> = sorted
        .iter()
        .map(|m| m["start_time_ms"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "{starts:?}");
    let raw = run(
        cmd("bbb-list").args(["--from-xml", &f, "--state", "any", "--no-sort"]),
        "",
    )
    .records();
    let text = std::fs::read_to_string(&f).unwrap();
    let first_in_file = text
        .split("<recordID>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .trim();
    assert_eq!(raw[0]["record_id"], first_in_file);
}

#[test]
fn playback_23_rewrites_old_presentation_links() {
    let f = api("getRecordings_success_podcast-presentation20_bbb-docs.xml");
    let r = run(
        cmd("bbb-list").args(["--from-xml", &f, "--playback", "2.3"]),
        "",
    );
    let rec = &r.records()[0];
    let id = rec["record_id"].as_str().unwrap();
    assert!(
        rec["presentation_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/playback/presentation/2.3/{id}")),
        "{rec:?}"
    );
}

#[test]
fn bbb26_pagination_lists_everything_once() {
    let si = StandIn::start(&["--generate", "2500", "--mode", "bbb26"]);
    let r = list(&si, &["--state", "any"]);
    r.ok();
    let v = ids(&r);
    assert_eq!(v.len(), 2500);
    assert_unique(&v);
    assert!(
        si.log().iter().any(|q| q.contains("offset=100")),
        "no second page was asked"
    );
    let starts: Vec<i64> = r
        .records()
        .iter()
        .map(|m| m["start_time_ms"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn default_states_are_published_and_unpublished() {
    let si = StandIn::start(&["--generate", "400"]);
    let all = list(&si, &["--state", "any"]).records();
    let default = list(&si, &[]).records();
    let expected = all
        .iter()
        .filter(|m| m["state"] == "published" || m["state"] == "unpublished")
        .count();
    assert_eq!(default.len(), expected);
    assert!(
        default.len() < all.len(),
        "the generator makes processing and deleted recordings too"
    );
    let processing = list(&si, &["--state", "processing"]).records();
    assert!(!processing.is_empty() && processing.iter().all(|m| m["state"] == "processing"));
}

#[test]
fn bbb22_oversized_listings_fail_as_404_and_are_split_finer() {
    let si = StandIn::start(&[
        "--generate",
        "900",
        "--mode",
        "bbb22",
        "--max-listing",
        "20",
    ]);
    let r = list(&si, &["--state", "any", "-v"]);
    r.ok();
    let v = ids(&r);
    assert_eq!(v.len(), 900);
    assert_unique(&v);
    let log = si.log();
    assert!(
        log.iter().all(|q| q.contains("recordID=")),
        "an unfiltered listing was asked: {log:?}"
    );
    assert!(log.iter().any(|q| {
        q.contains("recordID=")
            && q.split("recordID=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .len()
                >= 2
    }));
}

#[test]
fn scalelite_filtered_listing_and_host_rewrite() {
    let f = api("getRecordings_success_presentation23-plus-exporter-video_marsha.xml");
    let si = StandIn::start(&[
        "--generate",
        "300",
        "--mode",
        "scalelite",
        "--filtered",
        "--xml",
        &f,
    ]);
    let r = list(&si, &["--state", "any"]);
    r.ok();
    let recs = r.records();
    assert_eq!(recs.len(), 302);
    assert_unique(&ids(&r));
    // Scalelite serves the recordings it imported under its own host.
    let marsha = recs
        .iter()
        .find(|m| m["record_id"] == "c62c9c205d37815befe1b75ae6ef5878d8da5bb6-1673282694493")
        .unwrap();
    assert!(
        marsha["presentation_url"]
            .as_str()
            .unwrap()
            .starts_with(&si.url),
        "{marsha:?}"
    );
    // Scalelite has no isBreakout, rawSize or size.
    assert!(recs.iter().all(|m| m["raw_size"].is_null()));
}

#[test]
fn bbb26_without_fetch_all_still_lists_everything() {
    let si = StandIn::start(&["--generate", "250", "--no-fetch-all"]);
    let r = list(&si, &["--state", "any"]);
    assert_eq!(ids(&r).len(), 250, "{}", r.stderr);
}

#[test]
fn every_checksum_algorithm_is_accepted_where_the_server_accepts_it() {
    let bbb = StandIn::start(&["--generate", "30"]);
    for algo in ["sha1", "sha256", "sha384", "sha512"] {
        let r = list(&bbb, &["--state", "any", "--checksum", algo]);
        assert_eq!(ids(r.ok()).len(), 30, "{algo}: {}", r.stderr);
    }
    let scalelite = StandIn::start(&["--generate", "30", "--mode", "scalelite"]);
    let r = list(&scalelite, &["--checksum", "sha384"]);
    r.fails_with(2);
    assert!(
        r.stderr.contains("checksumError") && r.stderr.contains("sha384"),
        "{}",
        r.stderr
    );
    let only512 = StandIn::start(&["--generate", "5", "--algorithms", "sha512"]);
    list(&only512, &[]).fails_with(2);
    list(&only512, &["--checksum", "sha512", "--state", "any"]).ok();
}

#[test]
fn wrong_or_missing_secret_is_fatal_and_never_printed() {
    let si = StandIn::start(&["--generate", "10"]);
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", "a-wrong-secret-value")
        .args(["--server", &si.url]);
    let r = run(c, "");
    r.fails_with(2);
    assert!(r.stdout.is_empty());
    r.stderr_has("checksumError");
    assert!(!r.stderr.contains("a-wrong-secret-value"));

    let r = run(cmd("bbb-list").args(["--server", &si.url]), "");
    r.fails_with(2).stderr_has("BBB_SECRET");

    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("secret");
    std::fs::write(&f, format!("{SECRET}\n")).unwrap();
    let r = run(
        cmd("bbb-list")
            .args(["--server", &si.url, "--state", "any", "--secret-file"])
            .arg(&f),
        "",
    );
    assert_eq!(ids(&r).len(), 10, "{}", r.stderr);

    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", "visible-if-leaked").arg("--help");
    let help = run(c, "");
    assert!(!help.stdout.contains("visible-if-leaked"));
}

#[test]
fn bad_url_unreachable_host_and_tls_failure_are_clear_fatal_errors() {
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET)
        .args(["--server", "bbb.example.org/bigbluebutton"]);
    let r = run(c, "");
    r.fails_with(2).stderr_has("bad BBB URL");

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET).args([
        "--server",
        &format!("http://127.0.0.1:{port}/"),
        "--retries",
        "1",
    ]);
    let r = run(c, "");
    r.fails_with(2);
    assert!(r.stdout.is_empty());
    r.stderr_has("cannot connect");

    // TLS to a plain HTTP server.
    let si = StandIn::start(&["--generate", "3"]);
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET).args([
        "--server",
        &si.url.replace("http://", "https://"),
        "--retries",
        "0",
    ]);
    let r = run(c, "");
    r.fails_with(2).stderr_has("TLS failure");
    assert!(
        !r.stderr.contains("checksum="),
        "a checksum leaked into a message: {}",
        r.stderr
    );
}

#[test]
fn transient_faults_are_retried_or_split_and_nothing_is_lost() {
    let si = StandIn::start(&[
        "--generate",
        "500",
        "--fault",
        "status:503@recordID=1*2",
        "--fault",
        "truncate@recordID=2*1",
        "--fault",
        "html@recordID=3*1",
        "--fault",
        "status:502*1",
    ]);
    let r = list(&si, &["--state", "any"]);
    r.ok();
    let v = ids(&r);
    assert_eq!(v.len(), 500);
    assert_unique(&v);
}

#[test]
fn a_slow_shard_times_out_and_is_split() {
    let si = StandIn::start(&["--generate", "200", "--fault", "delay:3000@recordID=a&*1"]);
    let r = list(&si, &["--state", "any", "--timeout", "1"]);
    r.ok();
    assert_eq!(ids(&r).len(), 200);
    assert!(
        si.log().iter().any(|q| q.starts_with("recordID=a0&")),
        "the slow shard was not split"
    );
}

#[test]
fn a_shard_that_always_fails_is_fatal_and_prints_nothing() {
    let si = StandIn::start(&["--generate", "100", "--fault", "status:500@recordID=7"]);
    let r = list(&si, &["--state", "any", "--retries", "0"]);
    r.fails_with(2);
    assert!(
        r.stdout.is_empty(),
        "records printed as if the listing were complete"
    );
    r.stderr_has("cannot list recordID prefix \"7");
}

#[test]
fn filters_meeting_record_meta_origin() {
    let si = StandIn::start(&["--generate", "300"]);
    let all = list(&si, &["--state", "any"]).records();
    let moodle = all
        .iter()
        .find(|m| m["origin_server"] == "moodle.example.org")
        .expect("a Moodle recording");
    let mid = moodle["meeting_id"].as_str().unwrap();
    let by_meeting = list(&si, &["--state", "any", "--meeting-id", mid]).records();
    assert!(!by_meeting.is_empty() && by_meeting.iter().all(|m| m["meeting_id"] == mid));

    let rid = moodle["record_id"].as_str().unwrap();
    let by_record = list(&si, &["--state", "any", "--record-id", rid]).records();
    assert_eq!(by_record.len(), 1);

    let by_meta = list(
        &si,
        &[
            "--state",
            "any",
            "--meta",
            "bbb-origin-server-name=moodle2.example.org",
        ],
    )
    .records();
    let expected = all
        .iter()
        .filter(|m| m["origin_server"] == "moodle2.example.org")
        .count();
    assert_eq!(by_meta.len(), expected);

    let ignored = list(
        &si,
        &[
            "--state",
            "any",
            "--ignore-origin-server",
            "greenlight.example.org",
        ],
    )
    .records();
    let gl = all
        .iter()
        .filter(|m| m["origin_server"] == "greenlight.example.org")
        .count();
    assert!(gl > 0);
    assert_eq!(ignored.len(), all.len() - gl);
    assert!(
        all.iter()
            .any(|m| m["is_breakout"] == true && m["parent_meeting_id"].is_string())
    );
}

#[test]
fn save_xml_then_from_xml_gives_the_same_records() {
    let si = StandIn::start(&["--generate", "150"]);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("all.xml");
    let live = list(
        &si,
        &["--state", "any", "--save-xml", saved.to_str().unwrap()],
    );
    live.ok();
    let offline = run(
        cmd("bbb-list").args([
            "--from-xml",
            saved.to_str().unwrap(),
            "--state",
            "any",
            "--server",
            &si.url,
        ]),
        "",
    );
    offline.ok();
    assert_eq!(ids(&live), ids(&offline));
    assert_eq!(live.records()[0]["name"], offline.records()[0]["name"]);
}

#[test]
fn closing_the_pipe_early_exits_0_silently() {
    let si = StandIn::start(&["--generate", "300"]);
    let mut child = Command::new(crate::support::bin("bbb-list"))
        .env("BBB_SECRET", SECRET)
        .args(["--server", &si.url, "--state", "any"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut first = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with('{'));
    } // stdout closed here, like `| head -n 1`
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_password_in_the_server_url_is_never_shown_or_stored() {
    let si = StandIn::start(&["--generate", "2"]);
    let with_pw = si.url.replace("http://", "http://admin:s3cr3tpw@");
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET)
        .args(["--server", &with_pw, "-vv", "--retries", "0"]);
    let r = run(c, "");
    r.ok();
    assert_eq!(r.records().len(), 2);
    for rec in r.records() {
        let server = rec["server"].as_str().unwrap();
        assert!(!server.contains('@'), "{server}");
        assert!(server.starts_with("http://127.0.0.1:"), "{server}");
    }
    assert!(
        r.stderr.contains("GET "),
        "-vv shows the requests: {}",
        r.stderr
    );
    assert!(!r.stdout.contains("s3cr3tpw"), "{}", r.stdout);
    assert!(!r.stderr.contains("s3cr3tpw"), "{}", r.stderr);
    // A connection error and a bad URL do not show it either.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for server in [
        format!("http://admin:s3cr3tpw@127.0.0.1:{port}/"),
        "ftp://admin:s3cr3tpw@host/".to_string(),
    ] {
        let mut c = cmd("bbb-list");
        c.env("BBB_SECRET", SECRET)
            .args(["--server", &server, "-vv", "--retries", "0"]);
        let r = run(c, "");
        r.fails_with(2);
        assert!(!r.stderr.contains("s3cr3tpw"), "{}", r.stderr);
    }
}

#[test]
fn an_xml_text_node_over_1_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.xml");
    let big = format!(
        "<response><returncode>SUCCESS</returncode><recordings><recording><recordID>r1</recordID>\
         <name>{}</name></recording></recordings></response>",
        "n".repeat(2 << 20)
    );
    std::fs::write(&f, big).unwrap();
    let r = run(cmd("bbb-list").arg("--from-xml").arg(&f), "");
    r.fails_with(2).stderr_has("longer than 1 MiB");
    assert!(r.stdout.is_empty());
}
