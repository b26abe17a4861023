//! Fuzz target: a getRecordings response (bbb/xml.rs) turned into records (bbb/recording.rs).
#![no_main]

use bbbmig_core::bbb::{recording, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xml::parse(data, |rec, _span| {
        let _ = recording::effective_state(&rec);
        let _ = recording::meta(&rec, "bbb-origin-server-name");
        for form in [recording::PlaybackForm::AsIs, recording::PlaybackForm::V23] {
            let mut buf = Vec::new();
            recording::write_json(
                &rec,
                Some("https://bbb.example.org/bigbluebutton/"),
                form,
                &mut buf,
            )?;
            let _ = recording::to_record(&rec, None, form);
        }
        Ok(())
    });
});
