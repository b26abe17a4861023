//! `pod-claim`: put each recording's video in a Pod recorder folder, ready for users to
//! claim it at once. See pod-claim(1).

use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::db::probe;
use bbbmig_core::pod::DbArgs;
use bbbmig_core::pod::claim::{self, ClaimOptions, Claimer};
use bbbmig_core::settings::{self, Missing};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  export POD_DATABASE_URL='host=pod-db dbname=pod user=pod'
  bbb-list | bbb-record --out /data/bbb-videos | pod-claim --recorder 1
  pod-claim --recorder 2 --recorder-root /srv/pod/ftp/ --copy --dry-run videos.ndjson
  pod-claim --recorder 1 --check      pre-flight: folder and database ready?";

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
        let opts = ClaimOptions {
            recorder_id: args.recorder,
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
        let mut client = args.db.connect(&conninfo)?;
        let recorder = claim::check_recorder(&mut client, &opts)?;
        let mut claimer = Claimer::new(&mut client, opts, recorder)?;
        if args.check.check {
            let needed: Vec<(String, &str)> = PRIVILEGES
                .iter()
                .map(|(t, p)| (t.to_string(), *p))
                .collect();
            let missing = probe::missing_privileges(&mut client, &needed)?;
            let privileges = settings::refuse_missing("Pod database", missing)?;
            return settings::ready(
                out,
                &[
                    "the Pod database is reachable and holds Pod's tables".to_string(),
                    privileges,
                    format!(
                        "recorder {} (no manager, linked to site {}) and its folder under {}, writable",
                        args.recorder,
                        args.site,
                        args.recorder_root.display()
                    ),
                ],
            );
        }
        out.filter(&args.input, |out, mut rec| {
            let result = claimer.handle(&mut client, &rec)?;
            out.count(result.status.as_str());
            rec.set_typed("pod_claim", &result)?;
            Ok(Some(rec))
        })
    })
}
