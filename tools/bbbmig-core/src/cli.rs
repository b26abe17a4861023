//! What every tool shares on the command line: common flags, the filter loop, exit codes.

use crate::diag;
use crate::error::{describe, is_broken_pipe, is_fatal, output_error};
use crate::ndjson::{Reader, Writer};
use crate::record::Record;
use anyhow::Context;
use clap::Parser;
use serde_json::json;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of every tool: verbosity, the log file.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Say more on stderr (-v info, -vv debug), each line after its time (UTC).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr, no summary line.
    #[arg(short, long)]
    pub quiet: bool,
    /// Append a timestamped line per record and outcome to FILE, with start and end lines
    /// (settings, counts): for cron and systemd runs.
    #[arg(long, value_name = "FILE", env = crate::runlog::ENV)]
    pub log: Option<PathBuf>,
}

/// Flags of every tool that reads records: the input file and the rejects file.
#[derive(clap::Args, Debug, Clone)]
pub struct Input {
    /// NDJSON recordings to read ("-" or nothing: standard input).
    #[arg(value_name = "FILE", default_value = "-")]
    pub input: PathBuf,
    /// Append each failed record, with an "error" key, to FILE (feed it back after a fix).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

/// A tool's parsed arguments, so that `run` can set up diagnostics.
pub trait ToolArgs: Parser {
    /// The common flags.
    fn common(&self) -> &Common;
}

/// Implements [`ToolArgs`] for a tool's argument struct whose common flags are its
/// `common` field (`#[command(flatten)] common: Common`).
#[macro_export]
macro_rules! tool_args {
    ($args:ty) => {
        impl $crate::cli::ToolArgs for $args {
            fn common(&self) -> &$crate::cli::Common {
                &self.common
            }
        }
    };
}

/// Parses the arguments, runs `body`, and turns the outcome into the exit code:
/// 0 all records done (or the reader closed the pipe), 1 some records failed, 2 fatal.
pub fn run<A: ToolArgs>(
    tool: &'static str,
    body: impl FnOnce(A, &mut Out) -> anyhow::Result<()>,
) -> ExitCode {
    if let Some(code) = crate::completions::requested::<A>(tool) {
        return code;
    }
    let (args, matches) = parse_args::<A>(); // clap exits 2 on usage errors, 0 on --help
    let quiet = args.common().quiet;
    diag::init(tool, args.common().verbose, quiet);
    let mut out = Out::new(tool);
    let result = crate::runlog::Journal::open::<A>(tool, args.common().log.as_deref(), &matches)
        .map(|j| out.journal = j)
        .and_then(|()| stdout_open())
        .and_then(|()| body(args, &mut out));
    // The reader closed the pipe: a success, without a summary.
    let (code, error) = match result {
        Err(e) if is_broken_pipe(&e) => (0, Some(None)),
        // The next stage left while work was in flight: said, with the summary; exit 0
        // like any reader that closed the pipe (the next stage reports its own failure).
        Err(e) if crate::watch::is_reader_left(&e) => {
            log::warn!("{}", describe(&e));
            (0, None)
        }
        Err(e) => {
            let msg = describe(&e);
            diag::error(tool, &msg);
            (2, Some(Some(msg)))
        }
        Ok(()) => (u8::from(out.failed > 0), None),
    };
    if !quiet && !matches!(error, Some(None)) {
        out.print_summary();
    }
    let error = error.flatten();
    let counts = out.summary_counts();
    if let Err(e) = out.journal.end(code, &counts, error.as_deref()) {
        diag::error(tool, &describe(&e));
        return ExitCode::from(2);
    }
    ExitCode::from(code)
}

/// Parses the arguments. `--help` prints the examples (`after_help`) as written, after
/// clap's help: clap would re-wrap them to the terminal's width, and a wrapped command
/// line no longer copies and pastes.
fn parse_args<A: ToolArgs>() -> (A, clap::ArgMatches) {
    let cmd = A::command();
    let examples = cmd.get_after_help().map(ToString::to_string);
    let mut cmd = cmd.after_help(None::<&str>);
    let matches = match cmd.try_get_matches_from_mut(std::env::args_os()) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            if let Some(x) = examples {
                let _ = writeln!(std::io::stdout(), "\n{}", x.trim_end());
            }
            std::process::exit(0);
        }
        Err(e) => e.exit(),
    };
    let args = A::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
    (args, matches)
}

/// Refuses a closed standard output (`>&-`): Rust's runtime puts /dev/null there (opened
/// read-write, which a shell's `> /dev/null` never does), so every record would be "done"
/// and lost.
fn stdout_open() -> anyhow::Result<()> {
    use rustix::fs::{FileType, OFlags, fcntl_getfl, fstat, major, minor};
    let fd = std::io::stdout();
    let closed = match (fcntl_getfl(&fd), fstat(&fd)) {
        (Ok(fl), Ok(st)) => {
            fl & OFlags::RWMODE == OFlags::RDWR
                && FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                && (major(st.st_rdev), minor(st.st_rdev)) == (1, 3)
        }
        _ => true,
    };
    if closed {
        return Err(crate::error::fatal(anyhow::anyhow!(
            "standard output is closed (>&-): give the output somewhere to go (> FILE, | next-tool, > /dev/null)"
        )));
    }
    Ok(())
}

/// The output side of a tool: records to stdout, failures to stderr and `--rejects`,
/// counts for the summary line.
pub struct Out {
    tool: &'static str,
    writer: Writer<'static>,
    rejects: Option<(PathBuf, File)>,
    counts: BTreeMap<String, u64>,
    /// Counts of the record `filter` is working on, kept until its line is written.
    in_flight: Option<Vec<String>>,
    failed: u64,
    /// `--log FILE`: a line per record and outcome.
    journal: crate::runlog::Journal,
    /// Replaces the counts in the summary line (`--check`: `ready: …`).
    summary_text: Option<String>,
}

impl Out {
    fn new(tool: &'static str) -> Out {
        Out {
            tool,
            writer: Writer::stdout(),
            rejects: None,
            counts: BTreeMap::new(),
            in_flight: None,
            failed: 0,
            journal: Default::default(),
            summary_text: None,
        }
    }

    /// The tool's name, as it prefixes messages.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// Opens the `--rejects` file (appending, when one is given) and the input: the
    /// records to work on, each with its line number (see [`Reader`]).
    pub fn records(&mut self, input: &Input) -> anyhow::Result<Reader> {
        self.open_rejects(input.rejects.as_ref())?;
        self.refuse_rejects_as_input(&input.input)?;
        Reader::open(&input.input)
    }

    /// Refuses to read the `--rejects` file as input (same device and inode, also through
    /// stdin): each failure would be appended to what is being read, without end.
    fn refuse_rejects_as_input(&self, input: &std::path::Path) -> anyhow::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let Some((path, f)) = &self.rejects else {
            return Ok(());
        };
        let r = f.metadata()?;
        let same = if input == std::path::Path::new("-") {
            rustix::fs::fstat(std::io::stdin())
                .is_ok_and(|st| st.st_dev == r.dev() && st.st_ino == r.ino())
        } else {
            std::fs::metadata(input).is_ok_and(|m| m.dev() == r.dev() && m.ino() == r.ino())
        };
        if same {
            return Err(crate::error::fatal(anyhow::anyhow!(
                "the input is the rejects file {}: move it aside first (mv rejects.ndjson retry.ndjson) and feed that",
                path.display()
            )));
        }
        Ok(())
    }

    fn open_rejects(&mut self, path: Option<&PathBuf>) -> anyhow::Result<()> {
        if let Some(p) = path {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open the rejects file {}", p.display()))?;
            self.rejects = Some((p.clone(), f));
        }
        Ok(())
    }

    /// Writes one record to stdout. Failing to is fatal ([`output_error`]).
    pub fn emit(&mut self, rec: &Record) -> anyhow::Result<()> {
        self.writer.write(rec).map_err(output_error)?;
        self.journal.wrote(self.tool, rec);
        Ok(())
    }

    /// Adds figures to the `--log` line of the record written last (times, sizes).
    pub fn log_figures(&mut self, figures: impl IntoIterator<Item = (String, String)>) {
        self.journal.add(figures);
    }

    /// [`Out::count`] for a record that is not written at once (sorted): its `--log` line
    /// names `id`.
    pub fn count_for(&mut self, id: &str, status: &str) {
        self.journal.about(Some(id.to_string()));
        self.count(status);
    }

    /// The summary's counts by status, then `failed` and the total `records`.
    fn summary_counts(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.counts.iter().map(|(k, n)| (k.clone(), *n)).collect();
        v.push(("failed".to_string(), self.failed));
        v.push((
            "records".to_string(),
            self.counts.values().sum::<u64>() + self.failed,
        ));
        v
    }

    /// Writes bytes already formatted (whole lines: NDJSON, CSV) to stdout. Failing to is
    /// fatal ([`output_error`]).
    pub fn emit_raw(&mut self, line: &[u8]) -> anyhow::Result<()> {
        self.writer.write_raw(line).map_err(output_error)
    }

    /// Counts one record under `status` for the summary line. Inside [`Out::filter`] the
    /// count waits until the record's line is written: the summary never counts a record
    /// that was not printed. Elsewhere, call it after [`Out::emit`].
    pub fn count(&mut self, status: &str) {
        match &mut self.in_flight {
            Some(v) => v.push(status.to_string()),
            None => {
                *self.counts.entry(status.to_string()).or_insert(0) += 1;
                self.journal.outcome(self.tool, status, None);
            }
        }
    }

    /// Counts what the record in flight was counted under.
    fn commit_counts(&mut self) {
        let statuses = self.in_flight.take().unwrap_or_default();
        if !statuses.is_empty() {
            // One line per record.
            self.journal.outcome(self.tool, &statuses.join(","), None);
        }
        for s in statuses {
            *self.counts.entry(s).or_insert(0) += 1;
        }
    }

    /// Number of failed records so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Reports a failed record: `tool: error: line N: record ID: reason` on stderr, the
    /// record with an `error` key in `--rejects`. The stream goes on.
    pub fn fail(
        &mut self,
        line: u64,
        rec: Option<&Record>,
        err: &anyhow::Error,
    ) -> anyhow::Result<()> {
        self.failed += 1;
        let id = rec.map_or_else(|| "?".to_string(), Record::id_for_messages);
        let msg = describe(err);
        diag::error(self.tool, &format!("line {line}: record {id}: {msg}"));
        self.journal.about(rec.map(Record::id_for_messages));
        self.journal.add([("line".to_string(), line.to_string())]);
        self.journal.outcome(self.tool, "failed", Some(&msg));
        if let Some((path, f)) = &mut self.rejects {
            let mut r = rec.cloned().unwrap_or_default();
            r.set(
                "error",
                json!({"tool": self.tool, "line": line, "message": msg}),
            );
            let mut buf = serde_json::to_vec(&r.0)?;
            buf.push(b'\n');
            f.write_all(&buf).and_then(|()| f.flush()).map_err(|e| {
                crate::error::fatal(anyhow::anyhow!(
                    "cannot write the rejects file {}: {e}",
                    path.display()
                ))
            })?;
        }
        Ok(())
    }

    /// Runs `f` on every record of the input, in order. `Ok(Some(rec))` is written out,
    /// `Ok(None)` drops the record, `Err` fails this record only unless it is
    /// [`crate::Fatal`]. A garbled input line is fatal. A previous run's `error` key
    /// (from `--rejects`) is removed before `f` sees the record.
    pub fn filter(
        &mut self,
        input: &Input,
        mut f: impl FnMut(&mut Out, Record) -> anyhow::Result<Option<Record>>,
    ) -> anyhow::Result<()> {
        for item in self.records(input)? {
            let item = item?;
            let rec = match item.record {
                Ok(r) => r,
                Err(e) => {
                    self.fail(item.line, None, &e)?;
                    continue;
                }
            };
            let keep = rec.clone();
            self.in_flight = Some(Vec::new());
            self.journal.about(Some(keep.id_for_messages())); // a dropped record's too
            let res = match f(self, rec) {
                Ok(Some(r)) => self.emit(&r).map(|()| None),
                other => other,
            };
            if res.is_ok() {
                self.commit_counts();
            }
            self.in_flight = None; // a failed record's counts are dropped
            match res {
                Ok(_) => {}
                Err(e) if is_fatal(&e) || is_broken_pipe(&e) => {
                    return Err(e.context(format!(
                        "line {}: record {}",
                        item.line,
                        keep.id_for_messages()
                    )));
                }
                Err(e) => self.fail(item.line, Some(&keep), &e)?,
            }
        }
        Ok(())
    }

    /// Says `text` in the summary line instead of the counts (a `--check` run).
    pub fn set_summary(&mut self, text: String) {
        self.summary_text = Some(text);
    }

    fn print_summary(&self) {
        if let Some(t) = &self.summary_text {
            return diag::line(&format!("{}: {t}", self.tool));
        }
        diag::line(&format!("{}: {}", self.tool, self.summary()));
    }

    /// `N records: a created, b exists, c failed` (one wording for every tool).
    fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        let total = self.counts.values().sum::<u64>() + self.failed;
        let noun = if total == 1 { "record" } else { "records" };
        if parts.is_empty() {
            format!("{total} {noun}")
        } else {
            format!("{total} {noun}: {}", parts.join(", "))
        }
    }
}
