//! `bbb-csv`: format a stream of recordings as CSV (the old `--use_export_csv`). See bbb-csv(1).

use anyhow::{Context, bail};
use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::columns::{self, Column};
use bbbmig_core::settings::Missing;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  bbb-list | moodle-moderators --db-file moodle.dbs | bbb-csv > recordings.csv
  bbb-csv --pod-export recordings.ndjson > out.csv       the old Pod export, ';'-separated
  bbb-csv --columns record_id,name,course=moodle.course_shortname,day=start_time:date
  bbb-csv --spreadsheet --delimiter ';' recordings.ndjson > for-excel.csv";

/// Format NDJSON recordings as CSV with a header row.
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    #[command(flatten)]
    input: Input,
    /// Columns: comma-separated dotted paths, each optionally HEADER=PATH and :date.
    #[arg(long, value_name = "LIST", default_value = columns::DEFAULT, conflicts_with = "pod_export")]
    columns: String,
    /// The columns and ';' delimiter of Pod's migrate_bbb_recordings --use_export_csv.
    #[arg(long)]
    pod_export: bool,
    /// Field delimiter: one character, or `tab` (default ',', or ';' with --pod-export).
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
    delimiter: Option<char>,
    /// For spreadsheet programs (Excel, LibreOffice): a UTF-8 BOM first and CRLF line
    /// ends; add --delimiter ';' for locales whose decimal mark is a comma.
    #[arg(long)]
    spreadsheet: bool,
    /// Leave out the header row.
    #[arg(long)]
    no_header: bool,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

fn parse_delimiter(s: &str) -> Result<char, String> {
    match s {
        "tab" | "TAB" | "\\t" => Ok('\t'),
        _ => {
            let mut c = s.chars();
            match (c.next(), c.next()) {
                (Some(ch), None) => Ok(ch),
                _ => Err(format!("expected one character or tab, got {s:?}")),
            }
        }
    }
}

fn main() -> ExitCode {
    cli::run("bbb-csv", |args: Args, out| {
        let mut cfg = Missing::new(out.tool());
        let cols = cfg.take(
            columns::parse(if args.pod_export {
                columns::POD_EXPORT
            } else {
                &args.columns
            })
            .context("--columns"),
        );
        let delim = args
            .delimiter
            .unwrap_or(if args.pod_export { ';' } else { ',' });
        if !delim.is_ascii() || delim == '"' || delim == '\n' {
            cfg.add("--delimiter must be one ASCII character other than a quote or a newline");
        }
        let cols: Vec<Column> = cfg.finish_with(cols)?;
        // Rows are formatted here and written by `out`, which makes a failed write fatal.
        let mut format = csv::WriterBuilder::new();
        format.delimiter(delim as u8);
        if args.spreadsheet {
            format.terminator(csv::Terminator::CRLF);
            out.emit_raw("\u{feff}".as_bytes())?;
        }
        let row = |cells: &mut dyn Iterator<Item = String>| {
            let mut w = format.from_writer(Vec::new());
            w.write_record(cells)?;
            w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))
        };
        if !args.no_header {
            let header = row(&mut cols.iter().map(|c| c.header.clone()))?;
            out.emit_raw(&header)?;
        }
        let mut found = columns::Found::default();
        out.filter(&args.input, |out, rec| {
            if rec
                .str_field("record_id")?
                .is_none_or(|id| id.trim().is_empty())
            {
                bail!("not a recording: record_id is missing, null or empty");
            }
            found.note(&rec, &cols);
            let line = row(&mut cols.iter().map(|c| columns::cell(&rec, c)))?;
            out.emit_raw(&line)?;
            out.count("written");
            Ok(None)
        })?;
        for m in found.missing(&cols) {
            log::warn!("{m}");
        }
        Ok(())
    })
}
