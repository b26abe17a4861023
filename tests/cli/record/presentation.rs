//! bbb-record on presentations: 2.0 and 2.3 URLs, protected files, missing playbacks, unsafe names.

use super::*;

#[test]
fn record_presentation_urls_2_0_and_2_3_reach_the_published_files() {
    let p = Published::new();
    let a = rid(9);
    p.slides(&a, "Slides", 5000);
    let si = standin(&p, &[]);
    let mk = |url: String| {
        json!({"record_id": a, "name": "Slides", "start_time": "2022-05-06T07:08:09Z",
            "playback": [{"type": "presentation", "url": url}]})
        .to_string()
    };
    let u20 = format!(
        "{}/playback/presentation/2.0/playback.html?meetingId={a}",
        si.url
    );
    let u23 = format!("{}/playback/presentation/2.3/{a}", si.url);
    let wrong = format!("{}/playback/presentation/2.3/{}", si.url, rid(99));
    let files = format!("{}/presentation/{a}/", si.url);
    // Dry run: the method, the URL and where the files are; nothing written.
    let out = tempfile::tempdir().unwrap();
    let dry = record(
        out.path(),
        &["--dry-run"],
        &format!("{}\n{}\n", mk(u20.clone()), mk(u23.clone())),
    );
    dry.ok();
    for (rec, url) in dry.records().iter().zip([&u20, &u23]) {
        let v = video_of(rec);
        assert_eq!(v["method"], "render");
        assert_eq!(v["status"], "dry-run");
        assert_eq!(v["url"], url.as_str());
        assert_eq!(v["files"], files.as_str());
    }
    assert!(names(out.path()).is_empty());
    // For real: both forms reach the published files and the native renderer draws them.
    for url in [u20, u23] {
        let o = tempfile::tempdir().unwrap();
        let r = record(o.path(), &["--method", "render"], &mk(url));
        r.ok();
        let v = video_of(&r.records()[0]).clone();
        assert_eq!(v["method"], "render");
        let secs = v["duration_s"].as_f64().unwrap();
        assert!((secs - 5.0).abs() < 0.25, "duration {secs}");
        assert!(std::path::Path::new(v["path"].as_str().unwrap()).is_file());
    }
    assert!(files_log(&si).contains(&format!("/presentation/{a}/metadata.xml -")));
    let o = tempfile::tempdir().unwrap();
    let r = record(o.path(), &[], &mk(wrong));
    r.fails_with(1).stderr_has("no metadata.xml at");
    assert!(names(o.path()).is_empty(), "{:?}", names(o.path()));
}

#[test]
fn record_recordings_without_playback_fail_alone() {
    let out = tempfile::tempdir().unwrap();
    let input = [
        json!({"record_id": "r-none", "playback": []}),
        json!({"record_id": "r-null", "state": "processing", "playback": null, "video_url": null, "presentation_url": null}),
        json!({"record_id": "r-podcast", "playback": [{"type": "podcast", "url": "http://127.0.0.1:9/podcast/x/audio.ogg"}]}),
        json!({"record_id": "r-bad", "playback": "nope"}),
    ]
    .iter()
    .map(|v| v.to_string() + "\n")
    .collect::<String>();
    let r = record(out.path(), &[], &input);
    r.fails_with(1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("record r-none: the recording has no playback URL"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("record r-null: the recording has no playback URL (state processing)"),
        "{r:?}"
    );
    r.stderr_has(
        "record r-podcast: the recording has no presentation format to render (formats: podcast)",
    );
    assert!(
        r.stderr
            .contains("record r-bad: field playback must be an array"),
        "{r:?}"
    );
    r.stderr_has("4 failed");
}

#[test]
fn record_unsafe_names_and_ids_never_leave_the_output_folder() {
    let p = Published::new();
    let id = rid(10);
    p.video(&id, "x", clip());
    let si = standin(&p, &[]);
    let out = tempfile::tempdir().unwrap();
    let evil = json!({"record_id": "../../../tmp/evil\n", "name": "../../.ssh/authorized_keys\u{0}",
        "start_time": "2020-01-01T00:00:00Z",
        "playback": [{"type": "video", "url": format!("{}/playback/video/{id}/", si.url)}]});
    let evil_pres = json!({"record_id": "p1",
        "playback": [{"type": "presentation", "url": format!("{}/playback/presentation/2.3/..%2F..%2Fetc", si.url)}]});
    let r = record(out.path(), &[], &format!("{evil}\n{evil_pres}\n"));
    r.fails_with(1);
    let v = video_of(&r.records()[0]).clone();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), out.path());
    let file = path.file_name().unwrap().to_str().unwrap();
    // The record ID is changed by sanitising: a hash of it keeps names injective.
    let hash = file
        .strip_prefix("2020-01-01_ssh-authorized_keys_tmp-evil-")
        .and_then(|f| f.strip_suffix(".m4v"))
        .unwrap_or_else(|| panic!("{file}"));
    assert!(
        hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{file}"
    );
    r.stderr_has("record p1: unsafe recording ID");
    // Templates cannot point elsewhere either.
    let bad = record(out.path(), &["--name", "../{record_id}"], "");
    bad.fails_with(2).stderr_has("cannot contain '/'");
}

#[test]
fn record_scalelite_protected_presentation_is_rendered_from_cookie_guarded_files() {
    let p = Published::new();
    let id = rid(42);
    p.slides(&id, "Protected slides", 5000);
    let si = standin(&p, &["--mode", "scalelite", "--protected"]);
    assert_eq!(
        http_get(&si.url, &format!("/presentation/{id}/metadata.xml")).0,
        404
    );
    let input = list(&si);
    assert!(
        input.contains(&format!("/recording/{id}/presentation?token=")),
        "{input}"
    );
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &input);
    r.ok();
    assert_eq!(video_of(&r.records()[0])["method"], "render");
    // The token opened the files: metadata.xml was served with the cookie.
    assert!(
        files_log(&si).contains(&format!("/presentation/{id}/metadata.xml -")),
        "{:?}",
        files_log(&si)
    );
    assert!(
        !r.stderr.contains(&format!("tok-{id}")),
        "token printed: {r:?}"
    );
}

#[test]
fn record_from_dir_renders_local_published_files_and_never_leaves_them() {
    let p = Published::new();
    let id = rid(43);
    p.slides(&id, "Local", 5000);
    let rec = |rid: &str| {
        json!({"record_id": rid, "playback": [{"type": "presentation",
            "url": format!("https://gone.example/playback/presentation/2.3/{rid}")}]})
        .to_string()
    };
    let out = tempfile::tempdir().unwrap();
    let dir = p.path().to_str().unwrap();
    let r = record(out.path(), &["--from-dir", dir], &rec(&id));
    r.ok();
    assert_eq!(video_of(&r.records()[0])["method"], "render");
    assert!(!r.stderr.contains("gone.example"), "{r:?}");
    let missing = rid(44);
    let r = record(out.path(), &["--from-dir", dir], &rec(&missing));
    r.fails_with(1).stderr_has("no metadata.xml in");
}

#[test]
fn record_render_is_stopped_with_bbb_record_on_sigterm() {
    // An hour of slides: the render is still in its ffmpeg runs when the signal comes.
    let p = Published::new();
    let id = rid(45);
    p.slides(&id, "Long", 3_600_000);
    let out = tempfile::tempdir().unwrap();
    let tmp = out.path().join(".tmp");
    std::fs::create_dir(&tmp).unwrap();
    let child = render_from_dir(&p, &id, out.path(), &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let needle = tmp.display().to_string();
    let t = Instant::now();
    while processes_mentioning(&needle).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "ffmpeg never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    terminate(child);
    // No ffmpeg run outlives bbb-record, its temporary folder is gone, no partial video.
    let left = processes_mentioning(&needle);
    assert!(left.is_empty(), "ffmpeg outlived bbb-record: {left:?}");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    assert!(
        names(out.path())
            .iter()
            .all(|n| n.starts_with('.') || n == "in.ndjson"),
        "{:?}",
        names(out.path())
    );
}

#[test]
fn record_removes_temporary_folders_left_by_a_killed_run() {
    // What a bbb-record killed with -9 leaves: fetched published files in --out, the
    // renderer's work in TMPDIR, both named after its pid (4194305: above Linux's highest).
    let p = Published::new();
    let id = rid(46);
    p.slides(&id, "After a kill", 5000);
    let out = tempfile::tempdir().unwrap();
    let tmp = out.path().join(".tmp");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = host.trim();
    let stale_files = out
        .path()
        .join(format!(".bbb-record-files-4194305@{host}_AbCdEf"));
    let stale_render = tmp.join(format!("bbbmig-render-4194305@{host}_GhIjKl"));
    // pid 1 always runs: its folders are not ours to judge; nor are another machine's.
    let running = out
        .path()
        .join(format!(".bbb-record-files-1@{host}_MnOpQr"));
    let elsewhere = out
        .path()
        .join(".bbb-record-files-4194305@elsewhere.example_StUvWx");
    for d in [&stale_files, &stale_render, &running, &elsewhere] {
        std::fs::create_dir_all(d.join("video")).unwrap();
        std::fs::write(d.join("video/webcams.webm"), vec![0u8; 4096]).unwrap();
    }
    let o = render_from_dir(&p, &id, out.path(), &tmp)
        .env("BBBMIG_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stale_files.exists(), "{stderr}");
    assert!(!stale_render.exists(), "{stderr}");
    assert!(running.exists() && elsewhere.exists());
    assert!(
        stderr.contains("left by process 4194305 which no longer runs"),
        "{stderr}"
    );
    // The run's own folders are gone too; the video is there.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    assert!(
        names(out.path()).iter().any(|n| n.ends_with(".mp4")),
        "{:?}",
        names(out.path())
    );
}
