//! Shared pieces of the fuzz targets: a scratch published recording on disk whose files a
//! target replaces with the fuzzer's input, and the split of one input into parts.

use bbbmig_core::render::{DirSource, Source};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A small valid published recording (from tests/fixtures/render/text-boxes-2.0), copied
/// once into a folder under TMPDIR (scripts/fuzz points TMPDIR at a folder it removes).
pub fn recording() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("bbbmig-fuzz-rec")
            .tempdir()
            .expect("scratch folder")
            .keep();
        let files: [(&str, &[u8]); 6] = [
            (
                "metadata.xml",
                include_bytes!("../../tests/fixtures/render/text-boxes-2.0/metadata.xml"),
            ),
            (
                "shapes.svg",
                include_bytes!("../../tests/fixtures/render/text-boxes-2.0/shapes.svg"),
            ),
            (
                "panzooms.xml",
                include_bytes!("../../tests/fixtures/render/text-boxes-2.0/panzooms.xml"),
            ),
            (
                "cursor.xml",
                include_bytes!("../../tests/fixtures/render/text-boxes-2.0/cursor.xml"),
            ),
            (
                "deskshare.xml",
                include_bytes!("../../tests/fixtures/render/text-boxes-2.0/deskshare.xml"),
            ),
            // Only its presence matters to the parsers (images are decoded when drawn).
            ("presentation/p1/slide-1.png", b"png"),
        ];
        for (rel, bytes) in files {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        dir
    })
}

/// Puts `data` at `rel` in the scratch recording, runs `f` on it, puts the original back.
pub fn with_file<T>(rel: &str, data: &[u8], f: impl FnOnce(&dyn Source) -> T) -> T {
    let dir = recording();
    let path = dir.join(rel);
    let before = std::fs::read(&path).ok();
    std::fs::write(&path, data).expect("scratch file");
    let out = f(&DirSource(dir.to_path_buf()));
    match before {
        Some(b) => std::fs::write(&path, b).expect("scratch file"),
        None => std::fs::remove_file(&path).expect("scratch file"),
    }
    out
}

/// A file of its own under TMPDIR, readable by its owner only (db files, .pgpass).
pub fn private_file(name: &str, data: &[u8]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = recording().join(name);
    std::fs::write(&path, data).expect("scratch file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// The input as text (invalid UTF-8 replaced, so that every input reaches the parser).
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The first line and the rest of the input.
pub fn first_line(data: &[u8]) -> (String, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (text(&data[..i]), &data[i + 1..]),
        None => (text(data), &[]),
    }
}
