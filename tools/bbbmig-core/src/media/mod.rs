//! Media support (placeholder until its issue lands).
