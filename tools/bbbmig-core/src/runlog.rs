//! The log of unattended runs (`--log FILE`, `BBBMIG_LOG_FILE`): one line per event, each
//! `TIME TOOL[PID]@HOST EVENT key=value…`, appended with one write (several hosts and tools
//! may share the file): a `start` line with the version and the settings given (secrets
//! never shown), one `record` line per record and outcome with its key figures, an `end`
//! line with the counts. Values with spaces, quotes or control characters are JSON strings.

use anyhow::Context;
use clap::parser::ValueSource;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Instant;

/// The environment variable that gives `--log` to every tool.
pub const ENV: &str = "BBBMIG_LOG_FILE";

/// An open log file.
pub struct RunLog {
    file: File,
    path: String,
    who: String,
    started: Instant,
}

impl RunLog {
    /// Opens `path` to append (created mode 640 if missing; never through a symbolic
    /// link, which anyone able to write the folder could plant); an error names the file.
    pub fn open(path: &Path, tool: &str) -> anyhow::Result<RunLog> {
        if path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            anyhow::bail!(
                "the log file {} (--log, {ENV}) is a symbolic link: give the file itself",
                path.display()
            );
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o640)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)
            .with_context(|| {
                format!(
                    "cannot open the log file {} (--log, {ENV}) to append to it",
                    path.display()
                )
            })?;
        Ok(RunLog {
            file,
            path: path.display().to_string(),
            who: format!(
                "{tool}[{}]@{}",
                std::process::id(),
                crate::stale::host().trim()
            ),
            started: Instant::now(),
        })
    }

    /// The `start` line: the version and the settings given (on the command line or in the
    /// environment), redacted.
    pub fn start(&mut self, version: &str, settings: &[(String, String)]) -> anyhow::Result<()> {
        let mut f = vec![("version".to_string(), version.to_string())];
        f.extend(settings.iter().cloned());
        self.write("start", &f)
    }

    /// One `record` line: the record's ID (`?` when unknown), its status, its figures.
    pub fn record(
        &mut self,
        id: Option<&str>,
        status: &str,
        figures: &[(String, String)],
    ) -> anyhow::Result<()> {
        let mut f = vec![
            ("id".to_string(), id.unwrap_or("?").to_string()),
            ("status".to_string(), status.to_string()),
        ];
        f.extend(figures.iter().cloned());
        self.write("record", &f)
    }

    /// The `end` line: the exit code, the seconds the run took, the summary's counts, and
    /// the fatal error if there was one.
    pub fn end(
        &mut self,
        exit: u8,
        counts: &[(String, u64)],
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut f = vec![
            ("exit".to_string(), exit.to_string()),
            (
                "seconds".to_string(),
                format!("{:.1}", self.started.elapsed().as_secs_f64()),
            ),
        ];
        f.extend(counts.iter().map(|(k, v)| (k.clone(), v.to_string())));
        if let Some(e) = error {
            f.push(("error".to_string(), e.to_string()));
        }
        self.write("end", &f)
    }

    /// Writes one line in one `write` (O_APPEND: lines of several writers never interleave).
    fn write(&mut self, event: &str, fields: &[(String, String)]) -> anyhow::Result<()> {
        let mut line = format!("{} {} {event}", crate::timefmt::now(), self.who);
        for (k, v) in fields {
            line.push(' ');
            line.push_str(&key(k));
            line.push('=');
            line.push_str(&quoted(v));
        }
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(|e| {
            crate::error::fatal(anyhow::anyhow!(
                "cannot write the log file {}: {e}",
                self.path
            ))
        })
    }
}

/// A key as written: spaces and `=` replaced.
fn key(k: &str) -> String {
    k.chars()
        .map(|c| {
            if c.is_whitespace() || c == '=' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// A value as written: bare when it is a plain word, else a JSON string (no control
/// character, quote or line end ever reaches the file raw).
fn quoted(v: &str) -> String {
    let plain = !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '='));
    if plain {
        v.to_string()
    } else {
        serde_json::Value::from(v).to_string()
    }
}

/// The `--log` of one run as `cli::Out` feeds it; does nothing without a file. The ID and
/// figures of the record at hand wait for its outcome, which writes its line.
#[derive(Default)]
pub struct Journal {
    log: Option<RunLog>,
    at_hand: Option<Entry>,
}

impl Journal {
    /// Opens `path` (when given) and writes the start line: the version and the settings
    /// of `A`'s command line. Failing is fatal.
    pub fn open<A: clap::CommandFactory>(
        tool: &str,
        path: Option<&Path>,
        matches: &clap::ArgMatches,
    ) -> anyhow::Result<Journal> {
        let Some(path) = path else {
            return Ok(Journal::default());
        };
        let mut log = RunLog::open(path, tool).map_err(crate::error::fatal)?;
        let cmd = A::command();
        log.start(cmd.get_version().unwrap_or("?"), &settings(&cmd, matches))?;
        Ok(Journal {
            log: Some(log),
            at_hand: None,
        })
    }

    /// The record at hand is `id` (read, or failed), without figures yet.
    pub fn about(&mut self, id: Option<String>) {
        if self.log.is_some() {
            self.at_hand = Some(Entry {
                id,
                figures: Vec::new(),
            });
        }
    }

    /// The record at hand is `rec`, as `tool` wrote it: its ID and key figures.
    pub fn wrote(&mut self, tool: &str, rec: &crate::Record) {
        if self.log.is_some() {
            self.at_hand = Some(figures(tool, rec));
        }
    }

    /// More figures for the record at hand (times, sizes).
    pub fn add(&mut self, more: impl IntoIterator<Item = (String, String)>) {
        if let Some(e) = &mut self.at_hand {
            e.figures.extend(more);
        }
    }

    /// Writes the line of the record at hand with its `status` (and `error`). A log that
    /// cannot be written any more is said once on stderr and left; the run goes on.
    pub fn outcome(&mut self, tool: &str, status: &str, error: Option<&str>) {
        let Some(log) = &mut self.log else { return };
        let mut entry = self.at_hand.take().unwrap_or_default();
        if let Some(e) = error {
            entry.figures.push(("error".to_string(), e.to_string()));
        }
        if let Err(e) = log.record(entry.id.as_deref(), status, &entry.figures) {
            let msg = crate::error::describe(&e);
            crate::diag::error(tool, &format!("{msg}; going on without it"));
            self.log = None;
        }
    }

    /// The end line (see [`RunLog::end`]).
    pub fn end(
        &mut self,
        exit: u8,
        counts: &[(String, u64)],
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        match &mut self.log {
            Some(log) => log.end(exit, counts, error),
            None => Ok(()),
        }
    }
}

/// Names whose values are secrets: shown as `***`.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "token", "checksum", "pwd"]
        .iter()
        .any(|s| n.contains(s))
}

/// A setting's value as it may be logged: URLs without user-info and without secret
/// query parameters ([`crate::http::shown_url`]), `key=value` words with a secret key
/// (libpq connection strings) as `key=***`.
pub fn redact_value(v: &str) -> String {
    v.split(' ')
        .map(|word| {
            let (name, value) = match word.split_once('=') {
                Some((k, rest)) if !k.contains("://") => (Some(k), rest),
                _ => (None, word),
            };
            if name.is_some_and(secret_name) {
                return format!("{}=***", name.unwrap_or_default());
            }
            let value = if value.contains("://") {
                redact_url(value)
            } else {
                value.to_string()
            };
            match name {
                Some(k) => format!("{k}={value}"),
                None => value,
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn redact_url(s: &str) -> String {
    let Ok(mut u) = url::Url::parse(s.trim()) else {
        return crate::http::shown_url(s);
    };
    if u.query_pairs().any(|(k, _)| secret_name(&k)) {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_name(&k) { "***".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    crate::http::without_userinfo(&u).to_string()
}

/// The settings of a run: every option given on the command line or in the environment
/// (not the defaults), by its long name, values redacted ([`redact_value`]); an option
/// whose name says secret (not a `…-file`) shows `***`.
pub fn settings(cmd: &clap::Command, m: &clap::ArgMatches) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        let source = m.value_source(id);
        if !matches!(
            source,
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let name = arg
            .get_long()
            .map_or_else(|| id.to_string(), |l| format!("--{l}"));
        let values: Vec<String> = m
            .get_raw(id)
            .map(|vs| {
                vs.map(|v| v.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let secret = secret_name(id) && !id.ends_with("_file") && !id.ends_with("_dir");
        let shown = if values.is_empty() {
            match arg.get_action() {
                clap::ArgAction::Count => m.get_count(id).to_string(),
                _ => "true".to_string(),
            }
        } else if secret {
            "***".to_string()
        } else {
            values
                .iter()
                .map(|v| redact_value(v))
                .collect::<Vec<_>>()
                .join(",")
        };
        out.push((name, shown));
    }
    out
}

/// What the `record` line of one record says besides its status.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The record's ID, when known.
    pub id: Option<String>,
    /// Its key figures, `(name, value)`.
    pub figures: Vec<(String, String)>,
}

/// The key figures of a record a tool wrote: its ID and the scalar fields of the key the
/// tool adds (`video.path`, `pod_import.status`…), arrays as their length.
pub fn figures(tool: &str, rec: &crate::Record) -> Entry {
    let id = rec
        .0
        .get("record_id")
        .and_then(|v| v.as_str())
        .map(String::from);
    let keys: &[&str] = match tool {
        "bbb-record" => &["video"],
        "pod-import" => &["pod_import"],
        "pod-claim" => &["pod_claim"],
        "moodle-inform" => &["moodle_inform"],
        "moodle-moderators" => &["moodle", "moderators"],
        "greenlight-owners" => &["greenlight", "moderators"],
        _ => &[],
    };
    let mut out = Vec::new();
    for k in keys {
        flatten(k, rec.0.get(*k), &mut out);
    }
    Entry { id, figures: out }
}

fn flatten(name: &str, v: Option<&serde_json::Value>, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => out.push((name.to_string(), a.len().to_string())),
        Some(Value::Object(o)) => {
            for (k, v) in o {
                if !matches!(v, Value::Object(_)) {
                    flatten(&format!("{name}.{k}"), Some(v), out);
                }
            }
        }
        Some(Value::String(s)) => out.push((name.to_string(), s.clone())),
        Some(other) => out.push((name.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bare_words_or_json_strings() {
        assert_eq!(quoted("created"), "created");
        assert_eq!(quoted("/data/v/a b.mp4"), "\"/data/v/a b.mp4\"");
        assert_eq!(quoted("x\ny"), "\"x\\ny\"");
        assert_eq!(quoted(""), "\"\"");
    }

    #[test]
    fn secrets_never_reach_the_log() {
        assert_eq!(
            redact_value("postgres://pod:hunter2@db.example/pod?sslmode=require&password=x"),
            "postgres://db.example/pod?sslmode=require&password=***"
        );
        assert_eq!(
            redact_value("host=db user=pod password=hunter2 dbname=pod"),
            "host=db user=pod password=*** dbname=pod"
        );
        assert_eq!(
            redact_value("moodle=mysql://u:pw@h/m"),
            "moodle=mysql://h/m"
        );
        assert_eq!(redact_value("/data/videos"), "/data/videos");
    }
}
