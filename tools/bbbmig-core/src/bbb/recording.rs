//! A parsed recording turned into the NDJSON record that `bbb-list` emits (PRODUCT.md contract).

use super::xml::Recording;
use crate::record::Record;
use crate::timefmt::rfc3339_from_ms;
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

/// A recording state `bbb-list --state` asks for (BBB's getRecordings `state` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum State {
    /// Being processed.
    Processing,
    /// Processed, not yet published.
    Processed,
    /// Published (Scalelite's `available` counts as published).
    Published,
    /// Unpublished.
    Unpublished,
    /// Deleted.
    Deleted,
    /// Every state.
    Any,
}

impl State {
    /// The name BBB uses (and the API's `state` parameter takes).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Processing => "processing",
            State::Processed => "processed",
            State::Published => "published",
            State::Unpublished => "unpublished",
            State::Deleted => "deleted",
            State::Any => "any",
        }
    }

    /// The names of these states, in order.
    pub fn names(states: &[State]) -> Vec<String> {
        states.iter().map(|s| s.as_str().to_string()).collect()
    }
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

/// The record as serde writes it: contract keys in the order PRODUCT.md lists them,
/// serialized straight from the parsed recording (no intermediate JSON tree).
#[derive(serde::Serialize)]
struct Out<'a> {
    record_id: &'a str,
    meeting_id: Option<&'a str>,
    internal_meeting_id: &'a str,
    name: Option<&'a str>,
    state: String,
    published: bool,
    start_time: Option<String>,
    end_time: Option<String>,
    start_time_ms: Option<i64>,
    end_time_ms: Option<i64>,
    participants: Option<i64>,
    is_breakout: bool,
    parent_meeting_id: Option<&'a str>,
    breakout_rooms: &'a [String],
    raw_size: Option<i64>,
    size: Option<i64>,
    protected: bool,
    metadata: Meta<'a>,
    playback: Vec<Playback<'a>>,
    presentation_url: Option<String>,
    video_url: Option<String>,
    source_url: Option<String>,
    server: Option<&'a str>,
    origin_server: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct Playback<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    url: std::borrow::Cow<'a, str>,
    length_min: Option<i64>,
    processing_time_ms: Option<i64>,
    size: Option<i64>,
    preview_images: Vec<Preview<'a>>,
}

#[derive(serde::Serialize)]
struct Preview<'a> {
    url: &'a str,
    width: Option<i64>,
    height: Option<i64>,
    alt: Option<&'a str>,
}

/// Metadata as a JSON object in server order; a repeated key keeps its first value.
struct Meta<'a>(&'a [(String, String)]);

impl serde::Serialize for Meta<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(None)?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if self.0[..i].iter().all(|(k2, _)| k2 != k) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

fn out<'a>(r: &'a Recording, server: Option<&'a str>, form: PlaybackForm) -> Out<'a> {
    let is_breakout = r
        .is_breakout
        .or_else(|| meta(r, "isBreakout").and_then(|v| v.parse().ok()))
        .unwrap_or(false);
    let parent = if is_breakout {
        r.breakout_parent
            .as_deref()
            .filter(|p| *p != "unknown" && !p.is_empty())
    } else {
        None
    };
    let state = effective_state(r);
    let playback: Vec<Playback<'a>> = r
        .formats
        .iter()
        .map(|f| Playback {
            kind: &f.kind,
            url: if f.kind == "presentation" && form == PlaybackForm::V23 {
                std::borrow::Cow::Owned(presentation_23(&f.url))
            } else {
                std::borrow::Cow::Borrowed(&f.url)
            },
            length_min: f.length_min,
            processing_time_ms: f.processing_time_ms,
            size: f.size,
            preview_images: f
                .preview_images
                .iter()
                .map(|i| Preview {
                    url: &i.url,
                    width: i.width,
                    height: i.height,
                    alt: i.alt.as_deref(),
                })
                .collect(),
        })
        .collect();
    let url_of = |kind: &str| -> Option<String> {
        playback
            .iter()
            .find(|p| p.kind == kind && !p.url.is_empty())
            .map(|p| p.url.to_string())
    };
    let presentation_url = url_of("presentation");
    let video_url = url_of("video");
    let source_url = video_url.clone().or_else(|| presentation_url.clone());
    Out {
        record_id: &r.record_id,
        meeting_id: r.meeting_id.as_deref().or_else(|| meta(r, "meetingId")),
        internal_meeting_id: r.internal_meeting_id.as_deref().unwrap_or(&r.record_id),
        name: r.name.as_deref().or_else(|| meta(r, "meetingName")),
        published: r.published.unwrap_or(state == "published"),
        state,
        start_time: r.start_time.and_then(rfc3339_from_ms),
        end_time: r.end_time.and_then(rfc3339_from_ms),
        start_time_ms: r.start_time,
        end_time_ms: r.end_time,
        participants: r.participants,
        is_breakout,
        parent_meeting_id: parent,
        breakout_rooms: &r.breakout_rooms,
        raw_size: r.raw_size,
        size: r.size,
        protected: r.protected.unwrap_or(false),
        metadata: Meta(&r.metadata),
        playback,
        presentation_url,
        video_url,
        source_url,
        server,
        origin_server: meta(r, "bbb-origin-server-name").filter(|s| !s.is_empty()),
    }
}

/// Writes the record as one JSON line (with its newline) into `buf`.
pub fn write_json(
    r: &Recording,
    server: Option<&str>,
    form: PlaybackForm,
    buf: &mut Vec<u8>,
) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *buf, &out(r, server, form))?;
    buf.push(b'\n');
    Ok(())
}

/// The record as a [`Record`] (same keys and order as [`write_json`]).
pub fn to_record(r: &Recording, server: Option<&str>, form: PlaybackForm) -> Record {
    match serde_json::to_value(out(r, server, form)) {
        Ok(serde_json::Value::Object(m)) => Record(m),
        _ => Record::new(),
    }
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
        assert!(rec.0["parent_meeting_id"].is_null());
        assert_eq!(rec.0["origin_server"], "moodle.x");
        assert_eq!(rec.0["internal_meeting_id"], "r-1");
    }
}
