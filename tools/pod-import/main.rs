//! `pod-import`: give each recording's owners an "external recording" in Pod, creating
//! the missing users as Pod does. See pod-import(1).

use bbbmig_core::cli::{self, Common, Input};
use bbbmig_core::pod::commit::for_each_record;
use bbbmig_core::pod::import::{ImportOptions, Importer, Mode};
use bbbmig_core::pod::users::{self, AuthType, UserOptions, Users};
use bbbmig_core::pod::{self, DbArgs};
use bbbmig_core::secret;
use bbbmig_core::settings::{self, Missing};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  export POD_DATABASE_URL='host=pod-db dbname=pod user=pod' POD_SECRET_KEY=…
  bbb-list | moodle-moderators --db-file moodle.dbs | pod-import --admin 1
  pod-import --admin 1 --dry-run saved.ndjson | jq -c .pod_import
  pod-import --moderators-only --auth-type CAS --match-email saved.ndjson
  pod-import --admin 1 --remove --dry-run saved.ndjson   what an undo would remove
  pod-import --admin 1 --remove saved.ndjson       undo an import (users stay)
  pod-import --admin 1 --check                     pre-flight: ready to write?";

/// Give each BigBlueButton recording's owners an "external recording" in Pod (My external
/// recordings), creating the missing Pod users with every row Pod makes for one.
#[derive(clap::Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Read Pod's SECRET_KEY from FILE (first line) instead of the POD_SECRET_KEY variable.
    #[arg(long, value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
    /// Pod site (django_site id) of the external recordings and of new users.
    #[arg(long, value_name = "ID", default_value_t = 1)]
    site: i32,
    /// auth_user id receiving recordings with no Pod meeting owner and no moderators.
    #[arg(long, value_name = "ID")]
    admin: Option<i32>,
    /// Skip recordings with no Pod meeting owner and no moderators (no admin fallback).
    #[arg(long)]
    moderators_only: bool,
    /// Also match an existing Pod user by e-mail when the username is unknown.
    #[arg(long)]
    match_email: bool,
    /// auth_type of new users' Owner.
    #[arg(long, value_enum, value_name = "TYPE", default_value = "local")]
    auth_type: AuthType,
    /// affiliation of new users' Owner (first entry of Pod's AFFILIATION).
    #[arg(long, value_name = "NAME", default_value = "student")]
    affiliation: String,
    /// establishment of new users' Owner (first entry of Pod's ESTABLISHMENTS).
    #[arg(long, value_name = "NAME", default_value = "Etab_1")]
    establishment: String,
    /// Create new users without staff status (Pod then hides their external recordings).
    #[arg(long)]
    no_staff: bool,
    /// Description of new users' Favorites playlist, in the site's language.
    #[arg(long, value_name = "TEXT", default_value = "Vos vidéos favorites.")]
    favorites_description: String,
    /// Delete the external recordings these records would create (users stay); with
    /// --dry-run, only say which (would-remove).
    #[arg(long)]
    remove: bool,
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

/// The tables pod-import writes, and the privileges it needs on them (see pod-import(1)).
const PRIVILEGES: &[(&str, &str)] = &[
    ("auth_user", "SELECT, INSERT"),
    ("authentication_owner", "SELECT, INSERT"),
    ("authentication_owner_sites", "SELECT, INSERT"),
    ("podfile_userfolder", "SELECT, INSERT"),
    ("playlist_playlist", "SELECT, INSERT"),
    ("import_video_externalrecording", "SELECT, INSERT, DELETE"),
    ("django_site", "SELECT"),
];

fn main() -> ExitCode {
    cli::run("pod-import", |args: Args, out| {
        let mode = match (args.remove, args.dry_run) {
            (true, true) => Mode::RemoveDryRun,
            (true, false) => Mode::Remove,
            (false, true) => Mode::DryRun,
            _ => Mode::Import,
        };
        let mut cfg = Missing::new(out.tool());
        let conninfo = cfg.take(args.db.conninfo());
        let secret = match mode {
            Mode::Remove | Mode::RemoveDryRun => None,
            _ => cfg.take(secret::load(
                "POD_SECRET_KEY",
                "--secret-key-file",
                args.secret_key_file.as_deref(),
            )),
        };
        let opts = ImportOptions {
            admin: args.admin,
            site_id: args.site,
            moderators_only: args.moderators_only,
            mode,
        };
        cfg.take(opts.check());
        let conninfo = cfg.finish_with(conninfo)?;
        let mut db = args.db.connect(&conninfo)?;
        if let Some(s) = &secret {
            users::check_secret(&mut db, s, args.admin)?;
        }
        let user_opts = UserOptions {
            site_id: args.site,
            auth_type: args.auth_type,
            affiliation: args.affiliation.clone(),
            establishment: args.establishment.clone(),
            staff: !args.no_staff,
            favorites_description: args.favorites_description.clone(),
            match_email: args.match_email,
        };
        let users = Users::new(&mut db, user_opts, secret)?;
        let mut importer = Importer::new(&mut db, opts, users)?;
        if args.check.check {
            let also = "the site, the admin and the secret key match the database".to_string();
            return pod::check_ready(&mut db, out, PRIVILEGES, also);
        }
        for_each_record(out, &args.input, args.batch, &mut db, |db, tx, rec| {
            let result = importer.handle(db, tx, rec)?;
            let mut rec = rec.clone();
            rec.set_typed("pod_import", &result)?;
            Ok((rec, result.status.as_str()))
        })
    })
}
