//! `pod-claim`: put each recording's video in a Pod recorder folder, ready for users to
//! claim it at once. See pod-claim(1).

use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::pod::DbArgs;
use bbbmig_core::pod::claim::{self, ClaimOptions, Claimer};
use bbbmig_core::pod::commit::for_each_record;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  export POD_DATABASE_URL='host=pod-db dbname=pod user=pod'
  bbb-list | bbb-record --out /data/bbb-videos | pod-claim --recorder 1
  pod-claim --recorder 2 --recorder-root /srv/pod/ftp/ --copy --dry-run videos.ndjson";

/// Place each BigBlueButton recording's video (video.path, from bbb-record) in a Pod
/// recorder folder and make it claimable at once (manual claim).
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// recorder_recorder id of a recorder without manager, linked to the site.
    #[arg(long, value_name = "ID")]
    recorder: i64,
    /// Pod's DEFAULT_RECORDER_PATH, spelled as in Pod's settings.
    #[arg(long, value_name = "DIR", default_value = "/data/ftp-pod/ftp/")]
    recorder_root: PathBuf,
    /// Pod site (django_site id) whose users claim the files.
    #[arg(long, value_name = "ID", default_value_t = 1)]
    site: i32,
    /// Copy the video instead of moving it.
    #[arg(long)]
    copy: bool,
    /// Read everything, write nothing; records say what would be done.
    #[arg(long)]
    dry_run: bool,
    /// Records per transaction at most: committed every N records, and at once whenever
    /// no record is waiting in the input; a record is written out only once committed.
    #[arg(long, value_name = "N", value_parser = bbbmig_core::values::at_least_one::<usize>, default_value_t = 500)]
    batch: usize,
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

fn main() -> ExitCode {
    cli::run("pod-claim", |args: Args, out| {
        let opts = ClaimOptions {
            recorder_id: args.recorder,
            recorder_root: args.recorder_root.clone(),
            site_id: args.site,
            copy: args.copy,
            dry_run: args.dry_run,
        };
        let mut db = args.db.connect()?;
        let recorder = claim::check_recorder(&mut db, &opts)?;
        let mut claimer = Claimer::new(&mut db, opts, recorder)?;
        for_each_record(out, &args.input, args.batch, &mut db, |db, tx, rec| {
            let result = claimer.handle(db, tx, rec)?;
            let mut rec = rec.clone();
            rec.set_typed("pod_claim", &result)?;
            Ok((rec, result.status.as_str()))
        })
    })
}
