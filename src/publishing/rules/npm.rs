//! npm rules: trusted publishing (OIDC, `id-token: write`, no token; npm >= 11.5.1 on Node >=
//! 22.14.0) or at least `--provenance`; no long-lived token beside them; no self-hosted runner;
//! no `setup-node` placeholder token in a trusted-publishing job; `repository` naming this
//! repository. Evidence for each rule is in docs/publishing.md.

use super::{
    Context, NPM_MISSING_ID_TOKEN, NPM_NO_PROVENANCE, NPM_OLD_TOOLCHAIN, NPM_PRIVATE_REPOSITORY,
    NPM_REPOSITORY_MISMATCH, NPM_SELF_HOSTED, NPM_SETUP_NODE_AUTH, NPM_TOKEN_WITH_PROVENANCE,
    action_name, finding, self_hosted, set, step_commands, step_env, version,
};
use crate::model::Ecosystem;
use crate::publishing::model::{Finding, Job, Platform, PublishStep};

/// Variables that carry an npm token.
fn is_token_var(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "node_auth_token" | "npm_token" | "npm_auth_token"
    ) || (n.starts_with("npm_config_") && n.ends_with("_authtoken"))
}

/// The first visible npm token for the publish step at `index`: (line, where it comes from).
fn token(job: &Job, index: usize) -> Option<(usize, String)> {
    let env = step_env(job, index);
    if let Some((name, at)) = env
        .iter()
        .find(|(k, v)| is_token_var(k) && set(&v.value) && !is_placeholder(&v.value))
    {
        return Some((at.line, format!("`{name}`")));
    }
    for (i, step) in job.steps.iter().enumerate().take(index + 1) {
        for (line, cmd) in step_commands(step) {
            if cmd.env.iter().any(|(k, v)| is_token_var(k) && set(v)) {
                return Some((line, "an inline token variable".into()));
            }
            if cmd.argv.iter().any(|a| a.contains("_authToken")) {
                return Some((line, "an `_authToken` line".into()));
            }
        }
        if let Some(uses) = &step.uses {
            let action = action_name(&uses.value);
            if action == "js-devtools/npm-publish"
                && let Some(t) = step.with.get("token")
                && set(&t.value)
            {
                return Some((t.line, "the action's `token` input".into()));
            }
            if i == index && action == "changesets/action" {
                // changesets/action writes NPM_TOKEN into .npmrc.
                if let Some(t) = step.env.get("NPM_TOKEN").filter(|t| set(&t.value)) {
                    return Some((t.line, "`NPM_TOKEN`".into()));
                }
            }
        }
    }
    None
}

/// setup-node's own placeholder, not a token anyone holds.
fn is_placeholder(value: &str) -> bool {
    value.trim().starts_with("XXXXX-XXXXX")
}

/// True when the publish asks for provenance: `--provenance`, `NPM_CONFIG_PROVENANCE=true`, or
/// `publishConfig.provenance` in a package's manifest.
fn provenance_asked(job: &Job, index: usize, line: usize, ctx: &Context<'_>) -> bool {
    let truthy = |v: &str| matches!(v.trim().trim_matches(['"', '\'']), "true" | "1" | "yes");
    let env = step_env(job, index);
    if env
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("npm_config_provenance") && truthy(&v.value))
    {
        return true;
    }
    let step = &job.steps[index];
    let flagged = step_commands(step).iter().any(|(l, cmd)| {
        *l == line
            && ((cmd.has_flag("--provenance") && cmd.flag_value("--provenance") != Some("false"))
                || cmd
                    .env
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case("npm_config_provenance") && truthy(v)))
    });
    flagged
        || step
            .with
            .get("provenance")
            .is_some_and(|v| truthy(&v.value))
        || ctx
            .packages
            .iter()
            .any(|p| p.ecosystem == Ecosystem::Npm && p.provenance_config)
}

/// The job may obtain an OIDC token for npm: `id-token: write` (GitHub), or a
/// `SIGSTORE_ID_TOKEN` / `NPM_ID_TOKEN` id token (GitLab).
fn id_token(job: &Job) -> bool {
    match job.platform {
        Platform::GithubActions => job.permissions.id_token(),
        Platform::GitlabCi => job
            .id_tokens
            .keys()
            .any(|k| k == "SIGSTORE_ID_TOKEN" || k == "NPM_ID_TOKEN"),
    }
}

/// Check a job's npm publish steps.
pub fn check(job: &Job, steps: &[(usize, PublishStep)], ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let has_id_token = id_token(job);
    let mut provenance_job = false;
    for (index, step) in steps {
        let token = token(job, *index);
        let provenance = provenance_asked(job, *index, step.line, ctx);
        let trusted = has_id_token && token.is_none();
        provenance_job |= provenance || trusted;
        if job.platform == Platform::GithubActions && !has_id_token {
            out.push(finding(
                &NPM_MISSING_ID_TOKEN,
                job,
                step.line,
                format!(
                    "`{}` in job `{}`, which cannot get an OIDC token: no trusted publishing, no provenance",
                    step.method, job.id
                ),
                "give the job `permissions: id-token: write` (and `contents: read`), configure a trusted publisher for the package on npmjs.com, and remove the token",
            ));
            continue;
        }
        match &token {
            Some((token_line, what)) if !provenance => out.push(finding(
                &NPM_NO_PROVENANCE,
                job,
                step.line,
                format!(
                    "`{}` authenticates with {what} (line {token_line}) and asks for no provenance: the release carries none",
                    step.method
                ),
                "switch to trusted publishing (remove the token; npm >= 11.5.1 then publishes with provenance), or at least add `--provenance`",
            )),
            Some((token_line, what)) => out.push(finding(
                &NPM_TOKEN_WITH_PROVENANCE,
                job,
                *token_line,
                format!(
                    "{what} is set in the same job as `{}` with provenance: a leaked token still publishes without it",
                    step.method
                ),
                "configure a trusted publisher on npmjs.com, remove the token from the job and revoke it; then set the package to disallow tokens",
            )),
            None => {}
        }
        if trusted {
            toolchain(job, *index, out);
            setup_node(job, out);
        }
    }
    if !provenance_job {
        return;
    }
    if let Some(line) = self_hosted(job) {
        out.push(finding(
            &NPM_SELF_HOSTED,
            job,
            line,
            format!("job `{}` publishes with provenance on a self-hosted runner, which the npm registry rejects (E422)", job.id),
            "publish from a GitHub-hosted runner (or a GitLab.com shared runner)",
        ));
    }
    if ctx.private_repository {
        out.push(finding(
            &NPM_PRIVATE_REPOSITORY,
            job,
            steps[0].1.line,
            "provenance is asked from a private repository; the npm registry rejects it (E422)"
                .into(),
            "drop `--provenance` for private repositories, or publish from a public one",
        ));
    }
    repository(job, steps, ctx, out);
}

/// Node and npm versions pinned below what trusted publishing needs.
fn toolchain(job: &Job, index: usize, out: &mut Vec<Finding>) {
    let node_too_old = |text: &str| -> bool {
        let explicit_minor = text
            .trim_start_matches('v')
            .split('.')
            .nth(1)
            .is_some_and(|m| m.chars().all(|c| c.is_ascii_digit()) && !m.is_empty());
        match version(text) {
            Some((major, _, _)) if major < 22 => true,
            Some((22, minor, _)) => explicit_minor && minor < 14,
            _ => false,
        }
    };
    for step in job.steps.iter().take(index + 1) {
        if let Some(uses) = &step.uses
            && action_name(&uses.value) == "actions/setup-node"
            && let Some(v) = step.with.get("node-version")
            && node_too_old(&v.value)
        {
            out.push(finding(
                &NPM_OLD_TOOLCHAIN,
                job,
                v.line,
                format!(
                    "Node {} is older than the 22.14.0 trusted publishing needs",
                    v.value
                ),
                "use `node-version: 24` (or at least 22.14.0) and install npm >= 11.5.1",
            ));
        }
        for (line, cmd) in step_commands(step) {
            let words = cmd.words();
            if matches!(words.first(), Some(&"npm"))
                && words.iter().any(|w| matches!(*w, "install" | "i" | "add"))
                && let Some(pin) = words.iter().find_map(|w| w.strip_prefix("npm@"))
                && let Some(v) = version(pin)
                && v < (11, 5, 1)
            {
                out.push(finding(
                    &NPM_OLD_TOOLCHAIN,
                    job,
                    line,
                    format!("npm {pin} is older than the 11.5.1 trusted publishing needs"),
                    "install `npm@latest` (or at least 11.5.1)",
                ));
            }
        }
    }
    if let Some(image) = &job.image
        && let Some(tag) = image.value.strip_prefix("node:")
        && node_too_old(tag)
    {
        out.push(finding(
            &NPM_OLD_TOOLCHAIN,
            job,
            image.line,
            format!(
                "image `{}` has a Node older than the 22.14.0 trusted publishing needs",
                image.value
            ),
            "use a `node:24` image (or at least 22.14.0) and install npm >= 11.5.1",
        ));
    }
}

/// `actions/setup-node` with `registry-url` (placeholder token) or `always-auth`.
fn setup_node(job: &Job, out: &mut Vec<Finding>) {
    for step in &job.steps {
        let Some(uses) = &step.uses else { continue };
        if action_name(&uses.value) != "actions/setup-node" {
            continue;
        }
        if let Some(url) = step.with.get("registry-url").filter(|v| set(&v.value)) {
            out.push(finding(
                &NPM_SETUP_NODE_AUTH,
                job,
                url.line,
                "`registry-url` makes setup-node write `_authToken=${NODE_AUTH_TOKEN}` into .npmrc and (before its fix) a placeholder token, which npm presents instead of doing the trusted-publishing exchange (E404)".into(),
                "remove `registry-url` (npm publishes to the npm registry by default), or `unset NODE_AUTH_TOKEN` before publishing",
            ));
        }
        if let Some(auth) = step.with.get("always-auth").filter(|v| v.value == "true") {
            out.push(finding(
                &NPM_SETUP_NODE_AUTH,
                job,
                auth.line,
                "`always-auth: true` makes npm send a token on every request, so the trusted-publishing exchange is skipped".into(),
                "remove `always-auth`",
            ));
        }
    }
}

/// package.json `repository` must name the repository that publishes.
fn repository(
    job: &Job,
    steps: &[(usize, PublishStep)],
    ctx: &Context<'_>,
    out: &mut Vec<Finding>,
) {
    let Some(expected) = &ctx.repository else {
        return;
    };
    let dirs: Vec<&str> = steps
        .iter()
        .filter_map(|(_, s)| s.working_directory.as_deref())
        .collect();
    for pkg in ctx
        .packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Npm)
    {
        let dir = pkg
            .manifest
            .trim_end_matches("package.json")
            .trim_end_matches('/');
        let dir = if dir.is_empty() { "." } else { dir };
        let published_here = dirs.is_empty()
            || dirs.iter().any(|d| {
                d.trim_start_matches("./").trim_end_matches('/') == dir.trim_start_matches("./")
            });
        if !published_here {
            continue;
        }
        let named = pkg
            .repository
            .as_deref()
            .and_then(crate::own::repository_of_url);
        if named.as_deref() != Some(expected.as_str()) {
            let mut f = finding(
                &NPM_REPOSITORY_MISMATCH,
                job,
                0,
                match &pkg.repository {
                    Some(r) => format!(
                        "`{}` names repository `{r}`, but `{}` publishes it from {expected}: the npm registry rejects the provenance (E422)",
                        pkg.name, job.id
                    ),
                    None => format!(
                        "`{}` has no `repository`, so the npm registry cannot match the provenance to {expected} (E422)",
                        pkg.name
                    ),
                },
                "set package.json `repository.url` to this repository's URL",
            );
            f.file = pkg.manifest.clone();
            f.package = Some(pkg.name.clone());
            out.push(f);
        }
    }
}
