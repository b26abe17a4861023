//! Fuzz target: what moodle-moderators reads from Moodle and from records: the
//! participants rule JSON (moodle/rules.rs) and the meetingID (moodle/meetingid.rs).
#![no_main]

use bbbmig_core::moodle::{meetingid, rules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = bbbmig_fuzz::text(data);
    let _ = rules::parse(Some(&s));
    if let Some(m) = meetingid::parse(&s) {
        assert!(
            !m.seed.is_empty() && !m.seed.contains('-'),
            "{s:?} gave {m:?}"
        );
    }
});
