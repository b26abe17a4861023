//! The stand-in's API: checksum checks like BBB and Scalelite, getRecordings with its filters,
//! pagination and failure modes.

use crate::Opts;
use crate::faults::{Faults, Kind};
use crate::store::{Mode, Rec, Store};
use axum::Router;
use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha384, Sha512};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shared state of the stand-in.
pub struct State {
    pub opts: Opts,
    pub store: Store,
    pub faults: Faults,
    pub requests: AtomicU64,
    /// Every API request's query without its checksum, for tests to inspect.
    pub log: Mutex<Vec<String>>,
}

impl State {
    pub fn new(opts: Opts, store: Store, faults: Faults) -> State {
        State {
            opts,
            store,
            faults,
            requests: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Applies injected faults for this request: `Some(response)` replaces the answer.
    pub async fn fault(&self, uri: &Uri, full: &str) -> Option<Response> {
        let pq = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        for k in self.faults.take(&pq) {
            match k {
                Kind::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Kind::Status(code) => {
                    return Some(html_error(
                        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    ));
                }
                Kind::Html => {
                    return Some(
                        (
                            [(header::CONTENT_TYPE, "text/html")],
                            "<html><body><h1>Welcome to nginx!</h1></body></html>",
                        )
                            .into_response(),
                    );
                }
                Kind::Truncate => {
                    let half = full.as_bytes()[..full.len() / 2].to_vec();
                    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
                        Ok(half),
                        Err(std::io::Error::other("connection broken by the stand-in")),
                    ];
                    let mut r =
                        Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
                    r.headers_mut()
                        .insert(header::CONTENT_TYPE, "text/xml".parse().expect("header"));
                    r.headers_mut().insert(
                        header::CONTENT_LENGTH,
                        full.len().to_string().parse().expect("header"),
                    );
                    return Some(r);
                }
            }
        }
        None
    }
}

/// Routes of the API.
pub fn routes(state: Arc<State>) -> Router {
    Router::new()
        .route("/bigbluebutton/api", get(version))
        .route("/bigbluebutton/api/", get(version))
        .route("/bigbluebutton/api/getRecordings", get(get_recordings))
        .route("/standin/log", get(show_log))
        .fallback(not_found)
        .with_state(state)
}

/// The API root as BBB (version, apiVersion, bbbVersion) or Scalelite (version only)
/// answer it: no checksum needed; injected faults apply here too.
async fn version(AxState(st): AxState<Arc<State>>, uri: Uri) -> Response {
    st.requests.fetch_add(1, Ordering::SeqCst);
    let body = if st.store.mode == Mode::Scalelite {
        "<response><returncode>SUCCESS</returncode><version>2.0</version></response>"
    } else {
        "<response><returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion></bbbVersion></response>"
    };
    if let Some(r) = st.fault(&uri, body).await {
        return r;
    }
    xml(body.into())
}

/// Any other path: nginx's HTML 404 page, as a wrong path in BBB_URL gets.
async fn not_found() -> Response {
    html_error(StatusCode::NOT_FOUND)
}

async fn show_log(AxState(st): AxState<Arc<State>>) -> Response {
    let log = st.log.lock().unwrap_or_else(|e| e.into_inner()).join("\n");
    log.into_response()
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml;charset=utf-8")], body).into_response()
}

fn html_error(code: StatusCode) -> Response {
    let page = format!(
        "<html><head><title>{code}</title></head><body><center><h1>{code}</h1></center><hr><center>nginx</center></body></html>"
    );
    (code, [(header::CONTENT_TYPE, "text/html")], page).into_response()
}

fn failed(key: &str, msg: &str) -> Response {
    xml(format!(
        "<response><returncode>FAILED</returncode><messageKey>{key}</messageKey><message>{msg}</message></response>"
    ))
}

/// Checks the checksum of `call` the way BBB (`ParamsProcessorUtil.isChecksumSame`) and
/// Scalelite (`api_helper.rb`) do: on the raw query string minus the checksum parameter,
/// the algorithm chosen by the checksum's length among those enabled.
fn checksum_ok(st: &State, call: &str, raw: &str) -> bool {
    let Some(given) = url::form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "checksum")
        .map(|(_, v)| v.into_owned())
    else {
        return false;
    };
    let stripped = raw
        .replace(&format!("&checksum={given}"), "")
        .replace(&format!("checksum={given}&"), "")
        .replace(&format!("checksum={given}"), "");
    let allowed: Vec<String> = if st.opts.algorithms.is_empty() {
        match st.opts.mode {
            Mode::Scalelite => vec!["sha1".into(), "sha256".into(), "sha512".into()],
            _ => vec![
                "sha1".into(),
                "sha256".into(),
                "sha384".into(),
                "sha512".into(),
            ],
        }
    } else {
        st.opts.algorithms.clone()
    };
    let data = format!("{call}{stripped}{}", st.opts.secret);
    let (name, expected) = match given.len() {
        40 => ("sha1", hex::encode(Sha1::digest(data.as_bytes()))),
        64 => ("sha256", hex::encode(Sha256::digest(data.as_bytes()))),
        96 if st.opts.mode != Mode::Scalelite => {
            ("sha384", hex::encode(Sha384::digest(data.as_bytes())))
        }
        128 => ("sha512", hex::encode(Sha512::digest(data.as_bytes()))),
        _ => return false,
    };
    allowed.iter().any(|a| a == name) && expected.eq_ignore_ascii_case(&given)
}

fn list_param(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn wildcard(pat: &str, v: &str) -> bool {
    if pat.len() >= 2 && pat.starts_with('%') && pat.ends_with('%') {
        v.contains(&pat[1..pat.len() - 1])
    } else if let Some(p) = pat.strip_prefix('%') {
        v.ends_with(p)
    } else if let Some(p) = pat.strip_suffix('%') {
        v.starts_with(p)
    } else {
        v == pat
    }
}

fn matches(
    st: &State,
    r: &Rec,
    record_ids: &[String],
    meeting_ids: &[String],
    states: &[String],
    meta: &[(String, String)],
) -> bool {
    let sl = st.store.mode == Mode::Scalelite;
    let ids_ok = if sl {
        (record_ids.is_empty()
            || record_ids
                .iter()
                .any(|p| r.record_id.starts_with(p.as_str())))
            && (meeting_ids.is_empty() || meeting_ids.contains(&r.meeting_id))
    } else if !record_ids.is_empty() {
        record_ids
            .iter()
            .any(|p| r.record_id.starts_with(p.as_str()))
    } else if !meeting_ids.is_empty() {
        meeting_ids.iter().any(|m| {
            r.record_id
                .starts_with(&hex::encode(Sha1::digest(m.as_bytes())))
        })
    } else {
        true
    };
    let state_ok = if states.iter().any(|s| s == "any") {
        true
    } else if states.is_empty() {
        r.state == "published" || r.state == "unpublished"
    } else {
        states.contains(&r.state)
    };
    let meta_of = |k: &str| {
        r.metadata
            .iter()
            .find(|(mk, _)| mk == k)
            .map(|(_, v)| v.as_str())
    };
    let meta_ok = if meta.is_empty() {
        true
    } else if sl {
        // Scalelite ORs meta filters, exact match, comma lists as IN.
        meta.iter()
            .any(|(k, v)| meta_of(k).is_some_and(|mv| v.split(',').any(|x| x == mv)))
    } else {
        meta.iter()
            .all(|(k, v)| meta_of(&k.to_ascii_lowercase()).is_some_and(|mv| wildcard(v, mv)))
    };
    ids_ok && state_ok && meta_ok
}

async fn get_recordings(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    st.requests.fetch_add(1, Ordering::SeqCst);
    let raw = uri.query().unwrap_or("").to_string();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let shown: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "checksum")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        st.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(shown.join("&"));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    let (ok_body, err_resp) = match build(&st, &raw, &pairs, &base) {
        Ok(s) => (Some(s), None),
        Err(r) => (None, Some(r)),
    };
    if let Some(r) = st.fault(&uri, ok_body.as_deref().unwrap_or("")).await {
        return r;
    }
    match (ok_body, err_resp) {
        (Some(s), _) => xml(s),
        (None, r) => {
            let r = r.map_or_else(|| html_error(StatusCode::INTERNAL_SERVER_ERROR), |b| *b);
            if st.opts.slow_ms > 0 {
                tokio::time::sleep(Duration::from_millis(st.opts.slow_ms)).await;
            }
            r
        }
    }
}

/// The answer body, or a failure response (checksum, refused listing, oversized listing).
fn build(
    st: &State,
    raw: &str,
    pairs: &[(String, String)],
    base: &str,
) -> Result<String, Box<Response>> {
    if !checksum_ok(st, "getRecordings", raw) {
        return Ok(match st.store.mode {
            Mode::Scalelite => "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>Checksums do not match</message></response>".to_string(),
            _ => "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>You did not pass the checksum security check</message></response>".to_string(),
        });
    }
    let record_ids = list_param(pairs, "recordID");
    let meeting_ids = list_param(pairs, "meetingID");
    let states = list_param(pairs, "state");
    let meta: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("meta_").map(|m| (m.to_string(), v.clone())))
        .collect();
    let limit: Option<usize> = pairs
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .map(|l| l.clamp(1, 100));
    let offset: usize = pairs
        .iter()
        .find(|(k, _)| k == "offset")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let unfiltered = record_ids.is_empty() && meeting_ids.is_empty();
    let mode = st.store.mode;
    if mode == Mode::Scalelite && st.opts.filtered && unfiltered {
        return Err(Box::new(failed(
            "missingParameters",
            "param meetingID or recordID must be included.",
        )));
    }
    if mode == Mode::Bbb26 && st.opts.no_fetch_all && unfiltered && limit.is_none() {
        return Ok(empty(
            "No recordings found. This may occur if you attempt to retrieve all recordings.",
        ));
    }
    let mut found: Vec<&Rec> = st
        .store
        .recs
        .iter()
        .filter(|r| matches(st, r, &record_ids, &meeting_ids, &states, &meta))
        .collect();
    if mode == Mode::Scalelite {
        found.sort_by_key(|r| std::cmp::Reverse(r.start_ms));
    }
    if mode == Mode::Bbb22
        && let Some(max) = st.opts.max_listing
        && found.len() > max
    {
        return Err(Box::new(html_error(StatusCode::NOT_FOUND)));
    }
    let total = found.len();
    let page: Vec<&Rec> = match (mode, limit) {
        (Mode::Bbb26, Some(l)) => found.into_iter().skip(offset).take(l).collect(),
        _ => found,
    };
    if page.is_empty() && !(mode == Mode::Bbb26 && limit.is_some()) {
        return Ok(empty(if mode == Mode::Scalelite {
            "There are not recordings for the meetings"
        } else {
            "There are no recordings for the meeting(s)."
        }));
    }
    let mut out = String::with_capacity(2048 * page.len() + 256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n<returncode>SUCCESS</returncode>\n<recordings>\n");
    for r in page {
        st.store.render(r, base, st.opts.protected, &mut out);
    }
    out.push_str("</recordings>\n");
    if mode == Mode::Bbb26 && limit.is_some() {
        let _ = writeln!(out, "<totalElements>{total}</totalElements>");
    }
    out.push_str("</response>\n");
    Ok(out)
}

fn empty(msg: &str) -> String {
    format!(
        "<response><returncode>SUCCESS</returncode><recordings></recordings><messageKey>noRecordings</messageKey><message>{msg}</message></response>"
    )
}
