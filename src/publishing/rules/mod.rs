//! The publishing rules: pure functions from a CI [`Job`] (and the project's packages) to
//! [`Finding`]s. One file per ecosystem (`npm`, `pypi`, `crates`), one for GitLab's id tokens and
//! one for what holds for every publish job (`general`). [`RULES`] is the one table of rule ids,
//! severities and titles that every output and docs/publishing.md use.
//!
//! A job is a *publish job* when one of its steps publishes ([`publish_steps`]): a command
//! (`npm publish`, `twine upload`, `cargo publish`, …) or an action
//! (`pypa/gh-action-pypi-publish`). Only publish jobs are judged.

use std::collections::BTreeMap;

use super::model::{At, Finding, Job, OwnPackage, Platform, PublishStep, Severity, Step};
use crate::model::Ecosystem;

pub mod crates;
pub mod general;
pub mod gitlab;
pub mod npm;
pub mod pypi;
pub mod shell;

/// One rule: its stable id, severity and one-line title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable kebab-case id (the docs/publishing.md anchor, the SARIF rule id after
    /// `provscan/publishing/`).
    pub id: &'static str,
    /// Severity of its findings.
    pub severity: Severity,
    /// What it checks, in one line.
    pub title: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        $(
            #[doc = $title]
            pub const $name: Rule = Rule { id: $id, severity: Severity::$sev, title: $title };
        )*
        /// Every rule, in documentation order.
        pub const RULES: &[Rule] = &[$($name),*];
    };
}

rules! {
    NPM_MISSING_ID_TOKEN = "npm-missing-id-token", Error,
        "npm publish in a job without `id-token: write`: neither trusted publishing nor provenance is possible";
    NPM_NO_PROVENANCE = "npm-publish-without-provenance", Error,
        "npm publish with a token and without `--provenance` / `NPM_CONFIG_PROVENANCE`: the release carries no provenance";
    NPM_TOKEN_WITH_PROVENANCE = "npm-token-with-provenance", Warning,
        "a long-lived npm token in the same job as provenance or trusted publishing: the token, not the workflow, is what the registry trusts";
    NPM_OLD_TOOLCHAIN = "npm-toolchain-too-old", Error,
        "npm or Node pinned below what trusted publishing needs (npm >= 11.5.1, Node >= 22.14.0)";
    NPM_SELF_HOSTED = "npm-self-hosted-runner", Error,
        "npm provenance on a self-hosted runner: the npm registry rejects it (E422)";
    NPM_SETUP_NODE_AUTH = "npm-setup-node-auth", Warning,
        "`actions/setup-node` with `registry-url` or `always-auth` in a trusted-publishing job: its placeholder token stops the OIDC exchange";
    NPM_PRIVATE_REPOSITORY = "npm-provenance-private-repository", Error,
        "provenance asked from a private repository: the npm registry rejects it (E422)";
    NPM_REPOSITORY_MISMATCH = "npm-repository-mismatch", Error,
        "package.json `repository` does not name the repository that publishes: the npm registry rejects the provenance (E422)";
    PYPI_PASSWORD = "pypi-password-input", Error,
        "`pypa/gh-action-pypi-publish` with a `password`: a token upload, so no trusted publishing and no attestations";
    PYPI_ACTION_TOO_OLD = "pypi-action-too-old", Error,
        "`pypa/gh-action-pypi-publish` pinned to a release that does not produce PEP 740 attestations (before v1.11.0)";
    PYPI_ACTION_VERSION_UNKNOWN = "pypi-action-version-unknown", Note,
        "`pypa/gh-action-pypi-publish` pinned by commit SHA without a version comment: whether it attests cannot be told offline";
    PYPI_ATTESTATIONS_DISABLED = "pypi-attestations-disabled", Error,
        "`pypa/gh-action-pypi-publish` with `attestations: false`";
    PYPI_TOKEN_UPLOAD = "pypi-token-upload", Error,
        "twine / uv / hatch / pdm / poetry / flit / maturin upload with a token: no trusted publishing, no attestations";
    PYPI_NO_ATTESTATIONS = "pypi-no-attestations", Warning,
        "trusted publishing to PyPI without an attestation step: the release has a trusted publisher but no PEP 740 attestations";
    PYPI_MISSING_ID_TOKEN = "pypi-missing-id-token", Error,
        "PyPI upload in a job without `id-token: write` and without a token: trusted publishing cannot work";
    CRATES_TOKEN = "crates-registry-token", Error,
        "`cargo publish` with a `CARGO_REGISTRY_TOKEN` secret (or `--token`, `cargo login`) instead of trusted publishing";
    CRATES_NO_TRUSTED_PUBLISHING = "crates-no-trusted-publishing", Warning,
        "`cargo publish` with no visible credential and no `rust-lang/crates-io-auth-action`: not trusted publishing";
    CRATES_MISSING_ID_TOKEN = "crates-missing-id-token", Error,
        "`rust-lang/crates-io-auth-action` in a job without `id-token: write`";
    GITLAB_MISSING_ID_TOKEN = "gitlab-missing-id-token", Error,
        "GitLab publish job without the `id_tokens` it needs (`SIGSTORE_ID_TOKEN` for npm provenance, an OIDC token for trusted publishing)";
    DANGEROUS_TRIGGER = "publish-dangerous-trigger", Error,
        "publish job reachable from `pull_request_target` or `workflow_run`: code from a fork can reach the publishing credentials";
    UNPINNED_ACTION = "publish-unpinned-action", Warning,
        "action in a publish job not pinned by commit SHA: whoever moves the tag runs code with the publishing identity";
    EXCESSIVE_PERMISSIONS = "publish-excessive-permissions", Warning,
        "publish job with token permissions wider than publishing needs";
    NO_PUBLISH_JOB = "package-not-published-by-ci", Warning,
        "a publishable package that no CI job publishes: a release made by hand carries no provenance";
    LATEST_WITHOUT_PROVENANCE = "latest-release-without-provenance", Error,
        "the latest published version carries no provenance and no trusted publisher";
    LATEST_OTHER_PUBLISHER = "latest-release-other-publisher", Error,
        "the latest published version's provenance names another repository or workflow than this one";
    LATEST_UNKNOWN = "latest-release-unknown", Note,
        "the registry could not tell what the latest published version carries";
    CRATES_TRUSTPUB_ONLY_OFF = "crates-trustpub-only-off", Warning,
        "crates.io accepts token publishes of this crate (`trustpub_only` is off)";
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// What the rules know besides the job.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The project's own packages.
    pub packages: &'a [OwnPackage],
    /// The repository that runs the CI (`github.com/owner/repo`), from the git remote.
    pub repository: Option<String>,
    /// The user says the repository is private (`--private-repository`).
    pub private_repository: bool,
}

/// A finding of `rule` at `line` of the job's file.
pub fn finding(rule: &Rule, job: &Job, line: usize, message: String, fix: &str) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.severity,
        file: job.file.clone(),
        line,
        job: Some(job.id.clone()),
        package: None,
        message,
        fix: fix.to_string(),
    }
}

/// The steps of a job that publish, with the line of the publishing command.
pub fn publish_steps(job: &Job) -> Vec<(usize, PublishStep)> {
    let mut out = Vec::new();
    for (i, step) in job.steps.iter().enumerate() {
        let mut push = |line: usize, ecosystem: Ecosystem, method: &str| {
            out.push((
                i,
                PublishStep {
                    file: job.file.clone(),
                    job: job.id.clone(),
                    line,
                    ecosystem,
                    method: method.to_string(),
                    working_directory: step.working_directory.clone(),
                },
            ))
        };
        if let Some(uses) = &step.uses {
            let action = action_name(&uses.value);
            if action == "pypa/gh-action-pypi-publish" {
                push(uses.line, Ecosystem::Pypi, "pypa/gh-action-pypi-publish");
            }
            if action == "changesets/action" && step.with.contains_key("publish") {
                push(uses.line, Ecosystem::Npm, "changesets/action");
            }
            if action == "js-devtools/npm-publish" {
                push(uses.line, Ecosystem::Npm, "JS-DevTools/npm-publish");
            }
        }
        for (line, cmd) in step_commands(step) {
            if let Some((eco, method)) = publish_command(&cmd) {
                push(line, eco, &method);
            }
        }
    }
    out
}

/// The commands of a step's `run`, each with its line in the file.
pub fn step_commands(step: &Step) -> Vec<(usize, shell::Command)> {
    let Some(run) = &step.run else {
        return Vec::new();
    };
    // `run.line` is the line the text starts on (the readers skip a block's indicator line).
    shell::commands(&run.value)
        .into_iter()
        .map(|c| (run.line + c.line, c))
        .collect()
}

/// The ecosystem and method of a publishing command, if it is one (`--dry-run` is not).
pub fn publish_command(cmd: &shell::Command) -> Option<(Ecosystem, String)> {
    if cmd.has_flag("--dry-run") || cmd.has_flag("-n") && cmd.words().first() == Some(&"cargo") {
        return None;
    }
    let words = cmd.words();
    let words: Vec<&str> = words
        .iter()
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .collect();
    let (program, rest) = words.split_first()?;
    let npx = matches!(*program, "npx" | "pnpx" | "bunx");
    let (program, rest): (&str, &[&str]) =
        if npx || (*program == "pnpm" && rest.first() == Some(&"exec")) {
            let skip = usize::from(!npx);
            match rest.get(skip) {
                Some(p) => (p, rest.get(skip + 1..).unwrap_or_default()),
                None => return None,
            }
        } else {
            (program, rest)
        };
    // `npm run publish` runs a script of that name, which is not known here.
    let runs_script = matches!(rest.first(), Some(&("run" | "run-script" | "exec" | "x")));
    let sub_in = |name: &str| !runs_script && rest.iter().take(3).any(|w| *w == name);
    let program = program.split('@').next().unwrap_or(program);
    let found = match program {
        "npm" if sub_in("publish") => (Ecosystem::Npm, "npm publish"),
        "pnpm" if sub_in("publish") => (Ecosystem::Npm, "pnpm publish"),
        "yarn" if rest.first() == Some(&"npm") && sub_in("publish") => {
            (Ecosystem::Npm, "yarn npm publish")
        }
        "yarn" if rest.first() == Some(&"publish") => (Ecosystem::Npm, "yarn publish"),
        "bun" if rest.first() == Some(&"publish") => (Ecosystem::Npm, "bun publish"),
        "changeset" if sub_in("publish") => (Ecosystem::Npm, "changeset publish"),
        "lerna" if sub_in("publish") => (Ecosystem::Npm, "lerna publish"),
        "twine" if sub_in("upload") => (Ecosystem::Pypi, "twine upload"),
        "python" | "python3" | "py" if rest.starts_with(&["twine", "upload"]) => {
            (Ecosystem::Pypi, "twine upload")
        }
        "uv" if rest.first() == Some(&"publish") => (Ecosystem::Pypi, "uv publish"),
        "hatch" if rest.first() == Some(&"publish") => (Ecosystem::Pypi, "hatch publish"),
        "pdm" if rest.first() == Some(&"publish") => (Ecosystem::Pypi, "pdm publish"),
        "poetry" if rest.first() == Some(&"publish") => (Ecosystem::Pypi, "poetry publish"),
        "flit" if rest.first() == Some(&"publish") => (Ecosystem::Pypi, "flit publish"),
        "maturin" if matches!(rest.first(), Some(&"publish" | &"upload")) => {
            (Ecosystem::Pypi, "maturin upload")
        }
        "cargo" => {
            let rest: Vec<&str> = rest
                .iter()
                .copied()
                .filter(|w| !w.starts_with('+'))
                .collect();
            match rest.as_slice() {
                ["publish", ..] => (Ecosystem::Crates, "cargo publish"),
                ["workspaces" | "ws", "publish", ..] => {
                    (Ecosystem::Crates, "cargo workspaces publish")
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    Some((found.0, found.1.to_string()))
}

/// `owner/repo` of `owner/repo/path@ref`, lower case (GitHub action names are case-insensitive).
pub fn action_name(uses: &str) -> String {
    let path = uses.split('@').next().unwrap_or(uses);
    let mut parts = path.split('/');
    match (parts.next(), parts.next()) {
        (Some(owner), Some(repo)) => format!("{owner}/{repo}").to_ascii_lowercase(),
        _ => path.to_ascii_lowercase(),
    }
}

/// The ref of `action@ref`.
pub fn action_ref(uses: &str) -> Option<&str> {
    uses.split_once('@').map(|(_, r)| r)
}

/// A full commit SHA.
pub fn is_sha(r: &str) -> bool {
    r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit())
}

/// `1.2.3` from `v1.2.3`, `1.2`, `v1`; missing parts are 0.
pub fn version(text: &str) -> Option<(u64, u64, u64)> {
    let t = text.trim().trim_start_matches(['v', 'V']);
    let core = t.split(['-', '+', ' ']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let num = |p: Option<&str>| -> Option<u64> {
        match p {
            None | Some("x" | "X" | "*") => Some(0),
            Some(s) => s.parse().ok(),
        }
    };
    let minor = num(parts.next())?;
    let patch = num(parts.next())?;
    Some((major, minor, patch))
}

/// The environment a step runs with: the job's and its own, then a command's inline
/// assignments; values written to `$GITHUB_ENV` by earlier steps count too.
pub fn step_env(job: &Job, index: usize) -> BTreeMap<String, At<String>> {
    let mut env = job.env.clone();
    for earlier in job.steps.iter().take(index) {
        for (line, cmd) in step_commands(earlier) {
            let text = cmd.argv.join(" ");
            if text.contains("GITHUB_ENV")
                && let Some(assign) = cmd.argv.iter().find(|w| w.contains('='))
                && let Some((k, v)) = assign.split_once('=')
            {
                env.insert(
                    k.trim().to_string(),
                    At {
                        value: v.to_string(),
                        line,
                    },
                );
            }
        }
    }
    if let Some(step) = job.steps.get(index) {
        env.extend(step.env.clone());
    }
    env
}

/// A value that holds something (not empty, not an explicit empty string).
pub fn set(value: &str) -> bool {
    let v = value.trim();
    !(v.is_empty() || v == "''" || v == "\"\"")
}

/// True when the job's runner is self-hosted (`self-hosted` label).
pub fn self_hosted(job: &Job) -> Option<usize> {
    let runs_on = job.runs_on.as_ref()?;
    runs_on
        .value
        .iter()
        .any(|l| l.eq_ignore_ascii_case("self-hosted"))
        .then_some(runs_on.line)
}

/// Run every rule on one job.
pub fn check_job(job: &Job, ctx: &Context<'_>, out: &mut Vec<Finding>) -> Vec<PublishStep> {
    let steps = publish_steps(job);
    if steps.is_empty() {
        return Vec::new();
    }
    let of = |eco: Ecosystem| -> Vec<(usize, PublishStep)> {
        steps
            .iter()
            .filter(|(_, s)| s.ecosystem == eco)
            .cloned()
            .collect()
    };
    let npm = of(Ecosystem::Npm);
    let pypi = of(Ecosystem::Pypi);
    let crates = of(Ecosystem::Crates);
    if !npm.is_empty() {
        npm::check(job, &npm, ctx, out);
    }
    if !pypi.is_empty() {
        pypi::check(job, &pypi, out);
    }
    if !crates.is_empty() {
        crates::check(job, &crates, out);
    }
    if job.platform == Platform::GitlabCi {
        gitlab::check(job, &steps, out);
    } else {
        general::check(job, &steps, out);
    }
    steps.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str) -> Option<(Ecosystem, String)> {
        shell::commands(text).first().and_then(publish_command)
    }

    #[test]
    fn recognises_publish_commands() {
        assert_eq!(cmd("npm publish --provenance").unwrap().1, "npm publish");
        assert_eq!(cmd("npm --workspace a publish").unwrap().1, "npm publish");
        assert_eq!(
            cmd("pnpm -r publish --no-git-checks").unwrap().1,
            "pnpm publish"
        );
        assert_eq!(cmd("yarn npm publish").unwrap().1, "yarn npm publish");
        assert_eq!(cmd("npx changeset publish").unwrap().1, "changeset publish");
        assert_eq!(
            cmd("python -m twine upload dist/*").unwrap().1,
            "twine upload"
        );
        assert_eq!(cmd("uv publish").unwrap().0, Ecosystem::Pypi);
        assert_eq!(
            cmd("cargo +stable publish --locked").unwrap().1,
            "cargo publish"
        );
        assert_eq!(cmd("npm publish --dry-run"), None);
        assert_eq!(cmd("cargo publish --dry-run"), None);
        assert_eq!(cmd("npm install"), None);
        assert_eq!(cmd("echo npm publish"), None);
        assert_eq!(cmd("npm run publish"), None);
        assert_eq!(cmd("cargo build --release"), None);
    }

    #[test]
    fn versions_and_pins() {
        assert_eq!(version("v1.12.4"), Some((1, 12, 4)));
        assert_eq!(version("22.x"), Some((22, 0, 0)));
        assert_eq!(version("release/v1"), None);
        assert!(is_sha("3d3c42e5aac5ba805825da76410c181273ba90b1"));
        assert!(!is_sha("v4"));
        assert_eq!(
            action_name("PyPA/gh-action-pypi-publish@release/v1"),
            "pypa/gh-action-pypi-publish"
        );
        assert_eq!(action_name("actions/aws/ec2@v1"), "actions/aws");
    }

    #[test]
    fn every_rule_id_is_unique_and_documented() {
        let docs = include_str!("../../../docs/publishing.md");
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate {}", r.id);
            assert!(
                docs.contains(&format!("### `{}`", r.id)),
                "docs/publishing.md has no section for {}",
                r.id
            );
        }
    }
}
