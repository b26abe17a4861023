//! Fuzz target: tldraw.json shapes of BBB 2.6+ recordings (render/tldraw.rs).
#![no_main]

use bbbmig_core::render::fuzzing::Slide;
use libfuzzer_sys::fuzz_target;

fn slide(id: &str, start: f64, end: f64, w: f64, h: f64) -> Slide {
    Slide {
        id: id.into(),
        start,
        end,
        href: format!("presentation/p1/slide-{}.png", &id[5..]),
        file: None,
        width: w,
        height: h,
    }
}

fuzz_target!(|data: &[u8]| {
    let slides = [
        slide("image1", 0.0, 10.0, 1600.0, 1200.0),
        slide("image2", 10.0, 20.0, 1920.0, 1080.0),
    ];
    let _ = bbbmig_core::render::fuzzing::tldraw(&bbbmig_fuzz::text(data), &slides);
});
