//! bbb-record on full disks (a small tmpfs when one can be mounted, else a noted skip).

use super::*;

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
    r.fails_with(1);
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
    r.fails_with(1);
    assert!(
        r.stderr
            .contains(&format!("record {big}: not enough free space")),
        "{r:?}"
    );
}

#[test]
fn record_parallel_jobs_that_overfill_the_disk_leave_one_whole_video_and_no_partial_file() {
    // A small and a big video that fit one at a time but not together: the free-space
    // checks pass (or the big one's sees the small one's bytes), then the big one meets
    // the full disk mid-write. Needs `mount -t tmpfs`.
    let Some(fs) = Tmpfs::mount("600k") else {
        eprintln!(
            "record_parallel_jobs_that_overfill_the_disk: skipped, cannot mount a tmpfs here"
        );
        return;
    };
    let p = Published::new();
    let (small, big) = (rid(40), rid(41));
    p.video(&small, "Small", clip());
    p.video(&big, "Big", big_clip());
    let si = standin(&p, &["--file-fault", "slow:1000000@video-0.m4v"]);
    let r = record(
        fs.0.path(),
        &["--keep-free", "0", "--jobs", "2"],
        &list(&si),
    );
    r.fails_with(1);
    assert!(
        r.stderr.contains(&format!(
            "record {big}: disk full; the partial download was removed"
        )) || r
            .stderr
            .contains(&format!("record {big}: not enough free space")),
        "{r:?}"
    );
    let left = names(fs.0.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(&format!("{small}.m4v")), "{left:?}");
    assert_eq!(
        std::fs::read(fs.0.path().join(&left[0])).unwrap(),
        std::fs::read(clip()).unwrap()
    );
}

#[test]
fn record_render_on_a_full_temporary_disk_fails_the_record_and_cleans_up() {
    // The renderer's pictures and video stretches go to TMPDIR: here a 64 KB tmpfs, too
    // small for them. Needs `mount -t tmpfs`.
    let Some(fs) = Tmpfs::mount("64k") else {
        eprintln!("record_render_on_a_full_temporary_disk: skipped, cannot mount a tmpfs here");
        return;
    };
    let p = Published::new();
    let id = rid(47);
    p.slides(&id, "Full tmp", 60_000);
    let out = tempfile::tempdir().unwrap();
    let o = render_from_dir(&p, &id, out.path(), fs.0.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("record {id}")), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    // Nothing left behind: no temporary folder, no partial video.
    assert_eq!(names(fs.0.path()), Vec::<String>::new());
    assert!(
        names(out.path()).iter().all(|n| n == "in.ndjson"),
        "{:?}",
        names(out.path())
    );
}
