//! Tests of pod-import and pod-claim against a real PostgreSQL and a real MariaDB loaded with
//! Pod 4.1's own schema for each (tests/fixtures/pod), checking the rows as Pod's code would
//! read them; every test body runs on both engines unless its name says MariaDB.

mod claim;
mod commits;
mod concurrent;
mod import;
mod import_faults;
mod mariadb;
