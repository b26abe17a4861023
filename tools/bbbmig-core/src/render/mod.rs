//! Render support (placeholder until its issue lands).
