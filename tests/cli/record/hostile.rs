//! bbb-record against a hostile or broken environment: links planted at its file names,
//! a read-only --out, a trickling server, SIGTERM and kill -9 mid-work (no ffmpeg, ffprobe
//! or bbb-recorder left running), decompression bombs.

use super::*;

/// The final path a dry run predicts for the single record of `input`.
fn predicted(out: &Path, input: &str) -> PathBuf {
    let r = record(out, &["--dry-run"], input);
    r.ok();
    PathBuf::from(video_of(&r.records()[0])["path"].as_str().unwrap())
}

/// `DIR/.BASE.part` of a final path `DIR/BASE.EXT`.
fn part_of(path: &Path) -> PathBuf {
    let stem = path.file_stem().unwrap().to_string_lossy();
    path.with_file_name(format!(".{stem}.part"))
}

#[test]
fn record_dry_run_predicts_the_name_the_run_writes() {
    let p = Published::new();
    let id = rid(60);
    p.video(&id, "Predicted", clip());
    let si = standin(&p, &[]);
    let input = list(&si);
    let out = tempfile::tempdir().unwrap();
    let want = predicted(out.path(), &input);
    assert!(want.to_string_lossy().ends_with(".m4v"), "{want:?}");
    let r = record(out.path(), &[], &input);
    r.ok();
    assert_eq!(video_of(&r.records()[0])["path"], want.to_str().unwrap());
}

#[test]
fn record_never_follows_a_link_planted_at_the_temporary_name() {
    let p = Published::new();
    let id = rid(61);
    p.video(&id, "Planted", clip());
    // With Range (append to the planted file) and without (truncate and overwrite it).
    for faults in [&[][..], &["--file-fault", "norange"][..]] {
        let si = standin(&p, faults);
        let input = list(&si);
        let out = tempfile::tempdir().unwrap();
        let victim = out.path().join("victim.conf");
        std::fs::write(&victim, "precious").unwrap();
        let part = part_of(&predicted(out.path(), &input));
        std::os::unix::fs::symlink(&victim, &part).unwrap();
        let r = record(out.path(), &[], &input);
        r.fails_with(1).stderr_has("symbolic link");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(r.records().is_empty(), "{r:?}");
        // No final video, let alone one that is a link.
        let left = names(out.path());
        assert!(
            left.iter()
                .all(|n| n == "victim.conf" || n.ends_with(".part")),
            "{left:?}"
        );
        assert!(std::fs::symlink_metadata(&part).unwrap().is_symlink());
    }
}

#[test]
fn record_refuses_a_fifo_at_the_temporary_name_without_hanging() {
    let p = Published::new();
    let id = rid(62);
    p.video(&id, "Fifo", clip());
    let si = standin(&p, &[]);
    let input = list(&si);
    let out = tempfile::tempdir().unwrap();
    let part = part_of(&predicted(out.path(), &input));
    let st = Command::new("mkfifo").arg(&part).status().unwrap();
    assert!(st.success());
    let t = Instant::now();
    let r = record(out.path(), &[], &input);
    r.fails_with(1).stderr_has("not a regular file");
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn record_read_only_out_is_fatal_at_start() {
    let Some(fs) = Tmpfs::mount("1m") else {
        crate::support::skip(
            "record_read_only_out_is_fatal_at_start",
            "cannot mount a tmpfs",
        );
        return;
    };
    let st = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(fs.0.path())
        .status()
        .unwrap();
    assert!(st.success());
    let p = Published::new();
    let id = rid(63);
    p.video(&id, "Read-only", clip());
    let si = standin(&p, &[]);
    let r = record(fs.0.path(), &[], &list(&si));
    r.fails_with(2).stderr_has("is not writable");
    assert!(!r.stderr.contains("free space"), "{r:?}");
    assert!(files_log(&si).is_empty(), "{:?}", files_log(&si));
}

#[test]
fn record_abandons_a_trickling_server_by_min_speed() {
    let p = Published::new();
    let id = rid(64);
    p.video(&id, "Trickle", clip());
    // 20 bytes a second: --read-timeout never fires.
    let si = standin(&p, &["--file-fault", "slow:20@video-0.m4v"]);
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let r = record(
        out.path(),
        &[
            "--min-speed",
            "1000",
            "--min-speed-time",
            "2",
            "--retries",
            "1",
        ],
        &list(&si),
    );
    r.fails_with(1)
        .stderr_has("slower than --min-speed 1000 B/s")
        .stderr_has("gave up after 2 attempt(s)");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    // Two attempts: the first, then one resumed where it stopped.
    let log = files_log(&si);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[1].contains("bytes="), "{log:?}");
}

#[test]
fn record_failing_before_any_byte_does_not_claim_a_partial_file() {
    let p = Published::new();
    let id = rid(65);
    p.video(&id, "Unavailable", clip());
    let si = standin(&p, &["--file-fault", "status:503@video-0.m4v"]);
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["--retries", "0"], &list(&si));
    r.fails_with(1).stderr_has("nothing kept");
    assert!(!r.stderr.contains("0 B kept"), "{r:?}");
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

#[test]
fn record_sigterm_keeps_every_byte_received_in_the_partial_file() {
    let p = Published::new();
    let id = rid(66);
    p.video(&id, "Stopped", big_clip());
    // 100 kB a second: well under a write buffer after one second.
    let si = standin(&p, &["--file-fault", "slow:100000@video-0.m4v"]);
    let out = tempfile::tempdir().unwrap();
    let input = out.path().join("in.ndjson");
    std::fs::write(&input, list(&si)).unwrap();
    let vids = tempfile::tempdir().unwrap();
    let child = cmd("bbb-record")
        .arg("--out")
        .arg(vids.path())
        .arg(&input)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while files_log(&si).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(30), "no download started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1200));
    terminate(child);
    let part = names(vids.path())
        .into_iter()
        .find(|n| n.ends_with(".part"))
        .map(|n| vids.path().join(n))
        .expect("the partial file is kept");
    let have = std::fs::read(&part).unwrap();
    assert!(have.len() >= 50_000, "only {} bytes kept", have.len());
    let whole = std::fs::read(big_clip()).unwrap();
    assert_eq!(&whole[..have.len()], &have[..]);
}

/// Starts bbb-record (`c`) on `input`, waits until a process whose command line has
/// `needle` and `what` runs, kills bbb-record with SIGKILL, and checks that such a process
/// is gone within 2 seconds.
fn kill_9_takes_along(c: &mut Command, input: &str, needle: &str, what: &str) {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let running = || -> Vec<String> {
        processes_mentioning(needle)
            .into_iter()
            .filter(|c| c.contains(what))
            .collect()
    };
    let t = Instant::now();
    while running().is_empty() {
        assert!(t.elapsed() < Duration::from_secs(60), "no {what} started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let t = Instant::now();
    loop {
        let left = running();
        if left.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{what} still runs after kill -9 of bbb-record: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn record_kill_9_takes_its_ffmpeg_runs_along() {
    let p = Published::new();
    let id = rid(67);
    p.slides(&id, "Killed", 1_800_000);
    let out = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let needle = tmp.path().to_string_lossy().into_owned();
    let mut c = render_from_dir(&p, &id, out.path(), tmp.path());
    kill_9_takes_along(&mut c, "", &needle, "ffmpeg");
}

#[test]
fn record_kill_9_takes_its_ffprobe_along() {
    let p = Published::new();
    let id = rid(74);
    p.video(&id, "Probed", clip());
    let si = standin(&p, &[]);
    let input = list(&si);
    // An ffprobe that never answers, first on PATH.
    let (bin, path) = fake_tool("ffprobe", "while :; do sleep 1; done");
    let probe = bin.path().join("ffprobe");
    let out = tempfile::tempdir().unwrap();
    let mut c = cmd("bbb-record");
    c.arg("--out").arg(out.path()).env("PATH", path);
    kill_9_takes_along(&mut c, &input, &probe.to_string_lossy(), "ffprobe");
}

#[test]
fn record_kill_9_takes_its_bbb_recorder_along() {
    let p = Published::new();
    let id = rid(75);
    p.presentation(&id, "Recorded", 8000);
    let si = standin(&p, &[]);
    let plug = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("record/export.js"), plug.path().join("export.js")).unwrap();
    let url = format!("{}/playback/presentation/2.3/{id}", si.url);
    let rec = json!({"record_id": id, "name": "Recorded",
        "playback": [{"type": "presentation", "url": url, "length_min": 0}]});
    let out = tempfile::tempdir().unwrap();
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(out.path())
        .args(["--method", "bbb-recorder", "--bbb-recorder"])
        .arg(plug.path())
        .arg("--recorder-copy-to")
        .arg(plug.path())
        .env("HOME", plug.path())
        .env("FAKE_RECORDER", "hang");
    kill_9_takes_along(&mut c, &format!("{rec}\n"), &id, "export.js");
}

/// A folder holding an executable `name` with this shell script, to put first on PATH.
fn fake_tool(name: &str, script: &str) -> (tempfile::TempDir, String) {
    let bin = tempfile::tempdir().unwrap();
    let path = bin.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let search = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (bin, search)
}

#[test]
fn record_ffmpeg_dying_of_a_broken_pipe_fails_the_record_with_its_last_words() {
    let p = Published::new();
    let id = rid(76);
    p.slides(&id, "Cut", 5000);
    let out = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Dies as an ffmpeg whose output went away does: SIGPIPE, after saying so.
    let (_bin, path) = fake_tool(
        "ffmpeg",
        "echo 'fake ffmpeg: av_interleaved_write_frame(): Broken pipe' >&2\nkill -PIPE $$\nexit 0",
    );
    let mut c = render_from_dir(&p, &id, out.path(), tmp.path());
    c.env("PATH", path);
    let r = run(c, "");
    // A failed record (exit 1) with ffmpeg's words, never a reader that left (exit 0).
    r.fails_with(1)
        .stderr_has(&format!("record {id}"))
        .stderr_has("ffmpeg failed")
        .stderr_has("fake ffmpeg: av_interleaved_write_frame(): Broken pipe");
    assert!(r.records().is_empty(), "{r:?}");
    let videos: Vec<String> = names(out.path())
        .into_iter()
        .filter(|n| {
            [".mp4", ".m4v", ".webm", ".part"]
                .iter()
                .any(|e| n.ends_with(e))
        })
        .collect();
    assert!(videos.is_empty(), "{videos:?}");
}

#[test]
fn record_a_decompression_bomb_slide_fails_that_record_alone() {
    let p = Published::new();
    let (bomb, fine) = (rid(68), rid(69));
    let d = p.slides(&bomb, "Bomb", 5000);
    p.slides(&fine, "Fine", 5000);
    // A PNG whose header claims 30000×30000 pixels (3.6 GB once decoded).
    let slide = walk(&d)
        .into_iter()
        .find(|f| f.file_name().is_some_and(|n| n == "slide-1.png"))
        .expect("a slide-1.png");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&30000u32.to_be_bytes());
    png.extend_from_slice(&30000u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    std::fs::write(&slide, png).unwrap();
    let out = tempfile::tempdir().unwrap();
    let input = out.path().join("in.ndjson");
    let line = |id: &str| {
        json!({"record_id": id, "playback": [{"type": "presentation",
            "url": format!("https://gone.example/playback/presentation/2.3/{id}")}]})
        .to_string()
    };
    std::fs::write(&input, format!("{}\n{}\n", line(&bomb), line(&fine))).unwrap();
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(out.path())
        .arg("--from-dir")
        .arg(p.path())
        .arg("--keep-order")
        .arg(&input);
    let r = run(c, "");
    r.fails_with(1)
        .stderr_has(&format!("record {bomb}"))
        .stderr_has("30000×30000 pixels, over the limit");
    let recs = r.records();
    assert_eq!(recs.len(), 1, "{r:?}");
    assert_eq!(recs[0]["record_id"], fine.as_str());
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn record_names_from_record_ids_never_collide() {
    // `.` and `..` both sanitise to nothing, `a/b` and `a b` to `a-b`.
    let input: String = [".", "..", "a/b", "a b"]
        .iter()
        .map(|id| {
            json!({"record_id": id, "playback": [{"type": "video",
                "url": "https://gone.example/playback/video/x/"}]})
            .to_string()
                + "\n"
        })
        .collect();
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["--dry-run", "--name", "{record_id}"], &input);
    r.ok();
    let paths: Vec<String> = r
        .records()
        .iter()
        .map(|rec| video_of(rec)["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths.len(), 4, "{r:?}");
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{paths:?}");
    for p in &paths {
        let p = Path::new(p);
        assert_eq!(p.parent().unwrap(), out.path());
        assert!(!p.file_name().unwrap().to_string_lossy().starts_with('.'));
    }
}
