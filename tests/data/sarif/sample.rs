//! A hand-built report with every status and flag kind, an ignored package, failing packages,
//! a package found in two lockfiles and one without a line: rendered by `tests/sarif.rs` and
//! `tests/markdown.rs` (included with `#[path]`).
#![allow(dead_code)]

use provscan::model::{Ecosystem, LockedPackage, Source, merge};
use provscan::registry::{Evidence, Publisher, RequestCounts, TrustLevel};
use provscan::report::{
    Finding, Flag, FlagKind, Ignored, LockfileReport, PackageReport, PolicyOutcome, Report, Status,
    Summary, Violation,
};

/// One package to put in the sample.
pub struct Spec {
    pub eco: Ecosystem,
    pub name: &'static str,
    pub version: &'static str,
    pub status: Status,
    pub reason: Option<&'static str>,
    pub lockfile: &'static str,
    pub line: Option<usize>,
    pub publisher: Option<&'static str>,
    pub flags: &'static [(FlagKind, &'static str)],
    pub ignored: Option<(&'static str, &'static str, Option<&'static str>)>,
    pub failing: bool,
}

const fn spec(
    eco: Ecosystem,
    name: &'static str,
    version: &'static str,
    status: Status,
    lockfile: &'static str,
    line: Option<usize>,
) -> Spec {
    Spec {
        eco,
        name,
        version,
        status,
        reason: None,
        lockfile,
        line,
        publisher: None,
        flags: &[],
        ignored: None,
        failing: false,
    }
}

/// Build a report from specs; `extra` adds origins (lockfile, line) to a package by name.
pub fn report(specs: Vec<Spec>, extra: &[(&str, &str, usize)], policy: PolicyOutcome) -> Report {
    let mut found = Vec::new();
    for s in &specs {
        let mut locked = LockedPackage::new(s.eco, s.name, s.version);
        locked.line = s.line;
        locked.direct = Some(s.line.is_some_and(|l| l < 20));
        if s.status == Status::NotApplicable {
            locked.source = Source::Git {
                url: format!("https://example.com/{}.git", s.name),
                commit: None,
            };
        }
        if s.status == Status::Unpinned {
            locked.version = String::new();
            locked.unpinned_spec = Some(s.version.to_string());
        }
        found.push((locked.clone(), s.lockfile.to_string()));
        for (name, lockfile, line) in extra {
            if *name == s.name {
                let mut again = locked.clone();
                again.line = Some(*line);
                found.push((again, lockfile.to_string()));
            }
        }
    }
    let packages: Vec<PackageReport> = merge(found)
        .into_iter()
        .map(|package| {
            let s = specs
                .iter()
                .find(|s| s.name == package.name)
                .expect("spec for package");
            let evidence = s.publisher.map(|repo| {
                let mut e = Evidence::new("https://registry.example/", TrustLevel::Provenance);
                e.publisher = Some(Publisher {
                    provider: "github".into(),
                    repository: Some(repo.into()),
                    workflow: Some(".github/workflows/release.yml".into()),
                    ..Publisher::default()
                });
                e
            });
            PackageReport {
                package,
                finding: Finding {
                    status: s.status,
                    reason: s.reason.map(str::to_string),
                },
                evidence: evidence.map(Box::new),
                verification: None,
                flags: s
                    .flags
                    .iter()
                    .map(|(kind, message)| Flag {
                        kind: *kind,
                        message: message.to_string(),
                    })
                    .collect(),
                ignored: s.ignored.map(|(pattern, reason, until)| {
                    Box::new(Ignored {
                        pattern: pattern.into(),
                        reason: reason.into(),
                        until: until.map(str::to_string),
                    })
                }),
                failing: s.failing,
            }
        })
        .collect();
    let mut lockfiles: Vec<&str> = specs.iter().map(|s| s.lockfile).collect();
    lockfiles.extend(extra.iter().map(|e| e.1));
    lockfiles.sort();
    lockfiles.dedup();
    let causes = provscan::report::causes::aggregate(&packages, &Default::default());
    Report {
        root: ".".into(),
        offline: false,
        lockfiles: lockfiles
            .into_iter()
            .map(|path| LockfileReport {
                path: path.into(),
                format: provscan::lockfile::LockfileKind::PackageLock,
                packages: 1,
                error: None,
            })
            .collect(),
        summary: Summary::of(&packages),
        packages,
        requests: RequestCounts::default(),
        cached: 0,
        cached_by: Default::default(),
        policy,
        warnings: Vec::new(),
        causes,
    }
}

/// Every status, every flag kind, an ignore, two failing packages and a coverage violation.
pub fn everything() -> Report {
    use Ecosystem::*;
    let specs = vec![
        Spec {
            publisher: Some("sigstore/good"),
            ..spec(
                Npm,
                "@scope/good",
                "1.0.0",
                Status::Attested,
                "package-lock.json",
                Some(10),
            )
        },
        Spec {
            reason: Some("1.3.0, published earlier, has trust level provenance; this has none"),
            failing: true,
            ..spec(
                Npm,
                "left-pad",
                "1.3.1",
                Status::Downgraded,
                "package-lock.json",
                Some(20),
            )
        },
        Spec {
            reason: Some("the attestation's subject digest does not match the tarball"),
            flags: &[(
                FlagKind::IntegrityMismatch,
                "the lockfile pins sha512-AAA, the registry serves sha512-BBB",
            )],
            failing: true,
            ..spec(
                Npm,
                "tampered",
                "2.0.0",
                Status::Invalid,
                "package-lock.json",
                Some(30),
            )
        },
        Spec {
            publisher: Some("other-org/moved"),
            flags: &[(
                FlagKind::PublisherChanged,
                "published from other-org/moved, 3.0.0 from owner/moved",
            )],
            ..spec(
                Npm,
                "moved",
                "3.1.0",
                Status::Attested,
                "package-lock.json",
                Some(40),
            )
        },
        Spec {
            reason: Some("0.0.9, published earlier, has trust level provenance; this has none"),
            ignored: Some((
                "ignored-pkg@0.1.0",
                "vendored fork | see `docs/fork.md`",
                Some("2027-01-31"),
            )),
            ..spec(
                Npm,
                "ignored-pkg",
                "0.1.0",
                Status::Downgraded,
                "package-lock.json",
                Some(50),
            )
        },
        Spec {
            reason: Some("a git dependency: registry provenance does not apply"),
            ..spec(
                Npm,
                "git-dep",
                "0.0.0",
                Status::NotApplicable,
                "package-lock.json",
                Some(60),
            )
        },
        Spec {
            reason: Some("the registry answered `HTTP 500` | after 3 attempts"),
            ..spec(
                Npm,
                "flaky",
                "4.0.0",
                Status::Unknown,
                "package-lock.json",
                None,
            )
        },
        Spec {
            reason: Some("no file of this release has provenance"),
            flags: &[(
                FlagKind::SourceMismatch,
                "built from someone/else, declares python/typing_extensions",
            )],
            ..spec(
                Pypi,
                "Typing_Extensions",
                "4.12.2",
                Status::None,
                "uv.lock",
                Some(7),
            )
        },
        Spec {
            reason: Some("the requirement `>=2` does not pin one version"),
            ..spec(
                Pypi,
                "requests",
                ">=2",
                Status::Unpinned,
                "requirements.txt",
                Some(3),
            )
        },
        Spec {
            publisher: Some("pyca/cryptography"),
            ..spec(
                Pypi,
                "cryptography",
                "43.0.0",
                Status::Verified,
                "uv.lock",
                Some(30),
            )
        },
        Spec {
            publisher: Some("serde-rs/serde"),
            ..spec(
                Crates,
                "serde",
                "1.0.210",
                Status::TrustedPublisher,
                "Cargo.lock",
                Some(100),
            )
        },
        Spec {
            reason: Some("no trusted publishing"),
            ..spec(
                Crates,
                "anyhow",
                "1.0.89",
                Status::None,
                "Cargo.lock",
                Some(5),
            )
        },
    ];
    let policy = PolicyOutcome {
        fail_on: vec!["invalid".into(), "downgraded".into()],
        baseline: false,
        violations: vec![
            Violation {
                rule: "downgraded".into(),
                package: Some("npm:left-pad@1.3.1".into()),
                message: "npm:left-pad@1.3.1 is downgraded".into(),
            },
            Violation {
                rule: "invalid".into(),
                package: Some("npm:tampered@2.0.0".into()),
                message: "npm:tampered@2.0.0 is invalid".into(),
            },
            Violation {
                rule: "min-coverage".into(),
                package: None,
                message: "npm coverage is 28%, below the required 80%".into(),
            },
        ],
    };
    report(specs, &[("left-pad", "web/package-lock.json", 5)], policy)
}

/// Many packages that need attention, and a passed policy.
pub fn many_unknown(n: usize) -> Report {
    let names: Vec<&'static str> = (0..n)
        .map(|i| &*Box::leak(format!("pkg-{i:03}").into_boxed_str()))
        .collect();
    let specs = names
        .into_iter()
        .map(|name| Spec {
            reason: Some("--offline: the registry was not asked"),
            ..spec(
                Ecosystem::Npm,
                name,
                "1.0.0",
                Status::Unknown,
                "package-lock.json",
                Some(2),
            )
        })
        .collect();
    report(
        specs,
        &[],
        PolicyOutcome {
            fail_on: vec!["invalid".into(), "downgraded".into()],
            ..PolicyOutcome::default()
        },
    )
}
