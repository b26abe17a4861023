//! Diagnostics on stderr: `tool: level: message`, with -q/-v and `BBBMIG_LOG`.

use log::{Level, LevelFilter, Log, Metadata, Record as LogRecord};
use std::io::Write;
use std::sync::OnceLock;

struct Logger {
    tool: &'static str,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

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
        // A closed stderr must not kill the tool: ignore write errors here.
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}: {level}: {}",
            self.tool,
            r.args()
        );
    }
    fn flush(&self) {}
}

/// Installs the logger: warnings by default, `-q` errors only, `-v` info, `-vv` debug;
/// `BBBMIG_LOG=error|warn|info|debug|trace` overrides.
pub fn init(tool: &'static str, verbose: u8, quiet: bool) {
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
    let logger = LOGGER.get_or_init(|| Logger { tool });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// Prints an error line `tool: error: message` whatever the log level.
pub fn error(tool: &str, msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{tool}: error: {msg}");
}
