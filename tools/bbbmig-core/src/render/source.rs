//! Where the published files of one recording come from: a folder on disk, or (in media/) a
//! download on demand.

use std::path::PathBuf;

/// Where the published files of one recording come from.
pub trait Source: Send + Sync {
    /// Local path of the published file at `rel` (`metadata.xml`, `shapes.svg`,
    /// `video/webcams.webm`, `presentation/<id>/slide-1.png`, …), fetched on demand;
    /// `Ok(None)` when the recording has no such file (HTTP 404); `Err` on any other failure.
    fn fetch(&self, rel: &str) -> anyhow::Result<Option<PathBuf>>;
}

/// A published recording already on disk (`--from-dir`).
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn fetch(&self, rel: &str) -> anyhow::Result<Option<PathBuf>> {
        if rel.split('/').any(|p| p == ".." || p.is_empty()) {
            anyhow::bail!("unsafe path in recording: {rel:?}");
        }
        let p = self.0.join(rel);
        Ok(if p.is_file() { Some(p) } else { None })
    }
}
