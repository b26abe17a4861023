//! The one HTTP layer: the client (API variant with a whole-request timeout, download
//! variant with a read timeout), the backoff, which statuses are worth a retry, clear
//! transport errors, and URLs with their secrets (checksum, token) masked for messages.

use std::time::Duration;
use url::Url;

/// Why a request failed, classified for retry and split decisions.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with this HTTP status.
    #[error("HTTP {status} from {url}")]
    Status { status: u16, url: String },
    /// No answer in time.
    #[error("timed out after {secs} s waiting for {url}")]
    Timeout { secs: u64, url: String },
    /// The TLS handshake failed (certificate, protocol).
    #[error("TLS failure talking to {url}: {msg}")]
    Tls { url: String, msg: String },
    /// Host unknown, refused, unreachable.
    #[error("cannot connect to {url}: {msg}")]
    Connect { url: String, msg: String },
    /// The body broke off (connection reset, truncated transfer).
    #[error("the answer of {url} broke off: {msg}")]
    Body { url: String, msg: String },
    /// A local failure (disk).
    #[error("{0}")]
    Local(String),
}

impl FetchError {
    /// Worth trying again: server overload, gateway errors, broken transfers, refused
    /// connections (a restarting server). TLS and DNS failures are not.
    pub fn is_transient(&self) -> bool {
        match self {
            // A BBB 2.2 listing that timed out comes back from nginx as HTTP 404.
            FetchError::Status { status, .. } => *status == 404 || is_transient_status(*status),
            FetchError::Timeout { .. } | FetchError::Body { .. } => true,
            FetchError::Connect { msg, .. } => !msg.contains("dns error"),
            FetchError::Tls { .. } | FetchError::Local(_) => false,
        }
    }

    /// Classifies a reqwest error.
    pub fn from_reqwest(e: &reqwest::Error, url: &str, timeout: Duration) -> FetchError {
        // reqwest's own message repeats the full URL (with its checksum): keep the causes only.
        let chain = match std::error::Error::source(e) {
            Some(src) => error_chain(src),
            None => "no details".to_string(),
        };
        let lower = chain.to_lowercase();
        let url = url.to_string();
        if e.is_timeout() {
            FetchError::Timeout {
                secs: timeout.as_secs(),
                url,
            }
        } else if [
            "certificate",
            "tls",
            "handshake",
            "corrupt message",
            "invalidcontenttype",
            "alert",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            FetchError::Tls { url, msg: chain }
        } else if e.is_connect() {
            FetchError::Connect { url, msg: chain }
        } else if let Some(s) = e.status() {
            FetchError::Status {
                status: s.as_u16(),
                url,
            }
        } else {
            FetchError::Body { url, msg: chain }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// Settings of the shared client.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Attempts after the first one on transient errors.
    pub retries: u32,
    /// First backoff delay; doubles each attempt.
    pub backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(300),
            retries: 2,
            backoff: Duration::from_millis(500),
        }
    }
}

/// HTTP statuses worth another try: request timeout, too early, too many requests,
/// server errors.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429 | 500..=599)
}

/// What every client shares: our user agent, a cookie jar (Scalelite's protected
/// recordings), a connect timeout of 20 s (or less).
fn builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("bbbmig/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20).min(connect_timeout))
        .cookie_store(true)
}

/// The client of API calls and pages: each request has `opts.timeout` in all.
pub fn client(opts: &HttpOptions) -> anyhow::Result<reqwest::Client> {
    Ok(builder(opts.timeout).timeout(opts.timeout).build()?)
}

/// The client of media downloads: no whole-request timeout (a large download may take
/// hours), but at most `read_timeout` without a byte.
pub fn download_client(read_timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(builder(Duration::MAX).read_timeout(read_timeout).build()?)
}

/// GETs `url` and spools the whole body into an anonymous temporary file, so a page is
/// checked complete before anything is parsed and memory stays flat whatever its size.
pub async fn get_to_file(
    client: &reqwest::Client,
    url: &Url,
    shown: &str,
    timeout: Duration,
) -> Result<std::fs::File, FetchError> {
    use futures_util::StreamExt;
    use std::io::{Seek, Write};
    let resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| FetchError::from_reqwest(&e, shown, timeout))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            status: status.as_u16(),
            url: shown.to_string(),
        });
    }
    let expected = resp.content_length();
    let file = tempfile::tempfile()
        .map_err(|e| FetchError::Local(format!("cannot create a temporary file: {e}")))?;
    let mut w = std::io::BufWriter::new(file);
    let mut got = 0u64;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FetchError::from_reqwest(&e, shown, timeout))?;
        got += chunk.len() as u64;
        w.write_all(&chunk)
            .map_err(|e| FetchError::Local(format!("cannot write a temporary file: {e}")))?;
    }
    if let Some(n) = expected {
        if n != got {
            return Err(FetchError::Body {
                url: shown.to_string(),
                msg: format!("got {got} of {n} bytes"),
            });
        }
    }
    let mut file = w
        .into_inner()
        .map_err(|e| FetchError::Local(format!("cannot write a temporary file: {e}")))?;
    file.rewind()
        .map_err(|e| FetchError::Local(e.to_string()))?;
    Ok(file)
}

/// Delay before retry `n` (1-based): `first` × 2^(n-1), doubling at most 10 times.
pub fn backoff(first: Duration, n: u32) -> Duration {
    first.saturating_mul(1 << (n.saturating_sub(1)).min(10))
}

/// A reqwest error without the URL its message would repeat (with its checksum or token):
/// callers name the URL with [`redact`].
pub fn without_url(e: reqwest::Error) -> anyhow::Error {
    anyhow::Error::new(e.without_url())
}

/// A URL without its user-info (`http://admin:pw@host/` gives `http://host/`): how a URL
/// is shown or stored anywhere (records, messages, `-vv` lines); requests keep it.
pub fn without_userinfo(u: &Url) -> Url {
    let mut u = u.clone();
    if !u.username().is_empty() || u.password().is_some() {
        // Only fails for URLs that cannot have user-info (no host): nothing to strip then.
        let _ = u.set_username("");
        let _ = u.set_password(None);
    }
    u
}

/// A URL given as text (perhaps not even a valid one) as it may be shown: user-info
/// stripped ([`without_userinfo`]); text that does not parse loses anything between
/// `//` and an `@`.
pub fn shown_url(s: &str) -> String {
    match Url::parse(s.trim()) {
        Ok(u) => without_userinfo(&u).to_string(),
        Err(_) => match (s.find("//"), s.rfind('@')) {
            (Some(a), Some(b)) if b > a => format!("{}{}", &s[..a + 2], &s[b + 1..]),
            _ => s.to_string(),
        },
    }
}

/// A URL as it may be printed: without user-info ([`without_userinfo`]), without its
/// `checksum` parameter (BBB API calls), the value of `token` (Scalelite's one-time
/// secrets) shown as `…`.
pub fn redact(u: &Url) -> String {
    let u = &without_userinfo(u);
    if !u
        .query_pairs()
        .any(|(k, _)| k == "checksum" || k == "token")
    {
        return u.to_string();
    }
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != "checksum")
        .map(|(k, v)| {
            let v = if k == "token" { "…".into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    let mut u = u.clone();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_other_urls_kept_as_they_are() {
        let api =
            Url::parse("https://h/api/getRecordings?meetingID=a%20b&checksum=SECRET").unwrap();
        assert_eq!(redact(&api), "https://h/api/getRecordings?meetingID=a+b");
        let bare = Url::parse("https://h/api/getRecordings?checksum=SECRET").unwrap();
        assert_eq!(redact(&bare), "https://h/api/getRecordings");
        let token = Url::parse("https://h/recording/x/video?token=SECRET&x=1").unwrap();
        assert_eq!(
            redact(&token),
            "https://h/recording/x/video?token=%E2%80%A6&x=1"
        );
        let plain = Url::parse("https://h/video/x/video-0.m4v?a=%20").unwrap();
        assert_eq!(redact(&plain), plain.as_str());
        let pw = Url::parse("http://admin:pw@h/api/x?checksum=S").unwrap();
        assert_eq!(redact(&pw), "http://h/api/x");
    }

    #[test]
    fn user_info_is_never_shown() {
        assert_eq!(shown_url("http://admin:pw@h/b/"), "http://h/b/");
        assert_eq!(shown_url("http://admin@h"), "http://h/");
        assert_eq!(shown_url("http://a:pw@[bad/x"), "http://[bad/x");
        assert_eq!(shown_url("not a url"), "not a url");
    }

    #[test]
    fn backoff_doubles_from_the_first_delay() {
        let first = Duration::from_millis(500);
        assert_eq!(backoff(first, 1), first);
        assert_eq!(backoff(first, 3), first * 4);
        assert_eq!(backoff(first, 40), first * 1024);
    }
}
