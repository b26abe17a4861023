//! Man pages: lint-free roff, and every long flag of each tool's --help in its page and back
//! (the one parity check of --help and man pages).

use crate::support::{cmd, root, run};
use std::collections::BTreeSet;

const TOOLS: &[&str] = &[
    "bbb-list",
    "bbb-csv",
    "moodle-moderators",
    "greenlight-owners",
    "moodle-inform",
    "bbb-record",
    "pod-claim",
    "pod-import",
];

fn long_flags(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'-'
            && b[i + 1] == b'-'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
        if starts && b[i + 2].is_ascii_lowercase() {
            let mut j = i + 2;
            while j < b.len()
                && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'-')
            {
                j += 1;
            }
            // `--use_export_csv` is the old Pod command's flag, quoted in prose: not ours.
            if b.get(j) != Some(&b'_') {
                out.insert(text[i..j].trim_end_matches('-').to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn every_man_page_is_lint_free_for_groff() {
    let mut pages: Vec<String> = TOOLS.iter().map(|t| format!("man/{t}.1")).collect();
    pages.push("man/bbbmig.7".into());
    for p in pages {
        let path = root().join(&p);
        assert!(path.is_file(), "{p} is missing");
        let out = std::process::Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&path)
            .output()
            .expect("groff (apt-get install groff-base)");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{p}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_flag_of_help_is_in_the_man_page_and_back() {
    for tool in TOOLS {
        let help = run(cmd(tool).arg("--help"), "");
        help.ok();
        let page = std::fs::read_to_string(root().join(format!("man/{tool}.1")))
            .unwrap()
            .replace('\\', "");
        let in_help = long_flags(&help.stdout);
        let in_page = long_flags(&page);
        let missing: Vec<_> = in_help.difference(&in_page).collect();
        assert!(
            missing.is_empty(),
            "{tool}: flags of --help missing from man/{tool}.1: {missing:?}"
        );
        let stale: Vec<_> = in_page.difference(&in_help).collect();
        assert!(
            stale.is_empty(),
            "{tool}: man/{tool}.1 names flags --help does not have: {stale:?}"
        );
    }
}
