//! The Debian package (scripts/package): tools and their man pages, installed into a fresh dpkg root, removed cleanly.

use crate::support::{is_root, root, skip};
use std::path::Path;
use std::process::Command;

const TOOLS: &[&str] = &[
    "bbb-list",
    "bbb-csv",
    "moodle-moderators",
    "moodle-inform",
    "pod-import",
    "pod-claim",
    "bbb-record",
    "greenlight-owners",
];

/// Runs `c`; panics with its output unless it succeeds; gives its stdout.
fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Files of the package's payload (`./usr/bin/bbb-list`, …), directories left out.
fn payload(deb: &Path) -> Vec<String> {
    ok(Command::new("dpkg-deb").arg("--contents").arg(deb))
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().nth(5).map(String::from))
        .collect()
}

#[test]
fn the_debian_package_installs_runs_and_removes_cleanly() {
    const TEST: &str = "package::the_debian_package_installs_runs_and_removes_cleanly";
    if std::env::var("BBBMIG_TEST_PACKAGE").as_deref() != Ok("1") {
        skip(
            TEST,
            "builds a release .deb (minutes): set BBBMIG_TEST_PACKAGE=1 (.ci/run does)",
        );
        return;
    }
    if !is_root() {
        skip(TEST, "needs root (dpkg)");
        return;
    }
    ok(Command::new(root().join("scripts/package")).arg("--quiet"));
    let version = env!("CARGO_PKG_VERSION");
    let deb = root().join(format!("target/debian/bbbmig_{version}_amd64.deb"));
    assert!(deb.is_file(), "{} is missing", deb.display());

    let field = |f: &str| ok(Command::new("dpkg-deb").arg("--field").arg(&deb).arg(f));
    let depends = field("Depends");
    for d in ["ffmpeg", "fonts-liberation", "libc6"] {
        assert!(depends.contains(d), "Depends: {depends}");
    }
    assert_eq!(field("Suggests").trim(), "parallel");

    let files = payload(&deb);
    let bins: Vec<&str> = files
        .iter()
        .filter_map(|f| f.strip_prefix("./usr/bin/"))
        .collect();
    let mut want = TOOLS.to_vec();
    want.sort();
    let mut got = bins.clone();
    got.sort();
    assert_eq!(got, want, "exactly the tools in /usr/bin");
    for t in TOOLS {
        let page = format!("./usr/share/man/man1/{t}.1.gz");
        assert!(files.contains(&page), "{page} not in {files:?}");
    }
    assert!(files.contains(&"./usr/share/man/man7/bbbmig.7.gz".to_string()));
    for t in TOOLS {
        for c in [
            format!("./usr/share/bash-completion/completions/{t}"),
            format!("./usr/share/zsh/vendor-completions/_{t}"),
            format!("./usr/share/fish/vendor_completions.d/{t}.fish"),
        ] {
            assert!(files.contains(&c), "{c} not in {files:?}");
        }
    }

    // A fresh dpkg root: the machine's own packages are left alone.
    let r = tempfile::tempdir().unwrap();
    let admin = r.path().join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(d)).unwrap();
    }
    std::fs::write(admin.join("status"), "").unwrap();
    let dpkg = || {
        let mut c = Command::new("dpkg");
        c.arg(format!("--root={}", r.path().display()))
            .arg("--force-depends")
            .arg("--log=/dev/null");
        c
    };
    ok(dpkg().arg("--install").arg(&deb));
    let installed: Vec<_> = files
        .iter()
        .map(|f| r.path().join(f.trim_start_matches("./")))
        .collect();
    assert!(installed.iter().all(|p| p.is_file()), "{installed:?}");

    let v = ok(Command::new(r.path().join("usr/bin/bbb-list")).arg("--version"));
    assert!(v.contains(version), "bbb-list --version: {v}");
    let man = |args: &[&str]| {
        ok(Command::new("man")
            .env("MANPATH", r.path().join("usr/share/man"))
            .arg("-w")
            .args(args))
    };
    let page = man(&["bbb-list"]);
    assert_eq!(
        Path::new(page.trim()),
        r.path().join("usr/share/man/man1/bbb-list.1.gz")
    );
    let page = man(&["7", "bbbmig"]);
    assert_eq!(
        Path::new(page.trim()),
        r.path().join("usr/share/man/man7/bbbmig.7.gz")
    );

    // The bash completion loads and completes the tool's options.
    let script = r
        .path()
        .join("usr/share/bash-completion/completions/bbb-list");
    let words = ok(Command::new("bash").arg("-c").arg(format!(
        "source {} && f=$(complete -p bbb-list | sed 's/.*-F \\([^ ]*\\).*/\\1/') && \
         COMP_WORDS=(bbb-list --ser) COMP_CWORD=1 COMP_LINE='bbb-list --ser' COMP_POINT=14 && \
         $f bbb-list --ser bbb-list && echo \"${{COMPREPLY[@]}}\"",
        script.display()
    )));
    assert!(
        words.contains("--server"),
        "bash completion of --ser: {words:?}"
    );
    let zsh = std::fs::read_to_string(r.path().join("usr/share/zsh/vendor-completions/_pod-claim"))
        .unwrap();
    assert!(
        zsh.starts_with("#compdef pod-claim") && zsh.contains("--recorder"),
        "{zsh}"
    );
    let fish = std::fs::read_to_string(
        r.path()
            .join("usr/share/fish/vendor_completions.d/bbb-record.fish"),
    )
    .unwrap();
    assert!(fish.contains("-l wait-busy"), "{fish}");

    ok(dpkg().arg("--remove").arg("bbbmig"));
    let left: Vec<_> = installed.iter().filter(|p| p.exists()).collect();
    assert!(left.is_empty(), "left after dpkg --remove: {left:?}");
    // Gone from dpkg's database, or kept there as not installed.
    let q = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admin.display()))
        .args(["--show", "--showformat=${db:Status-Status}", "bbbmig"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&q.stdout),
        String::from_utf8_lossy(&q.stderr),
    );
    assert!(
        if q.status.success() {
            stdout == "not-installed"
        } else {
            stderr.contains("no packages found matching bbbmig")
        },
        "dpkg-query after --remove: {stdout}{stderr}"
    );
}
