//! Tests of bbb-record against the stand-in: video pages, direct MP4, Scalelite tokens,
//! resumed and broken transfers, presentations, unsafe names, reruns, kill -9, full disks,
//! parallel jobs, bbb-recorder (a stand-in export.js).

use crate::support::standin::{SECRET, StandIn};
use crate::support::{Run, cmd, fixture, run};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A recording ID of the real shape (40 hex digits, dash, 13-digit milliseconds).
fn rid(n: u64) -> String {
    format!("{:040x}-{}", 0xabc000 + n, 1_600_000_000_000u64 + n)
}

/// Makes a small real video with ffmpeg (testsrc + sine).
fn make_media(path: &Path, secs: f64, size: &str, bitrate: &str) {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("mp4");
    let (fmt, vc, ac) = if ext == "webm" {
        ("webm", "libvpx", "libopus")
    } else {
        ("mp4", "libx264", "aac")
    };
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc=size={size}:rate=15"))
        .args(["-f", "lavfi", "-i", "sine=frequency=440", "-t"])
        .arg(secs.to_string())
        .args([
            "-c:v",
            vc,
            "-b:v",
            bitrate,
            "-c:a",
            ac,
            "-shortest",
            "-f",
            fmt,
        ])
        .args(if vc == "libx264" {
            vec!["-preset", "ultrafast"]
        } else {
            vec![]
        })
        .arg(path)
        .status()
        .expect("run ffmpeg");
    assert!(st.success(), "ffmpeg failed");
}

/// A 3-second clip, made once per test run.
fn clip() -> &'static Path {
    static CLIP: OnceLock<PathBuf> = OnceLock::new();
    CLIP.get_or_init(|| {
        let d = tempfile::tempdir().expect("tempdir").keep();
        let p = d.join("clip.mp4");
        make_media(&p, 3.0, "160x120", "100k");
        p
    })
}

/// A ~1.5 MB, 10-second clip, made once per test run.
fn big_clip() -> &'static Path {
    static CLIP: OnceLock<PathBuf> = OnceLock::new();
    CLIP.get_or_init(|| {
        let d = tempfile::tempdir().expect("tempdir").keep();
        let p = d.join("big.mp4");
        make_media(&p, 10.0, "320x240", "1200k");
        p
    })
}

/// A folder of published recordings for `bbb-standin --published`.
struct Published {
    dir: tempfile::TempDir,
}

impl Published {
    fn new() -> Published {
        Published {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A presentation recording (metadata.xml only) of `dur_ms`.
    fn presentation(&self, id: &str, name: &str, dur_ms: u64) -> PathBuf {
        let d = self.path().join(id);
        std::fs::create_dir_all(&d).expect("mkdir");
        let start: u64 = id
            .rsplit('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        std::fs::write(
            d.join("metadata.xml"),
            format!(
                "<?xml version=\"1.0\"?>\n<recording><id>{id}</id><state>published</state><published>true</published><start_time>{start}</start_time><end_time>{}</end_time><meta><meetingId>m-{id}</meetingId><meetingName>{name}</meetingName></meta><playback><format>presentation</format><link>http://x/playback/presentation/2.3/{id}</link><processing_time>1</processing_time><duration>{dur_ms}</duration></playback></recording>\n",
                start + dur_ms
            ),
        )
        .expect("write metadata.xml");
        d
    }

    /// A recording with the video format (video/video-0.m4v).
    fn video(&self, id: &str, name: &str, media: &Path) {
        let d = self.presentation(id, name, 3000);
        std::fs::create_dir_all(d.join("video")).expect("mkdir");
        std::fs::copy(media, d.join("video/video-0.m4v")).expect("copy");
    }

    /// A recording whose video format is a direct meeting.mp4.
    fn meeting_mp4(&self, id: &str, name: &str) {
        let d = self.presentation(id, name, 3000);
        std::fs::copy(clip(), d.join("meeting.mp4")).expect("copy");
    }
}

fn standin(p: &Published, extra: &[&str]) -> StandIn {
    let dir = p.path().display().to_string();
    let mut args = vec!["--published", dir.as_str()];
    args.extend_from_slice(extra);
    StandIn::start(&args)
}

/// The records bbb-list makes of the stand-in's recordings.
fn list(si: &StandIn) -> String {
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET).arg("--server").arg(&si.url);
    let r = run(c, "");
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout
}

fn record(out: &Path, extra: &[&str], input: &str) -> Run {
    let mut c = cmd("bbb-record");
    c.arg("--out").arg(out).args(extra);
    if !extra.contains(&"--retries") {
        c.args(["--retries", "2"]);
    }
    run(c, input)
}

/// A plain HTTP/1.0 GET: (status, body).
fn http_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// The published-file requests the stand-in served: "PATH RANGE" lines.
fn files_log(si: &StandIn) -> Vec<String> {
    http_get(&si.url, "/standin/files-log")
        .1
        .lines()
        .map(String::from)
        .collect()
}

fn video_of(rec: &serde_json::Map<String, Value>) -> &serde_json::Map<String, Value> {
    rec["video"].as_object().expect("video object")
}

/// Files of `dir` (names), hidden ones included.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn ffprobe_duration(p: &Path) -> f64 {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(p)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0.0)
}

#[test]
fn record_downloads_the_video_format_page_source() {
    let p = Published::new();
    let id = rid(1);
    p.video(&id, "Cours d'été / TD n°1", clip());
    let si = standin(&p, &[]);
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &[], &list(&si));
    assert_eq!(r.code, 0, "{r:?}");
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
    assert!(r.stderr.contains("1 created"), "{r:?}");
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
    assert_eq!(r.code, 0, "{r:?}");
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
    assert_eq!(r.code, 0, "{r:?}");
    let v = video_of(&r.records()[0]).clone();
    assert_eq!(v["status"], "created");
    assert!(!r.stderr.contains("tok-"), "{r:?}");
    // The token is spent: another output folder cannot use it again, and says why.
    let out2 = tempfile::tempdir().unwrap();
    let r2 = record(out2.path(), &[], &input);
    assert_eq!(r2.code, 1, "{r2:?}");
    assert!(r2.stderr.contains("token is spent"), "{r2:?}");
    assert!(
        !r2.stderr.contains(&format!("tok-{id}")),
        "token printed: {r2:?}"
    );
    // The first output is reused without touching the network at all.
    let r3 = record(out.path(), &[], &input);
    assert_eq!(r3.code, 0, "{r3:?}");
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
    assert_eq!(r.code, 1, "{r:?}");
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
    assert_eq!(r.code, 0, "{r:?}");
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
    assert!(r.stderr.contains("resuming at byte 200000"), "{r:?}");
}

/// Waits until `dir` holds a `.part` file of at least `min` bytes.
fn wait_for_part(dir: &Path, min: u64) -> PathBuf {
    let t = Instant::now();
    loop {
        let found = names(dir)
            .into_iter()
            .find(|n| n.ends_with(".part"))
            .map(|n| dir.join(n));
        if let Some(p) = found {
            if std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0) >= min {
                return p;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no partial file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
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
    assert_eq!(r2.code, 0, "{r2:?}");
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
    assert_eq!(r.code, 1, "{r:?}");
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
fn record_presentation_urls_2_0_and_2_3_reach_the_published_files() {
    let p = Published::new();
    let a = rid(9);
    p.presentation(&a, "Slides", 4000);
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
    assert_eq!(dry.code, 0, "{dry:?}");
    for (rec, url) in dry.records().iter().zip([&u20, &u23]) {
        let v = video_of(rec);
        assert_eq!(v["method"], "render");
        assert_eq!(v["status"], "dry-run");
        assert_eq!(v["url"], url.as_str());
        assert_eq!(v["files"], files.as_str());
    }
    assert!(names(out.path()).is_empty());
    // For real: both forms find metadata.xml, then call the native renderer (an error
    // until it is built; then a video), a wrong ID finds nothing.
    for url in [u20, u23] {
        let o = tempfile::tempdir().unwrap();
        let r = record(o.path(), &["--method", "render"], &mk(url));
        if r.code == 0 {
            assert_eq!(video_of(&r.records()[0])["method"], "render");
        } else {
            assert!(
                r.stderr.contains("the native renderer is not built yet"),
                "{r:?}"
            );
            assert!(
                names(o.path()).iter().all(|n| n.starts_with('.')),
                "{:?}",
                names(o.path())
            );
        }
    }
    assert!(files_log(&si).contains(&format!("/presentation/{a}/metadata.xml -")));
    let o = tempfile::tempdir().unwrap();
    let r = record(o.path(), &[], &mk(wrong));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no metadata.xml at"), "{r:?}");
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
    assert_eq!(r.code, 1, "{r:?}");
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
    assert!(r.stderr.contains("record r-podcast: the recording has no presentation format to render (formats: podcast)"), "{r:?}");
    assert!(
        r.stderr
            .contains("record r-bad: field playback must be an array"),
        "{r:?}"
    );
    assert!(r.stderr.contains("4 failed"), "{r:?}");
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
    assert_eq!(r.code, 1, "{r:?}");
    let v = video_of(&r.records()[0]).clone();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), out.path());
    let file = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(file, "2020-01-01_ssh-authorized_keys_tmp-evil.m4v");
    assert!(r.stderr.contains("record p1: unsafe recording ID"), "{r:?}");
    // Templates cannot point elsewhere either.
    let bad = record(out.path(), &["--name", "../{record_id}"], "");
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("cannot contain '/'"), "{bad:?}");
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
    assert_eq!(r1.code, 0, "{r1:?}");
    assert!(r1.stderr.contains("3 created"), "{r1:?}");
    let served = files_log(&si).len();
    assert_eq!(served, 3);
    let r2 = record(out.path(), &["--jobs", "2"], &input);
    assert_eq!(r2.code, 0, "{r2:?}");
    assert!(r2.stderr.contains("3 exists"), "{r2:?}");
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
    assert_eq!(r.code, 0, "{r:?}");
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

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let d = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(d.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(d))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn record_full_disk_fails_the_record_and_leaves_no_partial_file() {
    // Needs `mount -t tmpfs` (root, or a container that allows it); skipped otherwise.
    let Some(fs) = Tmpfs::mount("400k") else {
        eprintln!("record_full_disk: skipped, cannot mount a tmpfs here");
        return;
    };
    let p = Published::new();
    let big = rid(16);
    p.video(&big, "Too big", big_clip());
    let small = rid(17);
    p.video(&small, "Fits", clip());
    let si = standin(&p, &[]);
    let input = list(&si);
    let r = record(fs.0.path(), &["--keep-free", "0"], &input);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("record {big}: not enough free space")),
        "{r:?}"
    );
    let recs = r.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["record_id"], small.as_str());
    let left = names(fs.0.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(&format!("{small}.m4v")));
    // The default --keep-free (100 MB) refuses to start any job on this disk.
    let r = record(fs.0.path(), &[], &input);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("record {big}: not enough free space")),
        "{r:?}"
    );
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
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(got(&r), order);
    let out2 = tempfile::tempdir().unwrap();
    let r = record(out2.path(), &["--jobs", "4"], &input);
    assert_eq!(r.code, 0, "{r:?}");
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
    assert_eq!(r.code, 0, "{r:?}");
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
    let home = out.join(".home");
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
    assert_eq!(r.code, 0, "{r:?}");
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
    ] {
        let o = tempfile::tempdir().unwrap();
        let r = recorder_run(&si, plug.path(), o.path(), mode, &[], &rec.to_string());
        assert_eq!(r.code, 1, "{mode}: {r:?}");
        assert!(r.stderr.contains(says), "{mode}: {r:?}");
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
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("still running after"), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
}

#[test]
fn record_bbb_recorder_needs_node_and_the_plugin() {
    let out = tempfile::tempdir().unwrap();
    let r = record(out.path(), &["--method", "bbb-recorder"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("needs --bbb-recorder DIR"), "{r:?}");
    let r = record(
        out.path(),
        &["--bbb-recorder", out.path().to_str().unwrap()],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no export.js"), "{r:?}");
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
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("node is not installed"), "{r:?}");
}

#[test]
fn record_parallel_jobs_that_overfill_the_disk_leave_one_whole_video_and_no_partial_file() {
    // Two videos that fit one at a time but not together: the free-space check passes
    // for both, then one meets the full disk mid-write. Needs `mount -t tmpfs`.
    let Some(fs) = Tmpfs::mount("900k") else {
        eprintln!(
            "record_parallel_jobs_that_overfill_the_disk: skipped, cannot mount a tmpfs here"
        );
        return;
    };
    let p = Published::new();
    let ids = [rid(40), rid(41)];
    for id in &ids {
        p.video(id, "Half the disk", big_clip());
    }
    let si = standin(&p, &["--file-fault", "slow:1000000@video-0.m4v"]);
    let r = record(
        fs.0.path(),
        &["--keep-free", "0", "--jobs", "2"],
        &list(&si),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("disk full; the partial download was removed")
            || r.stderr.contains("not enough free space"),
        "{r:?}"
    );
    let left = names(fs.0.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let done = fs.0.path().join(&left[0]);
    assert!(left[0].ends_with(".m4v"), "{left:?}");
    assert_eq!(
        std::fs::read(&done).unwrap(),
        std::fs::read(big_clip()).unwrap()
    );
}

#[test]
fn record_scalelite_protected_presentation_is_rendered_from_cookie_guarded_files() {
    let p = Published::new();
    let id = rid(42);
    p.presentation(&id, "Protected slides", 4000);
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
    if r.code == 0 {
        assert_eq!(video_of(&r.records()[0])["method"], "render");
    } else {
        assert!(
            r.stderr.contains("the native renderer is not built yet"),
            "{r:?}"
        );
    }
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
