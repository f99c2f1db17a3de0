//! GitLab CI: a publish job needs an OIDC id token in `id_tokens` — `SIGSTORE_ID_TOKEN` (`aud:
//! sigstore`) for npm provenance, and one for the registry's trusted publishing (`NPM_ID_TOKEN`,
//! `PYPI_ID_TOKEN` with `aud: pypi`, an id token with `aud: crates.io`). Without one, the job can
//! only publish with a token.

use super::{GITLAB_MISSING_ID_TOKEN, finding};
use crate::model::Ecosystem;
use crate::publishing::model::{Finding, Job, PublishStep};

/// Check a GitLab job's publish steps.
pub fn check(job: &Job, steps: &[(usize, PublishStep)], out: &mut Vec<Finding>) {
    let aud = |want: &str| {
        job.id_tokens.values().any(|a| {
            a.value
                .split(',')
                .any(|x| x.trim().eq_ignore_ascii_case(want))
        })
    };
    for eco in Ecosystem::ALL {
        let Some((_, step)) = steps.iter().find(|(_, s)| s.ecosystem == eco) else {
            continue;
        };
        let (ok, needs) = match eco {
            Ecosystem::Npm => (
                job.id_tokens.contains_key("SIGSTORE_ID_TOKEN"),
                "`SIGSTORE_ID_TOKEN` (`aud: sigstore`), which npm's provenance signs with",
            ),
            Ecosystem::Pypi => (
                aud("pypi"),
                "an id token with `aud: pypi` (trusted publishing), and `SIGSTORE_ID_TOKEN` to attest",
            ),
            Ecosystem::Crates => (
                aud("crates.io"),
                "an id token with `aud: crates.io` (trusted publishing)",
            ),
        };
        if !ok {
            out.push(finding(
                &GITLAB_MISSING_ID_TOKEN,
                job,
                step.line,
                format!("`{}` in GitLab job `{}` without {needs}", step.method, job.id),
                "add `id_tokens:` to the job with the token the registry needs (docs/publishing.md shows the job)",
            ));
        }
    }
}
