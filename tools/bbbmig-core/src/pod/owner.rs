//! Whose video a file in the recorder folder is: the record ID pod-claim writes on each
//! file it places (extended attribute `user.bbbmig.record_id`), else a comparison with the
//! record's own video. A name alone never proves it (two recordings may share one).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const ATTR: &str = "user.bbbmig.record_id";

/// What is known of a placed file's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// This recording's video (its record ID on the file, or the same content).
    Ours,
    /// Another recording's (another record ID on the file, or other content).
    Foreign,
    /// Neither an ID on the file nor the record's video to compare with.
    Unknown,
}

/// Writes the record ID on a placed file (ignored where the file system has no user
/// extended attributes: the content comparison remains).
pub fn tag(path: &Path, record_id: &str) {
    let flags = rustix::fs::XattrFlags::empty();
    if let Err(e) = rustix::fs::lsetxattr(path, ATTR, record_id.as_bytes(), flags) {
        log::debug!("cannot write {ATTR} on {}: {e}", path.display());
    }
}

/// The record ID written on `path`, if any.
pub fn tagged(path: &Path) -> Option<Vec<u8>> {
    let mut buf = [0u8; 1024];
    let n = rustix::fs::lgetxattr(path, ATTR, &mut buf[..]).ok()?;
    Some(buf[..n].to_vec())
}

/// Whose is the file at `placed`, for the record `record_id` whose video is at `source`.
pub fn owner(placed: &Path, record_id: &str, source: &Path) -> Owner {
    if let Some(id) = tagged(placed) {
        return if id == record_id.as_bytes() {
            Owner::Ours
        } else {
            Owner::Foreign
        };
    }
    match same_content(placed, source) {
        Ok(true) => Owner::Ours,
        Ok(false) => Owner::Foreign,
        Err(_) => Owner::Unknown,
    }
}

/// True when both are one file, or have the same bytes; an error when `source` is gone.
fn same_content(a: &Path, b: &Path) -> io::Result<bool> {
    let (ma, mb) = (std::fs::symlink_metadata(a)?, std::fs::metadata(b)?);
    if !ma.file_type().is_file() {
        return Ok(false);
    }
    if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
        return Ok(true);
    }
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_by_tag_then_by_content() {
        let d = tempfile::tempdir().unwrap();
        let (placed, src) = (d.path().join("p.webm"), d.path().join("s.webm"));
        std::fs::write(&placed, b"same").unwrap();
        std::fs::write(&src, b"same").unwrap();
        assert_eq!(owner(&placed, "a", &src), Owner::Ours);
        std::fs::write(&src, b"diff").unwrap();
        assert_eq!(owner(&placed, "a", &src), Owner::Foreign);
        std::fs::remove_file(&src).unwrap();
        assert_eq!(owner(&placed, "a", &src), Owner::Unknown);
        tag(&placed, "a");
        if tagged(&placed).is_some() {
            assert_eq!(owner(&placed, "a", &src), Owner::Ours);
            assert_eq!(owner(&placed, "b", &src), Owner::Foreign);
        }
    }
}
