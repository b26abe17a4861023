//! Integration tests: run the real binaries against the BBB stand-in and a throwaway PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

mod bbb_csv;
mod bbb_list;
mod cluster;
mod man_pages;
mod moodle;
mod package;
mod pod;
mod record;
mod render;
