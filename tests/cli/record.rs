//! Tests of the record tools (placeholder until its issue lands).
