//! Moodle support (placeholder until its issue lands).
