//! Before listing: the API root and a listing that matches nothing must answer like a BBB API.

use super::api::Api;
use super::xml;
use crate::error::fatal;
use crate::http::{self, FetchError, HttpOptions, redact};
use anyhow::anyhow;
use std::io::{BufReader, Read};

/// A recordID no recording has (not hexadecimal): its listing is empty on every server.
pub const PROBE_RECORD_ID: &str = "bbbmig-probe";

/// What the server must have shown before a failing listing may be split on HTTP 404.
///
/// Asks the API root (no checksum: BBB and Scalelite answer `<response><returncode>SUCCESS`)
/// and a getRecordings that matches nothing (checks the secret and the checksum algorithm).
/// A wrong path in the URL, an HTML page, a refused checksum or a fault that lasts through
/// the retries ends here, with the URL tried.
pub async fn probe(
    api: &Api,
    client: &reqwest::Client,
    opts: &HttpOptions,
    listing: &[(String, String)],
) -> anyhow::Result<()> {
    // BBB maps the root without the last slash; Scalelite answers both.
    let with_slash = api.base().clone();
    let mut bare = with_slash.clone();
    bare.set_path(with_slash.path().trim_end_matches('/'));
    let what = "the API root";
    let body = match fetch(client, opts, &bare, &redact(&bare), what).await {
        Err(FetchError::Status { status: 404, .. }) => {
            fetch(client, opts, &with_slash, &redact(&with_slash), what).await
        }
        other => other,
    }
    .map_err(|e| failed(what, &e))?;
    if !is_api_root(&body) {
        return Err(not_an_api(
            api,
            &format!(
                "not <response><returncode>SUCCESS</returncode>… but: {}",
                excerpt(&body)
            ),
        ));
    }
    let pairs: Vec<(&str, &str)> = listing
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let url = api.url("getRecordings", &pairs);
    let shown = redact(&url);
    let body = fetch(client, opts, &url, &shown, "getRecordings")
        .await
        .map_err(|e| failed("getRecordings", &e))?;
    let env = xml::parse(BufReader::new(body.as_bytes()), |_, _| Ok(())).map_err(|e| {
        fatal(anyhow!(
            "{shown} is not a BBB getRecordings answer ({e:#}): {}",
            excerpt(&body)
        ))
    })?;
    if !env.success() {
        return Err(super::list::refused(&env));
    }
    log::debug!(
        "the API root and an empty listing answered: {}",
        redact(api.base())
    );
    Ok(())
}

/// GETs `url` (at most 1 MiB kept), retrying transient failures; HTTP 404 is final here.
async fn fetch(
    client: &reqwest::Client,
    opts: &HttpOptions,
    url: &url::Url,
    shown: &str,
    what: &str,
) -> Result<String, FetchError> {
    let mut attempt = 0;
    loop {
        log::debug!("GET {shown}");
        let err = match http::get_to_file(client, url, shown, opts.timeout).await {
            Ok(file) => {
                let mut body = String::new();
                return match file.take(1 << 20).read_to_string(&mut body) {
                    Ok(_) => Ok(body),
                    Err(e) => Err(FetchError::Local(format!(
                        "{shown} sent an unreadable answer: {e}"
                    ))),
                };
            }
            Err(e) => e,
        };
        let not_found = matches!(err, FetchError::Status { status: 404, .. });
        if not_found || !err.is_transient() || attempt >= opts.retries {
            return Err(err);
        }
        attempt += 1;
        log::warn!("{what} failed ({err}); retrying");
        tokio::time::sleep(http::backoff(opts.backoff, attempt)).await;
    }
}

/// The fatal error of a probe that failed, with a hint on HTTP 404.
fn failed(what: &str, err: &FetchError) -> anyhow::Error {
    let hint = if matches!(err, FetchError::Status { status: 404, .. }) {
        ": the URL's path is not a BBB API; give https://HOST/bigbluebutton/api/ (or https://HOST/)"
    } else {
        ""
    };
    fatal(anyhow!("{what} failed: {err}{hint}"))
}

/// The API root's answer: `<response><returncode>SUCCESS</returncode>…</response>`.
fn is_api_root(body: &str) -> bool {
    let t = body.trim_start_matches('\u{feff}').trim();
    let t = match t.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim_start(),
        None => t,
    };
    t.starts_with("<response>") && t.contains("<returncode>SUCCESS</returncode>")
}

fn not_an_api(api: &Api, what: &str) -> anyhow::Error {
    fatal(anyhow!(
        "{} is not a BBB API: its answer is {what}; give https://HOST/bigbluebutton/api/ (or https://HOST/)",
        redact(api.base())
    ))
}

/// The first 80 characters of an answer, on one line.
fn excerpt(body: &str) -> String {
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = one.chars().take(80).collect();
    if one.chars().count() > 80 {
        s.push('…');
    }
    if s.is_empty() { "(empty)".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_roots_of_bbb_and_scalelite_and_not_html() {
        assert!(is_api_root(
            "<response><returncode>SUCCESS</returncode><version>2.0</version></response>"
        ));
        assert!(is_api_root(
            "<?xml version=\"1.0\"?>\n<response>\n<returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion/></response>"
        ));
        assert!(!is_api_root(
            "<html><body><h1>Welcome to nginx!</h1></body></html>"
        ));
        assert!(!is_api_root(""));
        assert_eq!(excerpt("  a\n  b "), "a b");
        assert_eq!(excerpt(""), "(empty)");
    }
}
