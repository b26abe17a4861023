//! Fuzz target: the other files of a published recording (render/published.rs): the first
//! byte picks metadata.xml, panzooms.xml, cursor.xml, deskshare.xml or captions.json, the
//! rest is its content; the other files are a small valid recording.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The files, in the order of the selector byte (scripts/fuzz writes seeds that way).
const FILES: [&str; 5] = [
    "metadata.xml",
    "panzooms.xml",
    "cursor.xml",
    "deskshare.xml",
    "captions.json",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, content)) = data.split_first() else {
        return;
    };
    let file = FILES[pick as usize % FILES.len()];
    bbbmig_fuzz::with_file(file, content, |src| {
        let _ = bbbmig_core::render::fuzzing::published(src);
    });
});
