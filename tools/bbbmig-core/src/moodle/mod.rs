//! Moodle: which activity a recording came from, who moderates it, and the notice in its description.

pub mod config;
pub mod enrich;
pub mod expand;
pub mod inform;
pub mod lookup;
pub mod meetingid;
pub mod notice;
pub mod rules;
pub mod site;
