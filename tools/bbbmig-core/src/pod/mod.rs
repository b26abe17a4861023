//! Pod support (placeholder until its issue lands).
