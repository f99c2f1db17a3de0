//! GitLab CI (`.gitlab-ci.yml`) read into [`Job`]s: each job's script lines (with
//! `before_script` and `after_script`, and `default:`'s), `variables` (global and job),
//! `id_tokens` with their `aud`, `image` and `tags`. `extends:` is followed through hidden jobs
//! of the same file (at most 10 levels); `include:` files are not read (a finding's absence there
//! proves nothing, and docs/publishing.md says so).

use std::collections::BTreeMap;

use super::github::env;
use super::model::{At, Job, Permissions, Platform, Step};
use super::yaml::{Doc, Node, Value};

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

/// The jobs of a GitLab CI file.
pub fn jobs(file: &str, doc: &Doc) -> Vec<Job> {
    let root = &doc.root;
    let global_vars = env(root.get("variables"));
    let default = root.get("default");
    let mut out = Vec::new();
    for (key, job) in root.entries() {
        if RESERVED.contains(&key.text.as_str()) || key.text.starts_with('.') {
            continue;
        }
        if !matches!(job.value, Value::Map(_)) {
            continue;
        }
        let chain = extends_chain(root, job);
        let lookup = |field: &str| -> Option<&Node> {
            chain
                .iter()
                .find_map(|n| n.get(field))
                .or_else(|| default.and_then(|d| d.get(field)))
        };
        let mut vars = global_vars.clone();
        // The furthest template first, so the job's own values win.
        for node in chain.iter().rev() {
            vars.extend(env(node.get("variables")));
        }
        let mut steps = Vec::new();
        for field in ["before_script", "script", "after_script"] {
            if let Some(script) = lookup(field) {
                script_lines(doc, script, &mut steps);
            }
        }
        let id_tokens = lookup("id_tokens")
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| {
                let aud = v
                    .get("aud")
                    .map(|a| a.strings().join(","))
                    .unwrap_or_default();
                (
                    k.text.clone(),
                    At {
                        value: aud,
                        line: k.line,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>();
        let image = lookup("image").and_then(|i| {
            i.as_str()
                .or_else(|| i.get("name").and_then(Node::as_str))
                .map(|s| At {
                    value: s.to_string(),
                    line: i.line,
                })
        });
        let runs_on = lookup("tags").map(|t| At {
            value: t.strings().into_iter().map(str::to_string).collect(),
            line: t.line,
        });
        let environment = lookup("environment").and_then(|e| {
            e.as_str()
                .or_else(|| e.get("name").and_then(Node::as_str))
                .map(str::to_string)
        });
        out.push(Job {
            file: file.to_string(),
            platform: Platform::GitlabCi,
            id: key.text.clone(),
            line: key.line,
            triggers: Vec::new(),
            runs_on,
            permissions: Permissions::Default,
            permissions_line: 0,
            environment,
            env: vars,
            steps,
            id_tokens,
            image,
            calls: None,
        });
    }
    out
}

/// The job, then the templates it extends (depth first, at most 10 levels, no cycles).
fn extends_chain<'a>(root: &'a Node, job: &'a Node) -> Vec<&'a Node> {
    let mut chain = vec![job];
    let mut i = 0;
    while i < chain.len() && chain.len() < 10 {
        let names: Vec<&str> = chain[i]
            .get("extends")
            .map(Node::strings)
            .unwrap_or_default();
        for name in names {
            if let Some(template) = root.get(name)
                && !chain.iter().any(|n| std::ptr::eq(*n, template))
            {
                chain.push(template);
            }
        }
        i += 1;
    }
    chain
}

/// One step per script line (nested sequences, from `!reference`, are flattened).
fn script_lines(doc: &Doc, node: &Node, steps: &mut Vec<Step>) {
    match &node.value {
        Value::Scalar(s) => steps.push(Step {
            line: node.line,
            run: Some(At {
                value: s.clone(),
                line: doc.content_line(node),
            }),
            ..Step::default()
        }),
        Value::Seq(items) => {
            for item in items {
                script_lines(doc, item, steps);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jobs_templates_and_id_tokens() {
        let text = "\
variables:
  NPM_TOKEN: $CI_JOB_TOKEN
.publish:
  image: node:22
  id_tokens:
    SIGSTORE_ID_TOKEN:
      aud: sigstore
stages: [publish]
publish-npm:
  extends: .publish
  stage: publish
  script:
    - npm ci
    - npm publish --provenance
";
        let doc = Doc::parse(".gitlab-ci.yml", text).unwrap();
        let jobs = jobs(".gitlab-ci.yml", &doc);
        assert_eq!(jobs.len(), 1);
        let job = &jobs[0];
        assert_eq!(job.id, "publish-npm");
        assert_eq!(job.id_tokens["SIGSTORE_ID_TOKEN"].value, "sigstore");
        assert_eq!(job.image.as_ref().unwrap().value, "node:22");
        assert_eq!(job.steps.len(), 2);
        assert_eq!(job.steps[1].run.as_ref().unwrap().line, 14);
        assert_eq!(job.env["NPM_TOKEN"].value, "$CI_JOB_TOKEN");
    }
}
