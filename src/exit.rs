//! provscan's exit codes: one table for every command (scan, `diff`, `explain`), documented in
//! docs/cli.md and in `--help`. A CI script can tell from the code alone whether a report exists.

/// The exit-code table's text, for `concat!` in help texts.
macro_rules! exit_codes_help {
    () => {
        "Exit codes (every command):
  0  report written, policy passed (also: no lockfile found)
  1  report written, policy failed (stderr lists why; `diff`: something got weaker)
  2  usage or input error: no report written, and no earlier -o FILE left in place
  3  report written, but at least one lockfile could not be read (wins over 1)
  publishing: 1 = a finding at or above --severity-threshold; 3 = a CI file could not be read"
    };
}
pub(crate) use exit_codes_help;

/// The exit-code table as shown at the end of `--help` (keep in step with docs/cli.md).
pub const HELP: &str = exit_codes_help!();

/// How a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The report was written and the policy passed (also: no lockfile found).
    Success = 0,
    /// The report was written and the policy failed.
    PolicyFailed = 1,
    /// Usage error, unusable input or a failure to write the report: no report was written.
    Error = 2,
    /// The report was written, but at least one lockfile could not be read (its error is in
    /// the report). Wins over [`Exit::PolicyFailed`].
    Incomplete = 3,
}

impl Exit {
    /// The code for a written report: `Incomplete` when a lockfile could not be read, else by
    /// the policy's verdict.
    pub fn for_report(policy_passed: bool, unreadable_lockfiles: usize) -> Exit {
        if unreadable_lockfiles > 0 {
            Exit::Incomplete
        } else if policy_passed {
            Exit::Success
        } else {
            Exit::PolicyFailed
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_lockfiles_win_over_a_failed_policy() {
        assert_eq!(Exit::for_report(true, 0), Exit::Success);
        assert_eq!(Exit::for_report(false, 0), Exit::PolicyFailed);
        assert_eq!(Exit::for_report(false, 1), Exit::Incomplete);
        assert_eq!(Exit::for_report(true, 2), Exit::Incomplete);
        assert_eq!(Exit::Incomplete as u8, 3);
    }
}
