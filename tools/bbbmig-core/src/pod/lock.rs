//! A record's locks in Pod's database, so that several hosts running pod-import or
//! pod-claim at once never write the same rows twice and never wait on each other's
//! uncommitted rows: session locks keyed on strings (PostgreSQL advisory locks,
//! MariaDB/MySQL `GET_LOCK`, through [`Db::lock`]): the recording's (its `source_url`, or
//! the claimed file) and, for each user it creates, the username's. They are held until
//! the batch's commit, so that the other host, once it gets them, sees the rows. A lock
//! another session holds is never waited for while holding others: the batch is committed
//! first (its locks released), then the record's locks are taken in a fixed order. So two
//! runs cannot deadlock.

use super::commit::Tx;
use crate::db::sql::Db;

/// The first key of our locks ("bbbm"), so that they never meet other users'.
const CLASS: i32 = 0x6262_626d;

/// Takes the locks of `keys` for the rest of the batch, then opens the record's write
/// (transaction and savepoint, [`Tx::writing`]). Called before the record writes anything.
pub fn lock_for_write(db: &mut Db, tx: &mut Tx, keys: &[String]) -> anyhow::Result<()> {
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort();
    keys.dedup();
    let mut contended = false;
    for key in &keys {
        if tx.locks.contains(*key) {
            continue;
        }
        if db.try_lock(CLASS, key).map_err(|e| e.for_record("Pod"))? {
            tx.locks.insert((*key).clone());
        } else {
            contended = true;
            break;
        }
    }
    if contended {
        // Another host works on one of them: commit ours (and let go of every lock), then
        // wait for them in order, holding nothing else.
        tx.commit(db)?;
        for key in &keys {
            db.lock(CLASS, key).map_err(|e| e.for_record("Pod"))?;
            tx.locks.insert((*key).clone());
        }
    }
    tx.writing(db)
}
