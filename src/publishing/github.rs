//! GitHub Actions workflows (`.github/workflows/*.yml`) read into [`Job`]s: triggers, effective
//! permissions (job over workflow), runner labels, environment, `env` (workflow, job, step) and
//! steps with their `uses`, the tag comment beside it, `with`, `run` and lines.
//!
//! Only what the rules read is taken; anything of an unexpected shape is skipped, never guessed.

use std::collections::BTreeMap;

use super::model::{At, Job, Permissions, Platform, Step};
use super::yaml::{Doc, Node, Value};

/// The jobs of one workflow.
pub fn jobs(file: &str, doc: &Doc) -> Vec<Job> {
    let root = &doc.root;
    // `on:` (YAML 1.1 readers turn the key into `true`; both are accepted).
    let triggers = root
        .entry("on")
        .or_else(|| root.entry("true"))
        .map(|(_, on)| triggers(on))
        .unwrap_or_default();
    let workflow_permissions = root.get("permissions").map(|p| (permissions(p), p.line));
    let workflow_env = env(root.get("env"));
    let mut out = Vec::new();
    for (key, job) in root.get("jobs").map(Node::entries).unwrap_or_default() {
        let (perms, perms_line) = match job.get("permissions") {
            Some(p) => (permissions(p), p.line),
            None => workflow_permissions
                .clone()
                .unwrap_or((Permissions::Default, 0)),
        };
        let mut job_env = workflow_env.clone();
        job_env.extend(env(job.get("env")));
        let runs_on = job.get("runs-on").map(|r| At {
            value: match r.get("labels") {
                Some(labels) => labels.strings(),
                None => r.strings(),
            }
            .into_iter()
            .map(str::to_string)
            .collect(),
            line: r.line,
        });
        let environment = job.get("environment").and_then(|e| {
            e.as_str()
                .or_else(|| e.get("name").and_then(Node::as_str))
                .map(str::to_string)
        });
        let image = job.get("container").and_then(|c| {
            c.as_str()
                .or_else(|| c.get("image").and_then(Node::as_str))
                .map(|s| At {
                    value: s.to_string(),
                    line: c.line,
                })
        });
        let steps = job
            .get("steps")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|s| step(doc, s))
            .collect();
        out.push(Job {
            file: file.to_string(),
            platform: Platform::GithubActions,
            id: key.text.clone(),
            line: key.line,
            triggers: triggers.clone(),
            runs_on,
            permissions: perms,
            permissions_line: perms_line,
            environment,
            env: job_env,
            steps,
            id_tokens: BTreeMap::new(),
            image,
            calls: job.get("uses").and_then(scalar_at),
        });
    }
    out
}

fn triggers(on: &Node) -> Vec<At<String>> {
    match &on.value {
        Value::Scalar(s) => vec![At {
            value: s.clone(),
            line: on.line,
        }],
        Value::Seq(items) => items.iter().filter_map(scalar_at).collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, _)| At {
                value: k.text.clone(),
                line: k.line,
            })
            .collect(),
        Value::Null => Vec::new(),
    }
}

/// `permissions:` as written: `read-all`, `write-all`, or scopes (`{}` = none).
pub fn permissions(node: &Node) -> Permissions {
    match &node.value {
        Value::Scalar(s) if s == "write-all" => Permissions::WriteAll,
        Value::Scalar(s) if s == "read-all" => Permissions::ReadAll,
        Value::Map(entries) => Permissions::Scopes(
            entries
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.text.clone(),
                        At {
                            value: v.as_str()?.to_string(),
                            line: k.line,
                        },
                    ))
                })
                .collect(),
        ),
        // Anything else is not a permission GitHub accepts: read as unset.
        _ => Permissions::Default,
    }
}

/// An `env:` / `with:` / `variables:` mapping of scalars (GitLab's `{value: …}` form too).
pub fn env(node: Option<&Node>) -> BTreeMap<String, At<String>> {
    node.map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let text = v
                .as_str()
                .or_else(|| v.get("value").and_then(Node::as_str))?;
            Some((
                k.text.clone(),
                At {
                    value: text.to_string(),
                    line: k.line,
                },
            ))
        })
        .collect()
}

fn scalar_at(node: &Node) -> Option<At<String>> {
    node.as_str().map(|s| At {
        value: s.to_string(),
        line: node.line,
    })
}

fn step(doc: &Doc, node: &Node) -> Step {
    let uses = node.get("uses").and_then(scalar_at);
    let uses_comment = uses.as_ref().and_then(|u| doc.comment_on(u.line));
    Step {
        line: node.line,
        id: node.get("id").and_then(Node::as_str).map(str::to_string),
        uses,
        uses_comment,
        with: env(node.get("with")),
        env: env(node.get("env")),
        run: node.get("run").and_then(|r| {
            scalar_at(r).map(|at| At {
                line: doc.content_line(r),
                ..at
            })
        }),
        working_directory: node
            .get("working-directory")
            .and_then(Node::as_str)
            .map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jobs_permissions_and_steps() {
        let text = "\
on:
  push:
  pull_request_target:
permissions: {}
env:
  A: '1'
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: make
  publish:
    runs-on: [self-hosted]
    permissions:
      id-token: write
    environment: { name: npm }
    env:
      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
    steps:
      - uses: actions/checkout@v4 # v4.2.2
        with:
          persist-credentials: false
      - id: pub
        run: npm publish
";
        let doc = Doc::parse("w.yml", text).unwrap();
        let jobs = jobs("w.yml", &doc);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].permissions, Permissions::Scopes(BTreeMap::new()));
        assert_eq!(jobs[0].permissions_line, 4);
        let publish = &jobs[1];
        assert_eq!(
            publish
                .triggers
                .iter()
                .map(|t| t.value.as_str())
                .collect::<Vec<_>>(),
            ["push", "pull_request_target"]
        );
        assert!(publish.permissions.id_token());
        assert_eq!(publish.environment.as_deref(), Some("npm"));
        assert_eq!(publish.env["A"].value, "1");
        assert_eq!(publish.env["NODE_AUTH_TOKEN"].line, 18);
        assert_eq!(publish.steps[0].uses_comment.as_deref(), Some("v4.2.2"));
        assert_eq!(publish.steps[0].with["persist-credentials"].value, "false");
        assert_eq!(publish.steps[1].id.as_deref(), Some("pub"));
        assert_eq!(publish.steps[1].run.as_ref().unwrap().line, 24);
        assert_eq!(publish.runs_on.as_ref().unwrap().value, ["self-hosted"]);
    }
}
