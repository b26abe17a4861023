//! One record's lock in Pod's database, so that several hosts running pod-import or
//! pod-claim at once never write the same rows twice: a session advisory lock (PostgreSQL
//! `pg_advisory_lock`; MySQL/MariaDB would map it to `GET_LOCK`) keyed on a string.

use super::classify;
use postgres::Client;

/// The first key of our advisory locks ("bbbm"), so that they never meet other users'.
const CLASS: i32 = 0x6262_626d;

/// Runs `f` holding the lock of `key` (waiting for another session that holds it).
pub fn with_lock<T>(
    client: &mut Client,
    key: &str,
    f: impl FnOnce(&mut Client) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    client
        .execute("SELECT pg_advisory_lock($1, hashtext($2))", &[&CLASS, &key])
        .map_err(|e| classify(client, e))?;
    let result = f(client);
    let unlocked = client.execute(
        "SELECT pg_advisory_unlock($1, hashtext($2))",
        &[&CLASS, &key],
    );
    match (result, unlocked) {
        (Ok(v), Ok(_)) => Ok(v),
        (Ok(_), Err(e)) => Err(classify(client, e)),
        (Err(e), _) => Err(e),
    }
}
