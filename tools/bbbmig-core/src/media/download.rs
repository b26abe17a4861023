//! Downloading a video playback: the playback page's `<source>`, a direct media URL, or a
//! Scalelite protected recording (one-time token URL, then its cookie); streamed to disk,
//! resumed with Range after an interruption, Content-Length checked, bounded retries.

use super::output::{ensure_space, is_disk_full};
use super::progress::Job;
use super::safe_fs;
use crate::http::{self, FetchError, is_transient_status, redact};
use anyhow::Context;
use futures_util::StreamExt;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Extensions of media files a playback page may point at.
pub const MEDIA_EXTENSIONS: &[&str] = &["m4v", "mp4", "webm", "mkv", "ogv", "mov"];

const PAGE_MAX: usize = 1 << 20;

/// The HTTP side of bbb-record: one client (cookie jar) and the retry policy.
#[derive(Clone)]
pub struct Fetcher {
    pub client: reqwest::Client,
    /// Attempts without progress after the first one.
    pub retries: u32,
    /// First delay between attempts; doubles each time.
    pub backoff: Duration,
    /// A transfer slower than this many bytes a second over [`MinSpeed::over`] is
    /// abandoned (and resumed as a failed attempt).
    pub min_speed: Option<MinSpeed>,
}

/// The slowest transfer tolerated (`--min-speed`, `--min-speed-time`).
#[derive(Debug, Clone, Copy)]
pub struct MinSpeed {
    pub bytes_per_s: u64,
    pub over: Duration,
}

/// Where disk space is checked before writing.
#[derive(Debug, Clone)]
pub struct Space {
    pub dir: PathBuf,
    pub keep_free: u64,
}

/// True when `e` is (or wraps) an HTTP 404 or 410.
pub fn is_not_found(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<FetchError>(),
            Some(FetchError::Status {
                status: 404 | 410,
                ..
            })
        )
    })
}

enum Attempt {
    /// Worth another try (broken transfer, server overload).
    Retry(anyhow::Error),
    /// Worth another try, but counted as a failure even when bytes came (too slow).
    Slow(anyhow::Error),
    /// Final for this record (404, full disk).
    Final(anyhow::Error),
}

fn is_media_path(u: &Url) -> bool {
    let path = u.path().to_ascii_lowercase();
    MEDIA_EXTENSIONS
        .iter()
        .any(|e| path.ends_with(&format!(".{e}")))
}

/// The extension of a media URL (`m4v`, `mp4`, …), if it has a known one.
pub fn media_extension(u: &Url) -> Option<&'static str> {
    let path = u.path().to_ascii_lowercase();
    MEDIA_EXTENSIONS
        .iter()
        .copied()
        .find(|e| path.ends_with(&format!(".{e}")))
}

/// The `src` of the first `<source>` tag with a media extension (BBB's video format page
/// lists `video-0.m4v` first).
pub fn find_source(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<source") {
        let start = from + i;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &html[start..end];
        let tag_l = &lower[start..end];
        if let Some(p) = tag_l.find("src=") {
            let rest = &tag[p + 4..];
            let src = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or(""),
            };
            let src = src.replace("&amp;", "&");
            let path = src
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if MEDIA_EXTENSIONS
                .iter()
                .any(|e| path.ends_with(&format!(".{e}")))
            {
                return Some(src);
            }
        }
        from = end;
    }
    None
}

/// `https://h/playback/video/ID` → `https://h/playback/video/ID/` (a page URL without
/// its trailing slash would resolve `video-0.m4v` one level too high).
fn as_dir(u: &Url) -> Url {
    let mut d = u.clone();
    let last = u
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    if !u.path().ends_with('/') && !last.contains('.') {
        d.set_path(&format!("{}/", u.path()));
    }
    d
}

impl Fetcher {
    async fn pause(&self, n: u32) {
        tokio::time::sleep(http::backoff(self.backoff, n)).await;
    }

    /// Finds the media file of a video playback URL: the URL itself when it names a
    /// media file; otherwise the page (after the token redirect, keeping its cookie)
    /// and its `<source>`.
    pub async fn resolve(&self, url: &Url) -> anyhow::Result<Url> {
        let token = url.query_pairs().any(|(k, _)| k == "token");
        if is_media_path(url) && !token {
            return Ok(url.clone());
        }
        let shown = redact(url);
        let mut failures = 0;
        let resp = loop {
            match self.client.get(url.clone()).send().await {
                Ok(r) if r.status().is_success() => break r,
                Ok(r) => {
                    let s = r.status().as_u16();
                    // A spent token cannot be retried: the first answer is final.
                    if !is_transient_status(s) || token || failures >= self.retries {
                        if token && s == 404 {
                            anyhow::bail!(
                                "HTTP 404 from {shown}: the one-time token is spent or expired (list the recording again)"
                            );
                        }
                        return Err(anyhow::Error::new(FetchError::Status {
                            status: s,
                            url: shown,
                        }));
                    }
                }
                Err(e) => {
                    if token || failures >= self.retries {
                        return Err(http::without_url(e).context(format!("cannot fetch {shown}")));
                    }
                }
            }
            failures += 1;
            self.pause(failures).await;
        };
        let final_url = resp.url().clone();
        let ctype = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if is_media_path(&final_url) || ctype.starts_with("video/") || ctype.starts_with("audio/") {
            return Ok(final_url);
        }
        let mut page = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(http::without_url)
                .with_context(|| format!("the page {shown} broke off"))?;
            page.extend_from_slice(&chunk);
            if page.len() > PAGE_MAX {
                anyhow::bail!("the playback page {shown} is larger than 1 MB: not a video page");
            }
        }
        let html = String::from_utf8_lossy(&page);
        let Some(src) = find_source(&html) else {
            anyhow::bail!(
                "the playback page {} has no <source> with a video file",
                redact(&final_url)
            );
        };
        let media = as_dir(&final_url)
            .join(&src)
            .with_context(|| format!("bad <source src={src:?}> in {}", redact(&final_url)))?;
        if !matches!(media.scheme(), "http" | "https") {
            anyhow::bail!("<source src={src:?}> is not an http(s) URL");
        }
        Ok(media)
    }

    /// Downloads `url` into `part`, resuming what a previous attempt or run left there.
    /// Returns the file's size. A broken transfer is resumed with Range; attempts that
    /// make no progress are bounded by `retries`.
    pub async fn download(
        &self,
        url: &Url,
        part: &Path,
        space: &Space,
        job: &Job,
    ) -> anyhow::Result<u64> {
        let mut failures = 0u32;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let have = file_len(part);
            match self.attempt(url, part, have, space, job).await {
                Ok(n) => return Ok(n),
                Err(Attempt::Final(e)) => return Err(e),
                Err(a @ (Attempt::Retry(_) | Attempt::Slow(_))) => {
                    let (e, slow) = match a {
                        Attempt::Retry(e) => (e, false),
                        Attempt::Slow(e) | Attempt::Final(e) => (e, true),
                    };
                    if file_len(part) > have && !slow {
                        failures = 0;
                    } else {
                        failures += 1;
                    }
                    if failures > self.retries || attempts >= 100 {
                        let kept = match file_len(part) {
                            0 => "nothing kept".to_string(),
                            n => format!(
                                "{} kept in {} for the next run",
                                super::output::human(n),
                                part.display()
                            ),
                        };
                        return Err(
                            e.context(format!("gave up after {attempts} attempt(s); {kept}"))
                        );
                    }
                    log::info!("{e:#}; resuming at byte {}", file_len(part));
                    self.pause(failures.max(1)).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        part: &Path,
        have: u64,
        space: &Space,
        job: &Job,
    ) -> Result<u64, Attempt> {
        let shown = redact(url);
        let mut req = self.client.get(url.clone());
        if have > 0 {
            req = req.header(RANGE, format!("bytes={have}-"));
        }
        let resp = req.send().await.map_err(|e| {
            Attempt::Retry(http::without_url(e).context(format!("cannot fetch {shown}")))
        })?;
        let status = resp.status().as_u16();
        let (start, total) = match status {
            206 => {
                let cr = resp
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_content_range);
                match cr {
                    Some((a, t)) if a == have => (a, t),
                    _ => {
                        // Not the range asked for: start again from zero.
                        let _ = std::fs::remove_file(part);
                        return Err(Attempt::Retry(anyhow::anyhow!(
                            "{shown} answered another range than bytes={have}-"
                        )));
                    }
                }
            }
            200 => (0, resp.content_length()),
            416 => {
                let total = resp
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|s| s.strip_prefix("bytes */"))
                    .and_then(|t| t.trim().parse::<u64>().ok());
                if total == Some(have) && have > 0 {
                    job.set_total(have);
                    job.skip(have);
                    return Ok(have);
                }
                let _ = std::fs::remove_file(part);
                return Err(Attempt::Retry(anyhow::anyhow!(
                    "{shown} refused the range bytes={have}-; starting again"
                )));
            }
            s => {
                let e = anyhow::Error::new(FetchError::Status {
                    status: s,
                    url: shown,
                });
                return Err(if is_transient_status(s) {
                    Attempt::Retry(e)
                } else {
                    Attempt::Final(e)
                });
            }
        };
        let needed = total.map_or(0, |t| t.saturating_sub(start));
        ensure_space(&space.dir, needed, space.keep_free).map_err(Attempt::Final)?;
        if let Some(t) = total {
            job.set_total(t);
        }
        job.skip(start);
        // Never through a link planted at the temporary name; every chunk written as it
        // comes (no buffer lost when the run is stopped).
        let mut file = safe_fs::open_write(part, start > 0)
            .with_context(|| format!("cannot write {}", part.display()))
            .map_err(Attempt::Final)?;
        let mut got = start;
        let mut stream = resp.bytes_stream();
        let mut broke = None;
        let mut window = (tokio::time::Instant::now(), 0u64);
        loop {
            let next = match self.min_speed {
                Some(ms) => {
                    let deadline = window.0 + ms.over;
                    match tokio::time::timeout_at(deadline, stream.next()).await {
                        Ok(n) => n,
                        Err(_) => Some(Ok(Default::default())),
                    }
                }
                None => stream.next().await,
            };
            let Some(chunk) = next else { break };
            match chunk {
                Ok(c) => {
                    if let Err(e) = file.write_all(&c) {
                        return Err(write_failed(part, e));
                    }
                    got += c.len() as u64;
                    job.add(c.len() as u64);
                    window.1 += c.len() as u64;
                    if let Some(ms) = self.min_speed {
                        let spent = window.0.elapsed();
                        if spent >= ms.over {
                            let least = ms.bytes_per_s.saturating_mul(spent.as_secs().max(1));
                            if window.1 < least {
                                return Err(Attempt::Slow(anyhow::anyhow!(
                                    "the download of {shown} is slower than --min-speed {} B/s ({} B in {} s), abandoned at byte {got}",
                                    ms.bytes_per_s,
                                    window.1,
                                    spent.as_secs()
                                )));
                            }
                            window = (tokio::time::Instant::now(), 0);
                        }
                    }
                }
                Err(e) => {
                    broke = Some(e);
                    break;
                }
            }
        }
        drop(file);
        if let Some(e) = broke {
            return Err(Attempt::Retry(http::without_url(e).context(format!(
                "the download of {shown} broke off at byte {got}"
            ))));
        }
        let len = file_len(part);
        if let Some(t) = total {
            if len != t {
                return Err(Attempt::Retry(anyhow::anyhow!(
                    "{shown}: got {len} of {t} bytes"
                )));
            }
        }
        Ok(len)
    }
}

fn write_failed(part: &Path, e: std::io::Error) -> Attempt {
    let e = anyhow::Error::new(e).context(format!("cannot write {}", part.display()));
    if is_disk_full(&e) {
        // Never keep a truncated file that only eats the space others need.
        let _ = std::fs::remove_file(part);
        return Attempt::Final(e.context("disk full; the partial download was removed"));
    }
    Attempt::Final(e)
}

fn file_len(p: &Path) -> u64 {
    safe_fs::regular_len(p)
}

/// `bytes 100-999/1000` → (100, Some(1000)); `bytes 100-999/*` → (100, None).
fn parse_content_range(s: &str) -> Option<(u64, Option<u64>)> {
    let rest = s.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, _) = range.split_once('-')?;
    let total = if total.trim() == "*" {
        None
    } else {
        Some(total.trim().parse().ok()?)
    };
    Some((a.trim().parse().ok()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_video_source_of_bbb_pages() {
        let page = r#"<video controls><source src="video-0.m4v" type="video/mp4"><source src='video-1.webm' type="video/webm"><track src="captions.vtt"></video>"#;
        assert_eq!(find_source(page).as_deref(), Some("video-0.m4v"));
        assert_eq!(
            find_source("<SOURCE SRC=a.webm>").as_deref(),
            Some("a.webm")
        );
        assert_eq!(find_source("<source src=\"x.vtt\">"), None);
        assert_eq!(find_source("<html>nothing</html>"), None);
    }

    #[test]
    fn pages_resolve_as_directories() {
        let u = Url::parse("https://h/playback/video/ID").unwrap();
        assert_eq!(
            as_dir(&u).join("video-0.m4v").unwrap().as_str(),
            "https://h/playback/video/ID/video-0.m4v"
        );
        let u = Url::parse("https://h/video/ID/index.html").unwrap();
        assert_eq!(
            as_dir(&u).join("video-0.m4v").unwrap().as_str(),
            "https://h/video/ID/video-0.m4v"
        );
    }

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range("bytes 100-999/1000"),
            Some((100, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("junk"), None);
    }
}
