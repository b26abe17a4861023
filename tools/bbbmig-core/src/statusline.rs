//! The one status line of a terminal: shown only when stderr is a terminal (and stdout is
//! not), never wider than it, redrawn in place, and cleared around every other stderr line
//! (`diag` writes through [`write_line`]), so that messages never mix with it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Erases the terminal's current row and returns to its first column.
const CLEAR: &str = "\r\x1b[2K";

/// The text shown, if any. Its lock is also the lock of every stderr write.
static SHOWN: Mutex<Option<String>> = Mutex::new(None);
static ENABLED: OnceLock<bool> = OnceLock::new();

/// Whether status lines are drawn: stderr is a terminal and stdout is not (records written
/// to the terminal would mix with the line; they show the progress themselves), and `-q`
/// was not given. Decided once, by the first caller (`diag::init` passes `quiet`).
pub fn init(quiet: bool) -> bool {
    *ENABLED.get_or_init(|| {
        let on = !quiet && std::io::stderr().is_terminal() && !std::io::stdout().is_terminal();
        if on {
            // A panic's message starts on a clean row too.
            let before = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if let Ok(mut s) = SHOWN.try_lock() {
                    if s.take().is_some() {
                        let _ = write!(std::io::stderr().lock(), "{CLEAR}");
                    }
                }
                before(info);
            }));
        }
        on
    })
}

fn enabled() -> bool {
    *ENABLED.get_or_init(|| false)
}

fn shown() -> std::sync::MutexGuard<'static, Option<String>> {
    SHOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Columns of the terminal on stderr: its window size, else `COLUMNS`, else 80.
pub fn width() -> usize {
    let tty = terminal_size::terminal_size_of(std::io::stderr())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w > 0);
    let env = || {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|w| *w > 0)
    };
    tty.or_else(env).unwrap_or(80)
}

/// Columns a character takes on a terminal: 2 for East Asian wide characters and emoji,
/// else 1 (a zero-width one counted as 1: the line may end short, never long).
fn columns(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

/// `text` (control characters escaped) cut to fewer than `width` columns, with `…` where
/// it was cut: the last column stays free so that the terminal never wraps the line.
pub fn fit(text: &str, width: usize) -> String {
    let text = crate::diag::escape(text);
    let room = width.saturating_sub(1);
    let total: usize = text.chars().map(columns).sum();
    if total <= room {
        return text.into_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = columns(c);
        if used + w + 1 > room {
            break;
        }
        out.push(c);
        used += w;
    }
    if room > 0 {
        out.push('…');
    }
    out
}

/// Shows `text` as the status line (replacing the one shown), cut to the terminal's width.
/// Does nothing unless status lines are enabled.
pub fn show(text: &str) {
    if !enabled() {
        return;
    }
    let line = fit(text, width());
    let mut s = shown();
    let _ = write!(std::io::stderr().lock(), "{CLEAR}{line}");
    *s = Some(line);
}

/// Clears the status line, if one is shown.
pub fn hide() {
    let mut s = shown();
    if s.take().is_some() {
        let _ = write!(std::io::stderr().lock(), "{CLEAR}");
    }
}

/// Writes one whole line on stderr (`text` plus a newline, in one write): the status line,
/// if shown, is cleared first and drawn again below it. Write errors are ignored (a closed
/// stderr must not stop a tool).
pub fn write_line(text: &str) {
    let s = shown();
    let mut buf = String::with_capacity(text.len() + 8);
    if s.is_some() {
        buf.push_str(CLEAR);
    }
    buf.push_str(text);
    buf.push('\n');
    if let Some(line) = s.as_deref() {
        buf.push_str(line);
    }
    let _ = std::io::stderr().lock().write_all(buf.as_bytes());
}

/// Redraws the status line from `text()` four times a second on a thread of its own, until
/// dropped (then the line is cleared). Without a status line it starts nothing.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts redrawing.
    pub fn start(text: impl Fn() -> String + Send + 'static) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled().then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    show(&text());
                    std::thread::park_timeout(Duration::from_millis(250));
                }
            })
        });
        Ticker { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        hide();
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn lines_are_cut_to_the_width_with_the_last_column_free() {
        assert_eq!(fit("short", 80), "short");
        assert_eq!(fit("abcdefghij", 6), "abcd…");
        assert_eq!(fit("abcdefghij", 11), "abcdefghij");
        // Wide characters take two columns.
        assert_eq!(fit("講義講義講義", 8), "講義講…");
        // Escapes are shown, never sent.
        assert_eq!(fit("a\u{1b}[31mb", 80), "a\\u{1b}[31mb");
        assert_eq!(fit("abc", 0), "");
    }
}
