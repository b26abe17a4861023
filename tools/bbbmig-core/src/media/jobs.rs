//! The job runner: records read ahead on a thread (so that the status line knows how many
//! there are), `--jobs N` of them worked on at once (tokio), results written as they
//! complete or in input order (`--keep-order`).

use super::progress::{Board, Times};
use super::work::{Ctx, process};
use crate::cli::{Input, Out};
use crate::error::{fatal, is_fatal};
use crate::ndjson::{Item, Reader};
use crate::outcome::Status;
use crate::record::Record;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

struct Done {
    seq: u64,
    line: u64,
    original: Record,
    result: anyhow::Result<(Record, &'static str, Times)>,
}

/// Records read ahead of the jobs: enough for the status line to know the whole count of
/// most runs (records are small).
const READ_AHEAD: usize = 4096;

/// Reads `input` and works on up to `jobs` records at once. Per-record failures go to
/// `out.fail`; a fatal one (or a garbled input line) stops the run once the running
/// jobs are done.
pub async fn run(
    ctx: Arc<Ctx>,
    jobs: usize,
    keep_order: bool,
    input: &Input,
    out: &mut Out,
) -> anyhow::Result<()> {
    let items = read_on_a_thread(out.records(input)?, ctx.board.clone());
    let ticker = ctx.board.ticker();
    let result = Runner::new(ctx.clone(), jobs, keep_order)
        .drive(items, out)
        .await;
    drop(ticker); // the status line is cleared before the summary
    log_times(&ctx.board);
    result
}

/// Reading stdin blocks: the records come from a thread of their own, read ahead.
fn read_on_a_thread(records: Reader, board: Arc<Board>) -> mpsc::Receiver<anyhow::Result<Item>> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        for item in records {
            board.record_read();
            if tx.blocking_send(item).is_err() {
                return;
            }
        }
        board.all_read();
    });
    rx
}

/// `-v`: the download rate over the time downloads ran, and the time of each phase.
fn log_times(board: &Board) {
    let (bytes, secs) = board.received();
    if bytes > 0 {
        log::info!(
            "downloaded {:.1} MB in {secs:.1} s of downloading ({:.1} MB/s)",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs.max(0.001)
        );
    }
    let times = board.times();
    if !times.spent().is_empty() {
        log::info!("time in each phase, all jobs: {}", times.describe());
    }
}

/// The jobs in flight and the results waiting for their turn to be written.
struct Runner {
    ctx: Arc<Ctx>,
    keep_order: bool,
    /// Records started and not yet written, at most.
    window: usize,
    running: JoinSet<Done>,
    /// Finished (or failed before starting), by input sequence number.
    waiting: BTreeMap<u64, Done>,
    next_seq: u64,
    next_emit: u64,
    reading: bool,
    /// The fatal input error that stops reading; returned once the jobs are done.
    stop: Option<anyhow::Error>,
}

impl Runner {
    fn new(ctx: Arc<Ctx>, jobs: usize, keep_order: bool) -> Runner {
        let jobs = jobs.max(1);
        Runner {
            ctx,
            keep_order,
            window: if keep_order { jobs * 4 } else { jobs },
            running: JoinSet::new(),
            waiting: BTreeMap::new(),
            next_seq: 0,
            next_emit: 0,
            reading: true,
            stop: None,
        }
    }

    /// Starts records while the window has room, writes results as they may be written,
    /// until the input is done (or stopped) and every job has finished.
    async fn drive(
        mut self,
        mut items: mpsc::Receiver<anyhow::Result<Item>>,
        out: &mut Out,
    ) -> anyhow::Result<()> {
        let mut signals = Signals::new()?;
        let gone = crate::watch::reader_left();
        tokio::pin!(gone);
        loop {
            let open = (self.running.len() + self.waiting.len()) < self.window;
            let take = self.reading && open && self.stop.is_none();
            tokio::select! {
                sig = signals.next() => {
                    // Dropping the jobs kills their bbb-recorder children; renders stop
                    // their ffmpeg runs; partial downloads stay for the next run.
                    self.ctx.render.cancel.set();
                    return Err(fatal(anyhow::anyhow!(
                        "interrupted by {sig}; partial downloads are kept for the next run"
                    )));
                },
                () = &mut gone => {
                    // Nobody would read the videos' records: stop as on a signal.
                    self.ctx.render.cancel.set();
                    return Err(crate::watch::stopped(format!(
                        "{} running job(s) cancelled{}; partial downloads are kept for the next run",
                        self.running.len(),
                        if self.reading { ", the input left unread" } else { "" }
                    )));
                },
                item = items.recv(), if take => match item {
                    None => self.reading = false,
                    Some(Err(e)) => {
                        self.reading = false;
                        self.stop = Some(e);
                    }
                    Some(Ok(item)) => self.start(item),
                },
                Some(joined) = self.running.join_next(), if !self.running.is_empty() => {
                    let done = joined.map_err(|e| anyhow::anyhow!("a job crashed: {e}"))?;
                    self.waiting.insert(done.seq, done);
                },
                else => {}
            }
            self.write_ready(out)?;
            // A fatal input error also ends the reading.
            if !self.reading && self.running.is_empty() && self.waiting.is_empty() {
                return self.stop.take().map_or(Ok(()), Err);
            }
        }
    }

    /// Starts the job of one record; a record of the wrong shape fails in its place.
    fn start(&mut self, item: Item) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let line = item.line;
        match item.record {
            Err(e) => {
                let done = Done {
                    seq,
                    line,
                    original: Record::new(),
                    result: Err(e),
                };
                self.waiting.insert(seq, done);
            }
            Ok(rec) => match crate::pod::done::of(&rec) {
                Ok(None) => {
                    let ctx = self.ctx.clone();
                    self.running.spawn(async move {
                        let result = process(&ctx, rec.clone()).await;
                        Done {
                            seq,
                            line,
                            original: rec,
                            result,
                        }
                    });
                }
                // Already in Pod (pod-claim --mark-done): passed on as it came, no
                // download, no lease. A `pod_done` of the wrong shape fails the record.
                marked => {
                    let result = marked.map(|_| {
                        log::info!(
                            "record {}: already in Pod (pod_done); skipped",
                            rec.id_for_messages()
                        );
                        (rec.clone(), Status::Skipped.as_str(), Times::default())
                    });
                    let done = Done {
                        seq,
                        line,
                        original: rec,
                        result,
                    };
                    self.waiting.insert(seq, done);
                }
            },
        }
    }

    /// Writes the results whose turn it is (all of them without `--keep-order`).
    fn write_ready(&mut self, out: &mut Out) -> anyhow::Result<()> {
        while let Some(entry) = self.waiting.first_entry() {
            if self.keep_order && *entry.key() != self.next_emit {
                break;
            }
            let done = entry.remove();
            self.next_emit = done.seq + 1;
            emit(out, done)?;
        }
        if !self.keep_order {
            self.next_emit = self.next_seq;
        }
        Ok(())
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught so that running jobs are stopped cleanly.
struct Signals(Signal, Signal, Signal);

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        Ok(Signals(
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.0.recv() => "SIGINT",
            _ = self.1.recv() => "SIGTERM",
            _ = self.2.recv() => "SIGHUP",
        }
    }
}

fn emit(out: &mut Out, done: Done) -> anyhow::Result<()> {
    match done.result {
        Ok((rec, status, times)) => {
            if !times.spent().is_empty() {
                log::info!(
                    "record {}: {status}: {}",
                    rec.id_for_messages(),
                    times.describe()
                );
            }
            out.emit(&rec)?;
            out.log_figures(
                times
                    .spent()
                    .into_iter()
                    .map(|(n, s)| (format!("{n}_s"), format!("{s:.1}"))),
            );
            out.count(status);
            Ok(())
        }
        Err(e) if is_fatal(&e) => Err(e.context(format!(
            "line {}: record {}",
            done.line,
            done.original.id_for_messages()
        ))),
        Err(e) => {
            let rec = (!done.original.0.is_empty()).then_some(&done.original);
            out.fail(done.line, rec, &e)
        }
    }
}
