//! What to do with one record: which playback to use, where its published files are,
//! and which method produces the video.

use super::{Method, Prefer};
use crate::http::redact;
use crate::record::Record;
use serde_json::Value;
use url::Url;

/// A presentation playback and the place of its published files.
#[derive(Debug, Clone)]
pub struct Presentation {
    /// The playback URL as listed (2.0 `playback.html?meetingId=ID`, 2.3 `/2.3/ID`, or a
    /// Scalelite token URL).
    pub url: Url,
    /// `scheme://host/presentation/ID/`: where the published files are.
    pub files: Url,
    /// The recording ID taken from the URL (checked: letters, digits, `-`, `_`).
    pub id: String,
    /// Scalelite protected recording: the one-time token URL to visit first.
    pub token_url: Option<Url>,
    /// Listed length in minutes, when known.
    pub length_min: Option<u64>,
}

/// The chosen way to produce the video.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Download the video format at this URL (page, media file or token URL).
    Download { url: Url, length_min: Option<u64> },
    /// Render the presentation natively.
    Render(Presentation),
    /// Play the presentation with bbb-recorder.
    Recorder(Presentation),
}

impl Plan {
    /// The method name written in `video.method`.
    pub fn method(&self) -> Method {
        match self {
            Plan::Download { .. } => Method::Download,
            Plan::Render(_) => Method::Render,
            Plan::Recorder(_) => Method::BbbRecorder,
        }
    }

    /// The URL shown in dry runs and messages, token removed.
    pub fn shown_url(&self) -> String {
        match self {
            Plan::Download { url, .. } => redact(url),
            Plan::Render(p) | Plan::Recorder(p) => redact(&p.url),
        }
    }
}

/// One playback entry of the record: (type, url, length in minutes).
fn playbacks(rec: &Record) -> anyhow::Result<Vec<(String, String, Option<u64>)>> {
    let mut out = Vec::new();
    match rec.0.get("playback") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for p in items {
                let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
                let url = p.get("url").and_then(Value::as_str).unwrap_or("").trim();
                if !kind.is_empty() && !url.is_empty() {
                    let len = p.get("length_min").and_then(Value::as_u64);
                    out.push((kind.to_string(), url.to_string(), len));
                }
            }
        }
        Some(_) => anyhow::bail!("field playback must be an array"),
    }
    for (kind, key) in [("video", "video_url"), ("presentation", "presentation_url")] {
        if !out.iter().any(|(k, _, _)| k == kind) {
            if let Some(u) = rec.str_field(key)?.filter(|u| !u.trim().is_empty()) {
                out.push((kind.to_string(), u.trim().to_string(), None));
            }
        }
    }
    Ok(out)
}

fn parse_url(s: &str) -> anyhow::Result<Url> {
    let u = Url::parse(s).map_err(|e| anyhow::anyhow!("bad playback URL {s:?}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        anyhow::bail!("playback URL {s:?} is not an http(s) URL");
    }
    Ok(u)
}

/// True for recording IDs safe in a URL path and a file name.
pub fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Finds the published files of a presentation playback URL: the ID from
/// `meetingId=` (2.0/0.9), the last path segment (2.3), or `/recording/ID/presentation`
/// (Scalelite token URL); the files are at `scheme://host/presentation/ID/`.
pub fn presentation(url: &str, length_min: Option<u64>) -> anyhow::Result<Presentation> {
    let u = parse_url(url)?;
    let segs: Vec<&str> = u.path_segments().map(|s| s.collect()).unwrap_or_default();
    let token = u.query_pairs().any(|(k, _)| k == "token");
    let id = if let Some((_, v)) = u.query_pairs().find(|(k, _)| k == "meetingId") {
        v.into_owned()
    } else if segs.first() == Some(&"recording") && segs.len() >= 3 {
        segs[1].to_string()
    } else if segs.starts_with(&["playback", "presentation"]) && segs.len() >= 4 {
        segs[3].to_string()
    } else {
        anyhow::bail!("unrecognised presentation playback URL {}", redact(&u));
    };
    if !safe_id(&id) {
        anyhow::bail!("unsafe recording ID {id:?} in {}", redact(&u));
    }
    let mut files = u.clone();
    files.set_query(None);
    files.set_fragment(None);
    files.set_path(&format!("/presentation/{id}/"));
    Ok(Presentation {
        token_url: token.then(|| u.clone()),
        url: u,
        files,
        id,
        length_min,
    })
}

/// Chooses what to do with a record. `recorder` says whether `--bbb-recorder` was given.
pub fn choose(
    rec: &Record,
    method: Method,
    prefer: Prefer,
    recorder: bool,
) -> anyhow::Result<Plan> {
    let pb = playbacks(rec)?;
    let video = pb.iter().find(|(k, _, _)| k == "video");
    let pres = pb.iter().find(|(k, _, _)| k == "presentation");
    if pb.is_empty() {
        let state = rec.str_field("state").ok().flatten().unwrap_or("unknown");
        anyhow::bail!("the recording has no playback URL (state {state}): nothing to record");
    }
    let render_or =
        |p: &(String, String, Option<u64>), use_recorder: bool| -> anyhow::Result<Plan> {
            let pres = presentation(&p.1, p.2)?;
            Ok(if use_recorder {
                Plan::Recorder(pres)
            } else {
                Plan::Render(pres)
            })
        };
    match method {
        Method::Download | Method::Auto if video.is_some() => {
            let (_, u, len) = video.expect("checked");
            Ok(Plan::Download {
                url: parse_url(u)?,
                length_min: *len,
            })
        }
        Method::Download => anyhow::bail!(
            "the recording has no video format to download (use --method render or bbb-recorder)"
        ),
        Method::Auto | Method::Render | Method::BbbRecorder => {
            let Some(p) = pres else {
                let kinds: Vec<&str> = pb.iter().map(|(k, _, _)| k.as_str()).collect();
                anyhow::bail!(
                    "the recording has no presentation format to render (formats: {})",
                    kinds.join(", ")
                );
            };
            let use_recorder = match method {
                Method::BbbRecorder => true,
                Method::Render => false,
                _ => prefer == Prefer::BbbRecorder && recorder,
            };
            render_or(p, use_recorder)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Record {
        Record(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn presentation_urls_of_every_form_give_the_files_base() {
        let id = "0123456789abcdef0123456789abcdef01234567-1530718721134";
        for u in [
            format!("https://h.example/playback/presentation/2.0/playback.html?meetingId={id}"),
            format!("https://h.example/playback/presentation/2.3/{id}"),
            format!("https://h.example/recording/{id}/presentation?token=abc"),
        ] {
            let p = presentation(&u, None).unwrap();
            assert_eq!(p.id, id);
            assert_eq!(
                p.files.as_str(),
                format!("https://h.example/presentation/{id}/")
            );
        }
        assert!(presentation("https://h/playback/presentation/2.3/..%2F..", None).is_err());
        assert!(presentation("https://h/elsewhere", None).is_err());
    }

    #[test]
    fn auto_prefers_video_then_presentation() {
        let both = rec(
            r#"{"record_id":"r","playback":[{"type":"presentation","url":"https://h/playback/presentation/2.3/r-1"},{"type":"video","url":"https://h/playback/video/r-1/","length_min":3}]}"#,
        );
        assert!(matches!(
            choose(&both, Method::Auto, Prefer::Native, false).unwrap(),
            Plan::Download { .. }
        ));
        let pres = rec(
            r#"{"record_id":"r","presentation_url":"https://h/playback/presentation/2.3/r-1"}"#,
        );
        assert!(matches!(
            choose(&pres, Method::Auto, Prefer::Native, false).unwrap(),
            Plan::Render(_)
        ));
        assert!(matches!(
            choose(&pres, Method::Auto, Prefer::BbbRecorder, true).unwrap(),
            Plan::Recorder(_)
        ));
        assert!(choose(&pres, Method::Download, Prefer::Native, false).is_err());
        let none = rec(r#"{"record_id":"r","playback":[]}"#);
        assert!(choose(&none, Method::Auto, Prefer::Native, false).is_err());
    }

    #[test]
    fn tokens_are_redacted() {
        let u = Url::parse("https://h/recording/x/video?token=SECRET").unwrap();
        assert!(!redact(&u).contains("SECRET"));
    }
}
