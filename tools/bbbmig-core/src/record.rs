//! The NDJSON record: an ordered JSON object whose unknown keys ride through every tool.

use anyhow::Context;
use serde_json::{Map, Value};

/// One recording as it flows between tools. Keys keep their order (serde_json
/// `preserve_order`); a tool reads and adds only the keys it owns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record(pub Map<String, Value>);

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record(Map::new())
    }

    /// The recording id, or `"?"` when the record has none (used in messages).
    pub fn id_for_messages(&self) -> String {
        match self.0.get("record_id") {
            Some(Value::String(s)) => s.clone(),
            Some(v) if !v.is_null() => v.to_string(),
            _ => "?".to_string(),
        }
    }

    /// A string field, `None` when missing or null; an error when it has another type.
    pub fn str_field(&self, key: &str) -> anyhow::Result<Option<&str>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => anyhow::bail!("field {key} must be a string, not {}", kind(other)),
        }
    }

    /// A string field that must be present and non-empty.
    pub fn required_str(&self, key: &str) -> anyhow::Result<&str> {
        match self.str_field(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => anyhow::bail!("missing field {key}"),
        }
    }

    /// Looks up a dotted path (`moodle.course_shortname`, `playback.0.url`).
    pub fn path(&self, dotted: &str) -> Option<&Value> {
        let mut parts = dotted.split('.');
        let mut cur = self.0.get(parts.next()?)?;
        for p in parts {
            cur = match cur {
                Value::Object(m) => m.get(p)?,
                Value::Array(a) => a.get(p.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Sets a key: an existing key keeps its place, a new key goes last.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_string(), value.into());
    }

    /// Sets a key to a stage's typed result (a struct that serialises to an object).
    pub fn set_typed<T: serde::Serialize>(&mut self, key: &str, value: &T) -> anyhow::Result<()> {
        let v = serde_json::to_value(value)
            .with_context(|| format!("cannot write the {key} object"))?;
        self.set(key, v);
        Ok(())
    }

    /// Reads a field into a typed value with serde (for the objects other tools added).
    pub fn typed<T: serde::de::DeserializeOwned>(&self, key: &str) -> anyhow::Result<Option<T>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| anyhow::anyhow!("field {key} has the wrong shape: {e}")),
        }
    }
}

/// A JSON type name for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_position_of_existing_keys_and_appends_new_ones() {
        let mut r: Record = Record(serde_json::from_str(r#"{"b":1,"a":2,"x_jq":[1]}"#).unwrap());
        r.set("a", 3);
        r.set("video", "v");
        let out = serde_json::to_string(&r.0).unwrap();
        assert_eq!(out, r#"{"b":1,"a":3,"x_jq":[1],"video":"v"}"#);
    }

    #[test]
    fn dotted_paths_reach_objects_and_arrays() {
        let r = Record(
            serde_json::from_str(
                r#"{"moodle":{"course_shortname":"M1"},"playback":[{"url":"u"}]}"#,
            )
            .unwrap(),
        );
        assert_eq!(r.path("moodle.course_shortname").unwrap(), "M1");
        assert_eq!(r.path("playback.0.url").unwrap(), "u");
        assert!(r.path("moodle.nothing").is_none());
    }

    #[test]
    fn wrong_types_are_reported() {
        let r = Record(serde_json::from_str(r#"{"record_id":5,"name":"n"}"#).unwrap());
        assert!(r.str_field("record_id").is_err());
        assert_eq!(r.id_for_messages(), "5");
        assert!(r.required_str("missing").is_err());
    }
}
