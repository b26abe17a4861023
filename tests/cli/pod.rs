//! Tests of pod-import and pod-claim against a real PostgreSQL loaded with Pod 4.1's own
//! schema (tests/fixtures/pod), checking the rows as Pod's code would read them.

mod claim;
mod concurrent;
mod import;
mod import_faults;
