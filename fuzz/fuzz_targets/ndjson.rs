//! Fuzz target: the NDJSON record reader (ndjson.rs) and the record accessors (record.rs).
#![no_main]

use bbbmig_core::ndjson::{Reader, Writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reader = Reader::from_reader(Box::new(std::io::Cursor::new(data.to_vec())));
    let mut out = Vec::new();
    let mut writer = Writer::new(Box::new(&mut out));
    for item in reader {
        let Ok(item) = item else { continue };
        let Ok(rec) = item.record else { continue };
        let _ = rec.id_for_messages();
        let _ = rec.str_field("record_id");
        let _ = rec.required_str("meeting_id");
        let _ = rec.path("moodle.activity_id");
        let _ = rec.path("a.b.c.d");
        let _ = rec.typed::<Vec<String>>("moderators");
        writer.write(&rec).expect("writing to memory");
    }
});
