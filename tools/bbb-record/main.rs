//! `bbb-record`: turns every recording into a local video file; adds `video`. See bbb-record(1).

use bbbmig_core::cli;
use bbbmig_core::media::{
    Method, Prefer, download, jobs, lease, naming, output, progress, recorder, render_args, work,
};
use bbbmig_core::settings::{self, Missing};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const EXAMPLES: &str = "Examples:
  bbb-list | bbb-record --out /data/bbb-videos | pod-claim --recorder 1
  bbb-list | head -n 2 | bbb-record --out /tmp/v --dry-run
  bbb-record --out /data/v --jobs 4 --keep-order recordings.ndjson > done.ndjson
  bbb-record --out /data/v --method bbb-recorder --bbb-recorder /opt/bbb-recorder < r.ndjson
  bbb-record --out /data/v --check       pre-flight: folder writable, ffmpeg found?";

/// Turn every BigBlueButton recording into a local video file (download, render, bbb-recorder).
#[derive(clap::Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    #[command(flatten)]
    input: cli::Input,
    /// Folder of the videos (created if missing). Required.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// File name template: {start_date} {start_time} {name} {record_id} {meeting_id} {origin}.
    #[arg(long, value_name = "TEMPLATE", default_value = naming::DEFAULT_TEMPLATE)]
    name: String,
    /// How to make each video.
    #[arg(long, value_enum, default_value = "auto")]
    method: Method,
    /// Renderer of --method auto for presentations without a video format.
    #[arg(long, value_enum, default_value = "native")]
    prefer: Prefer,
    /// Folder of the bbb-recorder plugin (holds export.js).
    #[arg(long, value_name = "DIR")]
    bbb_recorder: Option<PathBuf>,
    /// Where bbb-recorder copies its videos (default: copyToPath of its .env or config.json).
    #[arg(long, value_name = "DIR")]
    recorder_copy_to: Option<PathBuf>,
    /// Seconds bbb-recorder may run beyond 1.25 × the recording's length.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    recorder_grace: u64,
    /// Folder of the bbb-recorder logs (default: OUT/.bbb-record-logs).
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// Records worked on at once.
    #[arg(long, value_name = "N", value_parser = bbbmig_core::values::at_least_one::<usize>, default_value_t = 1)]
    jobs: usize,
    /// Write records in input order (default: as they complete).
    #[arg(long)]
    keep_order: bool,
    /// Attempts without progress after the first one, per download.
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// Seconds without data before a transfer is abandoned (and resumed).
    #[arg(long, value_name = "SECS", value_parser = bbbmig_core::values::at_least_one::<u64>, default_value_t = 60)]
    read_timeout: u64,
    /// Bytes a second below which a download is abandoned (and resumed) once it has been
    /// that slow for --min-speed-time; 0: no minimum.
    #[arg(long, value_name = "BYTES", default_value_t = 1000)]
    min_speed: u64,
    /// Seconds a download may stay slower than --min-speed.
    #[arg(long, value_name = "SECS", value_parser = bbbmig_core::values::at_least_one::<u64>, default_value_t = 60)]
    min_speed_time: u64,
    /// Megabytes that must stay free in OUT (checked before each job and each download).
    #[arg(long, value_name = "MB", default_value_t = 100)]
    keep_free: u64,
    /// Wait for a recording another job (any host sharing OUT) is making, instead of
    /// reporting it `busy`.
    #[arg(long)]
    wait_busy: bool,
    /// Seconds after which a lease its holder stopped renewing is taken over (a host died).
    #[arg(long, value_name = "SECS", value_parser = bbbmig_core::values::at_least_one::<u64>, default_value_t = 120)]
    lease_expire: u64,
    /// Say what would be done (method, URL, output path); write nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    check: settings::Check,
    #[command(flatten)]
    render: render_args::RenderArgs,
}

bbbmig_core::tool_args!(Args);

fn tool(name: &str) -> anyhow::Result<PathBuf> {
    which::which(name)
        .map_err(|_| anyhow::anyhow!("{name} is not installed (apt-get install ffmpeg)"))
}

/// bbb-recorder, when asked for.
fn bbb_recorder(a: &Args) -> anyhow::Result<Option<recorder::Recorder>> {
    let grace = Duration::from_secs(a.recorder_grace);
    match &a.bbb_recorder {
        Some(d) => Ok(Some(recorder::Recorder::new(
            d,
            a.recorder_copy_to.as_deref(),
            grace,
        )?)),
        None if a.method == Method::BbbRecorder => {
            anyhow::bail!("--method bbb-recorder needs --bbb-recorder DIR");
        }
        None => Ok(None),
    }
}

fn main() -> std::process::ExitCode {
    cli::run("bbb-record", |a: Args, out| {
        let mut cfg = Missing::new(out.tool());
        let template = cfg.take(naming::Template::parse(&a.name));
        let out_dir = cfg.take(output::prepare(a.out.as_deref(), a.dry_run));
        let ffprobe = cfg.take(tool("ffprobe"));
        let ffmpeg = cfg.take(tool("ffmpeg"));
        let recorder = cfg.take(bbb_recorder(&a)).flatten();
        let (template, (out_dir, (ffprobe, ffmpeg))) =
            cfg.finish_with(template.zip(out_dir.zip(ffprobe.zip(ffmpeg))))?;
        if a.check.check {
            let folder = if a.dry_run {
                "not checked (--dry-run writes nothing there)"
            } else {
                "is writable"
            };
            let mut done = vec![
                format!("--out {} {folder}", out_dir.display()),
                format!("{} and {}", ffmpeg.display(), ffprobe.display()),
            ];
            if let Some(d) = &a.bbb_recorder {
                done.push(format!("bbb-recorder in {}", d.display()));
            }
            return settings::ready(out, &done);
        }
        if !a.dry_run {
            // Published files fetched by a bbb-record that was killed: nothing else removes them.
            bbbmig_core::stale::sweep(&out_dir, bbbmig_core::media::source::FILES_PREFIX);
        }
        let fetcher = download::Fetcher {
            client: bbbmig_core::http::download_client(Duration::from_secs(a.read_timeout))?,
            retries: a.retries,
            backoff: Duration::from_millis(500),
            min_speed: (a.min_speed > 0).then(|| download::MinSpeed {
                bytes_per_s: a.min_speed,
                over: Duration::from_secs(a.min_speed_time),
            }),
        };
        let ctx = Arc::new(work::Ctx {
            leases: (!a.dry_run)
                .then(|| lease::Leases::new(&out_dir, Duration::from_secs(a.lease_expire))),
            log_dir: a
                .log_dir
                .clone()
                .unwrap_or_else(|| out_dir.join(".bbb-record-logs")),
            out: out_dir,
            template,
            method: a.method,
            prefer: a.prefer,
            recorder,
            render: a.render.options(ffmpeg, a.jobs),
            from_dir: a.render.from_dir.clone(),
            keep_free: a.keep_free.saturating_mul(1_000_000),
            dry_run: a.dry_run,
            ffprobe,
            fetcher,
            board: progress::Board::new(),
            claimed: Default::default(),
            wait_busy: a.wait_busy,
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(a.jobs.clamp(1, 4))
            .enable_all()
            .build()?;
        let res = rt.block_on(jobs::run(ctx, a.jobs, a.keep_order, &a.input, out));
        rt.shutdown_timeout(Duration::from_secs(2));
        res
    })
}
