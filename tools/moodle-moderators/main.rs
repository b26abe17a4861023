//! `moodle-moderators`: add each recording's Moodle activity and all its moderators. See moodle-moderators(1).

use bbbmig_core::batch::for_each_batch;
use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::moodle::config::{self, Tables};
use bbbmig_core::moodle::enrich::{Enricher, Options};
use bbbmig_core::settings::Missing;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  bbb-list | moodle-moderators --db-file moodle.dbs | pod-import --admin 1
  moodle-moderators --db moodle.example.org='host=db1 dbname=moodle user=reader' < recs.ndjson
  moodle-moderators --db default='dbname=moodle' --ignore-origin-server gl.example.org recs.ndjson
  moodle-moderators --db-file moodle.dbs --prefix m_ --schema moodle -v recs.ndjson | jq .moderators";

/// Find the Moodle activity that made each BigBlueButton recording and add its moderators,
/// reading one or more Moodle databases, PostgreSQL or MariaDB/MySQL (read-only, batched queries).
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Moodle database for recordings whose bbb-origin-server-name is NAME (`default`: for
    /// recordings without one): a PostgreSQL conninfo/URL or a mysql:// URL, no password here
    /// (--db-file, PGPASSWORD, ~/.pgpass or ~/.my.cnf). Repeatable.
    #[arg(long, value_name = "NAME=CONNINFO")]
    db: Vec<String>,
    /// Read NAME=CONNINFO lines (# comments allowed, passwords allowed) from FILE, which
    /// must not be readable by others. Repeatable.
    #[arg(long, value_name = "FILE")]
    db_file: Vec<PathBuf>,
    /// Origin servers that are not a Moodle (`default`: recordings without one): their
    /// recordings pass with moodle null; repeatable or comma-separated.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    ignore_origin_server: Vec<String>,
    /// Moodle table prefix ($CFG->prefix).
    #[arg(long, value_name = "PREFIX", default_value = "mdl_")]
    prefix: String,
    /// PostgreSQL schema of the Moodle tables ($CFG->dboptions['dbschema']; default public).
    /// Not for MariaDB/MySQL, where the URL's database holds them.
    #[arg(long, value_name = "SCHEMA")]
    schema: Option<String>,
    /// Records per batch: one read-only transaction and four queries per database and batch.
    #[arg(long, value_name = "N", value_parser = bbbmig_core::values::at_least_one::<usize>, default_value_t = 500)]
    batch: usize,
    /// Also list the site administrators (Moodle makes them moderators of every activity).
    #[arg(long)]
    site_admins: bool,
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

fn main() -> ExitCode {
    cli::run("moodle-moderators", |args: Args, out| {
        let mut cfg = Missing::new(out.tool());
        let dbs = cfg.take(config::collect(&args.db, &args.db_file));
        let tables = cfg.take(Tables::new(args.schema.as_deref(), &args.prefix));
        let (dbs, tables) = cfg.finish_with(dbs.zip(tables))?;
        let mut stage = Enricher::new(Options {
            dbs,
            tables,
            ignore: args.ignore_origin_server.clone(),
            site_admins: args.site_admins,
        });
        let res = for_each_batch(out, &args.input, args.batch, |out, batch| {
            stage.process(out, batch)
        });
        stage.log_queries();
        res
    })
}
