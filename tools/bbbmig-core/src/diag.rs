//! Diagnostics on stderr: `tool: level: message`, with -q/-v and `BBBMIG_LOG`; every
//! line goes through [`escape`], so that no record's text can drive the terminal, and
//! through [`crate::statusline`], so that it never mixes with the status line. At `-v`
//! and above each line starts with its time (RFC 3339, UTC, milliseconds).

use log::{Level, LevelFilter, Log, Metadata, Record as LogRecord};
use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

struct Logger {
    tool: &'static str,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();
/// `-v` or more: lines carry their time.
static TIMESTAMPS: AtomicBool = AtomicBool::new(false);

impl Log for Logger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &LogRecord<'_>) {
        let ours = ["bbb", "moodle", "pod"]
            .iter()
            .any(|p| r.target().starts_with(p));
        if !self.enabled(r.metadata()) || !ours {
            return;
        }
        let level = match r.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        line(&format!("{}: {level}: {}", self.tool, r.args()));
    }
    fn flush(&self) {}
}

/// Installs the logger: warnings by default, `-q` errors only, `-v` info, `-vv` debug;
/// `BBBMIG_LOG=error|warn|info|debug|trace` overrides. Lines carry their time from `-v` on
/// (or `BBBMIG_LOG=info` and more); the status line is enabled unless `quiet`.
pub fn init(tool: &'static str, verbose: u8, quiet: bool) {
    crate::statusline::init(quiet);
    let mut level = match (quiet, verbose) {
        (true, _) => LevelFilter::Error,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, 2) => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    };
    if let Ok(v) = std::env::var("BBBMIG_LOG") {
        if let Ok(l) = v.parse::<LevelFilter>() {
            level = l;
        }
    }
    TIMESTAMPS.store(level >= LevelFilter::Info, Ordering::Relaxed);
    let logger = LOGGER.get_or_init(|| Logger { tool });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// Prints an error line `tool: error: message` whatever the log level.
pub fn error(tool: &str, msg: &str) {
    line(&format!("{tool}: error: {msg}"));
}

/// Prints one diagnostic line on stderr whatever the log level (a summary, a dry-run
/// note), escaped, after its time at `-v`. A closed stderr must not kill the tool: write
/// errors are ignored.
pub fn line(text: &str) {
    let text = escape(text);
    if TIMESTAMPS.load(Ordering::Relaxed) {
        crate::statusline::write_line(&format!("{} {text}", crate::timefmt::now()));
    } else {
        crate::statusline::write_line(&text);
    }
}

/// `text` with every control character (C0 with newline and tab, DEL, C1) and every
/// bidirectional override written as a Rust escape (`\u{1b}`, `\n`): an ID or a name
/// holding `ESC]0;…BEL` or `ESC[31m` is shown, never obeyed by the terminal.
pub fn escape(text: &str) -> Cow<'_, str> {
    let bad =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape("plain é ✓"), "plain é ✓");
        assert_eq!(
            escape("a\u{1b}]0;pwn\u{7}\u{1b}[31mb\nc\u{9b}\u{202e}"),
            "a\\u{1b}]0;pwn\\u{7}\\u{1b}[31mb\\nc\\u{9b}\\u{202e}"
        );
    }
}
