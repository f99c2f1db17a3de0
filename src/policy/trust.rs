//! Identity pinning: provscan.toml's `[[trust]]` entries say who may build which packages, and
//! how high on the evidence ladder they must be. Pure: the rules read a package's report entry
//! and the pins, nothing else.
//!
//! ```toml
//! [[trust]]
//! packages = ["@myorg/*"]                 # the ignore / --exclude pattern grammar
//! publisher = "github:myorg/*"            # the `own = [...]` identity grammar
//! workflow = "release.yml"                # optional: a file name, or the whole path
//! require = "trusted-publisher"           # optional: a rung of the evidence ladder
//! ecosystem = "npm"                       # optional
//! ```
//!
//! A registry-answered package that at least one entry's `packages` names is judged against
//! every entry that names it:
//!
//! - entries with a `publisher`: the package's identity must match at least one of them (and its
//!   `workflow`, when given), else `unexpected-publisher` — also when the package has no
//!   identity at all. The flag's message names the entries.
//! - `require`: a matched entry's rung (the lowest among the matched ones) and every
//!   publisher-less entry's rung must be reached, else `below-required-level`.
//!
//! The identity is the verified signing certificate's; without one, the registry's record of
//! trusted publishing for a version with no bundle to verify (status `trusted-publisher`); with
//! `--no-verify`, the registry's publisher claim. Nothing else is an identity.

use crate::model::Ecosystem;
use crate::registry::{Publisher, TrustLevel};
use crate::report::identity::IdentityPattern;
use crate::report::{CoverageBasis, Flag, FlagKind, PackageReport, Status};
use crate::verify::Outcome;

use super::PackagePattern;

/// One `[[trust]]` entry, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPin {
    /// The packages it is about.
    pub packages: Vec<PackagePattern>,
    /// Who may build them; `None`: any identity (the entry only requires a rung).
    pub publisher: Option<IdentityPattern>,
    /// The workflow file: a bare file name matches the identity's workflow file name, a path
    /// (with `/`) the whole workflow path.
    pub workflow: Option<String>,
    /// The lowest rung of the evidence ladder accepted.
    pub require: Option<TrustLevel>,
    /// Where the entry is written (`provscan.toml:12`), for messages.
    pub place: String,
}

impl TrustPin {
    /// Check an entry's fields; the error is one sentence.
    pub fn new(
        packages: Vec<PackagePattern>,
        publisher: Option<IdentityPattern>,
        workflow: Option<String>,
        require: Option<TrustLevel>,
        place: String,
    ) -> Result<TrustPin, String> {
        if packages.is_empty() {
            return Err("`packages` names no package".into());
        }
        if publisher.is_none() && require.is_none() {
            return Err("the entry needs a `publisher`, a `require`, or both".into());
        }
        if let Some(w) = &workflow {
            match &publisher {
                None => return Err("`workflow` needs a `publisher`".into()),
                Some(IdentityPattern::Google { .. }) => {
                    return Err("`workflow` applies to github and gitlab publishers only".into());
                }
                Some(_) => {}
            }
            let w = w.trim();
            if w.is_empty()
                || w.contains(char::is_whitespace)
                || w.contains('@')
                || w.split('/').any(|s| s == "..")
            {
                return Err(format!(
                    "`workflow` must be a workflow file name (\"release.yml\") or its path \
                     (\".github/workflows/release.yml\"), not `{w}`"
                ));
            }
        }
        if require == Some(TrustLevel::None) {
            return Err("`require = \"none\"` requires nothing; name a higher rung".into());
        }
        Ok(TrustPin {
            packages,
            publisher,
            workflow: workflow.map(|w| w.trim().trim_start_matches("./").to_string()),
            require,
            place,
        })
    }

    /// True when the entry names this package.
    pub fn applies(&self, ecosystem: Ecosystem, name: &str, version: &str) -> bool {
        self.packages
            .iter()
            .any(|p| p.matches(ecosystem, name, version))
    }

    /// True when the identity is this entry's publisher (and workflow).
    fn accepts(&self, identity: &Publisher) -> bool {
        let Some(publisher) = &self.publisher else {
            return true;
        };
        if !publisher.matches(identity) {
            return false;
        }
        match &self.workflow {
            None => true,
            Some(want) => identity.workflow.as_deref().is_some_and(|got| {
                let got = got.trim_start_matches("./");
                if want.contains('/') {
                    got == want
                } else {
                    got.rsplit('/').next() == Some(want.as_str())
                }
            }),
        }
    }

    /// The entry as messages show it: `provscan.toml:3 (github:myorg/* release.yml)`.
    fn shown(&self) -> String {
        let mut what = Vec::new();
        if let Some(p) = &self.publisher {
            what.push(p.to_string());
        }
        if let Some(w) = &self.workflow {
            what.push(format!("workflow {w}"));
        }
        if let Some(r) = self.require {
            what.push(format!("require {}", r.as_str()));
        }
        format!("{} ({})", self.place, what.join(", "))
    }
}

/// The identity a pin is checked against, and where it came from; or why there is none.
pub fn pinned_identity(
    pkg: &PackageReport,
    basis: CoverageBasis,
) -> Result<(Publisher, &'static str), String> {
    if pkg.finding.status == Status::Invalid {
        return Err("its provenance is invalid".into());
    }
    if let Some(v) = &pkg.verification
        && v.outcome == Some(Outcome::Verified)
        && let Some(id) = &v.identity
        && (id.repository.is_some() || id.san.is_some())
    {
        return Ok((id.as_publisher(), "the verified signing certificate"));
    }
    let claim = pkg.evidence.as_ref().and_then(|e| e.publisher.clone());
    let (claim, source) = match basis {
        CoverageBasis::RegistryClaims => (claim, "the registry's claim (--no-verify)"),
        CoverageBasis::Verified if pkg.finding.status == Status::TrustedPublisher => {
            (claim, "the registry's trusted-publishing record")
        }
        CoverageBasis::Verified => {
            return Err(match pkg.finding.status {
                Status::Attested => "no verified identity: its provenance was not verified".into(),
                _ => "no verified identity: the version has no verified provenance and no \
                      trusted publishing"
                    .into(),
            });
        }
    };
    match claim {
        Some(p) if p.repository.is_some() || (p.provider == "google" && p.identity.is_some()) => {
            Ok((p, source))
        }
        Some(p) if p.provider == "npm-user" || p.provider == "crates-io-user" => Err(format!(
            "no identity: it was published with a token by the user {}",
            p.identity.as_deref().unwrap_or("(unnamed)")
        )),
        Some(p) => Err(format!(
            "no identity: {source} names the provider `{}` but no repository",
            p.provider
        )),
        None => Err(format!("no identity: {source} names no publisher")),
    }
}

/// The rung a pin's `require` is compared with: the registry's level, without the provenance
/// part when provenance is claimed but did not verify (with verification on). PyPI's
/// `provenance` counts as `trusted-publisher-provenance`: PyPI accepts PEP 740 attestations
/// only through trusted publishing.
pub fn proven_level(pkg: &PackageReport, basis: CoverageBasis) -> Option<TrustLevel> {
    let evidence = pkg.evidence.as_ref()?;
    if pkg.finding.status == Status::Invalid {
        return Some(TrustLevel::None);
    }
    let proven = basis == CoverageBasis::RegistryClaims || pkg.finding.status == Status::Verified;
    let level = match evidence.level {
        TrustLevel::Provenance if !proven => TrustLevel::None,
        TrustLevel::TrustedPublisherProvenance if !proven => TrustLevel::TrustedPublisher,
        other => other,
    };
    Some(match (pkg.package.ecosystem, level) {
        (Ecosystem::Pypi, TrustLevel::Provenance) => TrustLevel::TrustedPublisherProvenance,
        (_, level) => level,
    })
}

/// The flags the `[[trust]]` entries raise on one package: `unexpected-publisher` and
/// `below-required-level`. Nothing for packages no entry names, for packages that are not
/// pinned registry packages, or when the registry did not answer (the package is `unknown`).
pub fn trust_flags(pins: &[TrustPin], pkg: &PackageReport, basis: CoverageBasis) -> Vec<Flag> {
    let p = &pkg.package;
    if !p.is_registry_pinned() || pkg.evidence.is_none() {
        return Vec::new();
    }
    let applicable: Vec<&TrustPin> = pins
        .iter()
        .filter(|pin| pin.applies(p.ecosystem, &p.name, &p.version))
        .collect();
    if applicable.is_empty() {
        return Vec::new();
    }
    let mut flags = Vec::new();
    let identity = pinned_identity(pkg, basis);
    let with_publisher: Vec<&TrustPin> = applicable
        .iter()
        .copied()
        .filter(|pin| pin.publisher.is_some())
        .collect();
    let shown_all = |pins: &[&TrustPin]| {
        pins.iter()
            .map(|pin| pin.shown())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    // The entries whose requirement applies: the matched publisher entries (the most lenient
    // of them is enough) and every entry without a publisher.
    let mut required: Vec<&TrustPin> = Vec::new();
    if !with_publisher.is_empty() {
        let matched: Vec<&TrustPin> = match &identity {
            Ok((id, _)) => with_publisher
                .iter()
                .copied()
                .filter(|pin| pin.accepts(id))
                .collect(),
            Err(_) => Vec::new(),
        };
        if matched.is_empty() {
            let actual = match &identity {
                Ok((id, source)) => format!("built by {} ({source})", id.describe()),
                Err(why) => why.clone(),
            };
            flags.push(Flag {
                kind: FlagKind::UnexpectedPublisher,
                message: format!(
                    "{actual}, but the [[trust]] pin {} expects another publisher",
                    shown_all(&with_publisher)
                ),
            });
        } else if let Some(lenient) = matched.iter().min_by_key(|pin| pin.require) {
            required.push(lenient);
        }
    }
    required.extend(applicable.iter().filter(|pin| pin.publisher.is_none()));
    let level = proven_level(pkg, basis);
    if let Some(level) = level
        && let Some(pin) = required
            .iter()
            .find(|pin| pin.require.is_some_and(|want| level < want))
    {
        let actual = pkg
            .evidence
            .as_ref()
            .map(|e| e.level)
            .unwrap_or(TrustLevel::None);
        let shown = if actual == level {
            format!("`{}`", level.as_str())
        } else if p.ecosystem == Ecosystem::Pypi && actual == TrustLevel::Provenance {
            "`provenance` (on PyPI, trusted publishing with provenance)".to_string()
        } else {
            format!(
                "`{}` as the registry records it, `{}` as verified (the provenance did not \
                 verify)",
                actual.as_str(),
                level.as_str()
            )
        };
        flags.push(Flag {
            kind: FlagKind::BelowRequiredLevel,
            message: format!(
                "its evidence level is {shown}, below `{}`, which the [[trust]] pin {} requires",
                pin.require.map(TrustLevel::as_str).unwrap_or_default(),
                pin.shown()
            ),
        });
    }
    flags
}

/// Parse a `require` word: a rung of the evidence ladder.
pub fn parse_level(word: &str) -> Option<TrustLevel> {
    TrustLevel::LADDER
        .into_iter()
        .find(|l| l.as_str() == word.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LockedPackage, merge};
    use crate::registry::Evidence;
    use crate::report::Finding;
    use crate::verify::{BuildIdentity, Verification};

    fn pin(
        packages: &[&str],
        publisher: Option<&str>,
        workflow: Option<&str>,
        require: Option<&str>,
    ) -> TrustPin {
        TrustPin::new(
            packages
                .iter()
                .map(|p| PackagePattern::parse(p, None).unwrap())
                .collect(),
            publisher.map(|p| IdentityPattern::parse(p).unwrap()),
            workflow.map(Into::into),
            require.map(|r| parse_level(r).unwrap()),
            "provscan.toml:1".into(),
        )
        .unwrap()
    }

    /// A registry package with a status, a level, a registry publisher claim and (for
    /// `verified`) the verified identity `github:VERIFIED` built by `release.yml`.
    fn entry(
        ecosystem: Ecosystem,
        name: &str,
        status: Status,
        level: TrustLevel,
        claim: Option<Publisher>,
        verified: Option<&str>,
    ) -> PackageReport {
        let package = merge(vec![(
            LockedPackage::new(ecosystem, name, "1.0.0"),
            "lock".into(),
        )])
        .remove(0);
        let mut evidence = Evidence::new("http://127.0.0.1/", level);
        evidence.publisher = claim;
        let verification = verified.map(|repo| {
            let mut v = Verification::from_checks(
                Vec::new(),
                Some(BuildIdentity {
                    provider: "github".into(),
                    repository: Some(repo.into()),
                    workflow: Some(".github/workflows/release.yml".into()),
                    ..BuildIdentity::default()
                }),
            );
            v.outcome = Some(Outcome::Verified);
            Box::new(v)
        });
        PackageReport {
            package,
            finding: Finding {
                status,
                reason: None,
            },
            evidence: Some(Box::new(evidence)),
            verification,
            flags: Vec::new(),
            ignored: None,
            failing: false,
        }
    }

    fn verified(name: &str, repo: &str, level: TrustLevel) -> PackageReport {
        entry(
            Ecosystem::Npm,
            name,
            Status::Verified,
            level,
            None,
            Some(repo),
        )
    }

    fn kinds(flags: &[Flag]) -> Vec<&'static str> {
        flags.iter().map(|f| f.kind.as_str()).collect()
    }

    const V: CoverageBasis = CoverageBasis::Verified;

    #[test]
    fn a_pinned_identity_must_match() {
        let pins = [pin(&["@myorg/*"], Some("github:myorg/*"), None, None)];
        let good = verified("@myorg/app", "MyOrg/app", TrustLevel::Provenance);
        assert!(trust_flags(&pins, &good, V).is_empty());
        let bad = verified("@myorg/app", "evil/app", TrustLevel::Provenance);
        let flags = trust_flags(&pins, &bad, V);
        assert_eq!(kinds(&flags), ["unexpected-publisher"]);
        assert!(
            flags[0].message.contains("built by github:evil/app")
                && flags[0]
                    .message
                    .contains("the verified signing certificate")
                && flags[0]
                    .message
                    .contains("provscan.toml:1 (github:myorg/*)"),
            "{}",
            flags[0].message
        );
        // Packages no pin names are not judged.
        let other = verified("left-pad", "evil/app", TrustLevel::Provenance);
        assert!(trust_flags(&pins, &other, V).is_empty());
    }

    #[test]
    fn any_matching_entry_is_enough_and_workflows_narrow() {
        let pins = [
            pin(
                &["requests"],
                Some("github:psf/requests"),
                Some("release.yml"),
                None,
            ),
            pin(&["requests"], Some("github:mirror/requests"), None, None),
        ];
        let mut r = verified("requests", "psf/requests", TrustLevel::Provenance);
        r.package.ecosystem = Ecosystem::Pypi;
        assert!(trust_flags(&pins, &r, V).is_empty());
        let mirror = verified("requests", "mirror/requests", TrustLevel::Provenance);
        assert!(trust_flags(&pins, &mirror, V).is_empty());
        // Another workflow of the pinned repository is not the pinned one.
        let only_ci = [pin(
            &["requests"],
            Some("github:psf/requests"),
            Some("ci.yml"),
            None,
        )];
        let flags = trust_flags(&only_ci, &r, V);
        assert_eq!(kinds(&flags), ["unexpected-publisher"]);
        assert!(
            flags[0].message.contains("workflow ci.yml"),
            "{}",
            flags[0].message
        );
        // A workflow path compares the whole path.
        let path = [pin(
            &["requests"],
            Some("github:psf/requests"),
            Some("./.github/workflows/release.yml"),
            None,
        )];
        assert!(trust_flags(&path, &r, V).is_empty());
    }

    #[test]
    fn no_identity_under_a_pin_is_unexpected() {
        let pins = [pin(&["*"], Some("github:myorg/*"), None, None)];
        // Attested but not verified: a claim is not an identity.
        let attested = entry(
            Ecosystem::Npm,
            "a",
            Status::Attested,
            TrustLevel::Provenance,
            Some(Publisher {
                provider: "github".into(),
                repository: Some("myorg/a".into()),
                ..Publisher::default()
            }),
            None,
        );
        let flags = trust_flags(&pins, &attested, V);
        assert_eq!(kinds(&flags), ["unexpected-publisher"]);
        assert!(
            flags[0].message.contains("not verified"),
            "{}",
            flags[0].message
        );
        // The same claim counts with --no-verify, and says where it came from.
        assert!(trust_flags(&pins, &attested, CoverageBasis::RegistryClaims).is_empty());
        // A token publish names a user, not a pipeline.
        let token = entry(
            Ecosystem::Npm,
            "b",
            Status::None,
            TrustLevel::None,
            Some(Publisher {
                provider: "npm-user".into(),
                identity: Some("someone".into()),
                ..Publisher::default()
            }),
            None,
        );
        let flags = trust_flags(&pins, &token, CoverageBasis::RegistryClaims);
        assert!(
            flags[0].message.contains("token by the user someone"),
            "{}",
            flags[0].message
        );
        // npm trusted publishing without provenance names the provider only.
        let tp = entry(
            Ecosystem::Npm,
            "c",
            Status::TrustedPublisher,
            TrustLevel::TrustedPublisher,
            Some(Publisher {
                provider: "github".into(),
                ..Publisher::default()
            }),
            None,
        );
        let flags = trust_flags(&pins, &tp, V);
        assert!(
            flags[0].message.contains("no repository"),
            "{}",
            flags[0].message
        );
        // crates.io's trusted-publishing record names the repository: it counts.
        let krate = entry(
            Ecosystem::Crates,
            "d",
            Status::TrustedPublisher,
            TrustLevel::TrustedPublisher,
            Some(Publisher {
                provider: "github".into(),
                repository: Some("myorg/d".into()),
                ..Publisher::default()
            }),
            None,
        );
        assert!(trust_flags(&pins, &krate, V).is_empty());
        // No registry answer: the package is `unknown`, and no pin is judged.
        let mut unknown = verified("e", "evil/e", TrustLevel::Provenance);
        unknown.evidence = None;
        assert!(trust_flags(&pins, &unknown, V).is_empty());
    }

    #[test]
    fn required_rungs() {
        let pins = [pin(
            &["@myorg/*"],
            Some("github:myorg/*"),
            None,
            Some("trusted-publisher"),
        )];
        let low = verified("@myorg/a", "myorg/a", TrustLevel::Provenance);
        let flags = trust_flags(&pins, &low, V);
        assert_eq!(kinds(&flags), ["below-required-level"]);
        assert!(
            flags[0]
                .message
                .contains("`provenance`, below `trusted-publisher`"),
            "{}",
            flags[0].message
        );
        let high = verified(
            "@myorg/a",
            "myorg/a",
            TrustLevel::TrustedPublisherProvenance,
        );
        assert!(trust_flags(&pins, &high, V).is_empty());
        // A publisher-less entry only requires a rung; staged is the top one.
        let staged = [pin(&["@myorg/*"], None, None, Some("staged"))];
        let flags = trust_flags(&staged, &high, V);
        assert_eq!(kinds(&flags), ["below-required-level"]);
        // With a mismatched identity, both are said.
        let both = [
            pin(&["@myorg/*"], Some("github:myorg/*"), None, None),
            pin(&["@myorg/*"], None, None, Some("staged")),
        ];
        let evil = verified("@myorg/a", "evil/a", TrustLevel::Provenance);
        assert_eq!(
            kinds(&trust_flags(&both, &evil, V)),
            ["unexpected-publisher", "below-required-level"]
        );
        // Claimed provenance that did not verify does not count toward a rung.
        let unjudged = entry(
            Ecosystem::Npm,
            "x",
            Status::Attested,
            TrustLevel::TrustedPublisherProvenance,
            None,
            None,
        );
        assert_eq!(
            proven_level(&unjudged, V),
            Some(TrustLevel::TrustedPublisher)
        );
        let need = [pin(
            &["x"],
            None,
            None,
            Some("trusted-publisher-provenance"),
        )];
        let flags = trust_flags(&need, &unjudged, V);
        assert!(
            flags[0].message.contains("did not verify"),
            "{}",
            flags[0].message
        );
        assert!(trust_flags(&need, &unjudged, CoverageBasis::RegistryClaims).is_empty());
        // PyPI's provenance comes only through trusted publishing.
        let mut pypi = verified("p", "o/p", TrustLevel::Provenance);
        pypi.package.ecosystem = Ecosystem::Pypi;
        let tp = [pin(&["p"], None, None, Some("trusted-publisher"))];
        assert!(trust_flags(&tp, &pypi, V).is_empty());
    }

    #[test]
    fn entries_are_checked() {
        let pkgs = || vec![PackagePattern::parse("x", None).unwrap()];
        let gh = || Some(IdentityPattern::parse("github:o/*").unwrap());
        let err = |r: Result<TrustPin, String>| r.unwrap_err();
        assert!(err(TrustPin::new(vec![], gh(), None, None, "p".into())).contains("no package"));
        assert!(
            err(TrustPin::new(pkgs(), None, None, None, "p".into()))
                .contains("`publisher`, a `require`")
        );
        assert!(
            err(TrustPin::new(
                pkgs(),
                None,
                Some("r.yml".into()),
                Some(TrustLevel::Staged),
                "p".into()
            ))
            .contains("needs a `publisher`")
        );
        let google = Some(IdentityPattern::parse("google:a@b.example").unwrap());
        assert!(
            err(TrustPin::new(
                pkgs(),
                google,
                Some("r.yml".into()),
                None,
                "p".into()
            ))
            .contains("github and gitlab")
        );
        assert!(
            err(TrustPin::new(
                pkgs(),
                gh(),
                Some("a b.yml".into()),
                None,
                "p".into()
            ))
            .contains("workflow")
        );
        assert!(
            err(TrustPin::new(
                pkgs(),
                gh(),
                Some("../x.yml".into()),
                None,
                "p".into()
            ))
            .contains("workflow")
        );
        assert!(
            err(TrustPin::new(
                pkgs(),
                gh(),
                None,
                Some(TrustLevel::None),
                "p".into()
            ))
            .contains("requires nothing")
        );
        assert_eq!(parse_level("staged"), Some(TrustLevel::Staged));
        assert_eq!(parse_level("trusted"), None);
    }
}
