//! The renderer's HTTP source: the published files `/presentation/<recordID>/<rel>` of
//! the recording's host, fetched on demand (Scalelite token visited first, then its
//! cookie) into a temporary folder of the recording, removed when done.

use super::download::{Fetcher, Space, is_not_found};
use super::plan::Presentation;
use super::progress::{Job, Phase};
use crate::http::redact;
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

/// Temporary folders of published files in `--out`: `.bbb-record-files-<pid>@<host>_…`.
pub const FILES_PREFIX: &str = ".bbb-record-files-";

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
                .map_err(crate::http::without_url)
                .with_context(|| format!("cannot fetch {}", redact(t)))?;
            if !r.status().is_success() {
                anyhow::bail!(
                    "HTTP {} from {}: the one-time token is spent or expired (list the recording again)",
                    r.status().as_u16(),
                    redact(t)
                );
            }
        }
        let dir = crate::stale::tempdir_in(work_in, FILES_PREFIX)
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
        // Fetching is download time, also in the middle of a render.
        let before = self.job.current();
        self.job.phase(Phase::Download);
        let fetched = self
            .fetcher
            .download(&url, &part, &self.space, &self.job)
            .await;
        self.job.phase(before);
        let found = match fetched {
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

    /// A tiny HTTP server: `metadata.xml` of recording `abc-1` exists, nothing else.
    fn serve() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let mut line = String::new();
                let mut r = BufReader::new(s.try_clone().unwrap());
                r.read_line(&mut line).unwrap();
                loop {
                    let mut hdr = String::new();
                    if r.read_line(&mut hdr).unwrap_or(0) == 0 || hdr == "\r\n" {
                        break;
                    }
                }
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = "<recording><playback><duration>1500</duration></playback></recording>";
                let resp = if line.starts_with("GET /presentation/abc-1/metadata.xml ") {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = s.write_all(resp.as_bytes());
            }
        });
        (addr, hits)
    }

    #[test]
    fn the_renderer_fetches_from_a_blocking_thread_once_per_file() {
        let (addr, hits) = serve();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let work = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let fetcher = Fetcher {
                client: crate::http::download_client(std::time::Duration::from_secs(5)).unwrap(),
                retries: 0,
                backoff: std::time::Duration::from_millis(10),
                min_speed: None,
            };
            let url =
                format!("http://{addr}/playback/presentation/2.0/playback.html?meetingId=abc-1");
            let pres = super::super::plan::presentation(&url, None).unwrap();
            let board = super::super::progress::Board::new();
            let src = HttpSource::open(&fetcher, &pres, work.path(), 0, board.job("t").clone())
                .await
                .unwrap();
            let (meta, again, missing, bad) = tokio::task::spawn_blocking(move || {
                let s: &dyn Source = &src;
                let first = s.fetch("metadata.xml").unwrap();
                let text = first.as_ref().map(|p| std::fs::read_to_string(p).unwrap());
                (
                    (first, text),
                    s.fetch("metadata.xml").unwrap(),
                    s.fetch("deskshare.xml").unwrap(),
                    s.fetch("../../etc/passwd").is_err(),
                )
            })
            .await
            .unwrap();
            let (meta, text) = meta;
            let meta = meta.unwrap();
            assert_eq!(metadata_duration(&text.unwrap()), Some(1.5));
            assert_eq!(again.unwrap(), meta);
            assert!(missing.is_none() && bad);
            assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
        });
        // The temporary folder went with the source.
        assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
    }

    #[test]
    fn reads_the_playback_duration() {
        let x = "<recording><meta><duration>5</duration></meta><playback><format>presentation</format><duration>123400</duration></playback></recording>";
        assert_eq!(metadata_duration(x), Some(123.4));
        assert_eq!(metadata_duration("<recording/>"), None);
    }
}
