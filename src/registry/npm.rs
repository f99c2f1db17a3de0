//! The npm registry client: one full packument per package name.
//!
//! The packument (`{registry}{escaped-name}`, `Accept: application/json`) carries every
//! version's `dist` (integrity, signatures, attestations), `_npmUser` (trusted publisher) and the
//! `time` map, which is enough for the trust level of every release and the downgrade rule with no
//! per-version request. A registry that serves neither `dist.signatures` nor `dist.attestations`
//! for the pinned version (a mirror that strips them, a private registry) does not expose
//! provenance: such packages are `unknown`, never `none`. When identity is wanted (verification
//! on), the attestations are fetched from `dist.attestations.url` — only when it is an http(s)
//! URL on the configured registry's origin, so no request goes to a host the user did not
//! configure. A fetch that fails is recorded as a [`super::MaterialFault`], never dropped.

use std::cell::RefCell;
use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use url::Url;

use super::history::{self, DowngradeCheck, Release, TrustLevel, VersionKey};
use super::http::Decoded;
use super::wire::{self, Entries, Lenient, lenient};
use super::{
    BodyWatch, Ctx, Evidence, IntegrityMismatch, Lookup, MaterialFault, Notice, NpmKeys, Publisher,
    PublisherChange, Staged, all_unknown, failure_reason, publisher_change, same_origin,
};
use crate::model::{Ecosystem, Package, PackageKey};

/// Characters escaped in a package name path segment (npm escapes the scope's `/` as `%2f`).
const NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'@')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'!')
    .remove(b'*')
    .remove(b'(')
    .remove(b')')
    .remove(b'\'');

/// A name the registry could hold: not empty, not `.` or `..`, and at most one `/`, only
/// after an `@scope` (so no name can climb out of the registry's path).
pub fn valid_name(name: &str) -> bool {
    let (scope, bare) = match name.split_once('/') {
        Some((scope, bare)) => (Some(scope), bare),
        None => (None, name),
    };
    let segment_ok = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains('/');
    segment_ok(bare) && scope.is_none_or(|s| s.starts_with('@') && segment_ok(&s[1..]))
}

/// The packument URL for a name: `@scope/name` → `{registry}@scope%2fname`.
pub fn packument_url(registry: &Url, name: &str) -> Option<Url> {
    let escaped = percent_encoding::utf8_percent_encode(name, NAME)
        .to_string()
        .replace("%2F", "%2f");
    registry.join(&escaped).ok()
}

/// Subset of a packument: only the fields provscan reads. Versions are read in one pass
/// ([`Version`]): a pinned one's raw text is kept (borrowed from the body) and decoded in full
/// afterwards, any other is skipped but for the two fields its trust level needs, so a
/// packument of 2,000+ versions never becomes a JSON tree and is scanned about once.
#[derive(Debug, Deserialize)]
struct Packument<'a> {
    #[serde(borrow, default, deserialize_with = "wire::keyed_entries")]
    versions: Option<Entries<Version<'a>>>,
    #[serde(default, deserialize_with = "wire::entries")]
    time: Option<Entries<Lenient<String>>>,
}

/// What provscan keeps of a packument: every release's trust level and publish time, and the
/// manifests of the pinned versions.
struct DecodedPackument {
    history: Vec<Release>,
    manifests: BTreeMap<String, Manifest>,
    /// Versions whose `dist` carries `attestations` (on any rung, staged ones included).
    attested: std::collections::BTreeSet<String>,
    /// Versions whose `dist.signatures` lists at least one signature.
    signed: std::collections::BTreeSet<String>,
}

/// Decode a packument for the pinned versions `wanted`. One version that does not decode
/// counts as a release with nothing known (it does not lose the package).
fn decode_packument(bytes: &[u8], wanted: &[String]) -> Decoded<DecodedPackument> {
    let decoded = PINNED.with(|pinned| {
        let before = pinned.replace(wanted.to_vec());
        let decoded = wire::borrowed::<Packument<'_>>(bytes);
        pinned.replace(before);
        decoded
    });
    let packument = match decoded {
        Ok(p) => p,
        Err(m) => return Decoded::Malformed(m),
    };
    let times: BTreeMap<String, String> = packument
        .time
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.0?)))
        .collect();
    // A repeated key: the last one wins, as in any JSON object reader.
    let versions: BTreeMap<String, Version<'_>> =
        packument.versions.unwrap_or_default().into_iter().collect();
    let mut history = Vec::with_capacity(versions.len());
    let mut manifests = BTreeMap::new();
    let mut attested = std::collections::BTreeSet::new();
    let mut signed = std::collections::BTreeSet::new();
    for (version, entry) in versions {
        let (manifest, pinned) = match entry {
            Version::Pinned(raw) => (
                serde_json::from_str::<Manifest>(raw.get()).unwrap_or_default(),
                true,
            ),
            Version::Other(summary) => (summary.manifest(), false),
        };
        if manifest.attested() {
            attested.insert(version.clone());
        }
        if manifest.signed() {
            signed.insert(version.clone());
        }
        let level = manifest.level();
        let manifest = pinned.then_some(manifest);
        history.push(Release {
            key: VersionKey::semver(&version),
            published: times.get(&version).and_then(|t| history::parse_time(t)),
            level,
            version: version.clone(),
        });
        if let Some(manifest) = manifest {
            manifests.insert(version, manifest);
        }
    }
    Decoded::Ok(DecodedPackument {
        history,
        manifests,
        attested,
        signed,
    })
}

thread_local! {
    /// The pinned versions of the packument being decoded on this thread (see [`Version`]).
    static PINNED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// One entry of a packument's `versions`, read in the packument's single pass.
#[derive(Debug)]
enum Version<'a> {
    /// A pinned version: its raw text, decoded in full as a [`Manifest`] afterwards.
    Pinned(&'a RawValue),
    /// Any other: only what its trust level needs.
    Other(Summary<'a>),
}

impl<'de> wire::Keyed<'de> for Version<'de> {
    fn read<A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Self, A::Error> {
        if PINNED.with(|p| p.borrow().iter().any(|v| v == key)) {
            return map.next_value().map(Version::Pinned);
        }
        map.next_value().map(Version::Other)
    }
}

/// The raw `dist` and `_npmUser` of a version that is not pinned: what [`Manifest::level`]
/// reads. Anything but an object, or an object repeating one of the fields [`Manifest`]
/// decodes, is a manifest with nothing known, as for the full decoder.
#[derive(Debug, Default)]
struct Summary<'a> {
    dist: Option<&'a RawValue>,
    npm_user: Option<&'a RawValue>,
}

impl Summary<'_> {
    /// The manifest as far as the trust level and the signed and attested sets need it.
    fn manifest(&self) -> Manifest {
        Manifest {
            dist: self.dist.and_then(|r| serde_json::from_str(r.get()).ok()),
            npm_user: self
                .npm_user
                .and_then(|r| serde_json::from_str(r.get()).ok()),
            ..Manifest::default()
        }
    }
}

impl<'de> Deserialize<'de> for Summary<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SummaryVisitor)
    }
}

/// A manifest's top-level key, as far as [`Summary`] cares.
enum Field {
    Dist,
    NpmUser,
    Repository,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
                Ok(match key {
                    "dist" => Field::Dist,
                    "_npmUser" => Field::NpmUser,
                    "repository" => Field::Repository,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

struct SummaryVisitor;

impl<'de> Visitor<'de> for SummaryVisitor {
    type Value = Summary<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a version manifest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Summary<'de>, A::Error> {
        let mut summary = Summary::default();
        let (mut repository, mut repeated) = (false, false);
        while let Some(field) = map.next_key::<Field>()? {
            let slot = match field {
                Field::Dist => &mut summary.dist,
                Field::NpmUser => &mut summary.npm_user,
                Field::Repository => {
                    repeated |= std::mem::replace(&mut repository, true);
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            repeated |= slot.replace(map.next_value()?).is_some();
        }
        Ok(if repeated {
            Summary::default()
        } else {
            summary
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Summary<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Summary::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Summary<'de>, E> {
        Ok(Summary::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Summary<'de>, E> {
        Ok(Summary::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Summary<'de>, E> {
        Ok(Summary::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Summary<'de>, E> {
        Ok(Summary::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Summary<'de>, E> {
        Ok(Summary::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Summary<'de>, E> {
        Ok(Summary::default())
    }
}

/// The packument decoder as the scan runs it, for `benches/decode.rs`: how many releases and
/// pinned manifests it decoded, or why the body was refused.
#[doc(hidden)]
pub fn decode_for_bench(bytes: &[u8], wanted: &[String]) -> Result<(usize, usize), String> {
    match decode_packument(bytes, wanted) {
        Decoded::Ok(p) => Ok((p.history.len(), p.manifests.len())),
        Decoded::Malformed(m) => Err(m),
    }
}

/// Subset of a version manifest.
#[derive(Debug, Default, Deserialize)]
struct Manifest {
    #[serde(default, deserialize_with = "lenient")]
    dist: Option<Dist>,
    #[serde(rename = "_npmUser", default, deserialize_with = "lenient")]
    npm_user: Option<NpmUser>,
    #[serde(default, deserialize_with = "wire::small")]
    repository: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "wire::small")]
    deprecated: Option<serde_json::Value>,
}

impl Manifest {
    /// The declared repository: `repository` as a string, or its `url`.
    fn declared_repository(&self) -> Option<String> {
        match self.repository.as_ref()? {
            serde_json::Value::String(s) => Some(s.clone()),
            v => wire::str_at(v, &["url"]).map(str::to_string),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct Dist {
    #[serde(default, deserialize_with = "lenient")]
    integrity: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    shasum: Option<String>,
    #[serde(default, deserialize_with = "wire::small")]
    signatures: Option<Vec<serde_json::Value>>,
    #[serde(default, deserialize_with = "lenient")]
    attestations: Option<DistAttestations>,
}

#[derive(Debug, Default, Deserialize)]
struct DistAttestations {
    #[serde(default, deserialize_with = "lenient")]
    url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    provenance: Option<PredicateRef>,
}

#[derive(Debug, Default, Deserialize)]
struct PredicateRef {
    #[serde(rename = "predicateType", default, deserialize_with = "lenient")]
    predicate_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct NpmUser {
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(rename = "trustedPublisher", default, deserialize_with = "wire::small")]
    trusted_publisher: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "wire::small")]
    approver: Option<serde_json::Value>,
}

impl NpmUser {
    /// `_npmUser.approver` as a staged publish's approval: an object naming the approving user
    /// (`name`), or the user name as a string. Anything else (`null`, `false`, `{}`, `""`, a
    /// number) is no approval: a claim of nothing is not evidence.
    fn approval(&self) -> Option<Option<String>> {
        let named = |v: &serde_json::Value| {
            v.as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        match self.approver.as_ref()? {
            serde_json::Value::String(s) => {
                let s = s.trim();
                (!s.is_empty()).then(|| Some(s.to_string()))
            }
            serde_json::Value::Object(map) => {
                let name = map.get("name").and_then(named);
                let email = map.get("email").and_then(named);
                (name.is_some() || email.is_some()).then_some(name.or(email))
            }
            _ => None,
        }
    }
}

impl Manifest {
    /// `deprecated`: a non-empty message (npm un-deprecates with `""`), or `true` as some old
    /// registries wrote it.
    fn deprecation(&self) -> Option<Notice> {
        match self.deprecated.as_ref()? {
            serde_json::Value::String(m) if !m.trim().is_empty() => Some(Notice::with(Some(m))),
            serde_json::Value::Bool(true) => Some(Notice::with(None)),
            _ => None,
        }
    }

    fn signed(&self) -> bool {
        self.dist
            .as_ref()
            .and_then(|d| d.signatures.as_ref())
            .is_some_and(|s| !s.is_empty())
    }

    fn attested(&self) -> bool {
        self.dist.as_ref().is_some_and(|d| d.attestations.is_some())
    }

    /// The staged publish, when `_npmUser.approver` records an approval.
    fn staged(&self) -> Option<Staged> {
        let user = self.npm_user.as_ref()?;
        let approver = user.approval()?;
        Some(Staged {
            approver,
            provenance: self.attested(),
            trusted_publisher: user.trusted_publisher.is_some(),
        })
    }

    fn level(&self) -> TrustLevel {
        if self.staged().is_some() {
            return TrustLevel::Staged;
        }
        let attested = self.attested();
        let trusted = self
            .npm_user
            .as_ref()
            .is_some_and(|u| u.trusted_publisher.is_some());
        match (trusted, attested) {
            (true, true) => TrustLevel::TrustedPublisherProvenance,
            (true, false) => TrustLevel::TrustedPublisher,
            (false, true) => TrustLevel::Provenance,
            (false, false) => TrustLevel::None,
        }
    }
}

/// Look up every pinned version of one package name.
pub(crate) async fn lookup(ctx: &Ctx, pkgs: &[Package]) -> Vec<(PackageKey, Lookup)> {
    let Some(first) = pkgs.first() else {
        return Vec::new();
    };
    let registry = ctx.endpoints.npm.as_str();
    if !valid_name(&first.name) {
        return all_unknown(
            pkgs,
            "not a valid npm package name; the registry was not asked",
        );
    }
    if ctx.no_history {
        return futures::future::join_all(pkgs.iter().map(|p| lookup_version(ctx, registry, p)))
            .await
            .into_iter()
            .zip(pkgs)
            .map(|(lookup, p)| (p.key(), lookup))
            .collect();
    }
    let Some(url) = packument_url(&ctx.endpoints.npm, &first.name) else {
        return all_unknown(pkgs, "the package name cannot be put in a URL");
    };
    let token = ctx.endpoints.npm_token_for(&url);
    let wanted: Vec<String> = pkgs.iter().map(|p| p.version.clone()).collect();
    let fetched = ctx
        .http
        .get_json(&ctx.npm, &url, "application/json", token, move |b| {
            decode_packument(b, &wanted)
        })
        .await;
    ctx.trace_request(Ecosystem::Npm, &first.name, "packument", &url, &fetched);
    let DecodedPackument {
        history,
        manifests,
        attested,
        signed,
    } = match fetched {
        Ok(Some(p)) => p,
        Ok(None) => return all_unknown(pkgs, "the npm registry does not know this package (404)"),
        Err(e) => return all_unknown(pkgs, &failure_reason("the npm registry", &e)),
    };
    ctx.trace_history(Ecosystem::Npm, &first.name, &history);

    let mut out = Vec::with_capacity(pkgs.len());
    for pkg in pkgs {
        let lookup = match (
            manifests.get(&pkg.version),
            history.iter().find(|r| r.version == pkg.version),
        ) {
            (Some(manifest), Some(release)) => {
                let known = Known {
                    history: &history,
                    attested: &attested,
                    signed: &signed,
                };
                evaluate(ctx, registry, pkg, manifest, release, &known).await
            }
            _ => Lookup::Unknown {
                reason: format!("the npm registry does not list version {}", pkg.version),
            },
        };
        out.push((pkg.key(), lookup));
    }
    out
}

/// What the packument told about every release.
struct Known<'a> {
    history: &'a [Release],
    attested: &'a std::collections::BTreeSet<String>,
    signed: &'a std::collections::BTreeSet<String>,
}

/// The per-version document URL for a name and version (`--no-history`):
/// `@scope/name`, `1.0.0` → `{registry}@scope%2fname/1.0.0`. `None` for a version that is not a
/// semantic version (it could not be put in a path safely, and npm pins nothing else).
pub fn version_url(registry: &Url, name: &str, version: &str) -> Option<Url> {
    let version = super::no_history::url_version(version)?;
    let escaped = percent_encoding::utf8_percent_encode(name, NAME)
        .to_string()
        .replace("%2F", "%2f");
    registry.join(&format!("{escaped}/{version}")).ok()
}

/// A per-version document: the version's manifest, and the version it says it is.
fn decode_version(bytes: &[u8]) -> Decoded<(Manifest, Option<String>)> {
    #[derive(Deserialize)]
    struct Named {
        #[serde(default, deserialize_with = "lenient")]
        version: Option<String>,
    }
    match (wire::json::<Manifest>(bytes), wire::json::<Named>(bytes)) {
        (Decoded::Ok(manifest), Decoded::Ok(named)) => Decoded::Ok((manifest, named.version)),
        (Decoded::Malformed(m), _) | (_, Decoded::Malformed(m)) => Decoded::Malformed(m),
    }
}

/// `--no-history`: one pinned version from its own document, no packument. What the history
/// would have judged is marked unchecked ([`super::no_history`]).
async fn lookup_version(ctx: &Ctx, registry: &str, pkg: &Package) -> Lookup {
    let Some(url) = version_url(&ctx.endpoints.npm, &pkg.name, &pkg.version) else {
        return Lookup::Unknown {
            reason: format!(
                "--no-history: version `{}` is not a semantic version, so its document was not \
                 asked for",
                pkg.version
            ),
        };
    };
    let token = ctx.endpoints.npm_token_for(&url);
    let fetched = ctx
        .http
        .get_json(&ctx.npm, &url, "application/json", token, decode_version)
        .await;
    ctx.trace_request(
        Ecosystem::Npm,
        &pkg.name,
        "version document",
        &url,
        &fetched,
    );
    let manifest = match fetched {
        Ok(Some((manifest, Some(v)))) if v == pkg.version => manifest,
        Ok(Some((_, other))) => {
            return Lookup::Unknown {
                reason: format!(
                    "the npm registry's document for {}@{} names version {}; not used",
                    pkg.name,
                    pkg.version,
                    other.as_deref().unwrap_or("none")
                ),
            };
        }
        Ok(None) => {
            return Lookup::Unknown {
                reason: format!(
                    "the npm registry does not list version {} (404)",
                    pkg.version
                ),
            };
        }
        Err(e) => {
            return Lookup::Unknown {
                reason: failure_reason("the npm registry", &e),
            };
        }
    };
    let release = Release {
        key: VersionKey::semver(&pkg.version),
        published: None,
        level: manifest.level(),
        version: pkg.version.clone(),
    };
    // Only this version is known: whether the registry signs or attests its other versions
    // (`missing-signature`, `adopted-elsewhere`) cannot be told, so neither is claimed.
    let this = std::collections::BTreeSet::from([pkg.version.clone()]);
    let none = std::collections::BTreeSet::new();
    let known = Known {
        history: std::slice::from_ref(&release),
        attested: if manifest.attested() { &this } else { &none },
        signed: if manifest.signed() { &this } else { &none },
    };
    let mut lookup = evaluate(ctx, registry, pkg, &manifest, &release, &known).await;
    if let Lookup::Answered(evidence) = &mut lookup {
        super::no_history::mark(evidence, Ecosystem::Npm);
    }
    lookup
}

async fn evaluate(
    ctx: &Ctx,
    registry: &str,
    pkg: &Package,
    manifest: &Manifest,
    release: &Release,
    known: &Known<'_>,
) -> Lookup {
    let (history, attested) = (known.history, known.attested);
    let dist = manifest.dist.as_ref();
    // The registry signs other versions of this package: it does expose signatures, and this
    // version has none (npm's own check calls that a missing signature).
    let missing_signature = !manifest.signed() && !known.signed.is_empty();
    let exposes = dist.is_some_and(|d| d.signatures.is_some() || d.attestations.is_some())
        || missing_signature;
    if !exposes {
        return Lookup::Unknown {
            reason:
                "the npm registry at this URL does not expose provenance (no dist.signatures or \
                     dist.attestations; a mirror or private registry that strips them)"
                    .into(),
        };
    }
    let mut evidence = Evidence::new(registry, release.level);
    evidence.published = release.published.map(|t| t.to_string());
    evidence.staged = manifest.staged();
    evidence.missing_signature = missing_signature;
    evidence.deprecated = manifest.deprecation();
    if let Some(pt) = dist
        .and_then(|d| d.attestations.as_ref())
        .and_then(|a| a.provenance.as_ref())
        .and_then(|p| p.predicate_type.clone())
    {
        evidence.predicate_types.push(pt);
    }
    if let Some(tp) = manifest
        .npm_user
        .as_ref()
        .and_then(|u| u.trusted_publisher.as_ref())
    {
        let provider = tp
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string();
        evidence.publisher = Some(Publisher {
            provider,
            ..Publisher::default()
        });
    } else if let Some(user) = manifest.npm_user.as_ref().and_then(|u| u.name.clone()) {
        evidence.publisher = Some(Publisher {
            provider: "npm-user".into(),
            identity: Some(user),
            ..Publisher::default()
        });
    }
    evidence.integrity_mismatch =
        dist.and_then(|d| integrity_mismatch(pkg.integrity.sri.as_deref(), d));
    evidence.material.npm_integrity = dist.and_then(|d| d.integrity.clone());
    evidence.material.npm_signatures = dist.and_then(|d| d.signatures.clone()).unwrap_or_default();
    evidence.material.npm_trusted_publisher = manifest
        .npm_user
        .as_ref()
        .and_then(|u| u.trusted_publisher.clone())
        .map(serde_json::Value::Object);
    evidence.material.declared_repository = manifest.declared_repository();
    evidence.adopted_elsewhere = history::adopted_elsewhere(history, release);
    match history::check(history, release) {
        DowngradeCheck::Clear => {}
        DowngradeCheck::Downgraded(d) => evidence.downgrade = Some(d),
        DowngradeCheck::Unchecked(why) => evidence.downgrade_unchecked = Some(why),
    }
    if ctx.fetch_identity
        && let Some(att) = dist.and_then(|d| d.attestations.as_ref())
    {
        evidence.material.npm_advertised = att
            .provenance
            .as_ref()
            .and_then(|p| p.predicate_type.clone());
        match fetch_identity(ctx, pkg, att).await {
            Ok((publisher, predicate_types, items)) => {
                evidence.material.npm_attestations = Some(items);
                if let Some(publisher) = publisher {
                    let provider = evidence.publisher.as_ref().map(|p| p.provider.clone());
                    evidence.publisher = Some(Publisher {
                        provider: provider
                            .filter(|p| p != "npm-user")
                            .unwrap_or(publisher.provider.clone()),
                        ..publisher
                    });
                }
                for pt in predicate_types {
                    if !evidence.predicate_types.contains(&pt) {
                        evidence.predicate_types.push(pt);
                    }
                }
            }
            Err(fault) => {
                // Recorded for the verification stage: `unknown` or `invalid`, never `attested`.
                evidence.material.fault = Some(fault);
                evidence.incomplete = true;
            }
        }
        match earlier_publisher_change(ctx, pkg, release, history, attested, &evidence).await {
            Ok(change) => evidence.publisher_change = change,
            Err(()) => evidence.incomplete = true,
        }
    }
    Lookup::Answered(Box::new(evidence))
}

/// With the pinned version's pipeline known, read the publisher of the most recent release
/// published before it with a provenance attestation (one more request) and compare.
async fn earlier_publisher_change(
    ctx: &Ctx,
    pkg: &Package,
    release: &Release,
    history: &[Release],
    attested: &std::collections::BTreeSet<String>,
    evidence: &Evidence,
) -> Result<Option<PublisherChange>, ()> {
    let Some(published) = release.published else {
        return Ok(None);
    };
    if evidence
        .publisher
        .as_ref()
        .and_then(Publisher::pipeline)
        .is_none()
    {
        return Ok(None);
    }
    let Some(earlier) = history
        .iter()
        .filter(|r| r.published.is_some_and(|t| t < published))
        // Any rung with a provenance attestation names its pipeline (staged ones included).
        .filter(|r| attested.contains(&r.version))
        .max_by_key(|r| r.published)
    else {
        return Ok(None);
    };
    let earlier_pkg = Package {
        version: earlier.version.clone(),
        ..pkg.clone()
    };
    // A failed fetch is not "no change": the answer is then not cached, and asked again.
    let (fetched, _, _) = fetch_identity(ctx, &earlier_pkg, &DistAttestations::default())
        .await
        .map_err(|_| ())?;
    let Some(before) = fetched else {
        return Ok(None);
    };
    Ok(publisher_change(
        evidence.publisher.as_ref(),
        Some((earlier.version.as_str(), &before)),
    ))
}

/// Compare the lockfile's SRI with the registry's `dist.integrity` (and `shasum` for sha1).
fn integrity_mismatch(lock: Option<&str>, dist: &Dist) -> Option<IntegrityMismatch> {
    let lock = lock?;
    let registry_sri = dist.integrity.clone().or_else(|| {
        let hex = dist.shasum.as_deref()?;
        let bytes = hex_decode(hex)?;
        Some(format!(
            "sha1-{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    })?;
    let parse = |sri: &str| -> BTreeMap<String, String> {
        sri.split_whitespace()
            .filter_map(|h| h.split_once('-'))
            .map(|(alg, digest)| {
                (
                    alg.to_ascii_lowercase(),
                    digest.split('?').next().unwrap_or(digest).to_string(),
                )
            })
            .collect()
    };
    let mut theirs = parse(&registry_sri);
    if let Some(bytes) = dist.shasum.as_deref().and_then(hex_decode) {
        theirs
            .entry("sha1".into())
            .or_insert_with(|| base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let ours = parse(lock);
    let differs = ours
        .iter()
        .any(|(alg, d)| theirs.get(alg).is_some_and(|t| t != d));
    differs.then(|| IntegrityMismatch {
        lockfile: lock.to_string(),
        registry: registry_sri,
    })
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The attestations URL for a version, re-based on the configured registry.
pub fn attestations_url(
    registry: &Url,
    name: &str,
    version: &str,
    advertised: Option<&str>,
) -> Option<Url> {
    const MARK: &str = "/-/npm/v1/attestations/";
    // The URL parser drops tabs and newlines anywhere in a URL (`.\t.` is `..`): drop them
    // before looking at the text, and judge the result by the parsed, normalised URL.
    let advertised = advertised.map(super::http::strip_url_whitespace);
    let from_advertised = advertised
        .as_deref()
        .and_then(|u| u.find(MARK).map(|i| u[i + MARK.len()..].to_string()))
        .filter(|t| {
            let lower = t.to_ascii_lowercase();
            !t.is_empty()
                && !t.contains("..")
                && !lower.contains("%2e")
                && !t.contains('#')
                && !t.contains('?')
        })
        .and_then(|tail| super::http::join_under(registry, "-/npm/v1/attestations/", &tail));
    from_advertised.or_else(|| {
        let escaped = percent_encoding::utf8_percent_encode(name, NAME)
            .to_string()
            .replace("%2F", "%2f");
        let tail = format!(
            "{escaped}@{}",
            percent_encoding::utf8_percent_encode(version, NAME)
        );
        super::http::join_under(registry, "-/npm/v1/attestations/", &tail)
    })
}

/// The items of an attestations response (`{"attestations": [...]}`); anything else is not
/// the documented shape. Each item is checked by the verification stage.
pub fn attestation_items(doc: serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
    match doc {
        serde_json::Value::Object(mut map) => match map.remove("attestations") {
            Some(serde_json::Value::Array(items)) => Ok(items),
            _ => Err("the npm registry's attestations response has no list of attestations".into()),
        },
        _ => Err("the npm registry's attestations response is not a JSON object".into()),
    }
}

/// What the attestations endpoint gave: the builder (from the SLSA provenance), the predicate
/// types, and the raw items for the verification stage.
type Fetched = (Option<Publisher>, Vec<String>, Vec<serde_json::Value>);

/// Fetch the version's attestations and read the builder's identity from the SLSA provenance.
/// A failure is a [`MaterialFault`]: the verification stage makes the package `unknown` (the
/// bytes could not be had, or the advertised URL is not on the registry's origin) or `invalid`
/// (the bytes are wrong).
async fn fetch_identity(
    ctx: &Ctx,
    pkg: &Package,
    att: &DistAttestations,
) -> Result<Fetched, MaterialFault> {
    if let Some(advertised) = att.url.as_deref() {
        same_origin(&ctx.endpoints.npm, &ctx.endpoints.npm, advertised).map_err(|why| {
            MaterialFault::Unavailable(format!(
                "the npm registry advertises this version's attestations at {why}; they were \
                 not fetched"
            ))
        })?;
    }
    let Some(url) = attestations_url(
        &ctx.endpoints.npm,
        &pkg.name,
        &pkg.version,
        att.url.as_deref(),
    ) else {
        return Err(MaterialFault::Unavailable(
            "the attestations URL for this version cannot be built; they were not fetched".into(),
        ));
    };
    let token = ctx.endpoints.npm_token_for(&url);
    let watch = BodyWatch::default();
    let fetched = ctx
        .http
        .get_attestation(
            &ctx.npm,
            &url,
            "application/json",
            token,
            watch.decoder(wire::json::<serde_json::Value>),
        )
        .await;
    ctx.trace_request(Ecosystem::Npm, &pkg.name, "attestations", &url, &fetched);
    let doc = match fetched {
        // Kept for the verification stage until the end of the run: charged to that budget.
        Ok(Some(doc)) if !ctx.http.retain(wire::weight(&doc)) => {
            return Err(MaterialFault::Unavailable(failure_reason(
                "the npm registry's attestations endpoint",
                &ctx.http.over_retained(&url),
            )));
        }
        Ok(Some(doc)) => doc,
        Ok(None) => {
            return Err(MaterialFault::Unavailable(
                "the npm registry advertises attestations for this version, but its \
                 attestations endpoint has none (HTTP 404/410: not found)"
                    .into(),
            ));
        }
        Err(e) => return Err(watch.fault("the npm registry's attestations endpoint", &e)),
    };
    let items = attestation_items(doc).map_err(MaterialFault::Malformed)?;
    let mut types = Vec::new();
    let mut publisher = None;
    for item in &items {
        if let Some(pt) = item.get("predicateType").and_then(|v| v.as_str()) {
            types.push(pt.to_string());
        }
        let Some(payload) = wire::str_at(item, &["bundle", "dsseEnvelope", "payload"]) else {
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(payload) else {
            continue;
        };
        let Ok(statement) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        if let Some(p) = slsa_publisher(&statement) {
            publisher = Some(p);
        }
    }
    Ok((publisher, types, items))
}

/// Fetch the registry's signing keys (`/-/npm/v1/keys`), once per run.
pub(crate) async fn fetch_keys(ctx: std::sync::Arc<Ctx>) -> NpmKeys {
    let Ok(url) = ctx.endpoints.npm.join("-/npm/v1/keys") else {
        return NpmKeys::Unavailable("the keys URL cannot be built".into());
    };
    let token = ctx.endpoints.npm_token_for(&url);
    match ctx
        .http
        .get_attestation(
            &ctx.npm,
            &url,
            "application/json",
            token,
            wire::json::<serde_json::Value>,
        )
        .await
    {
        Ok(Some(doc)) => NpmKeys::Served(doc),
        Ok(None) => NpmKeys::Unavailable("the npm registry serves no signing keys (404)".into()),
        Err(e) => NpmKeys::Unavailable(failure_reason("the npm registry's keys endpoint", &e)),
    }
}

/// The builder's identity from an in-toto statement with a SLSA provenance predicate
/// (v0.2 as npm wrote it in 2023, v1 since).
pub fn slsa_publisher(statement: &serde_json::Value) -> Option<Publisher> {
    let predicate_type = wire::str_at(statement, &["predicateType"])?;
    let pred = statement.get("predicate")?;
    if predicate_type.starts_with("https://slsa.dev/provenance/v1") {
        let wf = pred.pointer("/buildDefinition/externalParameters/workflow");
        let repo_url = wf.and_then(|w| wire::str_at(w, &["repository"]));
        let (provider, repository) = split_forge(repo_url?);
        let commit = pred
            .pointer("/buildDefinition/resolvedDependencies/0/digest/gitCommit")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        return Some(Publisher {
            provider,
            repository: Some(repository),
            workflow: wf
                .and_then(|w| wire::str_at(w, &["path"]))
                .map(str::to_string),
            git_ref: wf
                .and_then(|w| wire::str_at(w, &["ref"]))
                .map(str::to_string),
            commit,
            run: pred
                .pointer("/runDetails/metadata/invocationId")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            ..Publisher::default()
        });
    }
    if predicate_type.starts_with("https://slsa.dev/provenance/v0.2") {
        let source = pred.pointer("/invocation/configSource")?;
        let uri = wire::str_at(source, &["uri"])?;
        let uri = uri.strip_prefix("git+").unwrap_or(uri);
        let (repo_url, git_ref) = match uri.rsplit_once('@') {
            Some((u, r)) if r.starts_with("refs/") => (u, Some(r.to_string())),
            _ => (uri, None),
        };
        let (provider, repository) = split_forge(repo_url);
        let entry = wire::str_at(source, &["entryPoint"]);
        let workflow = entry.map(|e| {
            let e = e.split('@').next().unwrap_or(e);
            e.strip_prefix(&format!("{repository}/"))
                .unwrap_or(e)
                .to_string()
        });
        let env = pred.pointer("/invocation/environment");
        let run = env.and_then(|e| {
            let server = wire::str_at(e, &["GITHUB_SERVER_URL"]).unwrap_or("https://github.com");
            let id = wire::str_at(e, &["GITHUB_RUN_ID"])?;
            let attempt = wire::str_at(e, &["GITHUB_RUN_ATTEMPT"]).unwrap_or("1");
            Some(format!(
                "{server}/{repository}/actions/runs/{id}/attempts/{attempt}"
            ))
        });
        return Some(Publisher {
            provider,
            repository: Some(repository),
            workflow,
            git_ref,
            commit: wire::str_at(source, &["digest", "sha1"]).map(str::to_string),
            run,
            ..Publisher::default()
        });
    }
    None
}

/// `https://github.com/owner/repo` → (`github`, `owner/repo`).
fn split_forge(url: &str) -> (String, String) {
    let trimmed = url.trim_end_matches('/').trim_end_matches(".git");
    for (host, provider) in [
        ("https://github.com/", "github"),
        ("https://gitlab.com/", "gitlab"),
    ] {
        if let Some(rest) = trimmed.strip_prefix(host) {
            return (provider.to_string(), rest.to_string());
        }
    }
    ("other".to_string(), trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every release's level is the same whether its version is pinned (decoded in full) or
    /// not (summarised in the packument's single pass), whatever shape its manifest has.
    #[test]
    fn summarised_and_full_levels_agree() {
        let att = r#"{"url": "/a", "provenance": {"predicateType": "p"}}"#;
        let tp = r#"{"id": "github"}"#;
        let manifests = [
            format!(
                r#"{{"dist": {{"attestations": {att}}}, "_npmUser": {{"name": "u", "trustedPublisher": {tp}}}}}"#
            ),
            format!(r#"{{"dist": {{"attestations": {att}}}}}"#),
            format!(r#"{{"_npmUser": {{"trustedPublisher": {tp}}}, "x": [1, {{"dist": 2}}]}}"#),
            format!(r#"{{"d\u0069st": {{"attestations": {att}}}}}"#),
            format!(r#"{{"dist": {{"attestations": {att}}}, "dist": {{}}}}"#),
            format!(r#"{{"dist": {{"attestations": {att}}}, "repository": 1, "repository": 2}}"#),
            r#"{"dist": {"attestations": "yes"}, "_npmUser": {"trustedPublisher": [1]}}"#
                .to_string(),
            r#"{"dist": {"attestations": null, "integrity": 5}, "_npmUser": "u"}"#.to_string(),
            r#"{"dist": [1, 2], "_npmUser": null}"#.to_string(),
            "null".to_string(),
            "\"1.0.0\"".to_string(),
            "7".to_string(),
            format!(
                r#"{{"_npmUser": {{"trustedPublisher": {{"id": "{}"}}}}}}"#,
                "x".repeat(wire::FIELD_LIMIT)
            ),
        ];
        for m in &manifests {
            let body = format!(r#"{{"versions": {{"1.0.0": {m}, "2.0.0": {m}}}}}"#);
            let Decoded::Ok(p) = decode_packument(body.as_bytes(), &["2.0.0".into()]) else {
                panic!("{m}: refused");
            };
            let levels: Vec<_> = p.history.iter().map(|r| r.level).collect();
            assert_eq!(levels[0], levels[1], "{m}");
            assert_eq!(p.manifests.len(), 1, "{m}");
        }
        // The shapes above do reach every level.
        let level = |m: &str| {
            let body = format!(r#"{{"versions": {{"1.0.0": {m}}}}}"#);
            let Decoded::Ok(p) = decode_packument(body.as_bytes(), &[]) else {
                panic!()
            };
            p.history[0].level
        };
        assert_eq!(level(&manifests[0]), TrustLevel::TrustedPublisherProvenance);
        assert_eq!(level(&manifests[1]), TrustLevel::Provenance);
        assert_eq!(level(&manifests[2]), TrustLevel::TrustedPublisher);
        assert_eq!(level(&manifests[3]), TrustLevel::Provenance, "escaped key");
        assert_eq!(level(&manifests[4]), TrustLevel::None, "repeated field");
        // Versions as a list, or of no usable type: no releases, not a refused body.
        for versions in ["[1, 2]", "3", "null"] {
            let body = format!(r#"{{"versions": {versions}}}"#);
            let Decoded::Ok(p) = decode_packument(body.as_bytes(), &[]) else {
                panic!()
            };
            assert!(p.history.is_empty());
        }
    }

    #[test]
    fn names_that_could_climb_out_of_the_registry_path_are_refused() {
        for ok in ["left-pad", "@scope/pkg", "a.b", "..a"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "@scope/..", "a/b", "@s/a/b", "@/x", "../x"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn urls_escape_scopes_like_npm() {
        let reg = Url::parse("http://127.0.0.1:1/npm/").unwrap();
        assert_eq!(
            packument_url(&reg, "@scope/pkg").unwrap().as_str(),
            "http://127.0.0.1:1/npm/@scope%2fpkg"
        );
        assert_eq!(
            packument_url(&reg, "left-pad").unwrap().as_str(),
            "http://127.0.0.1:1/npm/left-pad"
        );
        assert_eq!(
            packument_url(&reg, "../etc/passwd").unwrap().as_str(),
            "http://127.0.0.1:1/npm/..%2fetc%2fpasswd"
        );
    }

    #[test]
    fn attestations_url_is_rebased_on_the_configured_registry() {
        let reg = Url::parse("http://127.0.0.1:1/").unwrap();
        let u = attestations_url(
            &reg,
            "@s/p",
            "1.0.0",
            Some("https://elsewhere.example/-/npm/v1/attestations/@s%2fp@1.0.0"),
        );
        assert_eq!(
            u.unwrap().as_str(),
            "http://127.0.0.1:1/-/npm/v1/attestations/@s%2fp@1.0.0"
        );
        let u = attestations_url(&reg, "@s/p", "1.0.0", None);
        assert_eq!(
            u.unwrap().as_str(),
            "http://127.0.0.1:1/-/npm/v1/attestations/@s%2fp@1.0.0"
        );
        let u = attestations_url(
            &reg,
            "p",
            "1.0.0",
            Some("https://evil.example/-/npm/v1/attestations/../../x"),
        );
        assert_eq!(
            u.unwrap().as_str(),
            "http://127.0.0.1:1/-/npm/v1/attestations/p@1.0.0"
        );
    }

    #[test]
    fn dot_segments_hiding_tabs_or_newlines_never_leave_the_base_path() {
        let reg = Url::parse("http://127.0.0.1:1/npm/").unwrap();
        for hidden in [
            ".\t./.\t./.\t./.\t./x",
            ".\n./.\n./secret",
            ".\r\n./.\t./admin",
            "%2e\t%2e/%2E%2e/x",
            "p@1.0.0/.\t./.\t./.\t./x",
        ] {
            let advertised = format!("https://r.example/npm/-/npm/v1/attestations/{hidden}");
            let u = attestations_url(&reg, "p", "1.0.0", Some(&advertised)).unwrap();
            assert!(
                u.path().starts_with("/npm/-/npm/v1/attestations/"),
                "{hidden:?} -> {u}"
            );
            assert_eq!(
                u.as_str(),
                "http://127.0.0.1:1/npm/-/npm/v1/attestations/p@1.0.0"
            );
        }
        // A version that would climb out is encoded, never resolved.
        let u = attestations_url(&reg, "p", "../../x", None).unwrap();
        assert!(u.path().starts_with("/npm/-/npm/v1/attestations/"), "{u}");
    }

    #[test]
    fn integrity_comparison() {
        let dist = Dist {
            integrity: Some("sha512-AAA".into()),
            ..Dist::default()
        };
        assert!(integrity_mismatch(Some("sha512-AAA"), &dist).is_none());
        assert!(integrity_mismatch(Some("sha512-BBB"), &dist).is_some());
        assert!(
            integrity_mismatch(Some("sha1-CCC"), &dist).is_none(),
            "no common algorithm: nothing to compare"
        );
        let dist = Dist {
            shasum: Some("00ff".into()),
            integrity: Some("sha512-AAA".into()),
            ..Dist::default()
        };
        assert!(integrity_mismatch(Some("sha1-AP8="), &dist).is_none());
        assert!(integrity_mismatch(Some("sha1-AAA="), &dist).is_some());
    }

    #[test]
    fn slsa_v1_and_v02_identities() {
        let v1 = serde_json::json!({
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "externalParameters": {"workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/o/r", "path": ".github/workflows/p.yml"}},
                    "resolvedDependencies": [{"digest": {"gitCommit": "abc"}}]
                },
                "runDetails": {"metadata": {"invocationId": "https://github.com/o/r/actions/runs/1/attempts/1"}}
            }
        });
        let p = slsa_publisher(&v1).unwrap();
        assert_eq!(
            (p.provider.as_str(), p.repository.as_deref()),
            ("github", Some("o/r"))
        );
        assert_eq!(p.workflow.as_deref(), Some(".github/workflows/p.yml"));
        assert_eq!(p.commit.as_deref(), Some("abc"));
        let v02 = serde_json::json!({
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "predicate": {"invocation": {
                "configSource": {"uri": "git+https://github.com/o/r@refs/tags/v1", "digest": {"sha1": "def"}, "entryPoint": "o/r/.github/workflows/publish.yml@refs/tags/v1"},
                "environment": {"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2"}
            }}
        });
        let p = slsa_publisher(&v02).unwrap();
        assert_eq!(p.repository.as_deref(), Some("o/r"));
        assert_eq!(p.workflow.as_deref(), Some(".github/workflows/publish.yml"));
        assert_eq!(p.git_ref.as_deref(), Some("refs/tags/v1"));
        assert_eq!(
            p.run.as_deref(),
            Some("https://github.com/o/r/actions/runs/42/attempts/2")
        );
        assert!(
            slsa_publisher(&serde_json::json!({"predicateType": "x", "predicate": {}})).is_none()
        );
    }
}
