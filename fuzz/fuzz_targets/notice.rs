//! Fuzz target: the notice markers moodle-inform finds in, adds to and removes from an
//! activity description (moodle/notice.rs).
#![no_main]

use bbbmig_core::moodle::notice;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let intro = bbbmig_fuzz::text(data);
    let intro = Some(intro.as_str());
    let found = notice::entries(intro);
    assert_eq!(found.len(), notice::count(intro));
    let key = notice::entry_key("fuzz-record");
    let add = [(
        key.clone(),
        "<a href=\"https://pod.example.org/\">video</a>".to_string(),
    )];
    for format in [notice::FORMAT_HTML, notice::FORMAT_PLAIN, 0, 4] {
        let (added, f) = notice::apply_with_format(intro, format, &add, &[]);
        // Adding then removing our entry gives back a description without it.
        let (back, _) = notice::apply_with_format(added.as_deref(), f, &[], &[key.clone()]);
        assert!(
            !notice::entries(back.as_deref())
                .iter()
                .any(|(k, _)| *k == key),
            "entry still there after removal"
        );
    }
    let keys: Vec<String> = found.into_iter().map(|(k, _)| k).collect();
    let _ = notice::apply(intro, &[], &keys);
    let _ = notice::plain_to_html(&notice::escape(intro.unwrap_or("")));
});
