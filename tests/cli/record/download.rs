//! bbb-record downloads: video pages, direct MP4, Scalelite tokens, 404, resumed and broken
//! transfers, reruns, kill -9, parallel jobs, dry runs.

use super::*;

#[test]
fn record_downloads_the_video_format_page_source() {
    let p = Published::new();
    let id = rid(1);
    p.video(&id, "Cours d'été / TD n°1", clip());
    let si = standin(&p, &[]);
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &list(&si));
    r.ok();
    let recs = r.records();
    assert_eq!(recs.len(), 1);
    let v = video_of(&recs[0]);
    assert_eq!(v["method"], "download");
    assert_eq!(v["status"], "created");
    assert_eq!(v["container"], "mp4");
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), out.path());
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("2020-09-13_Cours-d-été-TD-n-1_{id}.m4v")
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(clip()).unwrap()
    );
    assert_eq!(v["bytes"], std::fs::metadata(&path).unwrap().len());
    assert!(
        (v["duration_s"].as_f64().unwrap() - 3.0).abs() < 0.2,
        "{v:?}"
    );
    // The page was read, then its <source>; no temporary file is left.
    let log = files_log(&si);
    assert_eq!(log, vec![format!("/playback/video/{id}/video-0.m4v -")]);
    assert_eq!(names(out.path()).len(), 1, "{:?}", names(out.path()));
    r.stderr_has("1 created");
}

#[test]
fn record_downloads_a_direct_meeting_mp4() {
    let p = Published::new();
    let id = rid(2);
    p.meeting_mp4(&id, "Exporter");
    let si = standin(&p, &[]);
    let input = list(&si);
    assert!(input.contains("/meeting.mp4"), "{input}");
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &input);
    r.ok();
    let v = video_of(&r.records()[0]).clone();
    assert!(
        v["path"].as_str().unwrap().ends_with(&format!("{id}.mp4")),
        "{v:?}"
    );
    assert_eq!(v["method"], "download");
    assert_eq!(
        files_log(&si),
        vec![format!("/presentation/{id}/meeting.mp4 -")]
    );
}

#[test]
fn record_scalelite_protected_uses_the_token_then_the_cookie() {
    let p = Published::new();
    let id = rid(3);
    p.video(&id, "Protected", clip());
    let si = standin(&p, &["--mode", "scalelite", "--protected"]);
    // Without the cookie, the files are hidden.
    let (status, _) = http_get(&si.url, &format!("/video/{id}/video-0.m4v"));
    assert_eq!(status, 404);
    let input = list(&si);
    assert!(input.contains("?token="), "{input}");
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &input);
    r.ok();
    let v = video_of(&r.records()[0]).clone();
    assert_eq!(v["status"], "created");
    assert!(!r.stderr.contains("tok-"), "{r:?}");
    // The token is spent: another output folder cannot use it again, and says why.
    let out2 = tempfile::tempdir().unwrap();
    let r2 = record(out2.path(), &[], &input);
    r2.fails_with(1).stderr_has("token is spent");
    assert!(
        !r2.stderr.contains(&format!("tok-{id}")),
        "token printed: {r2:?}"
    );
    // The first output is reused without touching the network at all.
    let r3 = record(out.path(), &[], &input);
    r3.ok();
    assert_eq!(video_of(&r3.records()[0])["status"], "exists");
}

#[test]
fn record_404_fails_that_record_and_the_stream_goes_on() {
    let p = Published::new();
    let good = rid(4);
    p.video(&good, "Good", clip());
    let si = standin(&p, &[]);
    let missing = rid(5);
    let bad = json!({"record_id": missing, "name": "Gone", "start_time": "2021-01-01T10:00:00Z",
        "playback": [{"type": "video", "url": format!("{}/playback/video/{missing}/", si.url)}]});
    let input = format!("{bad}\n{}", list(&si));
    let out = tempfile::tempdir().unwrap();
    let rejects = out.path().join("rejects.ndjson");
    let r = record(
        out.path(),
        &["--rejects", rejects.to_str().unwrap()],
        &input,
    );
    r.fails_with(1);
    assert_eq!(r.records().len(), 1);
    assert_eq!(r.records()[0]["record_id"], good.as_str());
    assert!(
        r.stderr
            .contains(&format!("line 1: record {missing}: HTTP 404")),
        "{r:?}"
    );
    let rej = std::fs::read_to_string(&rejects).unwrap();
    assert!(rej.contains(&missing) && rej.contains("\"error\""), "{rej}");
}

#[test]
fn record_resumes_a_dropped_connection_with_range_in_the_same_run() {
    let p = Published::new();
    let id = rid(6);
    p.video(&id, "Dropped", big_clip());
    let si = standin(&p, &["--file-fault", "drop:200000@video-0.m4v*2"]);
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["-v"], &list(&si));
    r.ok();
    let v = video_of(&r.records()[0]).clone();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(big_clip()).unwrap()
    );
    let log = files_log(&si);
    assert_eq!(
        log,
        vec![
            format!("/playback/video/{id}/video-0.m4v -"),
            format!("/playback/video/{id}/video-0.m4v bytes=200000-"),
            format!("/playback/video/{id}/video-0.m4v bytes=400000-"),
        ]
    );
    r.stderr_has("resuming at byte 200000");
}

#[test]
fn record_truncated_download_is_resumed_by_the_next_run() {
    // The server goes away mid-transfer; the run gives up (--retries 0) and keeps the
    // partial file; the next run, against the server back again, resumes it with Range.
    let p = Published::new();
    let id = rid(7);
    p.video(&id, "Truncated", big_clip());
    let si = standin(&p, &["--file-fault", "slow:200000@video-0.m4v*1"]);
    let out = tempfile::tempdir().unwrap();
    let in_file = out.path().join("in.ndjson");
    std::fs::write(&in_file, list(&si)).unwrap();
    let vids = tempfile::tempdir().unwrap();
    let child = cmd("bbb-record")
        .arg("--out")
        .arg(vids.path())
        .args(["--retries", "0"])
        .arg(&in_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let part = wait_for_part(vids.path(), 256 * 1024);
    drop(si);
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("kept in"), "{stderr}");
    let have = std::fs::metadata(&part).unwrap().len();
    assert!(have >= 256 * 1024 && have < std::fs::metadata(big_clip()).unwrap().len());
    // Only the hidden partial file, under its temporary name.
    assert_eq!(
        names(vids.path()),
        vec![part.file_name().unwrap().to_string_lossy().into_owned()]
    );
    let si = standin(&p, &[]);
    let r2 = record(vids.path(), &[], &list(&si));
    r2.ok();
    let v = video_of(&r2.records()[0]).clone();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(big_clip()).unwrap()
    );
    assert_eq!(
        files_log(&si),
        vec![format!("/playback/video/{id}/video-0.m4v bytes={have}-")]
    );
    assert!(!part.exists());
}

#[test]
fn record_server_that_always_drops_fails_after_bounded_retries() {
    let p = Published::new();
    let id = rid(8);
    p.video(&id, "Broken", clip());
    let si = standin(&p, &["--file-fault", "status:503@video-0.m4v"]);
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let r = record(out.path(), &["--retries", "2"], &list(&si));
    r.fails_with(1);
    assert!(
        r.stderr.contains("HTTP 503") && r.stderr.contains("gave up after 3 attempt"),
        "{r:?}"
    );
    assert_eq!(files_log(&si).len(), 3);
    assert!(t.elapsed() < Duration::from_secs(20));
    assert!(
        names(out.path()).iter().all(|n| n.starts_with('.')),
        "{:?}",
        names(out.path())
    );
}

#[test]
fn record_rerun_reuses_outputs_and_downloads_nothing() {
    let p = Published::new();
    for n in 11..14 {
        p.video(&rid(n), &format!("Talk {n}"), clip());
    }
    let si = standin(&p, &[]);
    let input = list(&si);
    let out = tempfile::tempdir().unwrap();
    let r1 = record(out.path(), &["--jobs", "2"], &input);
    r1.ok().stderr_has("3 created");
    let served = files_log(&si).len();
    assert_eq!(served, 3);
    let r2 = record(out.path(), &["--jobs", "2"], &input);
    r2.ok().stderr_has("3 exists");
    assert_eq!(files_log(&si).len(), served, "nothing downloaded twice");
    let mut paths1: Vec<Value> = r1
        .records()
        .iter()
        .map(|m| m["video"]["path"].clone())
        .collect();
    let mut paths2: Vec<Value> = r2
        .records()
        .iter()
        .map(|m| m["video"]["path"].clone())
        .collect();
    paths1.sort_by_key(|v| v.to_string());
    paths2.sort_by_key(|v| v.to_string());
    assert_eq!(paths1, paths2);
    for rec in r2.records() {
        assert_eq!(rec["video"]["status"], "exists");
        assert!(rec["video"]["duration_s"].as_f64().unwrap() > 2.5);
    }
}

#[test]
fn record_kill_9_mid_download_leaves_no_final_file_and_rerun_resumes() {
    let p = Published::new();
    let id = rid(15);
    p.video(&id, "Killed", big_clip());
    let si = standin(&p, &["--file-fault", "slow:200000@video-0.m4v*1"]);
    let input = list(&si);
    let out = tempfile::tempdir().unwrap();
    let in_file = out.path().join("in.ndjson");
    std::fs::write(&in_file, &input).unwrap();
    let vids = tempfile::tempdir().unwrap();
    let mut child = cmd("bbb-record")
        .arg("--out")
        .arg(vids.path())
        .arg(&in_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let part = wait_for_part(vids.path(), 256 * 1024);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let have = std::fs::metadata(&part).unwrap().len();
    assert!(have < std::fs::metadata(big_clip()).unwrap().len());
    assert!(
        names(vids.path()).iter().all(|n| n.starts_with('.')),
        "a file under a final name: {:?}",
        names(vids.path())
    );
    let r = record(vids.path(), &[], &input);
    r.ok();
    let v = video_of(&r.records()[0]).clone();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(big_clip()).unwrap()
    );
    let last = files_log(&si).last().unwrap().clone();
    assert!(
        last.contains("bytes=") && !last.ends_with("bytes=0-"),
        "{last}"
    );
    assert!((ffprobe_duration(&path) - 10.0).abs() < 0.5);
}

#[test]
fn record_jobs_with_keep_order_write_in_input_order() {
    let p = Published::new();
    let ids: Vec<String> = (20..24).map(rid).collect();
    for id in &ids {
        p.video(id, "Parallel", clip());
    }
    // The newest (listed first) is slow.
    let first = ids.last().unwrap().clone();
    let si = standin(&p, &["--file-fault", &format!("slow:30000@{first}")]);
    let input = list(&si);
    let order: Vec<String> = input
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["record_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(order[0], first);
    let got = |r: &Run| -> Vec<String> {
        r.records()
            .iter()
            .map(|m| m["record_id"].as_str().unwrap().to_string())
            .collect()
    };
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["--jobs", "4", "--keep-order"], &input);
    r.ok();
    assert_eq!(got(&r), order);
    let out2 = tempfile::tempdir().unwrap();
    let r = record(out2.path(), &["--jobs", "4"], &input);
    r.ok();
    let g = got(&r);
    assert_eq!(g.len(), 4);
    assert_eq!(
        g.last().unwrap(),
        &first,
        "without --keep-order the slow one comes last"
    );
}

#[test]
fn record_dry_run_writes_nothing_and_says_what_it_would_do() {
    let p = Published::new();
    let id = rid(25);
    p.video(&id, "Dry", clip());
    let si = standin(&p, &[]);
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("not-yet");
    let r = record(&out, &["--dry-run"], &list(&si));
    r.ok();
    let v = video_of(&r.records()[0]).clone();
    assert_eq!(v["status"], "dry-run");
    assert_eq!(v["method"], "download");
    assert_eq!(v["url"], format!("{}/playback/video/{id}/", si.url));
    assert!(
        v["path"]
            .as_str()
            .unwrap()
            .starts_with(out.to_str().unwrap())
    );
    assert!(!out.exists());
    assert!(files_log(&si).is_empty());
}

#[test]
fn record_the_same_recording_twice_in_one_run_is_written_once() {
    let p = Published::new();
    let id = rid(26);
    p.video(&id, "Twice", clip());
    let si = standin(&p, &["--file-fault", "slow:100000@video-0.m4v"]);
    let line = list(&si);
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["--jobs", "2"], &format!("{line}{line}"));
    r.fails_with(1);
    assert!(
        r.stderr
            .contains("another record of this input writes the same file"),
        "{r:?}"
    );
    assert_eq!(r.records().len(), 1);
    assert_eq!(names(out.path()).len(), 1, "{:?}", names(out.path()));
    assert_eq!(files_log(&si).len(), 1);
}

#[test]
fn record_scalelite_redirects_playback_video_to_its_own_path() {
    let p = Published::new();
    let id = rid(27);
    p.video(&id, "Scalelite", clip());
    let si = standin(&p, &["--mode", "scalelite"]);
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &list(&si));
    r.ok();
    assert_eq!(video_of(&r.records()[0])["status"], "created");
    assert_eq!(files_log(&si), vec![format!("/video/{id}/video-0.m4v -")]);
}

#[test]
fn record_closing_the_pipe_early_exits_0_silently() {
    let p = Published::new();
    for n in 50..53 {
        p.video(&rid(n), "Pipe", clip());
    }
    let si = standin(&p, &[]);
    let out = tempfile::tempdir().unwrap();
    let mut child = cmd("bbb-record")
        .arg("--out")
        .arg(out.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(list(&si).as_bytes()).unwrap();
    drop(stdin);
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.contains("\"video\""), "{first}");
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("error"));
}

#[test]
fn record_garbled_line_is_fatal_after_the_records_before_it() {
    let p = Published::new();
    let id = rid(54);
    p.video(&id, "Before", clip());
    let si = standin(&p, &[]);
    let out = tempfile::tempdir().unwrap();
    let r = record(
        out.path(),
        &["--jobs", "2"],
        &format!("{}{{\"record_id\":\n", list(&si)),
    );
    r.fails_with(2).stderr_has("line 2: not a JSON record");
    assert_eq!(r.records().len(), 1, "{r:?}");
    assert_eq!(r.records()[0]["video"]["status"], "created");
}

#[test]
fn record_server_ignoring_range_gets_a_whole_fresh_download() {
    let p = Published::new();
    let id = rid(28);
    p.video(&id, "No range", big_clip());
    let si = standin(
        &p,
        &[
            "--file-fault",
            "drop:200000@video-0.m4v*1",
            "--file-fault",
            "norange",
        ],
    );
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &list(&si));
    r.ok();
    let path = PathBuf::from(video_of(&r.records()[0])["path"].as_str().unwrap());
    // The second answer was the whole file (200): the partial one was started over.
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(big_clip()).unwrap()
    );
    let log = files_log(&si);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[1].ends_with("bytes=200000-"), "{log:?}");
}
