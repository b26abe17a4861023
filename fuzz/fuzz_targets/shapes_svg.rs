//! Fuzz target: shapes.svg of a published recording (slides and whiteboard canvases,
//! render/published.rs), the other files being a small valid recording.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bbbmig_fuzz::with_file("shapes.svg", data, |src| {
        let _ = bbbmig_core::render::fuzzing::published(src);
    });
});
