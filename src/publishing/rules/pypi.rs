//! PyPI rules: `pypa/gh-action-pypi-publish` through trusted publishing, at a release that makes
//! PEP 740 attestations (v1.11.0 and later by default; v1.10.x only with `attestations: true`),
//! attestations not turned off; other upload tools without a token and with an attestation
//! step. A commit-SHA pin is mapped to its version through the `# vX.Y.Z` comment beside it.

use super::{
    PYPI_ACTION_TOO_OLD, PYPI_ACTION_VERSION_UNKNOWN, PYPI_ATTESTATIONS_DISABLED,
    PYPI_MISSING_ID_TOKEN, PYPI_NO_ATTESTATIONS, PYPI_PASSWORD, PYPI_TOKEN_UPLOAD, action_name,
    action_ref, finding, is_sha, set, step_commands, step_env, version,
};
use crate::publishing::model::{Finding, Job, Platform, PublishStep, Step};

/// The first release of `pypa/gh-action-pypi-publish` that attests by default.
pub const ATTESTS_BY_DEFAULT: (u64, u64, u64) = (1, 11, 0);
/// The first release with the `attestations` input.
pub const ATTESTATIONS_INPUT: (u64, u64, u64) = (1, 10, 0);

/// Which release an action reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionVersion {
    /// A version tag (`v1.12.4`), or a SHA with a version comment.
    Known((u64, u64, u64)),
    /// A moving reference (`release/v1`, `v1`, a branch): whatever is newest on it.
    Moving(String),
    /// A SHA without a version comment.
    UnknownSha,
}

/// The version an action reference (and the comment beside it) names.
pub fn action_version(uses: &str, comment: Option<&str>) -> ActionVersion {
    let Some(r) = action_ref(uses) else {
        return ActionVersion::Moving(String::new());
    };
    if is_sha(r) {
        return comment
            .and_then(|c| {
                c.split_whitespace()
                    .find_map(|w| version(w.trim_start_matches("tag=")).filter(|_| w.contains('.')))
            })
            .map_or(ActionVersion::UnknownSha, ActionVersion::Known);
    }
    // `v1` or `release/v1` move with every release; `v1.8` is a minor line; `v1.8.14` fixed.
    match version(r) {
        Some(v) if r.matches('.').count() >= 1 => ActionVersion::Known(v),
        _ => ActionVersion::Moving(r.to_string()),
    }
}

/// Variables that carry an upload token, per tool.
fn is_token_var(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    matches!(
        n.as_str(),
        "TWINE_PASSWORD"
            | "UV_PUBLISH_TOKEN"
            | "UV_PUBLISH_PASSWORD"
            | "HATCH_INDEX_AUTH"
            | "PDM_PUBLISH_PASSWORD"
            | "FLIT_PASSWORD"
            | "MATURIN_PYPI_TOKEN"
            | "MATURIN_PASSWORD"
            | "PYPI_TOKEN"
            | "PYPI_API_TOKEN"
    ) || n.starts_with("POETRY_PYPI_TOKEN_")
        || n.starts_with("POETRY_HTTP_BASIC_")
}

/// Check a job's PyPI upload steps.
pub fn check(job: &Job, steps: &[(usize, PublishStep)], out: &mut Vec<Finding>) {
    let attest_step = job.steps.iter().any(attests);
    for (index, publish) in steps {
        let step = &job.steps[*index];
        if publish.method == "pypa/gh-action-pypi-publish" {
            action(job, step, publish, out);
            continue;
        }
        let token = step_env(job, *index)
            .into_iter()
            .find(|(k, v)| is_token_var(k) && set(&v.value))
            .map(|(k, v)| (v.line, format!("`{k}`")))
            .or_else(|| {
                step_commands(step).into_iter().find_map(|(line, cmd)| {
                    let flag = ["--password", "-p", "--token", "-t", "--auth", "-a"]
                        .into_iter()
                        .find(|f| cmd.flag_value(f).is_some_and(set))?;
                    (line == publish.line).then(|| (line, format!("`{flag}`")))
                })
            })
            .or_else(|| {
                step_commands(step).into_iter().find_map(|(line, cmd)| {
                    cmd.env
                        .iter()
                        .find(|(k, v)| is_token_var(k) && set(v))
                        .map(|(k, _)| (line, format!("`{k}`")))
                })
            });
        let id_token = match job.platform {
            Platform::GithubActions => job.permissions.id_token(),
            Platform::GitlabCi => !job.id_tokens.is_empty(),
        };
        match token {
            Some((line, what)) => out.push(finding(
                &PYPI_TOKEN_UPLOAD,
                job,
                publish.line,
                format!(
                    "`{}` uploads with {what} (line {line}): no trusted publisher, and PyPI accepts attestations only through trusted publishing",
                    publish.method
                ),
                "configure a trusted publisher on PyPI, give the job `id-token: write`, remove the token, and upload with `pypa/gh-action-pypi-publish` (which attests)",
            )),
            None if !id_token && job.platform == Platform::GithubActions => out.push(finding(
                &PYPI_MISSING_ID_TOKEN,
                job,
                publish.line,
                format!(
                    "`{}` in job `{}` has neither a token nor `id-token: write`: trusted publishing cannot work",
                    publish.method, job.id
                ),
                "give the job `permissions: id-token: write` and configure a trusted publisher on PyPI",
            )),
            None if !attest_step => out.push(finding(
                &PYPI_NO_ATTESTATIONS,
                job,
                publish.line,
                format!(
                    "`{}` through trusted publishing uploads no PEP 740 attestations: the release names a trusted publisher but carries no provenance",
                    publish.method
                ),
                "upload with `pypa/gh-action-pypi-publish` (v1.11.0 or later attests by default), or sign with `pypi-attestations sign` and upload with `twine upload --attestations`",
            )),
            None => {}
        }
    }
}

/// A step that makes or uploads PEP 740 attestations.
fn attests(step: &Step) -> bool {
    let action = step.uses.as_ref().map(|u| action_name(&u.value));
    action.as_deref() == Some("pypa/gh-action-pypi-publish")
        || step_commands(step).iter().any(|(_, cmd)| {
            let words = cmd.words();
            words.iter().any(|w| w.ends_with("pypi-attestations")) && words.contains(&"sign")
                || words.iter().any(|w| w.ends_with("twine")) && cmd.has_flag("--attestations")
        })
}

fn action(job: &Job, step: &Step, publish: &PublishStep, out: &mut Vec<Finding>) {
    let Some(uses) = &step.uses else { return };
    if let Some(password) = step.with.get("password").filter(|p| set(&p.value)) {
        out.push(finding(
            &PYPI_PASSWORD,
            job,
            password.line,
            "the action uploads with a `password` (an API token): no trusted publisher, no attestations".into(),
            "configure a trusted publisher on PyPI, give the job `id-token: write`, and remove `password`",
        ));
    } else if job.platform == Platform::GithubActions && !job.permissions.id_token() {
        out.push(finding(
            &PYPI_MISSING_ID_TOKEN,
            job,
            publish.line,
            format!(
                "`pypa/gh-action-pypi-publish` in job `{}` without `id-token: write` and without a token: trusted publishing cannot work",
                job.id
            ),
            "give the job `permissions: id-token: write`",
        ));
    }
    let attestations = step.with.get("attestations");
    if let Some(a) = attestations.filter(|a| a.value == "false") {
        out.push(finding(
            &PYPI_ATTESTATIONS_DISABLED,
            job,
            a.line,
            "`attestations: false` turns PEP 740 attestations off".into(),
            "remove `attestations: false`",
        ));
        return;
    }
    let opted_in = attestations.is_some_and(|a| a.value == "true");
    match action_version(&uses.value, step.uses_comment.as_deref()) {
        ActionVersion::Known(v) if v < ATTESTATIONS_INPUT || (v < ATTESTS_BY_DEFAULT && !opted_in) => {
            out.push(finding(
                &PYPI_ACTION_TOO_OLD,
                job,
                uses.line,
                format!(
                    "`{}` is v{}.{}.{}, which {}",
                    uses.value,
                    v.0,
                    v.1,
                    v.2,
                    if v < ATTESTATIONS_INPUT {
                        "cannot produce attestations (they came in v1.10.0 and are on by default from v1.11.0)"
                    } else {
                        "produces attestations only with `attestations: true` (the default from v1.11.0)"
                    }
                ),
                "pin a release from v1.11.0 on, by commit SHA with its tag in a comment (`@<sha> # v1.13.0`)",
            ));
        }
        ActionVersion::UnknownSha => out.push(finding(
            &PYPI_ACTION_VERSION_UNKNOWN,
            job,
            uses.line,
            format!(
                "`{}` is pinned by commit SHA with no `# vX.Y.Z` comment: whether this release attests cannot be told offline",
                uses.value
            ),
            "add the tag as a comment beside the pin (`@<sha> # v1.13.0`), as Dependabot and Renovate keep it",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_pins_map_to_versions_through_the_comment() {
        let sha = "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc";
        assert_eq!(
            action_version(sha, Some("v1.12.4")),
            ActionVersion::Known((1, 12, 4))
        );
        assert_eq!(
            action_version(sha, Some("tag=v1.8.14")),
            ActionVersion::Known((1, 8, 14))
        );
        assert_eq!(
            action_version(sha, Some("pinned")),
            ActionVersion::UnknownSha
        );
        assert_eq!(action_version(sha, None), ActionVersion::UnknownSha);
        assert_eq!(
            action_version("pypa/gh-action-pypi-publish@release/v1", None),
            ActionVersion::Moving("release/v1".into())
        );
        assert_eq!(
            action_version("pypa/gh-action-pypi-publish@v1.10.3", None),
            ActionVersion::Known((1, 10, 3))
        );
    }
}
