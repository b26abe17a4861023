//! Tests of the moodle tools (placeholder until its issue lands).
