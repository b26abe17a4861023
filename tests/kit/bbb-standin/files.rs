//! The stand-in's published files from `--published DIR`: presentation files under
//! `/presentation/<id>/`, the video format (`/playback/video/<id>/` page with its
//! `<source>`, `video-0.m4v`), Scalelite protected recordings (`/recording/<id>/<format>
//! ?token=` sets the cookie and redirects; files 404 without it), Range requests, and
//! transfer faults (`--file-fault`: drop the connection after N bytes, slow bodies, errors,
//! Range ignored).

use crate::api::State;
use crate::faults::Faults;
use crate::store::Mode;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path as AxPath, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A transfer fault: `drop:N`, `slow:BYTES_PER_S`, `status:CODE`, with `@MATCH`
/// (substring of the path) and `*COUNT` (times; default always).
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Drop(u64),
    Slow(u64),
    Status(u16),
    /// Ignore Range headers (answer 200 with the whole file), as some servers do.
    NoRange,
}

struct Files {
    dir: PathBuf,
    /// The ID of the one recording when `dir` is a recording itself (`bbb-synth --out`).
    single: Option<String>,
    scalelite: bool,
    protected: bool,
    faults: Faults<Kind>,
    used_tokens: Mutex<HashSet<String>>,
    log: Mutex<Vec<String>>,
}

fn parse_faults(specs: &[String]) -> anyhow::Result<Faults<Kind>> {
    Faults::parse_with(specs, |name, arg| {
        Ok(match name {
            "drop" => Kind::Drop(arg.parse()?),
            "slow" => Kind::Slow(arg.parse::<u64>()?.max(1)),
            "status" => Kind::Status(arg.parse()?),
            "norange" => Kind::NoRange,
            _ => anyhow::bail!(
                "unknown file fault {name:?} (drop:N, slow:BPS, status:CODE, norange)"
            ),
        })
    })
}

impl Files {
    /// The folder of recording `id`.
    fn rec_dir(&self, id: &str) -> PathBuf {
        match &self.single {
            Some(one) if one == id => self.dir.clone(),
            _ => self.dir.join(id),
        }
    }

    fn has_cookie(&self, headers: &HeaderMap, format: &str, id: &str) -> bool {
        if !self.protected {
            return true;
        }
        let want = format!("recording_{format}_{id}=");
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|c| c.trim().starts_with(&want))
    }
}

/// Routes serving published recordings (nothing without `--published`).
pub fn routes(state: Arc<State>) -> anyhow::Result<Router> {
    let Some(dir) = state.opts.published.clone() else {
        return Ok(Router::new());
    };
    let scalelite = state.store.mode == Mode::Scalelite;
    let files = Arc::new(Files {
        single: crate::store::single_recording(&dir),
        dir,
        scalelite,
        protected: scalelite && state.opts.protected,
        faults: parse_faults(&state.opts.file_fault)?,
        used_tokens: Mutex::new(HashSet::new()),
        log: Mutex::new(Vec::new()),
    });
    Ok(Router::new()
        .route("/presentation/{id}/{*rel}", get(presentation))
        .route("/playback/video/{id}", get(video_bbb))
        .route("/playback/video/{id}/", get(video_bbb))
        .route("/playback/video/{id}/{*rel}", get(video_bbb_file))
        .route("/video/{id}", get(video_sl))
        .route("/video/{id}/", get(video_sl))
        .route("/video/{id}/{*rel}", get(video_sl_file))
        .route("/recording/{id}/{format}", get(token))
        .route("/playback/presentation/2.3/{id}", get(player))
        .route("/playback/presentation/2.0/playback.html", get(player))
        .route("/standin/files-log", get(files_log))
        .with_state(files))
}

fn safe(part: &str) -> bool {
    !part.is_empty()
        && !part.starts_with('/')
        && !part.contains('\\')
        && part
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html")],
        "<html><body><h1>404 Not Found</h1></body></html>",
    )
        .into_response()
}

async fn presentation(
    AxState(fs): AxState<Arc<Files>>,
    AxPath((id, rel)): AxPath<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if !safe(&id) || !safe(&rel) || !fs.has_cookie(&headers, "presentation", &id) {
        return not_found();
    }
    let path = fs.rec_dir(&id).join(&rel);
    serve(&fs, &path, uri.path(), &headers).await
}

const VIDEO_PAGE: &str = "<!DOCTYPE html><html><head><title>Recording</title></head><body><video controls><source src=\"video-0.m4v\" type=\"video/mp4\"><track kind=\"captions\" src=\"captions.vtt\"></video></body></html>\n";

async fn video_dir(fs: &Files, id: &str, rel: &str, headers: &HeaderMap, uri: &Uri) -> Response {
    if !safe(id) || !fs.has_cookie(headers, "video", id) {
        return not_found();
    }
    let dir = fs.rec_dir(id).join("video");
    if !dir.join("video-0.m4v").is_file() {
        return not_found();
    }
    if rel.is_empty() || rel == "index.html" {
        let page = dir.join("index.html");
        if page.is_file() {
            return serve(fs, &page, uri.path(), headers).await;
        }
        return ([(header::CONTENT_TYPE, "text/html")], VIDEO_PAGE).into_response();
    }
    if !safe(rel) {
        return not_found();
    }
    serve(fs, &dir.join(rel), uri.path(), headers).await
}

/// Scalelite's nginx sends `/playback/video/X` to `/video/X`; BBB serves it itself.
fn to_scalelite(uri: &Uri) -> Response {
    let p = uri.path().replacen("/playback/video/", "/video/", 1);
    (StatusCode::FOUND, [(header::LOCATION, p)]).into_response()
}

async fn video_bbb(
    AxState(fs): AxState<Arc<Files>>,
    AxPath(id): AxPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if fs.scalelite {
        return to_scalelite(&uri);
    }
    video_dir(&fs, &id, "", &headers, &uri).await
}

async fn video_bbb_file(
    AxState(fs): AxState<Arc<Files>>,
    AxPath((id, rel)): AxPath<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if fs.scalelite {
        return to_scalelite(&uri);
    }
    video_dir(&fs, &id, &rel, &headers, &uri).await
}

async fn video_sl(
    AxState(fs): AxState<Arc<Files>>,
    AxPath(id): AxPath<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    video_dir(&fs, &id, "", &headers, &uri).await
}

async fn video_sl_file(
    AxState(fs): AxState<Arc<Files>>,
    AxPath((id, rel)): AxPath<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    video_dir(&fs, &id, &rel, &headers, &uri).await
}

/// Scalelite's `PlaybackController#play`: a valid one-time token sets the cookie
/// `recording_<format>_<id>` (path `/<format>/<id>`) and redirects to the playback.
async fn token(
    AxState(fs): AxState<Arc<Files>>,
    AxPath((id, format)): AxPath<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let ok = q.get("token").is_some_and(|t| *t == format!("tok-{id}"))
        && fs
            .used_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(format!("{id}/{format}"));
    if !safe(&id) || !ok || !matches!(format.as_str(), "presentation" | "video") {
        return not_found();
    }
    let location = if format == "video" {
        format!("/video/{id}/")
    } else {
        format!("/playback/presentation/2.3/{id}")
    };
    (
        StatusCode::FOUND,
        [
            (
                header::SET_COOKIE,
                format!("recording_{format}_{id}=ok-{id}; path=/{format}/{id}; HttpOnly"),
            ),
            (header::LOCATION, location),
        ],
    )
        .into_response()
}

async fn player() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html")],
        "<!DOCTYPE html><html><head><title>BigBlueButton - Playback</title></head><body><div id=\"root\"></div></body></html>\n",
    )
        .into_response()
}

async fn files_log(AxState(fs): AxState<Arc<Files>>) -> Response {
    fs.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .join("\n")
        .into_response()
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "m4v" | "mp4" => "video/mp4",
        "webm" => "video/webm",
        "xml" | "svg" => "text/xml",
        "html" => "text/html",
        "json" => "application/json",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// `bytes=A-` or `bytes=A-B` (one range) → (A, B) within `len`; `Err` when unsatisfiable.
fn parse_range(h: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let a: u64 = a.trim().parse().ok()?;
    let b: u64 = if b.trim().is_empty() {
        len.saturating_sub(1)
    } else {
        b.trim().parse::<u64>().ok()?.min(len.saturating_sub(1))
    };
    Some(if a >= len || a > b {
        Err(())
    } else {
        Ok((a, b))
    })
}

/// Serves one file with Range support and the transfer faults that match its path.
async fn serve(fs: &Files, path: &Path, shown: &str, headers: &HeaderMap) -> Response {
    let range_h = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    fs.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(format!("{shown} {}", range_h.as_deref().unwrap_or("-")));
    let mut drop_after = None;
    let mut slow = None;
    let mut range_h = range_h;
    for k in fs.faults.take(shown) {
        match k {
            Kind::Status(c) => {
                return (
                    StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "fault",
                )
                    .into_response();
            }
            Kind::Drop(n) => drop_after = Some(n),
            Kind::Slow(b) => slow = Some(b),
            Kind::NoRange => range_h = None,
        }
    }
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return not_found();
    };
    let len = match file.metadata().await {
        Ok(m) if m.is_file() => m.len(),
        _ => return not_found(),
    };
    let (status, start, end) = match range_h.as_deref().and_then(|h| parse_range(h, len)) {
        None => (StatusCode::OK, 0, len.saturating_sub(1)),
        Some(Ok((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Some(Err(())) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    let count = if len == 0 { 0 } else { end - start + 1 };
    if file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return not_found();
    }
    let state = (file, count, 0u64);
    let stream = futures_util::stream::unfold(state, move |(mut f, left, sent)| async move {
        if left == 0 {
            return None;
        }
        if drop_after.is_some_and(|n| sent >= n) {
            // Let the bytes sent so far reach the client before the connection breaks
            // (a reset would discard what it has not read yet).
            tokio::time::sleep(Duration::from_millis(300)).await;
            return Some((
                Err(std::io::Error::other("connection dropped by the stand-in")),
                (f, 0, sent),
            ));
        }
        let mut want = left.min(64 * 1024);
        if let Some(n) = drop_after {
            want = want.min(n - sent);
        }
        if let Some(bps) = slow {
            want = want.min((bps / 10).max(1));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut buf = vec![0u8; want as usize];
        match f.read_exact(&mut buf).await {
            Ok(_) => Some((Ok(buf), (f, left - want, sent + want))),
            Err(e) => Some((Err(e), (f, 0, sent))),
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        content_type(path).parse().expect("header"),
    );
    h.insert(header::ACCEPT_RANGES, "bytes".parse().expect("header"));
    h.insert(
        header::CONTENT_LENGTH,
        count.to_string().parse().expect("header"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{len}")
                .parse()
                .expect("header"),
        );
    }
    r
}
