//! Greenlight (v2 and v3): the room a recording was made in and the users who own it.

pub mod config;
pub mod db;
pub mod names;
pub mod owners;
pub mod route;
pub mod schema;
pub mod stage;
pub mod v2;
pub mod v3;
