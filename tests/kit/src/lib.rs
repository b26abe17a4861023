//! Test kit of bbbmig, never shipped: finds the kit's binaries (`bbb-standin`, the BBB
//! stand-in server; `bbb-synth`, the published-recording generator), starts the stand-in
//! for one test and generates recordings.
//!
//! Map: `standin` — a running stand-in on a free port; `bin` — where cargo put a kit
//! binary; `synth` — one synthetic recording. The binaries' own code is in
//! `bbb-standin/` and `bbb-synth/` beside `src/`.

pub mod standin;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// Path of a kit binary (`bbb-standin` or `bbb-synth`) built for the running test.
///
/// Cargo sets `CARGO_BIN_EXE_*` only for the binaries of a test's own package, so the
/// kit's are found where cargo puts every binary of the workspace: the folder of the
/// test executable (`target/debug/deps/cli-…` → `target/debug/`). `cargo test` builds
/// them (the kit's own test `tests/bins.rs` needs them); `cargo test --test cli` alone
/// does not, so a missing or stale binary fails the test with the command to run
/// (`scripts/test` runs it first).
#[track_caller]
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the test executable");
    let mut dir = exe.parent().expect("the test executable's folder");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("the target folder");
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&path).and_then(|m| m.modified());
    let fix =
        "run `cargo build --workspace --bins` (scripts/test does) before `cargo test --test cli`";
    match built {
        Err(_) => panic!("{} is not built: {fix}", path.display()),
        Ok(t) if t < *newest_source() => {
            panic!("{} is older than its sources: {fix}", path.display())
        }
        Ok(_) => path,
    }
}

/// Modification time of the newest Rust file the kit's binaries are built from (theirs,
/// the kit's library, the core library); not the kit's own tests, which cargo builds
/// without relinking the binaries.
fn newest_source() -> &'static SystemTime {
    static NEWEST: OnceLock<SystemTime> = OnceLock::new();
    NEWEST.get_or_init(|| {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR"));
        [
            "bbb-standin",
            "bbb-synth",
            "src",
            "../../tools/bbbmig-core/src",
        ]
        .iter()
        .map(|d| newest_in(&kit.join(d)))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
    })
}

fn newest_in(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return newest;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        let t = if meta.is_dir() {
            newest_in(&path)
        } else if path.extension().is_some_and(|x| x == "rs") {
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)
        } else {
            continue;
        };
        newest = newest.max(t);
    }
    newest
}

/// Writes a synthetic published recording into `out` with `bbb-synth --out OUT ARGS…`
/// and returns its manifest (`synth.json`); panics with bbb-synth's stderr on failure.
pub fn synth(out: &Path, args: &[&str]) -> serde_json::Value {
    let o = std::process::Command::new(bin("bbb-synth"))
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("run bbb-synth");
    assert!(
        o.status.success(),
        "bbb-synth --out {} {args:?}: {}",
        out.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    let manifest = std::fs::read_to_string(out.join("synth.json")).expect("synth.json");
    serde_json::from_str(&manifest).expect("synth.json is JSON")
}
