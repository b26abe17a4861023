//! bbb-record with bbb-recorder (the stand-in export.js of tests/fixtures/record).

use super::*;

/// A bbb-recorder plugin folder with the stand-in export.js and its copyToPath.
fn plugin() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("record/export.js"), d.path().join("export.js")).unwrap();
    let copy_to = d.path().join("copied");
    std::fs::create_dir(&copy_to).unwrap();
    std::fs::write(
        d.path().join(".env"),
        format!("copyToPath={}\n", copy_to.display()),
    )
    .unwrap();
    (d, copy_to)
}

fn recorder_run(
    si: &StandIn,
    plugin: &Path,
    out: &Path,
    mode: &str,
    extra: &[&str],
    input: &str,
) -> Run {
    let home = plugin.join(".home");
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(out)
        .args(["--method", "bbb-recorder", "--bbb-recorder"])
        .arg(plugin)
        .args(extra)
        .env("HOME", &home)
        .env("FAKE_RECORDER", mode);
    let _ = si;
    run(c, input)
}

#[test]
fn record_bbb_recorder_runs_without_a_shell_and_checks_its_output() {
    let p = Published::new();
    let id = rid(30);
    p.presentation(&id, "Recorded", 8000);
    let si = standin(&p, &[]);
    let (plug, copy_to) = plugin();
    // Shell metacharacters in the URL stay data: no shell ever sees them.
    let url = format!(
        "{}/playback/presentation/2.0/playback.html?meetingId={id}&x=$(touch${{IFS}}pwned);touch${{IFS}}pwned2",
        si.url
    );
    let rec = json!({"record_id": id, "name": "Recorded", "start_time": "2022-01-01T00:00:00Z",
        "playback": [{"type": "presentation", "url": url, "length_min": 0}]});
    let out = tempfile::tempdir().unwrap();
    let r = recorder_run(&si, plug.path(), out.path(), "", &[], &rec.to_string());
    r.ok();
    let v = video_of(&r.records()[0]).clone();
    assert_eq!(v["method"], "bbb-recorder");
    assert_eq!(v["container"], "webm");
    assert!(
        (v["duration_s"].as_f64().unwrap() - 8.0).abs() < 0.3,
        "{v:?}"
    );
    assert!(v["path"].as_str().unwrap().ends_with(".webm"));
    let args: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(plug.path().join("last-args.json")).unwrap())
            .unwrap();
    assert_eq!(args[0], url, "the URL reaches the plugin unchanged");
    assert_eq!(args[2], "8", "the duration comes from metadata.xml");
    assert!(!plug.path().join("pwned").exists() && !plug.path().join("pwned2").exists());
    assert!(names(&copy_to).is_empty(), "the plugin's copy was moved");
    let logs = out.path().join(".bbb-record-logs");
    assert_eq!(names(&logs).len(), 1);

    // A video much shorter than the recording, a failing plugin, a missing file: errors,
    // and nothing under a final name.
    for (mode, says) in [
        ("short", "bbb-recorder made a video of"),
        ("fail", "exit 1: bad URL or recording not found"),
        ("nofile", "wrote no"),
        ("truncated", "is truncated|is not a readable video"),
    ] {
        let o = tempfile::tempdir().unwrap();
        let r = recorder_run(&si, plug.path(), o.path(), mode, &[], &rec.to_string());
        r.fails_with(1);
        assert!(
            says.split('|').any(|s| r.stderr.contains(s)),
            "{mode}: {r:?}"
        );
        assert!(
            names(o.path()).iter().all(|n| n.starts_with('.')),
            "{mode}: {:?}",
            names(o.path())
        );
        let _ = std::fs::remove_dir_all(&copy_to);
        std::fs::create_dir(&copy_to).unwrap();
    }
}

#[test]
fn record_bbb_recorder_is_killed_after_its_timeout() {
    let p = Published::new();
    let id = rid(31);
    p.presentation(&id, "Hangs", 1000);
    let si = standin(&p, &[]);
    let (plug, _copy_to) = plugin();
    let rec = json!({"record_id": id, "playback": [{"type": "presentation",
        "url": format!("{}/playback/presentation/2.3/{id}", si.url)}]});
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let r = recorder_run(
        &si,
        plug.path(),
        out.path(),
        "hang",
        &["--recorder-grace", "1"],
        &rec.to_string(),
    );
    r.fails_with(1).stderr_has("still running after");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
}

#[test]
fn record_bbb_recorder_needs_node_and_the_plugin() {
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["--method", "bbb-recorder"], "");
    r.fails_with(2).stderr_has("needs --bbb-recorder DIR");
    let r = record(
        out.path(),
        &["--bbb-recorder", out.path().to_str().unwrap()],
        "",
    );
    r.fails_with(2).stderr_has("no export.js");
    // A PATH with ffmpeg and ffprobe but no node.
    let (plug, _c) = plugin();
    let bin = tempfile::tempdir().unwrap();
    for t in ["ffmpeg", "ffprobe"] {
        let real = String::from_utf8(
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        std::os::unix::fs::symlink(real.trim(), bin.path().join(t)).unwrap();
    }
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(out.path())
        .arg("--bbb-recorder")
        .arg(plug.path())
        .env("PATH", bin.path());
    let r = run(c, "");
    r.fails_with(2).stderr_has("node is not installed");
}

#[test]
fn record_bbb_recorder_is_stopped_with_bbb_record_on_sigterm() {
    let p = Published::new();
    let id = rid(32);
    p.presentation(&id, "Stopped", 60_000);
    let si = standin(&p, &[]);
    let (plug, _copy_to) = plugin();
    let url = format!("{}/playback/presentation/2.3/{id}", si.url);
    let rec = json!({"record_id": id, "playback": [{"type": "presentation", "url": url}]});
    let out = tempfile::tempdir().unwrap();
    let input = out.path().join("in.ndjson");
    std::fs::write(&input, rec.to_string()).unwrap();
    let child = cmd("bbb-record")
        .arg("--out")
        .arg(out.path())
        .args(["--method", "bbb-recorder", "--bbb-recorder"])
        .arg(plug.path())
        .arg(&input)
        .env("HOME", out.path().join(".home"))
        .env("FAKE_RECORDER", "hang")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The plugin is running (it wrote its arguments) and hangs.
    let t = Instant::now();
    while !plug.path().join("last-args.json").exists() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "bbb-recorder never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let plug_dir = plug.path().display().to_string();
    terminate(child);
    // node export.js runs in the plugin folder (its cwd), so look for the URL instead.
    std::thread::sleep(Duration::from_millis(300));
    let left = processes_mentioning(&url);
    assert!(
        left.is_empty(),
        "bbb-recorder outlived bbb-record: {left:?} ({plug_dir})"
    );
    assert!(
        names(out.path())
            .iter()
            .all(|n| n.starts_with('.') || n == "in.ndjson")
    );
}

#[test]
fn record_bbb_recorder_output_that_does_not_fit_the_out_disk_is_refused() {
    // OUT on another (small) file system than the plugin's copyToPath: the video is
    // copied, after a space check. Needs `mount -t tmpfs`.
    let Some(fs) = Tmpfs::mount("64k") else {
        eprintln!(
            "record_bbb_recorder_output_that_does_not_fit: skipped, cannot mount a tmpfs here"
        );
        return;
    };
    let p = Published::new();
    let id = rid(33);
    p.presentation(&id, "Big webm", 8000);
    let si = standin(&p, &[]);
    let (plug, copy_to) = plugin();
    let rec = json!({"record_id": id, "playback": [{"type": "presentation",
        "url": format!("{}/playback/presentation/2.3/{id}", si.url)}]});
    let logs = tempfile::tempdir().unwrap();
    let r = recorder_run(
        &si,
        plug.path(),
        fs.0.path(),
        "",
        &[
            "--keep-free",
            "0",
            "--log-dir",
            logs.path().to_str().unwrap(),
        ],
        &rec.to_string(),
    );
    r.fails_with(1).stderr_has("not enough free space");
    assert!(names(fs.0.path()).is_empty(), "{:?}", names(fs.0.path()));
    assert!(names(&copy_to).is_empty(), "{:?}", names(&copy_to));
}
