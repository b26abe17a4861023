//! Columns for CSV output: `HEADER=path.to.value[:date]` specs and readable cell values.

use crate::record::Record;
use anyhow::bail;
use serde_json::Value;

/// The default columns of `bbb-csv`.
pub const DEFAULT: &str = "record_id,start_time,end_time,name,state,origin_server,course=moodle.course_shortname,activity=moodle.activity_name,moderators,source_url";

/// The columns of the old `migrate_bbb_recordings --use_export_csv` (with `;`).
pub const POD_EXPORT: &str = "meeting_name=name,recording_name=metadata.bbb-recording-name,start_date=start_time:date,origin=metadata.bbb-origin,origin_server_name=origin_server,origin_version=metadata.bbb-origin-version,origin_context=metadata.bbb-context,origin_id=metadata.bbb-context-id,origin_label=metadata.bbb-context-label,description=metadata.bbb-recording-description,published,state,source_url,Moodle_owners=moderators";

/// One column: its header and where its value comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub path: String,
    /// `:date`: keep the `YYYY-MM-DD` part of an RFC 3339 date.
    pub date_only: bool,
}

/// Parses `a,b.c,HEADER=d.e:date`.
pub fn parse(spec: &str) -> anyhow::Result<Vec<Column>> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        if part.is_empty() {
            bail!("empty column in {spec:?}");
        }
        let (header, rest) = match part.split_once('=') {
            Some((h, r)) => (h.trim().to_string(), r.trim()),
            None => (String::new(), part),
        };
        let (path, date_only) = match rest.strip_suffix(":date") {
            Some(p) => (p.to_string(), true),
            None => (rest.to_string(), false),
        };
        if path.is_empty() || path.split('.').any(str::is_empty) {
            bail!("bad column path {rest:?}");
        }
        let header = if header.is_empty() {
            path.clone()
        } else {
            header
        };
        out.push(Column {
            header,
            path,
            date_only,
        });
    }
    Ok(out)
}

/// The cell of `col` for `rec`: strings as they are, null or missing as empty, arrays
/// joined with `; `, people as `First Last <email>`, other objects as compact JSON.
pub fn cell(rec: &Record, col: &Column) -> String {
    let v = rec.path(&col.path);
    let s = v.map_or_else(String::new, text);
    if col.date_only {
        s.get(..10).map_or(s.clone(), str::to_string)
    } else {
        s
    }
}

/// Which columns some record has, to name at the end those no record had (a typo?).
#[derive(Debug, Default)]
pub struct Found {
    seen: Vec<bool>,
    keys: std::collections::BTreeSet<String>,
    records: u64,
}

impl Found {
    /// Notes the columns `rec` has and its top-level keys.
    pub fn note(&mut self, rec: &Record, cols: &[Column]) {
        self.seen.resize(cols.len(), false);
        self.records += 1;
        for (seen, col) in self.seen.iter_mut().zip(cols) {
            *seen |= rec.path(&col.path).is_some();
        }
        if self.keys.len() < 500 {
            self.keys.extend(rec.0.keys().cloned());
        }
    }

    /// One message per column that no record had, with the nearest key seen.
    pub fn missing(&self, cols: &[Column]) -> Vec<String> {
        if self.records == 0 {
            return Vec::new();
        }
        cols.iter()
            .zip(&self.seen)
            .filter(|(_, seen)| !**seen)
            .map(|(c, _)| {
                let top = c.path.split('.').next().unwrap_or_default();
                let near = nearest(top, self.keys.iter().map(String::as_str));
                let hint = near.map_or(String::new(), |k| format!(" (did you mean {k}?)"));
                format!(
                    "column {:?}: no record has {}: the column is empty{hint}",
                    c.header, c.path
                )
            })
            .collect()
    }
}

/// The word of `candidates` nearest to `word` (at most 2 edits away), for "did you mean".
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|k| (distance(k, word), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Edit distance of two short words (insertions, deletions, substitutions, swaps as 2).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a
            .iter()
            .map(text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(o) if o.contains_key("username") || o.contains_key("email") => person(o),
        Value::Object(_) => v.to_string(),
    }
}

fn person(o: &serde_json::Map<String, Value>) -> String {
    let get = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let name = format!("{} {}", get("firstname"), get("lastname"))
        .trim()
        .to_string();
    let (user, email) = (get("username"), get("email"));
    let who = if name.is_empty() {
        user.clone()
    } else {
        format!("{name} ({user})")
    };
    if email.is_empty() {
        who
    } else {
        format!("{who} <{email}>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_with_headers_and_dates() {
        let c =
            parse("record_id, course=moodle.course_shortname,start_date=start_time:date").unwrap();
        assert_eq!(
            c[0],
            Column {
                header: "record_id".into(),
                path: "record_id".into(),
                date_only: false
            }
        );
        assert_eq!(c[1].header, "course");
        assert!(c[2].date_only);
        assert!(parse("a,,b").is_err());
        assert!(parse("a..b").is_err());
        assert_eq!(parse(POD_EXPORT).unwrap().len(), 14);
    }

    #[test]
    fn columns_no_record_has_are_named_with_the_nearest_key() {
        let cols = parse("record_id,nmae,metadata.x").unwrap();
        let rec = Record(serde_json::from_str(r#"{"record_id":"a","name":"n"}"#).unwrap());
        let mut f = Found::default();
        assert!(f.missing(&cols).is_empty(), "no record, no warning");
        f.note(&rec, &cols);
        let m = f.missing(&cols);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m[0].contains("nmae") && m[0].contains("did you mean name?"),
            "{m:?}"
        );
        assert!(!m[1].contains("did you mean"), "{m:?}");
        assert_eq!(distance("nmae", "name"), 2);
    }

    #[test]
    fn cells_are_readable() {
        let r = Record(
            serde_json::from_str(
                r#"{"start_time":"2024-03-01T08:00:00Z","moderators":[{"username":"jd","email":"j@x","firstname":"Jean","lastname":"Dupont"},{"username":"ab","email":"","firstname":"","lastname":""}],"n":null,"tags":["a","b"],"published":true}"#,
            )
            .unwrap(),
        );
        let col = |s: &str| parse(s).unwrap().remove(0);
        assert_eq!(cell(&r, &col("moderators")), "Jean Dupont (jd) <j@x>; ab");
        assert_eq!(cell(&r, &col("d=start_time:date")), "2024-03-01");
        assert_eq!(cell(&r, &col("n")), "");
        assert_eq!(cell(&r, &col("missing.path")), "");
        assert_eq!(cell(&r, &col("tags")), "a; b");
        assert_eq!(cell(&r, &col("published")), "true");
    }
}
