//! Several SSH hosts on this machine (scripts/cluster: network namespaces with their own sshd) for GNU parallel tests.

use super::{bin, root, skip};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster; `down` when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    pub hosts: usize,
}

/// Why this machine cannot run a cluster, if it cannot (found out once per test run).
fn unsupported() -> Option<String> {
    static WHY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    WHY.get_or_init(probe).clone()
}

/// Not root, no network namespaces, sshd or GNU parallel missing (scripts/setup installs them)?
fn probe() -> Option<String> {
    // Jobs sent through GNU parallel over ssh sometimes wait for a minute or hang on this
    // machine (seen under load, not yet explained): opt-in until that is found.
    if std::env::var("BBBMIG_TEST_CLUSTER").as_deref() != Ok("1") {
        return Some("opt-in while its hangs are investigated: set BBBMIG_TEST_CLUSTER=1".into());
    }
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

impl Cluster {
    /// Brings up `hosts` hosts running the tools of this test build, or says why it cannot
    /// (printed, as a skip of `test`) and gives None. A failure of a supported machine panics.
    pub fn up(test: &str, hosts: usize) -> Option<Cluster> {
        if let Some(why) = unsupported() {
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
        let cluster = Cluster { dir, hosts };
        assert!(
            out.status.success(),
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
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("down").arg(self.dir()).output();
    }
}
