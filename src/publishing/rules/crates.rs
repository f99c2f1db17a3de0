//! crates.io rules: `cargo publish` authenticated by `rust-lang/crates-io-auth-action` (its
//! `token` output, exchanged for the job's OIDC token), not by a `CARGO_REGISTRY_TOKEN` secret,
//! `--token` or `cargo login`; the auth action needs `id-token: write`.

use super::{
    CRATES_MISSING_ID_TOKEN, CRATES_NO_TRUSTED_PUBLISHING, CRATES_TOKEN, action_name, finding, set,
    step_commands, step_env,
};
use crate::publishing::model::{Finding, Job, Platform, PublishStep};

const AUTH_ACTION: &str = "rust-lang/crates-io-auth-action";

fn is_token_var(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n == "CARGO_REGISTRY_TOKEN" || n == "CARGO_REGISTRIES_CRATES_IO_TOKEN"
}

/// Check a job's `cargo publish` steps.
pub fn check(job: &Job, steps: &[(usize, PublishStep)], out: &mut Vec<Finding>) {
    // The ids of the auth action's steps: `${{ steps.ID.outputs.token }}` is a trusted token.
    let auth_steps: Vec<(usize, Option<&str>)> = job
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.uses
                .as_ref()
                .is_some_and(|u| action_name(&u.value) == AUTH_ACTION)
        })
        .map(|(i, s)| (i, s.id.as_deref()))
        .collect();
    if let Some((i, _)) = auth_steps.first()
        && job.platform == Platform::GithubActions
        && !job.permissions.id_token()
    {
        let line = job.steps[*i].uses.as_ref().map_or(job.line, |u| u.line);
        out.push(finding(
            &CRATES_MISSING_ID_TOKEN,
            job,
            line,
            format!(
                "`{AUTH_ACTION}` in job `{}` cannot get an OIDC token",
                job.id
            ),
            "give the job `permissions: id-token: write`",
        ));
    }
    let trusted_output = |value: &str| {
        auth_steps.iter().any(|(_, id)| {
            id.is_some_and(|id| {
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                compact == format!("${{{{steps.{id}.outputs.token}}}}")
            })
        })
    };
    // crates.io's documented token exchange by hand (GitLab has no auth action).
    let exchange = job.steps.iter().any(|s| {
        s.run
            .as_ref()
            .is_some_and(|r| r.value.contains("trusted_publishing/tokens"))
    });
    for (index, publish) in steps {
        let step = &job.steps[*index];
        let env = step_env(job, *index);
        let env_token = env
            .iter()
            .find(|(k, v)| is_token_var(k) && set(&v.value))
            .map(|(k, v)| (k.clone(), v.clone()));
        let flag_token = step_commands(step)
            .into_iter()
            .find(|(line, cmd)| *line == publish.line && cmd.flag_value("--token").is_some())
            .map(|(line, _)| line);
        let login = job.steps.iter().take(index + 1).find_map(|s| {
            step_commands(s)
                .into_iter()
                .find(|(_, cmd)| cmd.words().starts_with(&["cargo", "login"]))
                .map(|(line, _)| line)
        });
        if let Some(line) = flag_token {
            out.push(finding(
                &CRATES_TOKEN,
                job,
                line,
                "`cargo publish --token` publishes with an API token, not through trusted publishing".into(),
                "use `rust-lang/crates-io-auth-action` and pass its `token` output as `CARGO_REGISTRY_TOKEN`",
            ));
            continue;
        }
        match env_token {
            Some((_, value)) if trusted_output(&value.value) => {}
            Some((_, value)) if exchange && !value.value.contains("secrets.") => {}
            Some((name, value)) => out.push(finding(
                &CRATES_TOKEN,
                job,
                value.line,
                format!(
                    "`{name}` is `{}`, a long-lived API token, not the output of `{AUTH_ACTION}`",
                    value.value
                ),
                "configure trusted publishing on crates.io, add `- uses: rust-lang/crates-io-auth-action@<sha>` with an `id`, and set `CARGO_REGISTRY_TOKEN: ${{ steps.<id>.outputs.token }}`; then delete the secret and revoke the token",
            )),
            None if login.is_some() => out.push(finding(
                &CRATES_TOKEN,
                job,
                login.unwrap_or(publish.line),
                "`cargo login` stores an API token for `cargo publish`".into(),
                "use `rust-lang/crates-io-auth-action` instead of `cargo login`",
            )),
            None if auth_steps.is_empty() && !exchange => out.push(finding(
                &CRATES_NO_TRUSTED_PUBLISHING,
                job,
                publish.line,
                format!(
                    "`cargo publish` in job `{}` with no visible credential and no `{AUTH_ACTION}`: not trusted publishing",
                    job.id
                ),
                "add `rust-lang/crates-io-auth-action` and pass its `token` output as `CARGO_REGISTRY_TOKEN`",
            )),
            None => {}
        }
    }
}
