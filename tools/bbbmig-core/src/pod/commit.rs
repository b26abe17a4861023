//! Durable commits without one disk flush per record: many records per transaction, each
//! behind its own savepoint (a failing record is rolled back alone), the transaction
//! committed every `--batch` records and whenever no record is waiting in the input (a
//! live pipeline never waits for a batch to fill). A record's output line is written only
//! once the transaction holding its rows is committed.

use crate::cli::{Input, Out};
use crate::db::Engine;
use crate::db::sql::Db;
use crate::error::is_fatal;
use crate::record::Record;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

/// The record's savepoint.
const SAVEPOINT: &str = "bbbmig_record";

/// The open transaction of a batch: whether one is open, the record locks it holds (kept
/// until the commit, see [`super::lock`]), the record's savepoint, and what to do once
/// the rows are committed.
#[derive(Default)]
pub struct Tx {
    open: bool,
    /// The record being handled took its savepoint.
    savepoint: bool,
    /// Lock keys held until the commit.
    pub(super) locks: std::collections::HashSet<String>,
    /// A commit happened while the record was handled: the records before it may be
    /// written out.
    committed_early: bool,
    /// Work that must wait for the commit (removing a moved video's source).
    after: Vec<Box<dyn FnOnce()>>,
    /// Commit once this record is done, whatever the batch's size.
    commit_now: bool,
}

impl Tx {
    /// Before the record's first write: the transaction open and the record's savepoint
    /// taken. (Reads before it need neither: a record that writes nothing costs nothing.)
    pub fn writing(&mut self, db: &mut Db) -> anyhow::Result<()> {
        if !self.open {
            match db.engine() {
                // Django makes PostgreSQL's foreign keys DEFERRABLE INITIALLY DEFERRED: checked
                // at once instead, inside the record's savepoint, so that a record whose row
                // cannot be written fails alone, never the batch's commit.
                Engine::Postgres => db.batch("BEGIN; SET CONSTRAINTS ALL IMMEDIATE"),
                Engine::MySql => db.begin(),
            }
            .map_err(|e| e.for_record("Pod"))?;
            self.open = true;
        }
        if !self.savepoint {
            db.savepoint(SAVEPOINT).map_err(|e| e.for_record("Pod"))?;
            self.savepoint = true;
        }
        Ok(())
    }

    /// Undoes what the record wrote so far (the transaction goes on), e.g. to try again
    /// after another host created a user meanwhile.
    pub fn undo_record(&mut self, db: &mut Db) -> anyhow::Result<()> {
        if self.savepoint {
            db.rollback_to(SAVEPOINT).map_err(|e| e.for_record("Pod"))?;
        }
        Ok(())
    }

    /// Commits as soon as this record is done: for a record whose work took far longer
    /// than a flush (a video copied), so that a crash leaves at most that one file
    /// without its row.
    pub fn commit_after_record(&mut self) {
        self.commit_now = true;
    }

    /// Runs `f` after the commit of this record's rows (never if they roll back).
    pub fn after_commit(&mut self, f: impl FnOnce() + 'static) {
        self.after.push(Box::new(f));
    }

    /// Commits what is open (also in the middle of a record that has not written yet),
    /// then releases the record locks. Fatal when it fails: nothing of the batch is kept.
    pub(super) fn commit(&mut self, db: &mut Db) -> anyhow::Result<()> {
        if self.open {
            if self.savepoint {
                db.release(SAVEPOINT).map_err(|e| e.for_record("Pod"))?;
                self.savepoint = false;
            }
            db.commit()
                .map_err(|e| crate::error::fatal(e.for_record("Pod")))?;
            self.open = false;
            self.committed_early = true;
        }
        if !self.locks.is_empty() {
            db.unlock_all().map_err(|e| e.for_record("Pod"))?;
            self.locks.clear();
        }
        for f in self.after.drain(..) {
            f();
        }
        Ok(())
    }

    /// The record is done: its savepoint goes (its rows stay in the transaction).
    fn end_record(&mut self, db: &mut Db) -> anyhow::Result<()> {
        if self.savepoint {
            db.release(SAVEPOINT).map_err(|e| e.for_record("Pod"))?;
            self.savepoint = false;
        }
        Ok(())
    }

    /// The record failed: its rows are undone, the batch goes on. If the server already
    /// rolled the whole transaction back (a MariaDB deadlock), the batch is lost: fatal.
    fn fail_record(&mut self, db: &mut Db, after_before: usize) -> anyhow::Result<()> {
        self.after.truncate(after_before);
        if self.savepoint {
            db.rollback_to(SAVEPOINT).map_err(|e| {
                crate::error::fatal(
                    anyhow::Error::new(e)
                        .context("the database rolled the batch's transaction back"),
                )
            })?;
            db.release(SAVEPOINT).map_err(|e| e.for_record("Pod"))?;
            self.savepoint = false;
        }
        Ok(())
    }
}

/// A record handled, waiting for its transaction's commit before it is written out.
enum Held {
    Emit(Record, &'static str),
    Failed(u64, Option<Record>, anyhow::Error),
}

/// Runs `f` on every record of the input, in order, `size` records per transaction at
/// most (see the module). `f` returns the record to write and its status for the summary,
/// or fails the record (its rows rolled back to its savepoint); a fatal error stops the
/// run, the records of the open transaction neither committed nor written.
pub fn for_each_record(
    out: &mut Out,
    input: &Input,
    size: usize,
    db: &mut Db,
    mut f: impl FnMut(&mut Db, &mut Tx, &Record) -> anyhow::Result<(Record, &'static str)>,
) -> anyhow::Result<()> {
    let size = size.max(1);
    let records = read_ahead(out.records(input)?, size);
    let mut tx = Tx::default();
    let mut held: Vec<Held> = Vec::new();
    loop {
        let item = match records.try_recv() {
            Ok(item) => Some(item),
            Err(TryRecvError::Disconnected) => None,
            Err(TryRecvError::Empty) => {
                // No record is waiting: commit what is done before waiting for more.
                flush(out, db, &mut tx, &mut held)?;
                records.recv().ok()
            }
        };
        let Some(item) = item else { break };
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                // A garbled input: the records before it are good, keep them.
                flush(out, db, &mut tx, &mut held)?;
                return Err(e);
            }
        };
        let rec = match item.record {
            Ok(rec) => rec,
            Err(e) => {
                held.push(Held::Failed(item.line, None, e));
                continue;
            }
        };
        let after_before = tx.after.len();
        let res = f(db, &mut tx, &rec);
        if std::mem::take(&mut tx.committed_early) {
            write_out(out, &mut held)?;
        }
        let at = || format!("line {}: record {}", item.line, rec.id_for_messages());
        match res {
            Ok((r, status)) => {
                tx.end_record(db).map_err(|e| e.context(at()))?;
                held.push(Held::Emit(r, status));
            }
            Err(e) if is_fatal(&e) => return Err(e.context(at())),
            Err(e) => {
                tx.fail_record(db, after_before)
                    .map_err(|e| e.context(at()))?;
                held.push(Held::Failed(item.line, Some(rec), e));
            }
        }
        if held.len() >= size || std::mem::take(&mut tx.commit_now) {
            flush(out, db, &mut tx, &mut held)?;
        }
    }
    flush(out, db, &mut tx, &mut held)
}

/// Commits, then writes the records the commit made durable.
fn flush(out: &mut Out, db: &mut Db, tx: &mut Tx, held: &mut Vec<Held>) -> anyhow::Result<()> {
    tx.commit(db)?;
    tx.committed_early = false;
    write_out(out, held)
}

fn write_out(out: &mut Out, held: &mut Vec<Held>) -> anyhow::Result<()> {
    for h in held.drain(..) {
        match h {
            Held::Emit(r, status) => {
                out.emit(&r)?;
                out.count(status);
            }
            Held::Failed(line, rec, e) => out.fail(line, rec.as_ref(), &e)?,
        }
    }
    Ok(())
}

/// Reads the input on its own thread, up to `size` records ahead, so that the loop can
/// tell whether a record is waiting.
fn read_ahead(
    reader: crate::ndjson::Reader,
    size: usize,
) -> Receiver<anyhow::Result<crate::ndjson::Item>> {
    let (send, recv) = sync_channel(size);
    std::thread::spawn(move || {
        for item in reader {
            if send.send(item).is_err() {
                break;
            }
        }
    });
    recv
}
