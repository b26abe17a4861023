//! Tests of the render tools (placeholder until its issue lands).
