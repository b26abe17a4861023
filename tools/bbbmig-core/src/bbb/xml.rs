//! Streaming parser of getRecordings responses (BBB 0.9 to 3.x and Scalelite) with quick-xml.

use super::capped::{Capped, MAX_XML_RUN};
use anyhow::{Context, bail};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use std::io::BufRead;

/// One `<recording>` as the server described it; every field optional but the id.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recording {
    pub record_id: String,
    pub meeting_id: Option<String>,
    pub internal_meeting_id: Option<String>,
    pub name: Option<String>,
    pub is_breakout: Option<bool>,
    pub published: Option<bool>,
    pub state: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub participants: Option<i64>,
    pub raw_size: Option<i64>,
    pub size: Option<i64>,
    pub protected: Option<bool>,
    /// Metadata in server order, values trimmed.
    pub metadata: Vec<(String, String)>,
    pub breakout_parent: Option<String>,
    pub breakout_sequence: Option<i64>,
    pub breakout_rooms: Vec<String>,
    pub formats: Vec<Format>,
}

/// One playback `<format>`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Format {
    pub kind: String,
    pub url: String,
    pub processing_time_ms: Option<i64>,
    pub length_min: Option<i64>,
    pub size: Option<i64>,
    pub preview_images: Vec<Image>,
}

/// A preview `<image>`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Image {
    pub url: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub alt: Option<String>,
}

/// The response-level fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Envelope {
    pub returncode: Option<String>,
    pub message_key: Option<String>,
    pub message: Option<String>,
    /// Present only on paginated responses (BBB ≥ 2.6).
    pub total_elements: Option<u64>,
    /// Number of `<recording>` elements seen.
    pub recordings: u64,
}

impl Envelope {
    /// True for `<returncode>SUCCESS</returncode>`.
    pub fn success(&self) -> bool {
        self.returncode
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("SUCCESS"))
    }
}

/// Byte range of one `<recording>…</recording>` element in the input.
pub type Span = (u64, u64);

/// Parses a getRecordings response, calling `on_recording` for each recording as soon as its
/// element closes. Memory does not grow with the number of recordings.
pub fn parse<R: BufRead>(
    input: R,
    mut on_recording: impl FnMut(Recording, Span) -> anyhow::Result<()>,
) -> anyhow::Result<Envelope> {
    let mut reader = Reader::from_reader(Capped::new(input, MAX_XML_RUN));
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    // The element path as "/response/recordings/recording/playback/format/type", with the
    // length before each element: no allocation per event once warmed up.
    let mut path = String::new();
    let mut lens: Vec<usize> = Vec::new();
    let mut text = String::new();
    let mut env = Envelope::default();
    let mut rec_base: Option<usize> = None;
    let mut rec = Recording::default();
    let mut rec_start = 0u64;
    let mut format: Option<Format> = None;
    let mut image: Option<Image> = None;
    let mut seen_root = false;
    loop {
        buf.clear();
        let before = reader.buffer_position();
        let ev = reader
            .read_event_into(&mut buf)
            .with_context(|| format!("malformed XML at byte {}", reader.error_position()))?;
        let (start, end) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            Event::End(_) => (None, true),
            Event::Text(t) => {
                if rec_base.is_some() || lens.len() <= 2 {
                    text.push_str(&t.xml_content().context("bad text encoding")?);
                }
                (None, false)
            }
            Event::CData(c) => {
                text.push_str(&c.decode().context("bad CDATA encoding")?);
                (None, false)
            }
            Event::GeneralRef(r) => {
                if let Some(ch) = r.resolve_char_ref()? {
                    text.push(ch);
                } else {
                    let name = r.decode().context("bad entity")?;
                    match resolve_predefined_entity(&name) {
                        Some(v) => text.push_str(v),
                        None => bail!("unknown XML entity &{name};"),
                    }
                }
                (None, false)
            }
            Event::Eof => break,
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = std::str::from_utf8(e.local_name().into_inner())
                .context("element name is not UTF-8")?;
            if !seen_root {
                if name != "response" {
                    bail!("not a BBB API response: the root element is <{name}>, not <response>");
                }
                seen_root = true;
            }
            text.clear();
            let is_recording =
                name == "recording" && rec_base.is_none() && path.ends_with("/recordings");
            lens.push(path.len());
            path.push('/');
            path.push_str(name);
            if is_recording {
                rec_base = Some(path.len());
                rec = Recording::default();
                rec_start = before;
            }
            if let Some(base) = rec_base {
                match &path[base..] {
                    "/playback/format" => format = Some(Format::default()),
                    "/playback/format/preview/images/image" => image = Some(image_attrs(e)?),
                    _ => {}
                }
            }
        }
        if end {
            let value = text.trim();
            match rec_base {
                None => {
                    let v = || Some(value.to_string());
                    match path.as_str() {
                        "/response/returncode" => env.returncode = v(),
                        "/response/messageKey" => env.message_key = v(),
                        "/response/message" => env.message = v(),
                        "/response/totalElements" => env.total_elements = value.parse().ok(),
                        _ => {}
                    }
                }
                Some(base) => {
                    let rel = &path[base..];
                    let mut parts = rel[1.min(rel.len())..].split('/');
                    match (parts.next().unwrap_or(""), parts.next(), parts.next()) {
                        ("", None, None) => {
                            if rec.record_id.is_empty() {
                                bail!("a <recording> without <recordID> (byte {before})");
                            }
                            env.recordings += 1;
                            on_recording(
                                std::mem::take(&mut rec),
                                (rec_start, reader.buffer_position()),
                            )?;
                            rec_base = None;
                        }
                        (field, None, None) => set_field(&mut rec, field, value),
                        ("metadata", Some(key), None) => {
                            rec.metadata.push((key.to_string(), value.to_string()))
                        }
                        ("breakout", Some("parentId"), None) => {
                            rec.breakout_parent = non_empty(value)
                        }
                        ("breakout", Some("sequence"), None) => {
                            rec.breakout_sequence = value.parse().ok()
                        }
                        ("breakoutRooms", Some("breakoutRoom"), None) => {
                            if !value.is_empty() {
                                rec.breakout_rooms.push(value.to_string());
                            }
                        }
                        ("playback", Some("format"), None) => {
                            if let Some(f) = format.take() {
                                rec.formats.push(f);
                            }
                        }
                        ("playback", Some("format"), Some(field)) if parts.next().is_none() => {
                            if let Some(f) = format.as_mut() {
                                match field {
                                    "type" => f.kind = value.to_string(),
                                    "url" => f.url = value.to_string(),
                                    "processingTime" => f.processing_time_ms = value.parse().ok(),
                                    "length" => f.length_min = value.parse().ok(),
                                    "size" => f.size = value.parse().ok(),
                                    _ => {}
                                }
                            }
                        }
                        _ if rel == "/playback/format/preview/images/image" => {
                            if let (Some(f), Some(mut img)) = (format.as_mut(), image.take()) {
                                img.url = value.to_string();
                                f.preview_images.push(img);
                            }
                        }
                        _ => {}
                    }
                }
            }
            text.clear();
            if let Some(l) = lens.pop() {
                path.truncate(l);
            }
        }
    }
    if !seen_root {
        bail!("empty response: no XML element");
    }
    if !lens.is_empty() {
        bail!("truncated response: {path} is not closed");
    }
    if env.returncode.is_none() {
        bail!("not a BBB API response: no <returncode>");
    }
    Ok(env)
}

fn image_attrs(e: &BytesStart<'_>) -> anyhow::Result<Image> {
    let mut img = Image::default();
    for a in e.attributes() {
        let a = a?;
        let v = a.unescape_value()?.trim().to_string();
        match a.key.local_name().as_ref() {
            b"width" => img.width = v.parse().ok(),
            b"height" => img.height = v.parse().ok(),
            b"alt" => img.alt = non_empty(&v),
            _ => {}
        }
    }
    Ok(img)
}

fn non_empty(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

fn bool_of(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn set_field(rec: &mut Recording, field: &str, v: &str) {
    match field {
        "recordID" => rec.record_id = v.to_string(),
        "meetingID" => rec.meeting_id = non_empty(v),
        "internalMeetingID" => rec.internal_meeting_id = non_empty(v),
        "name" => rec.name = Some(v.to_string()),
        "isBreakout" => rec.is_breakout = bool_of(v),
        "published" => rec.published = bool_of(v),
        "state" => rec.state = non_empty(v),
        "startTime" => rec.start_time = v.parse().ok(),
        "endTime" => rec.end_time = v.parse().ok(),
        "participants" => rec.participants = v.parse().ok(),
        "rawSize" => rec.raw_size = v.parse().ok(),
        "size" => rec.size = v.parse().ok(),
        "protected" => rec.protected = bool_of(v),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(xml: &str) -> anyhow::Result<(Envelope, Vec<Recording>)> {
        let mut v = Vec::new();
        let env = parse(xml.as_bytes(), |r, _| {
            v.push(r);
            Ok(())
        })?;
        Ok((env, v))
    }

    #[test]
    fn cdata_whitespace_entities_and_any_order() {
        let xml = r#"<?xml version="1.0"?>
<response><returncode>SUCCESS</returncode><recordings><recording>
  <state> published </state><recordID>
     abc-1</recordID><name><![CDATA[Cours & TD]]></name>
  <meetingID>m&amp;1</meetingID><unknown><deep>x</deep></unknown>
  <metadata><empty/><e2></e2><e3><![CDATA[]]></e3><bbb-origin-server-name>moodle.example.org</bbb-origin-server-name></metadata>
  <playback><format><length>3</length><url>
   https://h/playback/presentation/2.3/abc-1
  </url><type>presentation</type><preview><images><image width="176" height="136" alt="Slide 1">https://h/t.png</image></images></preview></format></playback>
  <participants></participants>
</recording></recordings><totalElements>7</totalElements></response>"#;
        let (env, recs) = all(xml).unwrap();
        assert!(env.success());
        assert_eq!(env.total_elements, Some(7));
        let r = &recs[0];
        assert_eq!(r.record_id, "abc-1");
        assert_eq!(r.name.as_deref(), Some("Cours & TD"));
        assert_eq!(r.meeting_id.as_deref(), Some("m&1"));
        assert_eq!(r.state.as_deref(), Some("published"));
        assert_eq!(r.participants, None);
        assert_eq!(r.metadata.len(), 4);
        assert_eq!(r.metadata[0], ("empty".to_string(), String::new()));
        assert_eq!(
            r.formats[0].url,
            "https://h/playback/presentation/2.3/abc-1"
        );
        assert_eq!(r.formats[0].length_min, Some(3));
        assert_eq!(
            r.formats[0].preview_images[0].alt.as_deref(),
            Some("Slide 1")
        );
    }

    #[test]
    fn failures_and_garbage_are_errors_or_envelopes() {
        let (env, recs) = all("<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>x</message></response>").unwrap();
        assert!(!env.success());
        assert_eq!(env.message_key.as_deref(), Some("checksumError"));
        assert!(recs.is_empty());
        assert!(all("<html><body>404 Not Found</body></html>").is_err());
        assert!(all("").is_err());
        assert!(all("<response><returncode>SUCCESS</returncode><recordings><recording><recordID>a</recordID>").is_err());
    }

    #[test]
    fn spans_cover_each_recording_element() {
        let xml = "<response><returncode>SUCCESS</returncode><recordings> <recording><recordID>a</recordID></recording><recording><recordID>b</recordID></recording></recordings></response>";
        let mut spans = Vec::new();
        parse(xml.as_bytes(), |_, s| {
            spans.push(s);
            Ok(())
        })
        .unwrap();
        let (a, b) = spans[0];
        assert_eq!(
            &xml[a as usize..b as usize],
            "<recording><recordID>a</recordID></recording>"
        );
        let (a, b) = spans[1];
        assert_eq!(
            &xml[a as usize..b as usize],
            "<recording><recordID>b</recordID></recording>"
        );
    }
}
