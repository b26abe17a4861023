//! Tests of bbb-record against the stand-in and real ffmpeg: shared helpers here, the
//! cases by theme in record/.

mod disk;
mod download;
mod hostile;
mod lease;
mod presentation;
mod recorder;

use crate::support::standin::{SECRET, StandIn};
use crate::support::{Run, cmd, fixture, run};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A recording ID of the real shape (40 hex digits, dash, 13-digit milliseconds).
pub(crate) fn rid(n: u64) -> String {
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
pub(crate) fn clip() -> &'static Path {
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
pub(crate) struct Published {
    dir: tempfile::TempDir,
}

impl Published {
    pub(crate) fn new() -> Published {
        Published {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
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

    /// A complete presentation recording that the native renderer can draw: the
    /// published files of `bbb-synth` (one slide, one stroke, cursor; no media), with
    /// this test's metadata.xml.
    pub(crate) fn slides(&self, id: &str, name: &str, dur_ms: u64) -> PathBuf {
        let d = self.path().join(id);
        let secs = (dur_ms / 1000).max(5).to_string();
        bbbmig_testkit::synth(
            &d,
            &[
                "--duration",
                &secs,
                "--media",
                "none",
                "--slides",
                "1",
                "--strokes",
                "1",
            ],
        );
        self.presentation(id, name, dur_ms)
    }

    /// A recording with the video format (video/video-0.m4v).
    pub(crate) fn video(&self, id: &str, name: &str, media: &Path) {
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

pub(crate) fn standin(p: &Published, extra: &[&str]) -> StandIn {
    let dir = p.path().display().to_string();
    let mut args = vec!["--published", dir.as_str()];
    args.extend_from_slice(extra);
    StandIn::start(&args)
}

/// The records bbb-list makes of the stand-in's recordings.
pub(crate) fn list(si: &StandIn) -> String {
    let mut c = cmd("bbb-list");
    c.env("BBB_SECRET", SECRET).arg("--server").arg(&si.url);
    let r = run(c, "");
    r.ok();
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

/// Processes whose command line mentions `needle` (read from /proc).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let c = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if c.contains(needle) {
                found.push(c);
            }
        }
    }
    found
}

/// Sends SIGTERM to `child` and waits: bbb-record must stop with exit 2 and say why.
fn terminate(child: std::process::Child) {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
}

/// bbb-record rendering the recording `id` of `p` from disk into `out`, with `tmp` as TMPDIR
/// (its input file written into `out`).
fn render_from_dir(p: &Published, id: &str, out: &Path, tmp: &Path) -> Command {
    let input = out.join("in.ndjson");
    let rec = json!({"record_id": id, "playback": [{"type": "presentation",
        "url": format!("https://gone.example/playback/presentation/2.3/{id}")}]});
    std::fs::write(&input, rec.to_string()).unwrap();
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(out)
        .arg("--from-dir")
        .arg(p.path())
        .arg(&input)
        .env("TMPDIR", tmp);
    c
}
