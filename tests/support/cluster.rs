//! Several SSH hosts on this machine (scripts/cluster: network namespaces with their own sshd) for GNU parallel tests.

use super::{Run, bin, root, skip};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running cluster; `down` when dropped (a panicking test leaves nothing behind either).
pub struct Cluster {
    dir: tempfile::TempDir,
    /// Its subnet number: its namespaces are `bbbmig-c<C>-h<I>`, its bridge `bbbmig-c<C>`.
    subnet: String,
    pub hosts: usize,
}

/// Why this machine cannot run a cluster, if it cannot (found out once per test run).
fn unsupported() -> Option<String> {
    static WHY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    WHY.get_or_init(probe).clone()
}

/// Not root, no network namespaces, sshd or GNU parallel missing (scripts/setup installs them)?
fn probe() -> Option<String> {
    if !super::is_root() {
        return Some("needs root (network namespaces)".into());
    }
    for (what, path) in [
        ("sshd (openssh-server)", "/usr/sbin/sshd"),
        ("ssh (openssh-client)", "/usr/bin/ssh"),
        ("GNU parallel", "/usr/bin/parallel"),
    ] {
        if !Path::new(path).exists() {
            return Some(format!("{what} is missing: run scripts/setup"));
        }
    }
    // moreutils has a `parallel` too, with other options.
    let gnu = Command::new("parallel").arg("--version").output();
    if !gnu.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("GNU parallel")) {
        return Some(
            "`parallel` is not GNU parallel (moreutils'?): install Debian's parallel".into(),
        );
    }
    let probe = format!("bbbmig-probe-{}", std::process::id());
    let added = Command::new("ip").args(["netns", "add", &probe]).output();
    match added {
        Ok(o) if o.status.success() => {
            let _ = Command::new("ip")
                .args(["netns", "delete", &probe])
                .status();
            None
        }
        Ok(o) => Some(format!(
            "no network namespaces here (ip netns add: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("ip (iproute2) does not run: {e}")),
    }
}

fn script() -> PathBuf {
    root().join("scripts/cluster")
}

/// `ps` of every process, as a tree: what a stuck run's processes are doing.
fn process_tree() -> String {
    Command::new("ps")
        .args(["-e", "-o", "pid,ppid,pgid,stat,etime,args", "--forest"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("ps: {e}"))
}

impl Cluster {
    /// Brings up `hosts` hosts running the tools of this test build, or says why it cannot
    /// (printed, as a skip of `test`) and gives None. In CI (`CI=true`) a machine that cannot
    /// run a cluster fails the test instead. A failure of a supported machine panics.
    pub fn up(test: &str, hosts: usize) -> Option<Cluster> {
        if let Some(why) = unsupported() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test} must run in CI (CI=true) but cannot: {why}"
            );
            skip(test, &why);
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let tools = bin("bbb-list").parent().unwrap().to_path_buf();
        let out = Command::new(script())
            .args(["up", &hosts.to_string()])
            .arg(dir.path())
            .env("CLUSTER_TOOLS", &tools)
            .output()
            .expect("scripts/cluster");
        let state = std::fs::read_to_string(dir.path().join("state")).unwrap_or_default();
        let subnet = state
            .lines()
            .find_map(|l| l.strip_prefix("C="))
            .unwrap_or_default()
            .to_string();
        let cluster = Cluster { dir, subnet, hosts };
        assert!(
            out.status.success() && !cluster.subnet.is_empty(),
            "scripts/cluster up: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(cluster)
    }

    /// The cluster's folder (ssh_config, sshloginfile, shared/, hosts/I/tmp).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The folder every host sees at the same path (the NFS stand-in).
    pub fn shared(&self) -> PathBuf {
        self.dir().join("shared")
    }

    /// Host `i`'s TMPDIR (1-based).
    pub fn tmpdir(&self, i: usize) -> PathBuf {
        self.dir().join("hosts").join(i.to_string()).join("tmp")
    }

    /// `parallel` set up to run its jobs on the cluster's hosts.
    pub fn parallel(&self) -> Command {
        let mut c = Command::new("parallel");
        c.arg("--will-cite")
            .arg("--sshloginfile")
            .arg(self.dir().join("sshloginfile"))
            .arg("--ssh")
            .arg(format!(
                "ssh -F {}",
                self.dir().join("ssh_config").display()
            ));
        c
    }

    /// Runs `c` (a `parallel`) with `stdin` as its input, like `support::run`, but a run that
    /// has not ended and closed its output within `limit` is killed (with its process group)
    /// and the test fails showing every process: a stuck job must not hang the test run.
    pub fn run(&self, mut c: Command, stdin: &str, limit: Duration) -> Run {
        let command = format!("{c:?}");
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = c.spawn().expect("spawn");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.as_bytes().to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let reader = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = r.read_to_end(&mut s);
                String::from_utf8_lossy(&s).into_owned()
            })
        };
        let stdout = reader(Box::new(child.stdout.take().unwrap()));
        let stderr = reader(Box::new(child.stderr.take().unwrap()));
        let t0 = Instant::now();
        // Ended, and its output closed (no process left holding it).
        while !(stdout.is_finished() && stderr.is_finished())
            || child.try_wait().expect("wait").is_none()
        {
            if t0.elapsed() > limit {
                let tree = process_tree();
                let _ = Command::new("kill")
                    .args(["-9", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                panic!("{command}: not done after {limit:?}; processes then:\n{tree}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let status = child.wait().expect("wait");
        writer.join().expect("stdin writer");
        Run {
            command,
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// Kills host `i` (1-based): its sshd and every process in its namespace.
    pub fn kill_host(&self, i: usize) {
        let out = Command::new(script())
            .arg("kill-host")
            .arg(self.dir())
            .arg(i.to_string())
            .output()
            .expect("scripts/cluster kill-host");
        assert!(
            out.status.success(),
            "scripts/cluster kill-host {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the cluster and checks it left nothing: no namespace or link of its own, no
    /// process using its folder (sshd, ssh connection masters).
    pub fn down(self) {
        self.stop();
        let netns = Command::new("ip").args(["netns", "list"]).output().unwrap();
        let netns = String::from_utf8_lossy(&netns.stdout).into_owned();
        let links = Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .unwrap();
        let links = String::from_utf8_lossy(&links.stdout).into_owned();
        let ours = format!("bbbmig-c{}", self.subnet);
        let left: Vec<&str> = netns
            .lines()
            .chain(links.lines())
            .filter(|l| {
                l.split([' ', ':', '@']).any(|w| {
                    w == ours
                        || w.starts_with(&format!("{ours}-h"))
                        || w.starts_with(&format!("{ours}h"))
                })
            })
            .collect();
        assert!(left.is_empty(), "scripts/cluster down left {left:?}");
        let dir = self.dir().display().to_string();
        let procs: Vec<String> = process_tree()
            .lines()
            .filter(|l| l.contains(&dir))
            .map(String::from)
            .collect();
        assert!(
            procs.is_empty(),
            "processes of the cluster left: {procs:#?}"
        );
    }

    fn stop(&self) {
        let out = Command::new(script()).arg("down").arg(self.dir()).output();
        if let Ok(o) = out
            && !o.status.success()
        {
            eprintln!(
                "scripts/cluster down: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // After `down` (or a panic): stopping a stopped cluster is a no-op.
        self.stop();
    }
}
