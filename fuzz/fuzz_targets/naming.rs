//! Fuzz target: bbb-record's `--name` templates (media/naming.rs): the first line is the
//! template, the rest a record it names.
#![no_main]

use bbbmig_core::media::naming::{Template, sanitize};
use bbbmig_core::record::Record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (template, rest) = bbbmig_fuzz::first_line(data);
    let Ok(t) = Template::parse(&template) else {
        return;
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(rest) else {
        return;
    };
    if let Ok(name) = t.render(&Record(map)) {
        assert!(!name.contains('/') && !name.contains('\0'), "{name:?}");
        assert!(name != "." && name != "..", "{name:?}");
    }
    let _ = sanitize(&bbbmig_fuzz::text(rest));
});
