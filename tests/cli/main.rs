//! Integration tests: run the real binaries against the BBB stand-in and throwaway PostgreSQL
//! and MariaDB servers.

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod bbb_csv;
mod bbb_list;
mod cluster;
mod db_seam;
mod db_tls;
mod greenlight;
mod lost_db;
mod man_pages;
mod mariadb;
mod moodle;
mod moodle_faults;
mod options;
mod output;
mod package;
mod pod;
mod record;
mod render;
mod resume;
mod watch;
