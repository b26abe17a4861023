//! `pod-claim`: put each recording's video in a Pod recorder folder, ready for users to
//! claim it at once. See pod-claim(1).

use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::pod::claim::{self, ClaimOptions, Claimer};
use bbbmig_core::pod::commit::for_each_record;
use bbbmig_core::pod::{self, DbArgs, done, recorders};
use bbbmig_core::settings::{self, Missing};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  export POD_DATABASE_URL='host=pod-db dbname=pod user=pod'
  bbb-list | bbb-record --out /data/bbb-videos | pod-claim --recorder 1
  pod-claim --recorder 2 --recorder-root /srv/pod/ftp/ --copy --dry-run videos.ndjson
  # resume: skip what Pod already has
  bbb-list | pod-claim --mark-done | bbb-record --out /data/bbb-videos | pod-claim --recorder 1
  pod-claim --list-recorders
  pod-claim --recorder 1 --check      pre-flight: folder and database ready?";

/// Place each BigBlueButton recording's video (video.path, from bbb-record) in a Pod
/// recorder folder and make it claimable at once (manual claim).
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// recorder_recorder id of a recorder without manager, linked to the site.
    #[arg(long, value_name = "ID", required_unless_present_any = ["mark_done", "list_recorders"])]
    recorder: Option<i64>,
    /// Read only: add "pod_done" to each record Pod already has (a claimed file or an
    /// external recording; --mark-done=claimed or =imported: only that); bbb-record and
    /// pod-claim then skip it.
    #[arg(long, value_name = "WHAT", value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "any",
          conflicts_with_all = ["recorder", "copy", "dry_run", "list_recorders", "check"])]
    mark_done: Option<done::Look>,
    /// Read only: print Pod's sites, recorders (with their folders) and administrators.
    #[arg(long, conflicts_with_all = ["recorder", "copy", "dry_run", "check"])]
    list_recorders: bool,
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
    check: settings::Check,
    #[command(flatten)]
    input: Input,
    #[command(flatten)]
    common: Common,
}

bbbmig_core::tool_args!(Args);

/// The tables pod-claim writes or reads, and the privileges it needs (see pod-claim(1)).
const PRIVILEGES: &[(&str, &str)] = &[
    ("recorder_recorder", "SELECT"),
    ("recorder_recorder_sites", "SELECT"),
    ("recorder_recordingfiletreatment", "SELECT, INSERT"),
    ("recorder_recording", "SELECT"),
];

fn main() -> ExitCode {
    cli::run("pod-claim", |args: Args, out| {
        if args.list_recorders {
            let mut db = args.db.connect(&args.db.conninfo()?)?;
            let text = recorders::list(&mut db, &args.recorder_root)?;
            return out.emit_raw(text.as_bytes());
        }
        if let Some(look) = args.mark_done {
            let mut db = args.db.connect(&args.db.conninfo()?)?;
            return done::mark(&mut db, look, out, &args.input);
        }
        let recorder_id = args.recorder.unwrap_or_default(); // required by clap here
        let opts = ClaimOptions {
            recorder_id,
            recorder_root: args.recorder_root.clone(),
            site_id: args.site,
            copy: args.copy,
            dry_run: args.dry_run,
        };
        let mut cfg = Missing::new(out.tool());
        let conninfo = cfg.take(args.db.conninfo());
        if !args.recorder_root.is_absolute() {
            cfg.add("--recorder-root must be absolute, spelled as Pod's DEFAULT_RECORDER_PATH");
        } else if !args.recorder_root.is_dir() {
            cfg.add(&format!(
                "--recorder-root {} does not exist or is not a folder (Pod's DEFAULT_RECORDER_PATH)",
                args.recorder_root.display()
            ));
        }
        let conninfo = cfg.finish_with(conninfo)?;
        let mut db = args.db.connect(&conninfo)?;
        let recorder = claim::check_recorder(&mut db, &opts)?;
        let mut claimer = Claimer::new(&mut db, opts, recorder)?;
        if args.check.check {
            let also = format!(
                "recorder {recorder_id} (no manager, linked to site {}) and its folder under {}, writable",
                args.site,
                args.recorder_root.display()
            );
            return pod::check_ready(&mut db, out, PRIVILEGES, also);
        }
        for_each_record(out, &args.input, args.batch, &mut db, |db, tx, rec| {
            let result = match done::claim_of(rec, recorder_id)? {
                Some(passed) => passed, // already in Pod: no file touched
                None => claimer.handle(db, tx, rec)?,
            };
            let mut rec = rec.clone();
            rec.set_typed("pod_claim", &result)?;
            Ok((rec, result.status.as_str()))
        })
    })
}
