//! Tests of the bbb_csv tools (placeholder until its issue lands).
