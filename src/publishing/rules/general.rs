//! Rules for every GitHub Actions publish job: not reachable from `pull_request_target` or
//! `workflow_run`; every action pinned by commit SHA; token permissions no wider than publishing
//! needs (`id-token: write`, `contents: read`, `attestations: write`).

use super::{
    DANGEROUS_TRIGGER, EXCESSIVE_PERMISSIONS, UNPINNED_ACTION, action_ref, finding, is_sha,
};
use crate::publishing::model::{Finding, Job, Permissions, PublishStep};

/// Scopes a publish job may hold for writing.
const PUBLISH_WRITES: &[&str] = &["id-token", "attestations"];

/// Check a GitHub publish job.
pub fn check(job: &Job, steps: &[(usize, PublishStep)], out: &mut Vec<Finding>) {
    for trigger in &job.triggers {
        if matches!(
            trigger.value.as_str(),
            "pull_request_target" | "workflow_run"
        ) {
            out.push(finding(
                &DANGEROUS_TRIGGER,
                job,
                trigger.line,
                format!(
                    "job `{}` publishes and the workflow runs on `{}`, which runs with the base repository's secrets and OIDC identity on events a fork can cause",
                    job.id, trigger.value
                ),
                "publish from a workflow triggered only by `push` of a tag, `release` or `workflow_dispatch`",
            ));
        }
    }
    for step in &job.steps {
        let Some(uses) = &step.uses else { continue };
        let value = uses.value.trim();
        if value.starts_with("./") || value.starts_with("docker://") && value.contains("@sha256:") {
            continue;
        }
        if !action_ref(value).is_some_and(is_sha) {
            out.push(finding(
                &UNPINNED_ACTION,
                job,
                uses.line,
                format!("`{value}` is not pinned by commit SHA in publish job `{}`", job.id),
                "pin the full 40-character commit SHA with the tag in a comment (`@<sha> # v1.2.3`)",
            ));
        }
    }
    let first = steps.first().map_or(job.line, |(_, s)| s.line);
    match &job.permissions {
        Permissions::Default => out.push(finding(
            &EXCESSIVE_PERMISSIONS,
            job,
            job.line,
            format!(
                "publish job `{}` sets no `permissions`, so it runs with the repository's default token permissions (read-write in many repositories)",
                job.id
            ),
            "set `permissions: {}` at the top of the workflow and only `contents: read` and `id-token: write` on the publish job",
        )),
        Permissions::WriteAll => out.push(finding(
            &EXCESSIVE_PERMISSIONS,
            job,
            job.permissions_line.max(first),
            format!("publish job `{}` runs with `write-all`", job.id),
            "grant only `contents: read` and `id-token: write`",
        )),
        Permissions::ReadAll => {}
        Permissions::Scopes(scopes) => {
            for (scope, level) in scopes {
                if level.value == "write" && !PUBLISH_WRITES.contains(&scope.as_str()) {
                    out.push(finding(
                        &EXCESSIVE_PERMISSIONS,
                        job,
                        level.line,
                        format!(
                            "publish job `{}` can write `{scope}`, which publishing does not need",
                            job.id
                        ),
                        "move the work that needs it (tagging, a GitHub release) into its own job",
                    ));
                }
            }
        }
    }
}
