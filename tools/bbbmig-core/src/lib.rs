//! Shared library of the bbbmig tools: the record contract, the NDJSON filter loop, the
//! services they talk to, the stages the tools run, and the native renderer.
//!
//! # Module map
//!
//! Contract and loop (what every tool is made of):
//! - [`record`]: the NDJSON record, an ordered object whose unknown keys ride through.
//! - [`ndjson`]: the one record source (input lines with their numbers, via ndjson-stream)
//!   and the line writer.
//! - [`cli`]: common flags, `run` (exit codes 0/1/2), `Out` (output, `--rejects`, summary,
//!   `filter`: one record at a time).
//! - [`batch`]: the same loop a batch of records at a time (database stages).
//! - [`error`]: per-record failure versus [`Fatal`]; which I/O errors doom every write.
//! - [`diag`]: messages on stderr; [`statusline`]: the one status line of a terminal;
//!   [`runlog`]: the `--log FILE` of unattended runs.
//! - [`columns`]: CSV columns of `bbb-csv`.
//! - [`completions`]: shell completions (`--generate-completions SHELL`, hidden).
//! - [`settings`]: every missing setting reported at once, the `--check` pre-flight;
//!   [`watch`]: the reader of standard output gone.
//! - [`timefmt`], [`secret`], [`spool`], [`stale`]: dates, secrets, sorting on disk,
//!   temporary folders of dead processes; [`orphan`]: children that die with their parent.
//!
//! Services (the systems the tools read and write):
//! - [`http`]: the HTTP client.
//! - [`bbb`]: the BigBlueButton API: checksums, getRecordings, listing a whole server.
//! - [`db`]: the one place that opens database connections: PostgreSQL ([`pg`]) and
//!   MariaDB/MySQL, TLS, password sources.
//!
//! Stages (the work of one tool, its main kept thin):
//! - [`moodle`]: `moodle-moderators` and `moodle-inform`.
//! - [`pod`]: `pod-import` and `pod-claim`.
//! - [`media`]: `bbb-record`: plan, download, render or record, name the video files.
//!
//! Renderer:
//! - [`render`]: a published presentation recording to an MP4, without a browser.

pub mod batch;
pub mod bbb;
pub mod cli;
pub mod columns;
pub mod completions;
pub mod db;
pub mod diag;
pub mod error;
pub mod greenlight;
pub mod http;
pub mod media;
pub mod moodle;
pub mod ndjson;
pub mod orphan;
pub mod outcome;
pub mod pod;
pub mod record;
pub mod render;
pub mod runlog;
pub mod secret;
pub mod settings;
pub mod spool;
pub mod stale;
pub mod statusline;
pub mod timefmt;
pub mod values;
pub mod watch;

pub use db::pg;
pub use error::Fatal;
pub use record::Record;
