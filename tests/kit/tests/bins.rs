//! The kit's binaries start and describe themselves; being a test of this package, it also
//! makes `cargo test` build them for the workspace's integration tests.

use std::process::Command;

#[test]
fn both_binaries_answer_help() {
    for (bin, usage) in [
        (env!("CARGO_BIN_EXE_bbb-standin"), "Usage: bbb-standin"),
        (env!("CARGO_BIN_EXE_bbb-synth"), "Usage: bbb-synth"),
    ] {
        let o = Command::new(bin).arg("--help").output().expect("run");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains(usage),
            "{bin} --help: {text}"
        );
    }
}

#[test]
fn the_kit_finds_its_binaries_like_the_workspace_tests_do() {
    for name in ["bbb-standin", "bbb-synth"] {
        assert!(bbbmig_testkit::bin(name).is_file(), "{name}");
    }
}
