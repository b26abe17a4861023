//! scripts/cluster: GNU parallel runs jobs over SSH on its hosts, and a rerun recovers the jobs of a killed host.

use crate::support::cluster::Cluster;
use crate::support::run;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Longer than any run of these tests takes, even under load: a run past it is stuck.
const STUCK: Duration = Duration::from_secs(120);

/// `1\n2\n…n\n`: one job input a line.
fn lines(n: usize) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

/// Output lines `ID HOST …` by ID; panics on an ID seen twice or not asked for.
fn by_id(out: &str, n: usize, into: &mut BTreeMap<usize, Vec<String>>) {
    for l in out.lines() {
        let f: Vec<String> = l.split_whitespace().map(String::from).collect();
        let id: usize = f[0].parse().unwrap_or_else(|_| panic!("odd line {l:?}"));
        assert!((1..=n).contains(&id), "line {l:?}: no such input");
        assert!(into.insert(id, f).is_none(), "input {id} came back twice");
    }
}

#[test]
fn parallel_runs_jobs_on_every_host_with_its_own_tmpdir_and_the_shared_folder() {
    let Some(c) = Cluster::up("cluster::parallel_runs_jobs", 3) else {
        return;
    };
    let n = 12;
    let tools = crate::support::bin("bbb-list");
    let shared = c.shared();
    // Each job: its line, the host's name, TMPDIR, the bbb-list it would run; a file in the shared folder.
    let job = format!(
        r#"read -r l; touch "{}/$l.$(hostname)"; echo "$l $(hostname) $TMPDIR $(command -v bbb-list)""#,
        shared.display()
    );
    let mut p = c.parallel();
    p.args(["-j2", "--pipe", "-N1", &job]);
    let out = c.run(p, &lines(n), STUCK);
    assert_eq!(out.code, 0, "{out:?}");
    let mut got = BTreeMap::new();
    by_id(&out.stdout, n, &mut got);
    assert_eq!(got.len(), n, "every input once: {out:?}");
    for (id, f) in &got {
        let host = &f[1];
        let i = host.strip_prefix('h').expect("hostname hI");
        assert_eq!(
            f[2],
            c.dir().join("hosts").join(i).join("tmp").to_str().unwrap(),
            "{host}'s own TMPDIR"
        );
        assert!(std::path::Path::new(&f[2]).is_dir());
        assert_eq!(f[3], tools.to_str().unwrap(), "the tools of this build");
        assert!(
            shared.join(format!("{id}.{host}")).is_file(),
            "shared folder"
        );
    }
    let hosts: std::collections::BTreeSet<_> = got.values().map(|f| f[1].clone()).collect();
    assert!(hosts.len() >= 2, "only {hosts:?} did work");
    c.down();
}

#[test]
fn a_rerun_with_resume_failed_and_retries_redoes_the_jobs_of_a_killed_host() {
    let Some(c) = Cluster::up("cluster::a_rerun_with_resume_failed", 3) else {
        return;
    };
    let n = 12;
    let joblog = c.dir().join("joblog");
    let shared = c.shared();
    // A job says it started (in the shared folder), works 2 s, then answers.
    let job = format!(
        r#"read -r l; touch "{}/started.$l.$(hostname)"; sleep 2; echo "$l $(hostname)""#,
        shared.display()
    );
    let input = lines(n);
    let mut first = c.parallel();
    first
        .args(["-j2", "--pipe", "-N1", "--joblog"])
        .arg(&joblog)
        .arg(&job);
    let out1 = std::thread::scope(|s| {
        let handle = s.spawn(|| c.run(first, &input, STUCK));
        // Kill h2 while it has a job running.
        let t0 = Instant::now();
        loop {
            let busy = std::fs::read_dir(&shared)
                .unwrap()
                .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".h2"));
            if busy {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30) && !handle.is_finished(),
                "h2 never got a job"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        c.kill_host(2);
        handle.join().unwrap()
    });
    assert_ne!(out1.code, 0, "jobs of h2 failed: {out1:?}");
    let log1 = std::fs::read_to_string(&joblog).unwrap();
    let failed_on_h2 = log1
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f[1] == "h2" && f[6] != "0"
        })
        .count();
    assert!(
        failed_on_h2 >= 1,
        "no failed job on h2 in the joblog:\n{log1}"
    );
    let mut got = BTreeMap::new();
    by_id(&out1.stdout, n, &mut got);
    assert!(got.len() < n, "some jobs were lost with h2: {out1:?}");

    // The rerun does only what failed; --retries sends a job failing on h2 to another host.
    let mut second = c.parallel();
    second
        .args(["-j2", "--pipe", "-N1", "--resume-failed", "--retries", "3"])
        .arg("--joblog")
        .arg(&joblog)
        .arg(&job);
    let out2 = c.run(second, &lines(n), STUCK);
    assert_eq!(out2.code, 0, "{out2:?}");
    let before = got.len();
    by_id(&out2.stdout, n, &mut got);
    assert_eq!(got.len(), n, "every input exactly once over both runs");
    assert!(
        got.len() - before >= failed_on_h2,
        "the failed jobs were redone"
    );
    assert!(
        out2.stdout.lines().all(|l| !l.ends_with(" h2")),
        "a dead host did work: {out2:?}"
    );
    c.down();
}

/// Names in `dir` a finished run must not leave: `.part` files, leases, bbb-record's work
/// folders (in --out) and the renderer's (in TMPDIR).
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.contains(".part")
                || name.contains(".lease")
                || name.starts_with(".bbb-record-files-")
                || name.starts_with("bbbmig-render-")
        })
        .collect()
}

/// The host (1-based) whose renderer works in its TMPDIR while it holds a lease in `out`.
fn rendering_host(c: &Cluster, out: &std::path::Path) -> Option<usize> {
    (1..=c.hosts).find(|&i| {
        let rendering = leftovers(&c.tmpdir(i))
            .iter()
            .any(|n| n.starts_with("bbbmig-render-"));
        rendering
            && leftovers(out).iter().any(|l| {
                l.ends_with(".lease")
                    && std::fs::read_to_string(out.join(l))
                        .is_ok_and(|t| t.starts_with(&format!("h{i} ")))
            })
    })
}

#[test]
fn bbb_record_over_three_hosts_survives_a_killed_host_with_each_video_once() {
    use crate::record::{Published, rid};
    use crate::support::pod::{claim, count, import, pod_db};
    let Some(c) = Cluster::up("cluster::bbb_record_over_three_hosts", 3) else {
        return;
    };
    let n = 12;
    let p = Published::new();
    for i in 0..n {
        p.slides(&rid(100 + i as u64), &format!("Cluster {i}"), 12_000);
    }
    // The stand-in listens on the bridge's address, which every host reaches.
    let controller = std::fs::read_to_string(c.dir().join("controller")).unwrap();
    let listen = format!("{}:0", controller.trim());
    let dir = p.path().display().to_string();
    let si = crate::support::standin::StandIn::start(&["--published", &dir, "--listen", &listen]);
    let mut list = crate::support::cmd("bbb-list");
    list.env("BBB_SECRET", crate::support::standin::SECRET)
        .arg("--server")
        .arg(&si.url);
    let listing = run(list, "");
    listing.ok();
    let mut listed: Vec<String> = listing
        .records()
        .iter()
        .map(|r| r["record_id"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed.len(), n);

    let out = c.shared().join("videos");
    let joblog = c.dir().join("joblog");
    let job = format!(
        "bbb-record -q --out {} --size 320x180 --fps 5 --lease-expire 3 --wait-busy",
        out.display()
    );
    let parallel = |extra: &[&str]| {
        let mut p = c.parallel();
        p.args(["-j1", "--pipe", "-N1", "--joblog"])
            .arg(&joblog)
            .args(extra)
            .arg(&job);
        p
    };
    let (victim, out1) = std::thread::scope(|s| {
        let handle = s.spawn(|| c.run(parallel(&[]), &listing.stdout, STUCK));
        // Kill the first host seen rendering (its lease in --out, its work folder in its TMPDIR).
        let t0 = Instant::now();
        let victim = loop {
            if let Some(i) = rendering_host(&c, &out) {
                break i;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60) && !handle.is_finished(),
                "no host was ever seen rendering; joblog:\n{}",
                std::fs::read_to_string(&joblog).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        c.kill_host(victim);
        (victim, handle.join().unwrap())
    });
    assert_ne!(out1.code, 0, "the jobs of h{victim} failed: {out1:?}");
    // The dead host's lease stays: the rerun must wait for it to expire, then take it over.
    let dead = format!("h{victim} ");
    let dead_lease = leftovers(&out).into_iter().any(|l| {
        l.ends_with(".lease")
            && std::fs::read_to_string(out.join(&l)).is_ok_and(|t| t.starts_with(&dead))
    });
    assert!(
        dead_lease,
        "h{victim}'s lease is gone: {:?}",
        leftovers(&out)
    );

    let out2 = c.run(
        parallel(&["--resume-failed", "--retries", "3"]),
        &listing.stdout,
        STUCK,
    );
    assert_eq!(out2.code, 0, "{out2:?}");
    assert!(
        !out2.stdout.contains(&dead),
        "a dead host did work: {out2:?}"
    );
    // Every record on stdout exactly once over both runs, each with its own video.
    let mut records = out1.records();
    records.extend(out2.records());
    let mut ids: Vec<String> = records
        .iter()
        .map(|r| r["record_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, listed, "every record once: {out1:?} {out2:?}");
    let mut paths = std::collections::BTreeSet::new();
    for r in &records {
        let v = &r["video"];
        assert!(
            ["created", "exists"].contains(&v["status"].as_str().unwrap()),
            "{v:?}"
        );
        let path = v["path"].as_str().unwrap();
        assert_eq!(
            std::fs::metadata(path).unwrap().len(),
            v["bytes"].as_u64().unwrap(),
            "{path}"
        );
        assert!(paths.insert(path.to_string()), "{path} twice");
    }
    let videos: std::collections::BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".mp4"))
        .collect();
    assert_eq!(videos, paths, "every video exactly once");
    assert_eq!(
        leftovers(&out),
        Vec::<String>::new(),
        "no .part, lease or work folder left in --out"
    );
    // The living hosts' renderers cleaned up after themselves (the dead one's disk is its own).
    for i in (1..=c.hosts).filter(|&i| i != victim) {
        assert_eq!(
            leftovers(&c.tmpdir(i)),
            Vec::<String>::new(),
            "h{i}'s TMPDIR"
        );
    }

    // The pipeline goes on on the controller: pod-import and pod-claim.
    let db = pod_db(bbbmig_core::db::Engine::Postgres, "cluster_claim");
    let stdout: String = format!("{}{}", out1.stdout, out2.stdout);
    let mut imp = import(&db);
    imp.args(["--admin", "1"]);
    let imported = run(imp, &stdout);
    imported.ok();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bbb")).unwrap();
    let mut cl = claim(
        &db,
        std::path::Path::new(&format!("{}/", root.path().display())),
    );
    cl.args(["--recorder", "1"]);
    let claimed = run(cl, &imported.stdout);
    claimed.ok();
    assert_eq!(claimed.records().len(), n);
    let dup = |sql: &str| count(&db, sql);
    assert_eq!(
        dup("SELECT count(*) FROM recorder_recordingfiletreatment"),
        n as i64
    );
    assert_eq!(
        dup(
            "SELECT count(*) FROM (SELECT file FROM recorder_recordingfiletreatment GROUP BY 1 HAVING count(*) > 1) d"
        ),
        0
    );
    assert_eq!(
        dup(
            "SELECT count(*) FROM (SELECT source_url, owner_id FROM import_video_externalrecording GROUP BY 1, 2 HAVING count(*) > 1) d"
        ),
        0
    );
    assert_eq!(
        dup("SELECT count(*) FROM import_video_externalrecording"),
        n as i64
    );
    drop(si);
    c.down();
}
