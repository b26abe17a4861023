//! `greenlight-owners`: add each Greenlight recording's room and its owners to `moderators`. See greenlight-owners(1).

use bbbmig_core::batch::for_each_batch;
use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::greenlight::config;
use bbbmig_core::greenlight::stage::{Options, Owners};
use bbbmig_core::settings::Missing;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  bbb-list | moodle-moderators --db-file moodle.dbs | greenlight-owners --db-file greenlight.dbs | pod-import --admin 1
  greenlight-owners --db gl.example.org='host=db1 dbname=greenlight_production user=reader' < recs.ndjson
  greenlight-owners --db-file greenlight.dbs --owner-only -v recs.ndjson | jq -c '{record_id, greenlight, moderators}'";

/// Find the Greenlight room (v2 or v3) each BigBlueButton recording was made in and append
/// its owner and the users it is shared with to `moderators`, reading Greenlight's
/// PostgreSQL databases (read-only, batched queries).
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Greenlight database for recordings whose origin server is NAME (`default`: for
    /// recordings without one); no password here (PGPASSWORD, ~/.pgpass or --db-file). Repeatable.
    #[arg(long, value_name = "NAME=CONNINFO")]
    db: Vec<String>,
    /// Read NAME=CONNINFO lines (# comments allowed, passwords allowed) from FILE, which
    /// must not be readable by others. Repeatable.
    #[arg(long, value_name = "FILE")]
    db_file: Vec<PathBuf>,
    /// Only the room's owner, not the users it is shared with.
    #[arg(long)]
    owner_only: bool,
    /// Records per batch: one query per database and batch.
    #[arg(long, value_name = "N", value_parser = bbbmig_core::values::at_least_one::<usize>, default_value_t = 500)]
    batch: usize,
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

fn main() -> ExitCode {
    cli::run("greenlight-owners", |args: Args, out| {
        let mut cfg = Missing::new(out.tool());
        let dbs = cfg.take(config::collect(&args.db, &args.db_file));
        let mut stage = Owners::new(Options {
            dbs: cfg.finish_with(dbs)?,
            owner_only: args.owner_only,
        });
        let res = for_each_batch(out, &args.input, args.batch, |out, batch| {
            stage.process(out, batch)
        });
        stage.log_queries();
        res
    })
}
