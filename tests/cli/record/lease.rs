//! Two bbb-record runs on one --out (two hosts sharing a folder): each video is made once,
//! the second run reports `busy` (or waits with --wait-busy), no corrupted file; leftovers
//! of an earlier run are removed under the lease (issue 13).

use super::{Published, names, rid, video_of};
use crate::support::{cmd, run};
use serde_json::json;
use std::path::Path;

fn input(ids: &[String]) -> String {
    ids.iter()
        .map(|id| {
            format!(
                "{}\n",
                json!({"record_id": id, "name": "Leased", "playback": [{"type": "presentation",
                    "url": format!("https://gone.example/playback/presentation/2.3/{id}")}]})
            )
        })
        .collect()
}

fn record_cmd(p: &Published, out: &Path, extra: &[&str]) -> std::process::Command {
    let mut c = cmd("bbb-record");
    c.arg("--out")
        .arg(out)
        .arg("--from-dir")
        .arg(p.path())
        .args(["--size", "320x180", "--fps", "5"])
        .args(extra);
    c
}

#[test]
fn record_two_runs_on_one_out_make_each_video_once() {
    let p = Published::new();
    let ids: Vec<String> = (60..63).map(rid).collect();
    for id in &ids {
        p.slides(id, "Leased", 8000);
    }
    let out = tempfile::tempdir().unwrap();
    let text = input(&ids);
    let (a, b) = (
        record_cmd(&p, out.path(), &[]),
        record_cmd(&p, out.path(), &[]),
    );
    let (ta, tb) = (text.clone(), text.clone());
    let ha = std::thread::spawn(move || run(a, &ta));
    let hb = std::thread::spawn(move || run(b, &tb));
    let (a, b) = (ha.join().unwrap(), hb.join().unwrap());
    a.ok();
    b.ok();
    let mut created = 0;
    let mut busy_or_exists = 0;
    for r in a.records().iter().chain(b.records().iter()) {
        let v = video_of(r);
        match v["status"].as_str().unwrap() {
            "created" => {
                created += 1;
                let path = Path::new(v["path"].as_str().unwrap());
                assert_eq!(
                    std::fs::metadata(path).unwrap().len(),
                    v["bytes"].as_u64().unwrap(),
                    "the file is the video reported"
                );
            }
            "busy" => {
                busy_or_exists += 1;
                assert!(v["holder"].as_str().unwrap().contains(" pid "), "{v:?}");
                assert!(
                    v.get("path").is_none(),
                    "a busy record names no video: {v:?}"
                );
            }
            "exists" => busy_or_exists += 1,
            s => panic!("status {s}"),
        }
    }
    assert_eq!(created, 3, "each video made once: {a:?} {b:?}");
    assert_eq!(busy_or_exists, 3);
    let left: Vec<String> = names(out.path());
    let videos: Vec<&String> = left.iter().filter(|n| n.ends_with(".mp4")).collect();
    assert_eq!(videos.len(), 3, "{left:?}");
    assert!(
        left.iter()
            .all(|n| !n.contains(".part") && !n.contains(".lease")),
        "{left:?}"
    );
}

#[test]
fn record_waits_for_a_busy_recording_and_cleans_leftovers_under_the_lease() {
    let p = Published::new();
    let id = rid(64);
    p.slides(&id, "Leased", 5000);
    let out = tempfile::tempdir().unwrap();
    // A dry run names the video; the lease is `.NAME.lease`.
    let dry = run(
        record_cmd(&p, out.path(), &["--dry-run"]),
        &input(std::slice::from_ref(&id)),
    );
    dry.ok();
    let path = video_of(&dry.records()[0])["path"]
        .as_str()
        .unwrap()
        .to_string();
    let stem = Path::new(&path)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // Held by a live process of another host: busy, then taken over once not renewed.
    let lease = out.path().join(format!(".{stem}.lease"));
    std::fs::write(&lease, "elsewhere 1 t0\n").unwrap();
    let files = out.path().join(".bbb-record-files-1@elsewhere_xyz");
    std::fs::create_dir(&files).unwrap();
    let part = out.path().join(format!(".{stem}.part.mp4"));
    std::fs::write(&part, b"half a video").unwrap();
    let r = run(
        record_cmd(&p, out.path(), &[]),
        &input(std::slice::from_ref(&id)),
    );
    r.ok();
    assert_eq!(video_of(&r.records()[0])["status"], "busy");
    assert!(part.exists() && files.exists(), "not ours to clean yet");
    let r = run(
        record_cmd(&p, out.path(), &["--wait-busy", "--lease-expire", "2"])
            .env("BBBMIG_LOG", "info"),
        &input(std::slice::from_ref(&id)),
    );
    r.ok();
    assert_eq!(video_of(&r.records()[0])["status"], "created");
    r.stderr_has("took over the lease of elsewhere pid 1");
    assert!(
        !part.exists() && !files.exists() && !lease.exists(),
        "{:?}",
        names(out.path())
    );
}
