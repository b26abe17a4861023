//! What a stage did with one record (`created`, `exists`, `dry-run`…): the `status` values
//! of the objects stages add to records, and the words of the summary line.

use serde::Serialize;

/// One outcome word; serialises to the word itself (kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written by this run.
    Created,
    /// Already there from an earlier run (or another source).
    Exists,
    /// Left alone on purpose (the object says why).
    Skipped,
    /// `--dry-run`: nothing written.
    DryRun,
    /// Taken out by `--remove`.
    Removed,
    /// Not there to take out (or, of a user, unknown to Pod).
    Absent,
    /// A user not yet in Pod.
    Missing,
    /// What `--dry-run` would create.
    WouldCreate,
    /// What `--remove --dry-run` would take out.
    WouldRemove,
    /// Pod already turned this file into a recording.
    Claimed,
    /// Changed by this run.
    Updated,
    /// Already as wanted: nothing to write.
    Unchanged,
    /// No Moodle activity to write to.
    NoActivity,
    /// Moodle activity found.
    Found,
    /// No Moodle activity found.
    NotFound,
    /// Origin server not a Moodle (`--ignore-origin-server`).
    Ignored,
    /// No database configured for the origin server.
    NoDatabase,
    /// Being made by another job (which holds its lease).
    Busy,
}

impl Status {
    /// The word, as written in records and counted in the summary line.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Exists => "exists",
            Status::Skipped => "skipped",
            Status::DryRun => "dry-run",
            Status::Removed => "removed",
            Status::Absent => "absent",
            Status::Missing => "missing",
            Status::WouldCreate => "would-create",
            Status::WouldRemove => "would-remove",
            Status::Claimed => "claimed",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::NoActivity => "no-activity",
            Status::Found => "found",
            Status::NotFound => "not-found",
            Status::Ignored => "ignored",
            Status::NoDatabase => "no-database",
            Status::Busy => "busy",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_the_word_it_counts_under() {
        for s in [
            Status::Created,
            Status::DryRun,
            Status::WouldCreate,
            Status::WouldRemove,
            Status::NoActivity,
            Status::NotFound,
            Status::NoDatabase,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
