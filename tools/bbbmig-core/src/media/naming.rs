//! Output file names from a template (`{start_date}_{name}_{record_id}`), sanitised into
//! one safe, readable path component; record IDs and names are never trusted as paths.

use crate::record::Record;
use crate::timefmt::parse_rfc3339;
use sha1::{Digest, Sha1};

/// The default `--name` template.
pub const DEFAULT_TEMPLATE: &str = "{start_date}_{name}_{record_id}";

/// Placeholders a template may use.
pub const FIELDS: &[&str] = &[
    "start_date",
    "start_time",
    "name",
    "record_id",
    "meeting_id",
    "origin",
];

const NAME_MAX_CHARS: usize = 80;
const BASE_MAX_BYTES: usize = 180;

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Field(String),
}

/// A parsed `--name` template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
    has_id: bool,
}

impl Template {
    /// Parses a template; unknown placeholders, unbalanced braces and `/` are refused.
    pub fn parse(s: &str) -> anyhow::Result<Template> {
        if s.contains('/') || s.contains('\0') {
            anyhow::bail!("--name {s:?}: a name template cannot contain '/' (use --out DIR)");
        }
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let Some(close) = rest[open..].find('}') else {
                anyhow::bail!("--name {s:?}: unclosed '{{'");
            };
            let field = &rest[open + 1..open + close];
            if !FIELDS.contains(&field) {
                anyhow::bail!(
                    "--name {s:?}: unknown placeholder {{{field}}} (known: {})",
                    FIELDS.join(", ")
                );
            }
            parts.push(Part::Field(field.to_string()));
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            anyhow::bail!("--name {s:?}: unmatched '}}'");
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        let has_id = parts
            .iter()
            .any(|p| matches!(p, Part::Field(f) if f == "record_id"));
        Ok(Template { parts, has_id })
    }

    /// The file name (without extension) of a record. Every field is sanitised, then the
    /// whole; without `{record_id}` in the template a short hash of the record ID is
    /// appended so that two recordings never share a name.
    pub fn render(&self, rec: &Record) -> anyhow::Result<String> {
        let record_id = rec.required_str("record_id")?;
        let start = rec
            .str_field("start_time")
            .ok()
            .flatten()
            .and_then(parse_rfc3339)
            .or_else(|| {
                rec.0
                    .get("start_time_ms")
                    .and_then(serde_json::Value::as_i64)
                    .and_then(chrono::DateTime::from_timestamp_millis)
            });
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => {
                    let v = match f.as_str() {
                        "start_date" => start.map_or_else(
                            || "undated".to_string(),
                            |d| d.format("%Y-%m-%d").to_string(),
                        ),
                        "start_time" => start.map_or_else(
                            || "undated".to_string(),
                            |d| d.format("%Y-%m-%d_%H%M%S").to_string(),
                        ),
                        "name" => {
                            let n = rec
                                .str_field("name")
                                .ok()
                                .flatten()
                                .or_else(|| {
                                    rec.path("metadata.meetingName").and_then(|v| v.as_str())
                                })
                                .unwrap_or("");
                            truncate_chars(&sanitize(n), NAME_MAX_CHARS)
                        }
                        "record_id" => sanitize(record_id),
                        "meeting_id" => {
                            sanitize(rec.str_field("meeting_id").ok().flatten().unwrap_or(""))
                        }
                        "origin" => {
                            sanitize(rec.str_field("origin_server").ok().flatten().unwrap_or(""))
                        }
                        _ => String::new(),
                    };
                    out.push_str(&v);
                }
            }
        }
        let base = sanitize(&out);
        let trim = |s: &str| {
            s.trim_matches(|c| c == '-' || c == '.' || c == '_')
                .to_string()
        };
        // The name is the record's own while it holds the record ID unchanged; otherwise
        // (no {record_id}, an ID changed by sanitising such as `.` or `a/b`, or cut off)
        // a hash of the ID tells records apart.
        let id_kept = self.has_id && !record_id.is_empty() && sanitize(record_id) == record_id;
        let whole = trim(truncate_bytes(&base, BASE_MAX_BYTES));
        if id_kept && whole.contains(record_id) {
            return Ok(whole);
        }
        let h = hex::encode(Sha1::digest(record_id.as_bytes()));
        let stem = trim(truncate_bytes(&base, BASE_MAX_BYTES - 9));
        let stem = if stem.is_empty() { "recording" } else { &stem };
        Ok(format!("{stem}-{}", &h[..8]))
    }
}

/// Keeps letters and digits (any script), `-`, `_` and `.`; every other run of
/// characters (spaces, slashes, controls, punctuation) becomes one `-`; no leading or
/// trailing `-`, `.` or `_`, so the result is never `.`, `..`, hidden, or an option.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
            dash = false;
        } else if !dash {
            out.push('-');
            dash = true;
        }
    }
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    out.trim_matches(|c| c == '-' || c == '.' || c == '_')
        .to_string()
}

fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect::<String>()
}

fn truncate_bytes(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(json: &str) -> Record {
        Record(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn default_template_is_date_name_and_id() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let r = rec(
            r#"{"record_id":"abc-123","name":"Cours de Maths L1 – Groupe A","start_time":"2023-03-14T09:00:00Z"}"#,
        );
        assert_eq!(
            t.render(&r).unwrap(),
            "2023-03-14_Cours-de-Maths-L1-Groupe-A_abc-123"
        );
    }

    #[test]
    fn hostile_names_and_ids_stay_one_component() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let r =
            rec(r#"{"record_id":"../../etc/passwd","name":"../..\u0000/x\ny","start_time":null}"#);
        let n = t.render(&r).unwrap();
        assert!(
            !n.contains('/') && !n.contains('\0') && !n.contains('\n'),
            "{n}"
        );
        assert!(!n.starts_with('.') && !n.starts_with('-'), "{n}");
        assert!(!n.contains(".."), "{n}");
        let id = Template::parse("{record_id}").unwrap();
        let dot = id.render(&rec(r#"{"record_id":"."}"#)).unwrap();
        let dots = id.render(&rec(r#"{"record_id":".."}"#)).unwrap();
        assert_ne!(dot, dots);
        assert!(
            dot.starts_with("recording-") && !dot.starts_with('.'),
            "{dot}"
        );
        let a = id.render(&rec(r#"{"record_id":"a/b"}"#)).unwrap();
        let b = id.render(&rec(r#"{"record_id":"a b"}"#)).unwrap();
        assert_ne!(a, b);
        let only_dots = rec(r#"{"record_id":"..","name":".."}"#);
        let t2 = Template::parse("{name}").unwrap();
        let m = t2.render(&only_dots).unwrap();
        assert!(!m.starts_with('.') && !m.is_empty(), "{m}");
    }

    #[test]
    fn templates_without_id_get_a_stable_hash_suffix() {
        let t = Template::parse("{name}").unwrap();
        let a = t
            .render(&rec(r#"{"record_id":"a","name":"Same"}"#))
            .unwrap();
        let b = t
            .render(&rec(r#"{"record_id":"b","name":"Same"}"#))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(
            a,
            t.render(&rec(r#"{"record_id":"a","name":"Same"}"#))
                .unwrap()
        );
        assert!(a.starts_with("Same-"));
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(Template::parse("{nope}").is_err());
        assert!(Template::parse("a/{name}").is_err());
        assert!(Template::parse("{name").is_err());
    }

    #[test]
    fn long_names_are_cut_on_char_boundaries() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let long = "é".repeat(300);
        let r = rec(&format!(r#"{{"record_id":"id-1","name":"{long}"}}"#));
        let n = t.render(&r).unwrap();
        assert!(n.len() <= 180 && n.ends_with("id-1"), "{n}");
    }
}
