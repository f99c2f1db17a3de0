//! A mixed-status project for the HTML, CycloneDX and browser tests (included with `#[path]`):
//! three ecosystems, every status, own and external builders, hashes, flags, failing packages,
//! a git dependency and an unpinned requirement. `hostile()` gives every name and message
//! markup, quotes and control characters, as a malicious lockfile or registry could.
#![allow(dead_code)]

use base64::Engine;
use provscan::model::{DistFile, Ecosystem, LockedPackage, Source, merge};
use provscan::registry::{Evidence, FileEvidence, Publisher, RequestCounts, TrustLevel};
use provscan::report::identity::IdentityPattern;
use provscan::report::{
    CoverageBasis, Finding, Flag, FlagKind, Independence, LockfileReport, OwnIdentities,
    PackageReport, PolicyOutcome, Report, Status, Summary, Violation,
};
use provscan::verify::{BuildIdentity, Outcome, Verification};

struct Spec {
    eco: Ecosystem,
    name: String,
    version: &'static str,
    status: Status,
    direct: bool,
    builder: Option<(&'static str, String)>,
    failing: bool,
    flag: Option<FlagKind>,
    reason: Option<String>,
}

fn spec(eco: Ecosystem, name: &str, version: &'static str, status: Status) -> Spec {
    Spec {
        eco,
        name: name.to_string(),
        version,
        status,
        direct: false,
        builder: None,
        failing: false,
        flag: None,
        reason: None,
    }
}

fn specs(tag: &dyn Fn(&str) -> String) -> Vec<Spec> {
    use Ecosystem::*;
    let b = |repo: &str| Some(("github", tag(repo)));
    let mut v = vec![
        Spec {
            direct: true,
            builder: b("acme/app-utils"),
            ..spec(Npm, &tag("@acme/utils"), "2.1.0", Status::Verified)
        },
        Spec {
            direct: true,
            builder: b("acme/ui"),
            ..spec(Npm, &tag("@acme/ui"), "4.0.1", Status::Attested)
        },
        Spec {
            direct: true,
            builder: b("sigstore/sigstore-js"),
            ..spec(Npm, &tag("sigstore"), "3.0.0", Status::Verified)
        },
        Spec {
            builder: b("babel/babel"),
            ..spec(Npm, &tag("@babel/core"), "7.26.0", Status::Verified)
        },
        Spec {
            builder: b("babel/babel"),
            ..spec(Npm, &tag("@babel/parser"), "7.26.2", Status::Verified)
        },
        Spec {
            builder: b("babel/babel"),
            ..spec(Npm, &tag("@babel/types"), "7.26.0", Status::Verified)
        },
        Spec {
            builder: b("vitejs/vite"),
            ..spec(Npm, &tag("vite"), "6.0.3", Status::TrustedPublisher)
        },
        Spec {
            direct: true,
            ..spec(Npm, &tag("left-pad"), "1.3.0", Status::None)
        },
        Spec {
            failing: true,
            flag: Some(FlagKind::IntegrityMismatch),
            reason: Some(tag(
                "the attestation's subject digest does not match the lockfile",
            )),
            ..spec(Npm, &tag("evil-pkg"), "0.0.7", Status::Invalid)
        },
        Spec {
            failing: true,
            builder: None,
            reason: Some(tag("1.2.0 was published with provenance; 1.2.1 without")),
            ..spec(Npm, &tag("was-attested"), "1.2.1", Status::Downgraded)
        },
        Spec {
            reason: Some(tag("the registry did not answer (timeout)")),
            ..spec(Npm, &tag("flaky"), "1.0.0", Status::Unknown)
        },
        Spec {
            direct: true,
            builder: b("pypa/sampleproject"),
            flag: Some(FlagKind::PublisherChanged),
            ..spec(Pypi, &tag("sampleproject"), "4.0.0", Status::Attested)
        },
        Spec {
            builder: b("urllib3/urllib3"),
            ..spec(Pypi, &tag("urllib3"), "2.2.3", Status::Verified)
        },
        Spec {
            ..spec(Pypi, &tag("six"), "1.16.0", Status::None)
        },
        Spec {
            direct: true,
            reason: Some(tag("requirements.txt does not pin one version")),
            ..spec(Pypi, &tag("requests"), ">=2", Status::Unpinned)
        },
        Spec {
            direct: true,
            builder: b("acme/acme-core"),
            ..spec(Crates, &tag("acme-core"), "0.3.0", Status::TrustedPublisher)
        },
        Spec {
            builder: b("serde-rs/serde"),
            ..spec(Crates, &tag("serde"), "1.0.215", Status::TrustedPublisher)
        },
        Spec {
            ..spec(Crates, &tag("libc"), "0.2.167", Status::None)
        },
        Spec {
            reason: Some(tag("a git dependency: no registry provenance applies")),
            ..spec(Crates, &tag("forked"), "0.1.0", Status::NotApplicable)
        },
    ];
    for i in 0..6 {
        v.push(Spec {
            builder: b(&format!("org{i}/lib{i}")),
            ..spec(Npm, &tag(&format!("lib-{i}")), "1.0.0", Status::Verified)
        });
    }
    v
}

fn lockfile(eco: Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Npm => "package-lock.json",
        Ecosystem::Pypi => "requirements.txt",
        Ecosystem::Crates => "Cargo.lock",
    }
}

fn build(tag: &dyn Fn(&str) -> String) -> Report {
    let specs = specs(tag);
    let mut found = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let mut l = LockedPackage::new(s.eco, s.name.clone(), s.version);
        l.line = Some(10 + i * 7);
        l.direct = Some(s.direct);
        match s.status {
            Status::Unpinned => {
                l.version = String::new();
                l.unpinned_spec = Some(s.version.into());
            }
            Status::NotApplicable => {
                l.source = Source::Git {
                    url: "https://git.example.invalid/forked.git".into(),
                    commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                };
            }
            _ => {}
        }
        let digest = [i as u8; 64];
        match s.eco {
            Ecosystem::Npm => {
                l.integrity.sri = Some(format!(
                    "sha512-{}",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                ))
            }
            Ecosystem::Crates => l.integrity.checksum = Some(format!("{:02x}", i).repeat(32)),
            Ecosystem::Pypi => l.integrity.files.push(DistFile {
                filename: Some(format!("{}-{}-py3-none-any.whl", s.name, s.version)),
                hashes: [("sha256".to_string(), format!("{:02x}", i + 100).repeat(32))]
                    .into_iter()
                    .collect(),
            }),
        }
        found.push((l, lockfile(s.eco).to_string()));
    }
    let packages: Vec<PackageReport> = merge(found)
        .into_iter()
        .map(|package| {
            let s = specs
                .iter()
                .find(|s| s.name == package.name && s.eco == package.ecosystem)
                .unwrap();
            let publisher = s.builder.as_ref().map(|(provider, repo)| Publisher {
                provider: provider.to_string(),
                repository: Some(repo.clone()),
                workflow: Some(".github/workflows/release.yml".into()),
                commit: Some("89abcdef0123456789abcdef0123456789abcdef".into()),
                ..Publisher::default()
            });
            let answered = !matches!(
                s.status,
                Status::Unknown | Status::NotApplicable | Status::Unpinned
            );
            let evidence = answered.then(|| {
                let level = match s.status {
                    Status::TrustedPublisher => TrustLevel::TrustedPublisher,
                    Status::None | Status::Downgraded => TrustLevel::None,
                    _ => TrustLevel::Provenance,
                };
                let registry = match s.eco {
                    Ecosystem::Npm => "http://127.0.0.1:9/npm/",
                    Ecosystem::Pypi => "http://127.0.0.1:9/simple/",
                    Ecosystem::Crates => "http://127.0.0.1:9/crates/",
                };
                let mut e = Evidence::new(registry, level);
                e.publisher = publisher.clone();
                if level == TrustLevel::Provenance {
                    e.predicate_types = vec!["https://slsa.dev/provenance/v1".into()];
                    if s.eco == Ecosystem::Pypi {
                        e.files = vec![FileEvidence {
                            filename: format!("{}-{}-py3-none-any.whl", s.name, s.version),
                            sha256: None,
                            provenance: true,
                        }];
                    }
                }
                e
            });
            let verification = (s.status == Status::Verified).then(|| Verification {
                outcome: Some(Outcome::Verified),
                reason: None,
                identity: publisher.as_ref().map(|p| BuildIdentity {
                    provider: p.provider.clone(),
                    repository: p.repository.clone(),
                    workflow: p.workflow.clone(),
                    commit: p.commit.clone(),
                    ..BuildIdentity::default()
                }),
                attestations: Vec::new(),
                registry_signature: None,
                flags: Vec::new(),
            });
            PackageReport {
                package,
                finding: Finding {
                    status: s.status,
                    reason: s.reason.clone(),
                },
                evidence: evidence.map(Box::new),
                verification: verification.map(Box::new),
                flags: s
                    .flag
                    .map(|kind| Flag {
                        kind,
                        message: tag(match kind {
                            FlagKind::IntegrityMismatch => "the lockfile pins sha512-AAAA but the registry serves sha512-BBBB",
                            _ => "published by github:other/repo, but 3.9.0 was published by github:pypa/sampleproject",
                        }),
                    })
                    .into_iter()
                    .collect(),
                ignored: None,
                failing: s.failing,
            }
        })
        .collect();
    let own = OwnIdentities {
        patterns: vec![IdentityPattern::parse("github:acme/*").unwrap()],
        source: "provscan.toml".into(),
    };
    let violations = packages
        .iter()
        .filter(|p| p.failing)
        .map(|p| Violation {
            rule: p.finding.status.as_str().into(),
            package: Some(format!(
                "{}:{}@{}",
                p.package.ecosystem, p.package.name, p.package.version
            )),
            message: tag(&format!(
                "status {} fails the policy",
                p.finding.status.as_str()
            )),
        })
        .collect();
    Report {
        root: tag("."),
        offline: false,
        lockfiles: ["package-lock.json", "requirements.txt", "Cargo.lock"]
            .iter()
            .map(|p| LockfileReport {
                path: p.to_string(),
                format: provscan::lockfile::LockfileKind::PackageLock,
                packages: 3,
                error: None,
            })
            .collect(),
        summary: Summary {
            independence: Independence::of(&packages, &own, CoverageBasis::Verified),
            ..Summary::of(&packages)
        },
        packages,
        requests: RequestCounts::default(),
        cached: 0,
        cached_by: Default::default(),
        policy: PolicyOutcome {
            fail_on: vec!["invalid".into(), "downgraded".into()],
            baseline: false,
            violations,
        },
        causes: Vec::new(),
        warnings: vec![tag("the crates.io API was not asked: offline cache used")],
    }
}

/// The mixed-status project.
pub fn mixed() -> Report {
    build(&|s| s.to_string())
}

/// Markup an attacker would put in a name, message or path.
pub const PAYLOAD: &str = "\"'><script>document.title='pwned'</script><img src=x onerror=alert(1)><svg onload=alert(2)></style></title>\u{1b}[31m\u{202e}";

/// The same project with the payload in every name, repository, reason and message.
pub fn hostile() -> Report {
    build(&|s| format!("{s}{PAYLOAD}"))
}
