//! The notice in an activity description: a template filled per recording, and the block
//! between HTML comment markers that a rerun replaces and `--remove` takes out, giving
//! back the description byte for byte.
//!
//! Layout appended to the description (a `\n` first when it was not empty):
//! `<!-- bbbmig-notice:begin -->` (`begin null` when the description was NULL)
//! `<div class="bbbmig-notice">` then one `<!-- bbbmig-recording:KEY -->…<!-- /bbbmig-recording -->`
//! line per recording, then `</div><!-- bbbmig-notice:end -->`.
//!
//! A plain-text description (`introformat` 2) is first converted to HTML as Moodle shows
//! plain text (escaped, runs of spaces and line breaks kept) and becomes HTML (format 1);
//! its begin marker keeps the original text (`begin plain:HEX`, `begin plain-null`), which
//! the last removal writes back with format 2.

use crate::record::Record;
use anyhow::bail;
use serde_json::Value;

const BEGIN: &str = "<!-- bbbmig-notice:begin -->";
const BEGIN_NULL: &str = "<!-- bbbmig-notice:begin null -->";
const BEGIN_PLAIN: &str = "<!-- bbbmig-notice:begin plain";
const END: &str = "<!-- bbbmig-notice:end -->";
const ENTRY_OPEN: &str = "<!-- bbbmig-recording:";
const ENTRY_CLOSE: &str = "<!-- /bbbmig-recording -->";
const DIV_OPEN: &str = "<div class=\"bbbmig-notice\">\n";
const DIV_CLOSE: &str = "</div>";

/// The placeholders a message template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "name",
    "start_date",
    "start_time",
    "end_date",
    "record_id",
    "meeting_id",
    "source_url",
    "presentation_url",
    "video_url",
    "pod_url",
    "activity_name",
    "course_shortname",
];

/// The message used without `--message-file`.
pub const DEFAULT_MESSAGE: &str = "<p>The recording <strong>{name}</strong> of {start_date} \
moved off the old BigBlueButton server: find it at <a href=\"{pod_url}\">{pod_url}</a>.</p>";

/// Checks a template: known `{placeholders}` only, `{{` and `}}` for literal braces.
pub fn check_template(t: &str) -> anyhow::Result<()> {
    fill(t, |k| PLACEHOLDERS.contains(&k).then(String::new)).map(|_| ())
}

/// The placeholders that hold links: only `http://` and `https://` URLs fill them.
const URL_PLACEHOLDERS: &[&str] = &["source_url", "presentation_url", "video_url", "pod_url"];

/// Whether a template uses `{key}`.
pub fn uses(t: &str, key: &str) -> bool {
    let mut used = false;
    let _ = fill(t, |k| {
        used |= k == key;
        Some(String::new())
    });
    used
}

/// An `http://` or `https://` URL (what may become a link).
pub fn is_web_url(u: &str) -> bool {
    url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.has_host())
}

/// Fills a template for one record; every value is HTML-escaped. A link placeholder the
/// template uses must hold an http(s) URL (never `javascript:`, never empty): else the
/// record fails.
pub fn render(t: &str, rec: &Record, pod_url: Option<&str>) -> anyhow::Result<String> {
    for k in URL_PLACEHOLDERS.iter().filter(|k| uses(t, k)) {
        let v = match *k {
            "pod_url" => pod_url.map(String::from),
            other => rec.path(other).and_then(Value::as_str).map(String::from),
        };
        match v {
            Some(u) if is_web_url(&u) => {}
            Some(u) => bail!(
                "{{{k}}} would be {:?}: only http(s) URLs become links",
                crate::diag::escape(&u)
            ),
            None => bail!("the message uses {{{k}}}, which this record does not have"),
        }
    }
    fill(t, |k| {
        let s = |p: &str| rec.path(p).and_then(Value::as_str).map(String::from);
        let date = |p: &str| s(p).map(|d| d.chars().take(10).collect::<String>());
        let v = match k {
            "name" => s("name").or_else(|| s("moodle.activity_name")),
            "start_date" => date("start_time"),
            "start_time" => s("start_time"),
            "end_date" => date("end_time"),
            "pod_url" => pod_url.map(String::from),
            "activity_name" => s("moodle.activity_name"),
            "course_shortname" => s("moodle.course_shortname"),
            other if PLACEHOLDERS.contains(&other) => s(other),
            _ => return None,
        };
        Some(escape(&v.unwrap_or_default()))
    })
}

fn fill(t: &str, mut value: impl FnMut(&str) -> Option<String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(t.len() + 64);
    let mut rest = t.trim_end();
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if tail.starts_with('}') {
            bail!("the message has a lone '}}' (write '}}}}' for a brace)");
        } else {
            let Some(end) = tail.find('}') else {
                bail!("the message has an unclosed '{{'");
            };
            let key = &tail[1..end];
            match value(key) {
                Some(v) => out.push_str(&v),
                None => bail!(
                    "the message uses an unknown placeholder {{{key}}} (known: {})",
                    PLACEHOLDERS.join(", ")
                ),
            }
            rest = &tail[end + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The marker key of a recording: its id when it is made of `[A-Za-z0-9_.:-]` without
/// `--` (as BBB ids are), else `x` and the hex of its bytes, so that no id can close a comment.
pub fn entry_key(record_id: &str) -> String {
    let plain = !record_id.is_empty()
        && record_id.len() <= 200
        && !record_id.contains("--")
        && !record_id.ends_with('-')
        && record_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c));
    if plain {
        record_id.to_string()
    } else {
        format!("x{}", hex::encode(record_id.as_bytes()))
    }
}

/// Moodle's `introformat` of HTML text.
pub const FORMAT_HTML: i32 = 1;
/// Moodle's `introformat` of plain text.
pub const FORMAT_PLAIN: i32 = 2;

/// Plain text as HTML, the way Moodle displays it (`s()`, `&nbsp;` in runs of spaces,
/// `nl2br`).
pub fn plain_to_html(text: &str) -> String {
    escape(text)
        .replace("  ", "&nbsp; ")
        .replace("\r\n", "<br />\r\n")
        .replace('\n', "<br />\n")
        .replace("<br />\r<br />\n", "<br />\r\n")
}

/// A description split around the notice block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Split {
    /// The description as it was before the notice (None: it was NULL).
    original: Option<String>,
    /// When the description was plain text: that text (None: NULL), written back when
    /// the last entry goes.
    plain: Option<Option<String>>,
    /// The entries of the block, in order: (key, html).
    entries: Vec<(String, String)>,
}

/// The plain marker at the start of `text`: its length and the original text.
fn plain_marker(text: &str) -> Option<(usize, Option<String>)> {
    let rest = text.strip_prefix(BEGIN_PLAIN)?;
    let end = rest.find(" -->")?;
    let arg = &rest[..end];
    let plain = match arg {
        "-null" => None,
        _ => Some(String::from_utf8(hex::decode(arg.strip_prefix(':')?).ok()?).ok()?),
    };
    Some((BEGIN_PLAIN.len() + end + 4, plain))
}

/// Splits a description into its own text and the entries of its notice blocks. Normally
/// there is one block, ours; a description may hold several (an activity duplicated with
/// its notice and noticed again, or text pasted from another one) or a garbled one: every
/// block is taken out and their entries merged (first key wins), so that the next write
/// leaves exactly one block and removing an entry removes it everywhere.
fn split(intro: Option<&str>) -> Split {
    let text = intro.unwrap_or("");
    let mut own = String::new();
    let mut first_marker = None;
    let mut plain = None;
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    while let Some((start, marker)) = [BEGIN, BEGIN_NULL, BEGIN_PLAIN]
        .iter()
        .filter_map(|m| text[pos..].find(m).map(|i| (pos + i, *m)))
        .min_by_key(|(i, _)| *i)
    {
        first_marker.get_or_insert(marker);
        let (marker_len, block_plain) = match marker {
            BEGIN_PLAIN => match plain_marker(&text[start..]) {
                Some((n, p)) => (n, Some(p)),
                None => (BEGIN_PLAIN.len(), None),
            },
            m => (m.len(), None),
        };
        if plain.is_none() {
            plain = block_plain;
        }
        let after_begin = start + marker_len;
        let (body, next) = match text[after_begin..].find(END) {
            Some(e) => (
                &text[after_begin..after_begin + e],
                after_begin + e + END.len(),
            ),
            None => (&text[after_begin..], text.len()),
        };
        let before = &text[pos..start];
        own.push_str(before.strip_suffix('\n').unwrap_or(before));
        for (key, html) in block_entries(body) {
            if !entries.iter().any(|(k, _)| *k == key) {
                entries.push((key, html));
            }
        }
        pos = next;
    }
    let Some(first) = first_marker else {
        return Split {
            original: intro.map(String::from),
            plain: None,
            entries: Vec::new(),
        };
    };
    own.push_str(&text[pos..]);
    let original = if first == BEGIN_NULL && own.is_empty() {
        None
    } else {
        Some(own)
    };
    Split {
        original,
        plain,
        entries,
    }
}

/// The entries `(key, html)` of one block's body, in order.
fn block_entries(body: &str) -> Vec<(String, String)> {
    let mut entries = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(ENTRY_OPEN) {
        let r = &rest[i + ENTRY_OPEN.len()..];
        let Some(k_end) = r.find(" -->") else { break };
        let key = &r[..k_end];
        let r = &r[k_end + 4..];
        let Some(c) = r.find(ENTRY_CLOSE) else { break };
        entries.push((key.to_string(), r[..c].to_string()));
        rest = &r[c + ENTRY_CLOSE.len()..];
    }
    entries
}

fn join(s: &Split) -> Option<String> {
    if s.entries.is_empty() {
        return s.original.clone();
    }
    let begin = match &s.plain {
        None => BEGIN.to_string(),
        Some(None) => format!("{BEGIN_PLAIN}-null -->"),
        Some(Some(p)) => format!("{BEGIN_PLAIN}:{} -->", hex::encode(p)),
    };
    let mut out = match &s.original {
        None => BEGIN_NULL.to_string(),
        Some(o) if o.is_empty() => begin,
        Some(o) => format!("{o}\n{begin}"),
    };
    out.push_str(DIV_OPEN);
    for (k, html) in &s.entries {
        out.push_str(&format!("{ENTRY_OPEN}{k} -->{html}{ENTRY_CLOSE}\n"));
    }
    out.push_str(DIV_CLOSE);
    out.push_str(END);
    Some(out)
}

/// The description after adding or replacing these entries (`(key, html)`, new ones go last)
/// and taking out the entries of `remove`. Without entries left, the notice goes entirely
/// and the description is what it was before the first notice.
pub fn apply(
    intro: Option<&str>,
    upserts: &[(String, String)],
    remove: &[String],
) -> Option<String> {
    apply_with_format(intro, FORMAT_HTML, upserts, remove).0
}

/// [`apply`] for a description of any `introformat`: a plain-text one is converted to
/// HTML when entries are added, and written back with format 2 when the last one goes.
/// Returns the new text and format.
pub fn apply_with_format(
    intro: Option<&str>,
    format: i32,
    upserts: &[(String, String)],
    remove: &[String],
) -> (Option<String>, i32) {
    let mut s = if format == FORMAT_PLAIN {
        Split {
            original: Some(intro.map(plain_to_html).unwrap_or_default()),
            plain: Some(intro.map(String::from)),
            entries: Vec::new(),
        }
    } else {
        split(intro)
    };
    for (k, html) in upserts {
        match s.entries.iter_mut().find(|(ek, _)| ek == k) {
            Some(e) => e.1 = html.clone(),
            None => s.entries.push((k.clone(), html.clone())),
        }
    }
    s.entries.retain(|(k, _)| !remove.contains(k));
    match (s.entries.is_empty(), s.plain.clone()) {
        (true, Some(p)) => (p, FORMAT_PLAIN),
        (true, None) if format == FORMAT_PLAIN => (intro.map(String::from), format),
        (false, Some(_)) => (join(&s), FORMAT_HTML),
        _ => (join(&s), format),
    }
}

/// The entries `(key, html)` of the notice in this description, in order.
pub fn entries(intro: Option<&str>) -> Vec<(String, String)> {
    split(intro).entries
}

/// How many recordings the notice of this description lists.
pub fn count(intro: Option<&str>) -> usize {
    split(intro).entries.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(k: &str, h: &str) -> (String, String) {
        (k.to_string(), h.to_string())
    }

    #[test]
    fn add_replace_and_remove_give_back_the_original() {
        for orig in [
            Some("<p>Weekly lecture.</p>"),
            Some(""),
            None,
            Some("ends with newline\n"),
            Some("\n"),
        ] {
            let one = apply(orig, &[e("r1", "<p>A</p>")], &[]);
            assert_eq!(count(one.as_deref()), 1);
            let again = apply(one.as_deref(), &[e("r1", "<p>A</p>")], &[]);
            assert_eq!(again, one, "rerun changes nothing");
            let two = apply(
                one.as_deref(),
                &[e("r2", "<p>B</p>"), e("r1", "<p>A2</p>")],
                &[],
            );
            assert_eq!(count(two.as_deref()), 2);
            assert_eq!(
                two.as_deref()
                    .unwrap()
                    .matches("bbbmig-notice:begin")
                    .count(),
                1
            );
            let back = apply(two.as_deref(), &[], &["r1".into(), "r2".into()]);
            assert_eq!(back.as_deref(), orig, "{orig:?}");
        }
    }

    #[test]
    fn plain_text_becomes_html_and_comes_back_byte_for_byte() {
        for orig in [
            Some("Line <1> & \"two\"\n\n  indented\r\nend\n"),
            Some(""),
            None,
        ] {
            let (one, f) = apply_with_format(orig, FORMAT_PLAIN, &[e("r1", "<p>A</p>")], &[]);
            assert_eq!(f, FORMAT_HTML);
            assert_eq!(count(one.as_deref()), 1);
            let (two, f) = apply_with_format(one.as_deref(), f, &[e("r2", "B")], &[]);
            assert_eq!((count(two.as_deref()), f), (2, FORMAT_HTML));
            let (back, f) = apply_with_format(two.as_deref(), f, &[], &["r1".into(), "r2".into()]);
            assert_eq!((back.as_deref(), f), (orig, FORMAT_PLAIN), "{orig:?}");
        }
        let (one, _) = apply_with_format(Some("a <b>\nc"), FORMAT_PLAIN, &[e("r", "X")], &[]);
        assert!(
            one.unwrap()
                .starts_with("a &lt;b&gt;<br />\nc\n<!-- bbbmig-notice:begin plain:")
        );
        // Nothing to take out of a plain description: it stays as it is.
        let (same, f) = apply_with_format(Some("t"), FORMAT_PLAIN, &[], &["r".into()]);
        assert_eq!((same.as_deref(), f), (Some("t"), FORMAT_PLAIN));
    }

    #[test]
    fn text_added_after_the_notice_survives_removal() {
        let one = apply(Some("<p>x</p>"), &[e("r1", "A")], &[]).unwrap();
        let edited = format!("{one}<p>later</p>");
        assert_eq!(
            apply(Some(&edited), &[], &["r1".into()]).unwrap(),
            "<p>x</p><p>later</p>"
        );
    }

    #[test]
    fn templates_fill_and_escape() {
        let rec = Record(
            serde_json::from_str(
                r#"{"name":"<b>Q&A</b>","start_time":"2023-11-14T22:13:20Z","moodle":{"course_shortname":"PHY101"}}"#,
            )
            .unwrap(),
        );
        let out = render(
            "{name} {start_date} {course_shortname} {{x}} {pod_url}\n",
            &rec,
            Some("https://p/?a=1&b=2"),
        )
        .unwrap();
        assert_eq!(
            out,
            "&lt;b&gt;Q&amp;A&lt;/b&gt; 2023-11-14 PHY101 {x} https://p/?a=1&amp;b=2"
        );
        assert!(check_template("{nope}").is_err());
        assert!(check_template("{name").is_err());
        assert!(check_template("a } b").is_err());
        assert!(check_template(DEFAULT_MESSAGE).is_ok());
        let js = Record(serde_json::from_str(r#"{"source_url":"javascript:alert(1)"}"#).unwrap());
        let e = render("<a href=\"{source_url}\">x</a>", &js, None).unwrap_err();
        assert!(e.to_string().contains("only http(s) URLs"), "{e}");
        assert!(render("{pod_url}", &js, Some("JavaScript:x")).is_err());
        assert!(render("{pod_url}", &js, None).is_err());
        assert!(render("{name}", &js, None).is_ok());
    }

    /// Found by `scripts/fuzz notice`: two garbled blocks before ours hid it from removal.
    #[test]
    fn garbled_and_repeated_blocks_never_hide_an_entry_from_removal() {
        let garbled = "<!-- bbbmig-notice:begin plain:--div><!-- bbbmig-notice:end -->";
        let key = entry_key("rec-1");
        let add = [(key.clone(), "<a href=\"https://pod/\">v</a>".to_string())];
        let first = apply(Some("<p>Intro</p>"), &[e("other", "o")], &[]).unwrap();
        for intro in [
            format!("m;K\0\0{garbled}[\0\0{garbled}--"),
            // an activity duplicated with its notice, then noticed again
            format!("{first}\n{first}"),
        ] {
            let added = apply(Some(&intro), &add, &[]).unwrap();
            assert_eq!(added.matches("bbbmig-notice:begin").count(), 1, "{added}");
            let back = apply(Some(&added), &[], std::slice::from_ref(&key));
            assert!(
                !entries(back.as_deref()).iter().any(|(k, _)| *k == key),
                "{back:?}"
            );
        }
        // The repeated block's entries are one: removing it leaves the teacher's text, both
        // copies of it.
        let twice = format!("{first}\n{first}");
        assert_eq!(count(Some(&twice)), 1);
        assert_eq!(
            apply(Some(&twice), &[], &["other".to_string()]).as_deref(),
            Some("<p>Intro</p>\n<p>Intro</p>")
        );
    }

    #[test]
    fn keys_cannot_close_a_comment() {
        assert_eq!(
            entry_key("7b52009b-1700000000000"),
            "7b52009b-1700000000000"
        );
        let k = entry_key("x --> <script>");
        assert!(k.starts_with('x') && k.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
