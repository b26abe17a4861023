//! The renderer's HTTP source: the published files `/presentation/<recordID>/<rel>` of
//! the recording's host, fetched on demand (Scalelite token visited first, then its
//! cookie) into a temporary folder of the recording, removed when done.

use super::download::{Fetcher, Space, is_not_found};
use super::plan::{Presentation, redact};
use super::progress::Job;
use crate::render::Source;
use anyhow::Context;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use url::Url;

/// Published files of one recording, fetched over HTTP.
pub struct HttpSource {
    fetcher: Fetcher,
    files: Url,
    dir: tempfile::TempDir,
    space: Space,
    job: Job,
    handle: tokio::runtime::Handle,
    done: Mutex<HashMap<String, Option<PathBuf>>>,
}

/// Refuses relative paths that could leave the recording's folder.
pub fn check_rel(rel: &str) -> anyhow::Result<()> {
    if rel.is_empty()
        || rel.starts_with('/')
        || rel.contains(['\\', '?', '#', '\0'])
        || rel
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        anyhow::bail!("unsafe path in recording: {rel:?}");
    }
    Ok(())
}

impl HttpSource {
    /// Visits the Scalelite token URL when there is one (its cookie then opens the
    /// files), and makes the temporary folder in `work_in`.
    pub async fn open(
        fetcher: &Fetcher,
        pres: &Presentation,
        work_in: &Path,
        keep_free: u64,
        job: Job,
    ) -> anyhow::Result<HttpSource> {
        if let Some(t) = &pres.token_url {
            let r = fetcher
                .client
                .get(t.clone())
                .send()
                .await
                .with_context(|| format!("cannot fetch {}", redact(t)))?;
            if !r.status().is_success() {
                anyhow::bail!(
                    "HTTP {} from {}: the one-time token is spent or expired (list the recording again)",
                    r.status().as_u16(),
                    redact(t)
                );
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(".bbb-record-files-")
            .tempdir_in(work_in)
            .with_context(|| format!("cannot make a temporary folder in {}", work_in.display()))?;
        Ok(HttpSource {
            fetcher: fetcher.clone(),
            files: pres.files.clone(),
            dir,
            space: Space {
                dir: work_in.to_path_buf(),
                keep_free,
            },
            job,
            handle: tokio::runtime::Handle::current(),
            done: Mutex::new(HashMap::new()),
        })
    }

    /// The files base URL.
    pub fn base(&self) -> &Url {
        &self.files
    }

    /// Fetches `rel` (once; later calls reuse the file): `None` on HTTP 404.
    pub async fn get(&self, rel: &str) -> anyhow::Result<Option<PathBuf>> {
        check_rel(rel)?;
        if let Some(p) = self.done.lock().unwrap_or_else(|e| e.into_inner()).get(rel) {
            return Ok(p.clone());
        }
        let url = self
            .files
            .join(rel)
            .with_context(|| format!("bad published file name {rel:?}"))?;
        let dest = self.dir.path().join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let part = self
            .dir
            .path()
            .join(format!(".{}.part", rel.replace('/', "__")));
        let found = match self
            .fetcher
            .download(&url, &part, &self.space, &self.job)
            .await
        {
            Ok(_) => {
                std::fs::rename(&part, &dest)?;
                Some(dest)
            }
            Err(e) if is_not_found(&e) => {
                let _ = std::fs::remove_file(&part);
                None
            }
            Err(e) => return Err(e),
        };
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(rel.to_string(), found.clone());
        Ok(found)
    }
}

impl Source for HttpSource {
    /// Must be called off the async runtime's threads (the renderer runs in
    /// `spawn_blocking`).
    fn fetch(&self, rel: &str) -> anyhow::Result<Option<PathBuf>> {
        self.handle.block_on(self.get(rel))
    }
}

/// The length of a recording in seconds, from `<playback><duration>` (ms) of its
/// metadata.xml.
pub fn metadata_duration(xml: &str) -> Option<f64> {
    let pb = &xml[xml.find("<playback")?..];
    let a = pb.find("<duration>")? + "<duration>".len();
    let b = pb[a..].find("</duration>")? + a;
    pb[a..b].trim().parse::<f64>().ok().map(|ms| ms / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_cannot_escape() {
        assert!(check_rel("presentation/p1/slide-1.png").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../b",
            "a//b",
            "a\\b",
            "x?y",
        ] {
            assert!(check_rel(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_the_playback_duration() {
        let x = "<recording><meta><duration>5</duration></meta><playback><format>presentation</format><duration>123400</duration></playback></recording>";
        assert_eq!(metadata_duration(x), Some(123.4));
        assert_eq!(metadata_duration("<recording/>"), None);
    }
}
