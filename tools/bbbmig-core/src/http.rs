//! The one HTTP client: timeouts, bounded retries with backoff, clear transport errors.

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
            FetchError::Status { status, .. } => {
                matches!(status, 404 | 408 | 425 | 429 | 500..=599)
            }
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

/// Builds the shared reqwest client (connect timeout 20 s, a cookie jar for Scalelite's
/// protected recordings, our user agent).
pub fn client(opts: &HttpOptions) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(concat!("bbbmig/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20).min(opts.timeout))
        .timeout(opts.timeout)
        .cookie_store(true)
        .build()?)
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

/// Delay before attempt `n` (1-based retry number): backoff × 2^(n-1).
pub fn backoff(opts: &HttpOptions, n: u32) -> Duration {
    opts.backoff
        .saturating_mul(1 << (n.saturating_sub(1)).min(10))
}
