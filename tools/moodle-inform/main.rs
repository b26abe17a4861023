//! `moodle-inform`: put a notice about each recording in its Moodle activity's description. See moodle-inform(1).

use anyhow::Context;
use bbbmig_core::batch::for_each_batch;
use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::db::probe;
use bbbmig_core::moodle::config::{self, Tables};
use bbbmig_core::moodle::inform::{Informer, Options};
use bbbmig_core::moodle::notice;
use bbbmig_core::moodle::site::{Site, Use};
use bbbmig_core::settings::{self, Missing};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  bbb-list | moodle-moderators --db-file moodle.dbs | pod-import --admin 1 | moodle-inform --db-file moodle.dbs
  moodle-inform --db-file moodle.dbs --message-file notice.html --pod-url https://pod.example.org/import_video/ recs.ndjson
  moodle-inform --db-file moodle.dbs --dry-run recs.ndjson     show what would change
  moodle-inform --db-file moodle.dbs --remove recs.ndjson      take the notices out again
  moodle-inform --db-file moodle.dbs --check                   pre-flight: ready to write?";

/// Append a notice about each recording to the description of its Moodle activity (one
/// notice per activity, listing its recordings), or take it out again.
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Moodle database named NAME in the records' moodle.server; no password here. Repeatable.
    #[arg(long, value_name = "NAME=CONNINFO")]
    db: Vec<String>,
    /// Read NAME=CONNINFO lines (passwords allowed) from FILE, not readable by others. Repeatable.
    #[arg(long, value_name = "FILE")]
    db_file: Vec<PathBuf>,
    /// Moodle table prefix ($CFG->prefix).
    #[arg(long, value_name = "PREFIX", default_value = "mdl_")]
    prefix: String,
    /// PostgreSQL schema of the Moodle tables ($CFG->dboptions['dbschema']; default public).
    /// Not for MariaDB/MySQL, where the URL's database holds them.
    #[arg(long, value_name = "SCHEMA")]
    schema: Option<String>,
    /// HTML message for one recording, with placeholders such as {name}, {start_date},
    /// {source_url}, {pod_url} (see the man page); default: a short English sentence.
    #[arg(long, value_name = "FILE")]
    message_file: Option<PathBuf>,
    /// Value of {pod_url}: the Pod page where teachers find their recordings (needed when
    /// the message uses {pod_url}, as the default one does).
    #[arg(long, env = "POD_URL", value_name = "URL")]
    pod_url: Option<String>,
    /// Take the recordings out of the notice; the last one out restores the description.
    #[arg(long)]
    remove: bool,
    /// Read and compute everything, write nothing, say on stderr what would change.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    check: settings::Check,
    /// Records read at once (activities touched by several of them get one transaction).
    #[arg(long, value_name = "N", value_parser = bbbmig_core::values::at_least_one::<usize>, default_value_t = 500)]
    batch: usize,
    /// Seconds to wait for a lock another session holds on an activity or its course; then
    /// that activity's records fail (exit 1) and the run goes on.
    #[arg(long, value_name = "SECONDS", value_parser = bbbmig_core::values::at_least_one::<u64>, default_value_t = 50)]
    lock_timeout: u64,
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

/// The message template, its `{pod_url}` checked: every problem goes to `cfg`.
fn message(args: &Args, cfg: &mut Missing) -> Option<String> {
    let template = match &args.message_file {
        Some(p) => cfg.take(config::read_text(p).context("--message-file"))?,
        None => notice::DEFAULT_MESSAGE.to_string(),
    };
    cfg.take(notice::check_template(&template).context("--message-file"))?;
    if !args.remove && notice::uses(&template, "pod_url") {
        match args.pod_url.as_deref() {
            Some(u) if notice::is_web_url(u) => {}
            Some(u) => cfg.add(&format!(
                "--pod-url (POD_URL) {:?} is not an http(s) URL",
                bbbmig_core::http::shown_url(u)
            )),
            None => cfg.add(
                "the message links to {pod_url}: give --pod-url URL or set POD_URL (the Pod page where teachers find their recordings)",
            ),
        }
    }
    Some(template)
}

/// `--check`: every database reachable, Moodle's, its account allowed to update.
fn check(opts: &Options, out: &mut cli::Out) -> anyhow::Result<()> {
    let mut done = Vec::new();
    for entry in &opts.dbs {
        let how = Use {
            tool: "moodle-inform",
            lock_timeout: None,
            writes: true,
        };
        let mut site = Site::connect(entry, &opts.tables, how)?;
        let needed = ["bigbluebuttonbn", "course"].map(|t| (site.tables.t(t), "SELECT, UPDATE"));
        let missing = probe::missing_privileges(&mut site.db, &needed)?;
        done.push(settings::refuse_missing(
            &format!("Moodle database {}", entry.name),
            missing,
        )?);
    }
    settings::ready(out, &done)
}

fn main() -> ExitCode {
    cli::run("moodle-inform", |args: Args, out| {
        let mut cfg = Missing::new(out.tool());
        let template = message(&args, &mut cfg);
        let dbs = cfg.take(config::collect(&args.db, &args.db_file));
        let tables = cfg.take(Tables::new(args.schema.as_deref(), &args.prefix));
        let (template, (dbs, tables)) = cfg.finish_with(template.zip(dbs.zip(tables)))?;
        let opts = Options {
            dbs,
            tables,
            template,
            pod_url: args.pod_url.clone(),
            remove: args.remove,
            dry_run: args.dry_run,
            lock_timeout: args.lock_timeout,
        };
        if args.check.check {
            return check(&opts, out);
        }
        let mut stage = Informer::new(opts);
        for_each_batch(out, &args.input, args.batch, |out, batch| {
            stage.process(out, batch)
        })
    })
}
