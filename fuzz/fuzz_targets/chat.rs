//! Fuzz target: the chat of a published recording, slides_new.xml (render/chat.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bbbmig_fuzz::with_file("slides_new.xml", data, |src| {
        let _ = bbbmig_core::render::fuzzing::chat(src);
    });
});
