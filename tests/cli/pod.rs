//! Tests of the pod tools (placeholder until its issue lands).
