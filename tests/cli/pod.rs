//! Tests of pod-import and pod-claim against a real PostgreSQL loaded with Pod 4.1's own
//! schema (tests/fixtures/pod), checking the rows as Pod's code would read them.

mod claim;
mod import;
mod import_faults;

use crate::support::{cmd, run};

/// Every `--long` flag of `--help` is in the man page, and every one of the man page is a flag.
#[test]
fn pod_man_pages_match_help() {
    for tool in ["pod-import", "pod-claim"] {
        let mut c = cmd(tool);
        c.arg("--help");
        let help = run(c, "").stdout;
        let man = std::fs::read_to_string(crate::support::root().join(format!("man/{tool}.1")))
            .unwrap()
            .replace('\\', "");
        let flags = |s: &str| -> std::collections::BTreeSet<String> {
            s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(str::to_string)
                .collect()
        };
        assert_eq!(flags(&help), flags(&man), "{tool}");
    }
}
