//! A parsed recording turned into the NDJSON record that `bbb-list` emits (PRODUCT.md contract).

use super::xml::Recording;
use crate::record::Record;
use crate::timefmt::rfc3339_from_ms;
use serde_json::{Map, Value, json};
use url::Url;

/// How presentation playback links are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlaybackForm {
    /// As the server sent them.
    #[default]
    #[value(name = "2.0")]
    AsIs,
    /// 2.0-style `playback.html?meetingId=ID` links become `/playback/presentation/2.3/ID`.
    #[value(name = "2.3")]
    V23,
}

/// The state a recording is listed under: `available` (video/screenshare formats) counts
/// as published, as Scalelite does.
pub fn effective_state(r: &Recording) -> String {
    match r.state.as_deref() {
        Some("available") => "published".to_string(),
        Some(s) => s.to_string(),
        None if r.published == Some(true) => "published".to_string(),
        None if r.published == Some(false) => "unpublished".to_string(),
        None => "unknown".to_string(),
    }
}

/// The value of a metadata key, if the server sent it.
pub fn meta<'a>(r: &'a Recording, key: &str) -> Option<&'a str> {
    r.metadata
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Rewrites a 2.0/0.9.0-style presentation link (`…/playback.html?meetingId=ID`) to the
/// 2.3 form (`/playback/presentation/2.3/ID`) on the same host.
pub fn presentation_23(link: &str) -> String {
    let Ok(mut u) = Url::parse(link) else {
        return link.to_string();
    };
    if !u.path().starts_with("/playback/presentation/") || !u.path().ends_with("playback.html") {
        return link.to_string();
    }
    let Some(id) = u
        .query_pairs()
        .find(|(k, _)| k == "meetingId")
        .map(|(_, v)| v.into_owned())
    else {
        return link.to_string();
    };
    u.set_path(&format!("/playback/presentation/2.3/{id}"));
    u.set_query(None);
    u.to_string()
}

/// Builds the record: contract keys first, in the order PRODUCT.md lists them.
pub fn to_record(r: &Recording, server: Option<&str>, form: PlaybackForm) -> Record {
    let mut m = Map::new();
    let meta_map: Map<String, Value> = r
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let is_breakout = r
        .is_breakout
        .or_else(|| meta(r, "isBreakout").and_then(|v| v.parse().ok()))
        .unwrap_or(false);
    let parent = if is_breakout {
        r.breakout_parent
            .clone()
            .filter(|p| p != "unknown" && !p.is_empty())
    } else {
        None
    };
    let state = effective_state(r);
    let playback: Vec<Value> = r
        .formats
        .iter()
        .map(|f| {
            let url = if f.kind == "presentation" && form == PlaybackForm::V23 {
                presentation_23(&f.url)
            } else {
                f.url.clone()
            };
            json!({
                "type": f.kind,
                "url": url,
                "length_min": f.length_min,
                "processing_time_ms": f.processing_time_ms,
                "size": f.size,
                "preview_images": f.preview_images.iter().map(|i| json!({
                    "url": i.url, "width": i.width, "height": i.height, "alt": i.alt,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let url_of = |kind: &str| {
        playback
            .iter()
            .find(|p| p["type"] == kind)
            .and_then(|p| p["url"].as_str())
            .filter(|u| !u.is_empty())
            .map(String::from)
    };
    let presentation_url = url_of("presentation");
    let video_url = url_of("video");
    let source_url = video_url.clone().or_else(|| presentation_url.clone());
    let name = r
        .name
        .clone()
        .or_else(|| meta(r, "meetingName").map(String::from));

    m.insert("record_id".into(), json!(r.record_id));
    m.insert(
        "meeting_id".into(),
        json!(
            r.meeting_id
                .clone()
                .or_else(|| meta(r, "meetingId").map(String::from))
        ),
    );
    m.insert(
        "internal_meeting_id".into(),
        json!(
            r.internal_meeting_id
                .clone()
                .unwrap_or_else(|| r.record_id.clone())
        ),
    );
    m.insert("name".into(), json!(name));
    m.insert("state".into(), json!(state));
    m.insert(
        "published".into(),
        json!(r.published.unwrap_or(state == "published")),
    );
    m.insert(
        "start_time".into(),
        json!(r.start_time.and_then(rfc3339_from_ms)),
    );
    m.insert(
        "end_time".into(),
        json!(r.end_time.and_then(rfc3339_from_ms)),
    );
    m.insert("start_time_ms".into(), json!(r.start_time));
    m.insert("end_time_ms".into(), json!(r.end_time));
    m.insert("participants".into(), json!(r.participants));
    m.insert("is_breakout".into(), json!(is_breakout));
    m.insert("parent_meeting_id".into(), json!(parent));
    m.insert("breakout_rooms".into(), json!(r.breakout_rooms));
    m.insert("raw_size".into(), json!(r.raw_size));
    m.insert("size".into(), json!(r.size));
    m.insert("protected".into(), json!(r.protected.unwrap_or(false)));
    m.insert("metadata".into(), Value::Object(meta_map));
    m.insert("playback".into(), Value::Array(playback));
    m.insert("presentation_url".into(), json!(presentation_url));
    m.insert("video_url".into(), json!(video_url));
    m.insert("source_url".into(), json!(source_url));
    m.insert("server".into(), json!(server));
    m.insert(
        "origin_server".into(),
        json!(meta(r, "bbb-origin-server-name").filter(|s| !s.is_empty())),
    );
    Record(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbb::xml::Format;

    #[test]
    fn presentation_links_rewritten_to_23() {
        assert_eq!(
            presentation_23(
                "https://h.example/playback/presentation/2.0/playback.html?meetingId=abc-123"
            ),
            "https://h.example/playback/presentation/2.3/abc-123"
        );
        assert_eq!(
            presentation_23(
                "https://h.example/playback/presentation/0.9.0/playback.html?meetingId=abc-1"
            ),
            "https://h.example/playback/presentation/2.3/abc-1"
        );
        let v23 = "https://h.example/playback/presentation/2.3/abc-1";
        assert_eq!(presentation_23(v23), v23);
        assert_eq!(presentation_23("not a url"), "not a url");
    }

    #[test]
    fn source_url_prefers_video_and_breakout_parent_needs_is_breakout() {
        let r = Recording {
            record_id: "r-1".into(),
            state: Some("available".into()),
            breakout_parent: Some("unknown".into()),
            metadata: vec![("bbb-origin-server-name".into(), "moodle.x".into())],
            formats: vec![
                Format {
                    kind: "presentation".into(),
                    url: "https://h/p".into(),
                    ..Default::default()
                },
                Format {
                    kind: "video".into(),
                    url: "https://h/v/".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let rec = to_record(&r, Some("https://h/bigbluebutton/api/"), PlaybackForm::AsIs);
        assert_eq!(rec.0["state"], "published");
        assert_eq!(rec.0["source_url"], "https://h/v/");
        assert_eq!(rec.0["presentation_url"], "https://h/p");
        assert_eq!(rec.0["parent_meeting_id"], Value::Null);
        assert_eq!(rec.0["origin_server"], "moodle.x");
        assert_eq!(rec.0["internal_meeting_id"], "r-1");
    }
}
