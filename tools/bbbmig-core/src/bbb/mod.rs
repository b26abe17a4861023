//! Everything that speaks the BigBlueButton API: checksums, the getRecordings parser, listing.

pub mod api;
pub mod capped;
pub mod collect;
pub mod list;
pub mod recording;
pub mod xml;
