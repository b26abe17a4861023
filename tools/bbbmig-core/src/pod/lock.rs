//! One record's lock in Pod's database, so that several hosts running pod-import or
//! pod-claim at once never write the same rows twice: a session lock keyed on a string
//! (PostgreSQL advisory lock, MariaDB/MySQL `GET_LOCK`, through [`Db::lock`]), held until
//! the batch's commit so that the other host sees the rows once it gets the lock. A lock
//! another session holds is never waited for while holding others (no deadlock between
//! two batches): the batch is committed first, its locks released, then the wait.

use super::commit::Tx;
use crate::db::sql::Db;

/// The first key of our locks ("bbbm"), so that they never meet other users'.
const CLASS: i32 = 0x6262_626d;

/// Takes the lock of `key` for the rest of the batch, then opens the record's write
/// (transaction and savepoint, [`Tx::writing`]).
pub fn lock_for_write(db: &mut Db, tx: &mut Tx, key: &str) -> anyhow::Result<()> {
    if !tx.locks.contains(key) {
        let got = db.try_lock(CLASS, key).map_err(|e| e.for_record("Pod"))?;
        if !got {
            // Another host works on this key: commit ours (and let go of our locks), then
            // wait for it, holding nothing else.
            tx.commit(db)?;
            db.lock(CLASS, key).map_err(|e| e.for_record("Pod"))?;
        }
        tx.locks.insert(key.to_string());
    }
    tx.writing(db)
}
