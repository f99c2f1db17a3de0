//! provscan's exit codes, documented in docs/cli.md.

/// How a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The scan finished and the policy passed (also: no lockfile found).
    Success = 0,
    /// The scan finished and the policy failed.
    PolicyFailed = 1,
    /// Usage error, unreadable or malformed input, or a failure to write the report.
    Error = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
