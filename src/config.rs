//! `provscan.toml`: the policy kept with the project (osv-scanner's convention). Found in the
//! scanned directory, or named with `--config FILE`. Unknown keys are errors that name the key.
//!
//! ```toml
//! fail-on = ["invalid", "downgraded"]
//! min-coverage = 50                      # or { overall = 50, npm = 80 }
//!
//! [[ignore]]
//! package = "left-pad@1.3.0"             # a name, name@version, or name@range
//! reason = "vendored; reviewed by security on 2026-11-02"
//! until = "2027-01-31"                   # optional: stops applying after this day
//! ecosystem = "npm"                      # optional
//! rules = ["downgraded"]                 # optional: the statuses and flags it accepts
//! ```
//!
//! `own = ["github:myorg/*", "gitlab:grp/proj", "google:EMAIL"]` names the project's own
//! build identities for the independence summary (see [`crate::own`]).
//! `exclude = ["fixtures/**/broken"]` skips lockfiles by path ([`crate::pattern`]). Every error
//! names the file and the line of the value at fault.
//!
//! Behind a mirror that strips provenance (docs/mirrors.md):
//!
//! ```toml
//! provenance-from = "upstream"           # or { npm = "upstream" }; default "registry"
//! private = ["@corp/*", "corp-*"]        # never asked of the public registry
//! ```
//!
//! `min-release-age = "7d"` flags pinned versions published more recently than that
//! (`too-fresh`, which then fails the policy); `--min-release-age` overrides it.
//! `no-history = true` asks per-version documents only, like `--no-history` (docs/cli.md).
//!
//! Without `rules`, an ignore accepts every rule except `invalid` and `integrity-mismatch`
//! (signs of tampering), which it accepts only when named.
//!
//! Identity pins ([`crate::policy::trust`]):
//!
//! ```toml
//! [[trust]]
//! packages = ["@myorg/*"]                # names, scopes, globs, name@range (as ignores)
//! publisher = "github:myorg/*"           # the `own` identity syntax
//! workflow = "release.yml"               # optional
//! require = "trusted-publisher"          # optional: a rung of the evidence ladder
//! ecosystem = "npm"                      # optional
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use toml::Spanned;

use crate::lockfile::LockfileError;
use crate::pattern::Pattern;
use crate::policy::{self, Ignore, MinCoverage, PolicyError, Rule};
use crate::report::identity::{IdentityError, IdentityPattern};

/// The configuration file's settings, validated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// `fail-on`, when set.
    pub fail_on: Option<Vec<Rule>>,
    /// `min-coverage`, when set.
    pub min_coverage: Option<Vec<MinCoverage>>,
    /// `[[ignore]]` entries.
    pub ignores: Vec<Ignore>,
    /// `own`: the project's own identities (`github:myorg/*`, …), when set.
    pub own: Option<Vec<IdentityPattern>>,
    /// `exclude`: lockfile path patterns discovery skips.
    pub exclude: Vec<Pattern>,
    /// `provenance-from`: `"upstream"` / `"registry"` for every ecosystem, or per ecosystem
    /// (`{ npm = "upstream" }`), as `[ECOSYSTEM=]VALUE` items.
    pub provenance_from: Vec<String>,
    /// `private`: name patterns (`"@corp/*"`, `"corp-*"`) never asked of an upstream.
    pub private: Vec<String>,
    /// `min-release-age` (`"7d"`), when set.
    pub min_release_age: Option<jiff::SignedDuration>,
    /// `no-history = true`: per-version documents only (`--no-history`).
    pub no_history: bool,
    /// `[[trust]]` entries: identity pins.
    pub trust: Vec<crate::policy::TrustPin>,
}

/// Why the configuration file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable, not TOML, an unknown key or a value of the wrong type.
    #[error(transparent)]
    File(#[from] LockfileError),
    /// A registry setting that makes no sense.
    #[error("{path}: {message}")]
    Setting {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{path}{}: {source}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Policy {
        /// The file.
        path: String,
        /// 1-based line of the value at fault.
        line: Option<usize>,
        /// What is wrong.
        #[source]
        source: PolicyError,
    },
    /// An `own` identity that does not parse.
    #[error("{path}: `own`: {source}")]
    Identity {
        /// The file.
        path: String,
        /// What is wrong.
        #[source]
        source: IdentityError,
    },
    /// An `exclude` pattern that does not compile.
    #[error("{path}{}: {source}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Pattern {
        /// The file.
        path: String,
        /// 1-based line of the pattern.
        line: Option<usize>,
        /// What is wrong.
        #[source]
        source: crate::pattern::PatternError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Wire {
    fail_on: Option<Spanned<Vec<String>>>,
    min_coverage: Option<Spanned<WireCoverage>>,
    #[serde(default)]
    ignore: Vec<WireIgnore>,
    own: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    provenance_from: Option<WireProvenance>,
    #[serde(default)]
    private: Vec<String>,
    min_release_age: Option<Spanned<String>>,
    #[serde(default)]
    no_history: bool,
    #[serde(default)]
    trust: Vec<Spanned<WireTrust>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTrust {
    packages: Spanned<WirePackages>,
    publisher: Option<Spanned<String>>,
    workflow: Option<Spanned<String>>,
    require: Option<Spanned<String>>,
    ecosystem: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WirePackages {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireProvenance {
    All(String),
    PerEcosystem(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum WireCoverage {
    Overall(f64),
    PerEcosystem(BTreeMap<String, f64>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIgnore {
    package: Spanned<String>,
    reason: Spanned<String>,
    until: Option<Spanned<toml::Value>>,
    ecosystem: Option<Spanned<String>>,
    rules: Option<Spanned<Vec<String>>>,
}

/// Read and validate a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let shown = path.display().to_string();
    let text = crate::lockfile::read_text(path, &shown)?;
    parse(&shown, &text)
}

/// Parse a configuration file's text.
pub fn parse(shown: &str, text: &str) -> Result<Config, ConfigError> {
    let wire: Wire = toml::from_str(text).map_err(|e| LockfileError::toml(shown, text, &e))?;
    let line_of =
        |span: std::ops::Range<usize>| Some(crate::lockfile::line_column(text, span.start).0);
    let policy_err = |span: std::ops::Range<usize>| {
        move |source| ConfigError::Policy {
            path: shown.to_string(),
            line: line_of(span.clone()),
            source,
        }
    };
    let fail_on = match wire.fail_on {
        None => None,
        Some(words) => {
            Some(policy::parse_rules(words.get_ref()).map_err(policy_err(words.span()))?)
        }
    };
    let min_coverage = match wire.min_coverage {
        None => None,
        Some(value) => {
            let err = policy_err(value.span());
            Some(match value.into_inner() {
                WireCoverage::Overall(pct) => {
                    vec![policy::parse_coverage(&pct.to_string()).map_err(err)?]
                }
                WireCoverage::PerEcosystem(map) => map
                    .iter()
                    .map(|(eco, pct)| policy::parse_coverage(&format!("{eco}={pct}")))
                    .collect::<Result<_, _>>()
                    .map_err(err)?,
            })
        }
    };
    let min_release_age = match wire.min_release_age {
        None => None,
        Some(value) => {
            Some(policy::parse_release_age(value.get_ref()).map_err(policy_err(value.span()))?)
        }
    };
    let mut ignores = Vec::with_capacity(wire.ignore.len());
    for entry in wire.ignore {
        let pattern = entry.package.get_ref();
        let bad = |span: std::ops::Range<usize>, message: String| ConfigError::Policy {
            path: shown.to_string(),
            line: line_of(span),
            source: PolicyError::Ignore {
                pattern: pattern.clone(),
                message,
            },
        };
        let until = match &entry.until {
            None => None,
            Some(value) => Some(parse_date(value.get_ref()).ok_or_else(|| {
                bad(
                    value.span(),
                    format!(
                        "`until` must be a date like \"2027-01-31\", not {}",
                        value.get_ref()
                    ),
                )
            })?),
        };
        let ecosystem = match &entry.ecosystem {
            None => None,
            Some(e) => Some(policy::parse_ecosystem(e.get_ref()).ok_or_else(|| {
                bad(
                    e.span(),
                    format!("unknown ecosystem `{}` (npm, pypi, crates)", e.get_ref()),
                )
            })?),
        };
        let mut ignore =
            Ignore::new(pattern, entry.reason.get_ref(), until, ecosystem).map_err(|e| {
                // A missing reason is about `reason`; anything else about `package`.
                let span = if entry.reason.get_ref().trim().is_empty() {
                    entry.reason.span()
                } else {
                    entry.package.span()
                };
                policy_err(span)(e)
            })?;
        if let Some(words) = &entry.rules {
            ignore.rules = Some(
                policy::parse_rules_in(words.get_ref(), "the ignore's `rules`")
                    .map_err(policy_err(words.span()))?,
            );
        }
        ignores.push(ignore);
    }
    let mut trust = Vec::with_capacity(wire.trust.len());
    for entry in &wire.trust {
        let at = |span: std::ops::Range<usize>| {
            move |message: String| ConfigError::Policy {
                path: shown.to_string(),
                line: line_of(span),
                source: PolicyError::Trust(message),
            }
        };
        let pin = entry.get_ref();
        let ecosystem = match &pin.ecosystem {
            None => None,
            Some(e) => Some(policy::parse_ecosystem(e.get_ref()).ok_or_else(|| {
                at(e.span())(format!(
                    "unknown ecosystem `{}` (npm, pypi, crates)",
                    e.get_ref()
                ))
            })?),
        };
        let texts: Vec<&str> = match pin.packages.get_ref() {
            WirePackages::One(text) => vec![text.as_str()],
            WirePackages::Many(list) => list.iter().map(String::as_str).collect(),
        };
        let packages = texts
            .iter()
            .map(|text| {
                policy::PackagePattern::parse(text, ecosystem)
                    .map_err(|m| at(pin.packages.span())(format!("`packages`: `{text}`: {m}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let publisher = match &pin.publisher {
            None => None,
            Some(p) => Some(
                IdentityPattern::parse(p.get_ref())
                    .map_err(|e| at(p.span())(format!("`publisher`: {e}")))?,
            ),
        };
        let require = match &pin.require {
            None => None,
            Some(r) => Some(policy::trust::parse_level(r.get_ref()).ok_or_else(|| {
                at(r.span())(format!(
                    "`require`: unknown level `{}` (provenance, trusted-publisher, \
                     trusted-publisher-provenance, staged)",
                    r.get_ref()
                ))
            })?),
        };
        let line = line_of(entry.span()).unwrap_or(1);
        let problem_span = pin
            .workflow
            .as_ref()
            .map(|w| w.span())
            .or_else(|| pin.require.as_ref().map(|r| r.span()))
            .unwrap_or_else(|| entry.span());
        trust.push(
            policy::TrustPin::new(
                packages,
                publisher,
                pin.workflow.as_ref().map(|w| w.get_ref().clone()),
                require,
                format!("{shown}:{line}"),
            )
            .map_err(at(problem_span))?,
        );
    }
    let own = wire
        .own
        .map(|list| list.iter().map(|t| IdentityPattern::parse(t)).collect())
        .transpose()
        .map_err(|source| ConfigError::Identity {
            path: shown.to_string(),
            source,
        })?;
    let exclude = wire
        .exclude
        .iter()
        .map(|p| {
            Pattern::new(p.get_ref()).map_err(|source| ConfigError::Pattern {
                path: shown.to_string(),
                line: line_of(p.span()),
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    let provenance_from = match wire.provenance_from {
        None => Vec::new(),
        Some(WireProvenance::All(v)) => vec![v],
        Some(WireProvenance::PerEcosystem(map)) => {
            map.into_iter().map(|(e, v)| format!("{e}={v}")).collect()
        }
    };
    crate::registry::endpoints::ProvenanceFrom::default()
        .apply(&provenance_from)
        .map_err(|message| ConfigError::Setting {
            path: shown.to_string(),
            message,
        })?;
    if wire.private.iter().any(|p| p.trim().is_empty()) {
        return Err(ConfigError::Setting {
            path: shown.to_string(),
            message: "`private` holds an empty pattern".into(),
        });
    }
    Ok(Config {
        fail_on,
        min_coverage,
        ignores,
        own,
        exclude,
        provenance_from,
        private: wire.private,
        min_release_age,
        no_history: wire.no_history,
        trust,
    })
}

fn parse_date(value: &toml::Value) -> Option<jiff::civil::Date> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.date.is_some() && d.time.is_none() => d.to_string(),
        _ => return None,
    };
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file() {
        let text = r#"
fail-on = ["invalid", "downgraded", "source-mismatch"]
min-coverage = { overall = 50, npm = 80 }

[[ignore]]
package = "left-pad@1.3.0"
reason = "vendored"
until = "2027-01-31"
ecosystem = "npm"

[[ignore]]
package = "six"
reason = "reviewed"
until = 2027-02-01
"#;
        let c = parse("provscan.toml", text).unwrap();
        assert_eq!(c.fail_on.unwrap().len(), 3);
        assert_eq!(c.min_coverage.unwrap().len(), 2);
        assert_eq!(c.ignores[0].until.unwrap().to_string(), "2027-01-31");
        assert_eq!(c.ignores[1].until.unwrap().to_string(), "2027-02-01");
        assert_eq!(
            parse("p", "min-coverage = 40")
                .unwrap()
                .min_coverage
                .unwrap()[0]
                .percent,
            40.0
        );
    }

    #[test]
    fn own_identities() {
        let c = parse(
            "provscan.toml",
            "own = [\"github:myorg/*\", \"google:a@b.example\"]\n",
        )
        .unwrap();
        let own: Vec<String> = c.own.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(own, ["github:myorg/*", "google:a@b.example"]);
        let e = parse("provscan.toml", "own = [\"myorg\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("provscan.toml: `own`: identity `myorg`"),
            "{e}"
        );
        assert_eq!(parse("p", "").unwrap().own, None);
    }

    #[test]
    fn no_history_key() {
        assert!(parse("p", "no-history = true\n").unwrap().no_history);
        assert!(!parse("p", "").unwrap().no_history);
        assert!(parse("p", "no-history = \"yes\"\n").is_err());
    }

    #[test]
    fn provenance_from_and_private() {
        let c = parse(
            "p",
            "provenance-from = \"upstream\"\nprivate = [\"@corp/*\", \"corp-*\"]\n",
        )
        .unwrap();
        assert_eq!(c.provenance_from, ["upstream"]);
        assert_eq!(c.private, ["@corp/*", "corp-*"]);
        let c = parse(
            "p",
            "provenance-from = { npm = \"upstream\", pypi = \"registry\" }\n",
        )
        .unwrap();
        assert_eq!(c.provenance_from, ["npm=upstream", "pypi=registry"]);
        let e = parse("p", "provenance-from = \"mirror\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected `registry` or `upstream`"), "{e}");
        let e = parse("p", "provenance-from = { go = \"upstream\" }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown ecosystem `go`"), "{e}");
    }

    #[test]
    fn errors_name_the_key_and_place() {
        let e = parse("provscan.toml", "fail-on = [\"invalid\"]\nfailon = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("provscan.toml:2:") && e.contains("unknown field `failon`"),
            "{e}"
        );
        let e = parse(
            "provscan.toml",
            "[[ignore]]\npackage = \"x\"\nreson = \"typo\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `reson`"), "{e}");
        let e = parse("provscan.toml", "[[ignore]]\npackage = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `reason`"), "{e}");
        let e = parse("provscan.toml", "fail-on = [\"bad\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown rule `bad`"), "{e}");
        let e = parse(
            "provscan.toml",
            "[[ignore]]\npackage = \"x\"\nreason = \"r\"\nuntil = \"soon\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`until` must be a date"), "{e}");
    }

    #[test]
    fn every_value_error_names_its_line() {
        let err = |text: &str| parse("provscan.toml", text).unwrap_err().to_string();
        let e = err("[[ignore]]\npackage = \"x\"\nreason = \"r\"\nrules = [\"bad\"]\n");
        assert!(
            e.starts_with("provscan.toml:4: ")
                && e.contains("unknown rule `bad` in the ignore's `rules`"),
            "{e}"
        );
        let e = err("[[ignore]]\npackage = \"x\"\nreason = \"r\"\nuntil = \"soon\"\n");
        assert!(e.starts_with("provscan.toml:4: "), "{e}");
        let e = err("\n[[ignore]]\npackage = \"x\"\nreason = \" \"\n");
        assert!(
            e.starts_with("provscan.toml:4: ") && e.contains("`reason`"),
            "{e}"
        );
        let e = err("[[ignore]]\nreason = \"r\"\npackage = \"qs@>>1\"\n");
        assert!(
            e.starts_with("provscan.toml:3: ") && e.contains("`>>1` is not a version range"),
            "{e}"
        );
        let e = err("[[ignore]]\npackage = \"x\"\nreason = \"r\"\necosystem = \"go\"\n");
        assert!(e.starts_with("provscan.toml:4: "), "{e}");
        let e = err("\nfail-on = [\"nope\"]\n");
        assert!(
            e.starts_with("provscan.toml:2: ") && e.contains("in fail-on"),
            "{e}"
        );
        let e = err("min-coverage = { npm = 101 }\n");
        assert!(e.starts_with("provscan.toml:1: "), "{e}");
        let e = err("exclude = [\"ok\",\n  \"[bad\"]\n");
        assert!(
            e.starts_with("provscan.toml:2: invalid pattern `[bad`"),
            "{e}"
        );
        let c = parse("provscan.toml", "exclude = [\"fixtures/**/edge\"]\n").unwrap();
        assert!(c.exclude[0].matches_path("fixtures/npm/edge/x/package-lock.json"));
    }

    #[test]
    fn trust_entries() {
        let text = r#"
fail-on = ["invalid"]

[[trust]]
packages = ["@myorg/*", "myorg-cli@>=2"]
publisher = "github:myorg/*"
require = "trusted-publisher"
ecosystem = "npm"

[[trust]]
packages = "requests"
publisher = "github:psf/requests"
workflow = "release.yml"

[[trust]]
packages = ["*"]
require = "provenance"
"#;
        let c = parse("provscan.toml", text).unwrap();
        assert_eq!(c.trust.len(), 3);
        let first = &c.trust[0];
        assert!(first.applies(crate::model::Ecosystem::Npm, "@myorg/app", "1.0.0"));
        assert!(first.applies(crate::model::Ecosystem::Npm, "myorg-cli", "2.1.0"));
        assert!(!first.applies(crate::model::Ecosystem::Npm, "myorg-cli", "1.9.0"));
        assert!(!first.applies(crate::model::Ecosystem::Pypi, "@myorg/app", "1.0.0"));
        assert_eq!(first.place, "provscan.toml:4", "the entry's header line");
        assert_eq!(c.trust[1].workflow.as_deref(), Some("release.yml"));
        assert!(c.trust[1].applies(crate::model::Ecosystem::Pypi, "Requests", "2.32.0"));
        assert_eq!(c.trust[2].publisher, None);
    }

    #[test]
    fn trust_errors_name_the_file_and_line() {
        let err = |text: &str| parse("provscan.toml", text).unwrap_err().to_string();
        let e = err(
            "[[trust]]\npackages = [\"x\"]\npublisher = \"github:o/*\"\nrequire = \"trusted\"\n",
        );
        assert!(
            e.starts_with(
                "provscan.toml:4: invalid [[trust]] entry: `require`: unknown level `trusted`"
            ),
            "{e}"
        );
        let e = err("[[trust]]\npackages = [\"x\"]\npublisher = \"myorg\"\n");
        assert!(
            e.starts_with(
                "provscan.toml:3: invalid [[trust]] entry: `publisher`: identity `myorg`"
            ),
            "{e}"
        );
        let e =
            err("[[trust]]\npackages = [\"x\"]\npublisher = \"github:o/*\"\npublsher = \"x\"\n");
        assert!(
            e.starts_with("provscan.toml:4:") && e.contains("unknown field `publsher`"),
            "{e}"
        );
        let e = err("[[trust]]\npublisher = \"github:o/*\"\n");
        assert!(e.contains("missing field `packages`"), "{e}");
        let e = err("\n[[trust]]\npackages = [\"x@>>1\"]\npublisher = \"github:o/*\"\n");
        assert!(
            e.starts_with("provscan.toml:3: invalid [[trust]] entry: `packages`: `x@>>1`"),
            "{e}"
        );
        let e = err("[[trust]]\npackages = [\"x\"]\n");
        assert!(
            e.starts_with("provscan.toml:1:") && e.contains("needs a `publisher`, a `require`"),
            "{e}"
        );
        let e = err("[[trust]]\npackages = [\"x\"]\nrequire = \"staged\"\nworkflow = \"r.yml\"\n");
        assert!(
            e.starts_with("provscan.toml:4:") && e.contains("`workflow` needs a `publisher`"),
            "{e}"
        );
        let e =
            err("[[trust]]\npackages = [\"x\"]\npublisher = \"github:o/*\"\necosystem = \"go\"\n");
        assert!(
            e.starts_with("provscan.toml:4:") && e.contains("unknown ecosystem `go`"),
            "{e}"
        );
        let e = err("[[trust]]\npackages = []\npublisher = \"github:o/*\"\n");
        assert!(e.contains("names no package"), "{e}");
        let e = err("[[trust]]\npackages = [\"x\"]\npublisher = 3\n");
        assert!(e.starts_with("provscan.toml:3:"), "{e}");
    }
}
