//! Which server a recording came from, as Greenlight tells it: the origin server name
//! (Greenlight 2.3+ and 3.3+), else for Greenlight 3.0–3.2 the host of its
//! `bbb-recording-ready-url`.

use crate::moodle::enrich::origin_server;
use crate::record::Record;
use serde_json::Value;

/// A metadata value by key, ignoring the key's case (BBB lower-cases them, Scalelite may not).
pub fn meta<'a>(rec: &'a Record, key: &str) -> Option<&'a str> {
    rec.0
        .get("metadata")
        .and_then(Value::as_object)?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
}

/// Whether the metadata says Greenlight made the recording (`bbb-origin`, any case).
pub fn from_greenlight(rec: &Record) -> bool {
    meta(rec, "bbb-origin").is_some_and(|o| o.trim().eq_ignore_ascii_case("greenlight"))
}

/// The origin server's name: `origin_server` (or metadata `bbb-origin-server-name`); when
/// there is none and Greenlight made the recording, the host of `bbb-recording-ready-url`.
/// None when neither says anything (Greenlight before 2.3, other front ends).
pub fn origin(rec: &Record) -> anyhow::Result<Option<String>> {
    if let Some(o) = origin_server(rec)? {
        return Ok(Some(o));
    }
    if !from_greenlight(rec) {
        return Ok(None);
    }
    Ok(meta(rec, "bbb-recording-ready-url")
        .and_then(|u| url::Url::parse(u.trim()).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| !h.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(j: serde_json::Value) -> Record {
        Record(j.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn server_name_first_then_ready_url_of_greenlight_only() {
        let r = rec(serde_json::json!({"origin_server": "gl.example.org"}));
        assert_eq!(origin(&r).unwrap().as_deref(), Some("gl.example.org"));
        let r = rec(serde_json::json!({"origin_server": null, "metadata": {
            "bbb-origin": "GreenLight",
            "bbb-recording-ready-url": "https://gl3.example.org:8443/recording_ready"}}));
        assert_eq!(origin(&r).unwrap().as_deref(), Some("gl3.example.org"));
        let r = rec(serde_json::json!({"metadata": {
            "bbb-origin": "Moodle",
            "bbb-recording-ready-url": "https://moodle.example.org/x"}}));
        assert_eq!(origin(&r).unwrap(), None);
        let r = rec(serde_json::json!({"metadata": {"gl-listed": "true"}}));
        assert_eq!(origin(&r).unwrap(), None);
    }
}
