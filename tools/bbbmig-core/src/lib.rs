//! Shared library of the bbbmig tools: the record contract, the NDJSON filter loop, the BBB client.

pub mod bbb;
pub mod cli;
pub mod columns;
pub mod diag;
pub mod error;
pub mod greenlight;
pub mod http;
pub mod media;
pub mod moodle;
pub mod ndjson;
pub mod pg;
pub mod pod;
pub mod record;
pub mod render;
pub mod secret;
pub mod spool;
pub mod stale;
pub mod timefmt;

pub use error::Fatal;
pub use record::Record;
