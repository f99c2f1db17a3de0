//! Routing: which registry each package is asked of, or why it is asked of none.
//!
//! A lockfile records where a package was resolved from (npm `resolved`, an index URL in
//! requirements.txt / uv.lock / poetry.lock / Pipfile.lock / pylock.toml, a Cargo.lock
//! alternative registry). The rules, in order:
//!
//! 1. An npm package whose scope has an `@scope:registry=` route goes to that registry.
//! 2. A package resolved from the public registry (or with no recorded source) goes to the
//!    configured registry: a mirror of public packages is the common case.
//! 3. A package resolved from the configured registry's host, or from the host of a configured
//!    scope registry, goes to that registry.
//! 4. A package resolved from any other host is never sent to the public registry: when the
//!    configured registry is the public one, it is withheld ("resolved from HOST; not asked of
//!    the public registry") unless `--allow-source HOST` says that host mirrors public packages.
//!    When the user configured another registry, it goes there.
//!
//! So no private name leaks to a public registry and no public package is judged in a private
//! one's place. Everything here is pure: it reads [`Endpoints`] and the package, nothing else.

use std::collections::BTreeMap;

use url::Url;

use super::endpoints::{Endpoints, host_key};
use crate::endpoints as public;
use crate::model::{Ecosystem, Package, PackageKey, Source};

use super::Lookup;

/// Where one package goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Ask this registry base (npm registry, PyPI simple index, or crates API base).
    Ask(Url),
    /// Ask the public registry (the upstream) for provenance (`--provenance-from upstream`):
    /// its answer counts only when bound to the lockfile's digest ([`super::binding`]).
    Upstream(Url),
    /// Ask these PyPI indexes in order, the next only when one does not know the project
    /// (404), then `upstream` if given (its answer bound to the lockfile's digest): a package
    /// without a recorded index while extra indexes are configured may come from any of them.
    /// Indexes that are not public come first, so a name reaches a public index only after
    /// every private one said it does not know it.
    FirstOf {
        /// The indexes, in the order asked.
        indexes: Vec<Url>,
        /// The public registry, asked last (`--provenance-from upstream`).
        upstream: Option<Url>,
    },
    /// Ask nobody: the lockfile resolved it from `host`, which is not the public registry, and
    /// the registry configured for it is the public one.
    Withheld {
        /// `host[:port]` of the recorded source (or a description when it has none).
        host: String,
    },
}

/// The route of one package (a registry-pinned one; other sources are never asked).
pub fn route(endpoints: &Endpoints, package: &Package) -> Route {
    route_for(
        endpoints,
        package.ecosystem,
        &package.name,
        match &package.source {
            Source::Registry { url } => url.as_deref(),
            _ => None,
        },
    )
}

/// [`route`] on its parts: ecosystem, name, and the source URL the lockfile recorded.
///
/// With `--provenance-from upstream` for the ecosystem, a package goes to the upstream unless
/// it is private: its npm scope is routed to a registry, its name matches a provscan.toml
/// `private` pattern, or its lockfile source is a host that is neither the public registry,
/// the configured registry (the mirror) nor an `--allow-source` host.
pub fn route_for(
    endpoints: &Endpoints,
    ecosystem: Ecosystem,
    name: &str,
    source: Option<&str>,
) -> Route {
    let install = install_route(endpoints, ecosystem, name, source);
    if !endpoints.provenance_from.upstream(ecosystem) {
        return install;
    }
    let upstream = match ecosystem {
        Ecosystem::Npm => &endpoints.upstream.npm,
        Ecosystem::Pypi => &endpoints.upstream.pypi,
        Ecosystem::Crates => &endpoints.upstream.crates,
    };
    let named_private = endpoints
        .private
        .iter()
        .any(|p| private_match(p, ecosystem, name));
    if let Route::FirstOf { indexes, .. } = &install {
        if named_private {
            return install;
        }
        // The extra indexes that are not public first (the package may be theirs), then the
        // public registry in place of the default index (the mirror).
        let indexes: Vec<Url> = indexes
            .iter()
            .filter(|u| **u != endpoints.pypi && !is_public_url(endpoints, ecosystem, u))
            .cloned()
            .collect();
        return Route::FirstOf {
            indexes,
            upstream: Some(upstream.clone()),
        };
    }
    let Route::Ask(asked) = &install else {
        return install;
    };
    // A package routed to an extra index lives there: private unless that index is public or
    // an --allow-source host.
    let other_index = ecosystem == Ecosystem::Pypi
        && *asked != endpoints.pypi
        && !is_public_url(endpoints, ecosystem, asked)
        && !host_key(asked).is_some_and(|h| endpoints.allow_sources.contains(&h));
    let scoped = ecosystem == Ecosystem::Npm
        && name
            .split_once('/')
            .is_some_and(|(scope, _)| endpoints.npm_scope(scope).is_some());
    let source_private = source.is_some_and(|raw| match parse_source(raw) {
        None => true,
        Some((url, host)) => {
            !is_public(endpoints, ecosystem, &url, &host)
                && host_key(configured(endpoints, ecosystem)).as_deref() != Some(host.as_str())
                && !endpoints.allow_sources.contains(&host)
        }
    });
    // A crate from one of cargo's `[registries]` is that registry's, whatever host serves the
    // API: Cargo.lock never records a crates.io mirror, only alternative registries.
    let cargo_registry = ecosystem == Ecosystem::Crates
        && source
            .and_then(super::endpoints::cargo::index_host)
            .is_some_and(|h| {
                endpoints
                    .crates_registries
                    .iter()
                    .any(|r| super::endpoints::cargo::index_host(&r.index).as_deref() == Some(&h))
            });
    // An npm package the lockfile resolved from a scope registry's path (on the mirror's host,
    // as Artifactory and Nexus lay them out) belongs to that registry.
    let scope_source = ecosystem == Ecosystem::Npm
        && *asked != endpoints.npm
        && endpoints.npm_scopes.iter().any(|s| s.url == *asked);
    if scoped || named_private || source_private || other_index || cargo_registry || scope_source {
        return install;
    }
    if install == Route::Ask(upstream.clone()) {
        // The install registry is the upstream itself: its answer is about what was installed.
        return install;
    }
    Route::Upstream(upstream.clone())
}

/// A provscan.toml `private` pattern against a name: `*` matches any run of characters, the
/// rest compares case-insensitively (PyPI names after PEP 503 normalisation).
pub fn private_match(pattern: &str, ecosystem: Ecosystem, name: &str) -> bool {
    let norm = |s: &str| match ecosystem {
        Ecosystem::Pypi => crate::model::pep503_normalize(s),
        _ => s.to_ascii_lowercase(),
    };
    let name = norm(name);
    let parts: Vec<String> = pattern.trim().split('*').map(norm).collect();
    let (first, rest) = parts
        .split_first()
        .map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
    let Some(mut tail) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part.as_str()) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last.as_str())
}

/// The install registry's route (no upstream).
fn install_route(
    endpoints: &Endpoints,
    ecosystem: Ecosystem,
    name: &str,
    source: Option<&str>,
) -> Route {
    if ecosystem == Ecosystem::Npm
        && let Some((scope, _)) = name.split_once('/')
        && let Some(routed) = endpoints.npm_scope(scope)
    {
        return Route::Ask(routed.url.clone());
    }
    if ecosystem == Ecosystem::Pypi && !endpoints.pypi_extra.is_empty() {
        return pypi_route(endpoints, source);
    }
    let configured = configured(endpoints, ecosystem);
    let Some(raw) = source else {
        return Route::Ask(configured.clone());
    };
    let Some((url, host)) = parse_source(raw) else {
        return withheld_or(endpoints, ecosystem, "an unreadable source URL".into());
    };
    if is_public(endpoints, ecosystem, &url, &host) {
        return Route::Ask(configured.clone());
    }
    if host_key(configured).as_deref() == Some(host.as_str()) {
        return Route::Ask(configured.clone());
    }
    if ecosystem == Ecosystem::Npm {
        // The scope registry on that host whose path the source lies under, else any on it.
        let on_host = endpoints
            .npm_scopes
            .iter()
            .filter(|s| host_key(&s.url).as_deref() == Some(host.as_str()));
        let under = on_host
            .clone()
            .filter(|s| url.path().starts_with(s.url.path()))
            .max_by_key(|s| s.url.path().len());
        if let Some(scope) = under.or_else(|| on_host.clone().next()) {
            return Route::Ask(scope.url.clone());
        }
    }
    withheld_or(endpoints, ecosystem, host)
}

/// A PyPI package's route when extra indexes are configured: the index its recorded source
/// lies under (the longest), else the default index for a public source, else an index on the
/// source's host, else withheld as any other host. Without a recorded source, every index in
/// turn, those that are not public first.
fn pypi_route(endpoints: &Endpoints, source: Option<&str>) -> Route {
    let eco = Ecosystem::Pypi;
    let indexes: Vec<&Url> = std::iter::once(&endpoints.pypi)
        .chain(endpoints.pypi_extra.iter().map(|i| &i.url))
        .collect();
    let Some(raw) = source else {
        let (mut private, public): (Vec<&Url>, Vec<&Url>) = indexes
            .iter()
            .partition(|u| !is_public_url(endpoints, eco, u));
        private.extend(public);
        let mut ordered: Vec<Url> = Vec::new();
        for u in private {
            if !ordered.contains(u) {
                ordered.push(u.clone());
            }
        }
        return match ordered.len() {
            1 => Route::Ask(ordered.remove(0)),
            _ => Route::FirstOf {
                indexes: ordered,
                upstream: None,
            },
        };
    };
    let Some((url, host)) = parse_source(raw) else {
        return withheld_or(endpoints, eco, "an unreadable source URL".into());
    };
    let mut path = url.path().to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    let under = indexes
        .iter()
        .filter(|i| {
            i.scheme() == url.scheme()
                && host_key(i).as_deref() == Some(host.as_str())
                && path.starts_with(i.path())
        })
        .max_by_key(|i| i.path().len());
    if let Some(index) = under {
        return Route::Ask((*index).clone());
    }
    if is_public(endpoints, eco, &url, &host) {
        return Route::Ask(endpoints.pypi.clone());
    }
    if let Some(index) = indexes
        .iter()
        .find(|i| host_key(i).as_deref() == Some(host.as_str()))
    {
        return Route::Ask((*index).clone());
    }
    withheld_or(endpoints, eco, host)
}

/// True when a configured URL is the ecosystem's public registry.
fn is_public_url(endpoints: &Endpoints, ecosystem: Ecosystem, url: &Url) -> bool {
    host_key(url).is_some_and(|h| is_public(endpoints, ecosystem, url, &h))
}

impl Route {
    /// What the cache keys this route's answers by: the registry asked, or for
    /// [`Route::FirstOf`] the whole list (another list is another question); `None` when
    /// nothing is asked.
    pub fn cache_key(&self) -> Option<String> {
        match self {
            Route::Ask(url) | Route::Upstream(url) => Some(url.to_string()),
            Route::FirstOf { indexes, upstream } => {
                let mut key = String::from("first-of");
                for u in indexes.iter().chain(upstream) {
                    key.push(' ');
                    key.push_str(u.as_str());
                }
                Some(key)
            }
            Route::Withheld { .. } => None,
        }
    }
}

/// The registry configured for an ecosystem's packages (no scope).
fn configured(endpoints: &Endpoints, ecosystem: Ecosystem) -> &Url {
    match ecosystem {
        Ecosystem::Npm => &endpoints.npm,
        Ecosystem::Pypi => &endpoints.pypi,
        Ecosystem::Crates => &endpoints.crates,
    }
}

/// Withheld when the configured registry is the public one and `host` is not allowed; else
/// the configured registry (the user chose it for every package of the ecosystem).
fn withheld_or(endpoints: &Endpoints, ecosystem: Ecosystem, host: String) -> Route {
    let configured = configured(endpoints, ecosystem);
    let public =
        host_key(configured).is_some_and(|h| is_public(endpoints, ecosystem, configured, &h));
    if !public {
        return Route::Ask(configured.clone());
    }
    if endpoints.allow_sources.contains(&host) {
        return Route::Ask(configured.clone());
    }
    Route::Withheld { host }
}

/// The URL and `host[:port]` of a recorded source (`registry+` / `sparse+` prefixes removed).
fn parse_source(raw: &str) -> Option<(Url, String)> {
    let text = raw
        .strip_prefix("registry+")
        .or_else(|| raw.strip_prefix("sparse+"))
        .unwrap_or(raw);
    let url = Url::parse(text).ok()?;
    let host = host_key(&url)?;
    Some((url, host))
}

/// True when a URL belongs to the ecosystem's public registry: its known hosts, the upstream's
/// host, or (crates.io) its git index.
fn is_public(endpoints: &Endpoints, ecosystem: Ecosystem, url: &Url, host: &str) -> bool {
    let (upstream, hosts) = match ecosystem {
        Ecosystem::Npm => (&endpoints.upstream.npm, public::NPM_PUBLIC_HOSTS),
        Ecosystem::Pypi => (&endpoints.upstream.pypi, public::PYPI_PUBLIC_HOSTS),
        Ecosystem::Crates => (&endpoints.upstream.crates, public::CRATES_PUBLIC_HOSTS),
    };
    if host_key(upstream).as_deref() == Some(host) || hosts.contains(&host) {
        return true;
    }
    // Your crates.io replacement serves crates.io's crates (cargo requires it).
    if ecosystem == Ecosystem::Crates && endpoints.crates_mirror_host().as_deref() == Some(host) {
        return true;
    }
    ecosystem == Ecosystem::Crates && {
        let git = public::CRATES_IO_GIT_INDEX
            .strip_prefix("registry+")
            .unwrap_or(public::CRATES_IO_GIT_INDEX);
        url.as_str().trim_end_matches('/') == git.trim_end_matches('/')
    }
}

/// The reason a withheld package is `unknown`.
pub fn withheld_reason(host: &str) -> String {
    format!(
        "resolved from {host}; not asked of the public registry (configure a registry for it, \
         or pass --allow-source {host} if it mirrors public packages)"
    )
}

/// Lookups for every withheld package among `packages`, and one aggregated hint naming each
/// host, its ecosystem and how many packages it holds back (`None` when none is withheld).
pub fn withheld(
    endpoints: &Endpoints,
    packages: &[Package],
) -> (Vec<(PackageKey, Lookup)>, Option<String>) {
    let mut lookups = Vec::new();
    let mut counts: BTreeMap<(Ecosystem, String), usize> = BTreeMap::new();
    for pkg in packages.iter().filter(|p| p.is_registry_pinned()) {
        if let Route::Withheld { host } = route(endpoints, pkg) {
            lookups.push((
                pkg.key(),
                Lookup::Unknown {
                    reason: withheld_reason(&host),
                },
            ));
            *counts.entry((pkg.ecosystem, host)).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return (lookups, None);
    }
    let total: usize = counts.values().sum();
    let hosts: Vec<String> = counts
        .iter()
        .map(|((eco, host), n)| format!("{host} ({eco}, {n})"))
        .collect();
    let flags: Vec<&str> = counts
        .keys()
        .map(|(eco, _)| match eco {
            Ecosystem::Npm => "--npm-registry URL or an `@scope:registry=` line in your ~/.npmrc",
            Ecosystem::Pypi => "--pypi-index URL",
            Ecosystem::Crates => "--crates-api URL",
        })
        .fold(Vec::new(), |mut acc, f| {
            if !acc.contains(&f) {
                acc.push(f);
            }
            acc
        });
    let example = &counts
        .keys()
        .next()
        .map(|(_, h)| h.clone())
        .unwrap_or_default();
    let hint = format!(
        "{total} package{} resolved from a host other than the public registry {} not asked \
         of the public registry (so no private name leaks there): {}. To check them, configure \
         that registry ({}); if a host is a mirror of public packages, --allow-source HOST \
         (e.g. --allow-source {example}) lets its packages be asked of the public registry",
        if total == 1 { "" } else { "s" },
        if total == 1 { "was" } else { "were" },
        hosts.join(", "),
        flags.join("; "),
    );
    (lookups, Some(hint))
}

/// One line per ecosystem whose install registry answered but does not expose provenance
/// (a mirror that strips it), suggesting `--provenance-from upstream`; only for ecosystems
/// that do not use it already and whose registry is not the public one.
pub fn stripped_hint(
    endpoints: &Endpoints,
    packages: &[Package],
    lookups: &std::collections::HashMap<PackageKey, Lookup>,
) -> Vec<String> {
    let mut hints = Vec::new();
    for eco in Ecosystem::ALL {
        let registry = configured(endpoints, eco);
        let public = host_key(registry).is_some_and(|h| is_public(endpoints, eco, registry, &h));
        if public || endpoints.provenance_from.upstream(eco) {
            continue;
        }
        let n = packages
            .iter()
            .filter(|p| p.ecosystem == eco)
            .filter(|p| {
                matches!(lookups.get(&p.key()), Some(Lookup::Unknown { reason })
                    if reason.contains("does not expose"))
            })
            .count();
        if n > 0 {
            hints.push(format!(
                "{n} {eco} package{} unknown because {} does not expose provenance (a mirror                  that strips it); --provenance-from {eco}=upstream asks the public registry                  instead for the packages that are not private, and uses an answer only when it                  matches the lockfile's digest (docs/mirrors.md)",
                if n == 1 { " is" } else { "s are" },
                crate::lockfile::strip_credentials(registry.as_str()),
            ));
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::endpoints::{ConfigSources, Overrides, Scope};

    fn endpoints(flags: Overrides) -> Endpoints {
        let env = |_: &str| None;
        let dir = tempfile::tempdir().unwrap();
        Endpoints::resolve(
            &flags,
            &ConfigSources {
                env: &env,
                project: dir.path(),
                home: None,
                env_names: &[],
            },
        )
        .unwrap()
    }

    fn ask(url: &str) -> Route {
        Route::Ask(Url::parse(url).unwrap())
    }

    fn held(host: &str) -> Route {
        Route::Withheld { host: host.into() }
    }

    /// What, endpoints, ecosystem, name, recorded source, expected route.
    type Case<'a> = (
        &'a str,
        &'a Endpoints,
        Ecosystem,
        &'a str,
        Option<&'a str>,
        Route,
    );

    #[test]
    fn routing_table() {
        use Ecosystem::{Crates, Npm, Pypi};
        let default = endpoints(Overrides::default());
        let mut scoped = endpoints(Overrides {
            allow_sources: vec!["mirror.corp.example".into()],
            ..Default::default()
        });
        scoped.npm_scopes.push(Scope {
            scope: "@corp".into(),
            url: Url::parse("https://npm.corp.example/private/").unwrap(),
            from: "~/.npmrc".into(),
        });
        let mirror = endpoints(Overrides {
            npm: Some("https://mirror.corp.example/npm/".into()),
            pypi: Some("https://mirror.corp.example/simple/".into()),
            crates: Some("https://cargo.corp.example/".into()),
            ..Default::default()
        });
        let tests = test_upstreams();
        let npm_pub = public::NPM_REGISTRY;
        let pypi_pub = public::PYPI_INDEX;
        let crates_pub = public::CRATES_API;
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("no source: configured", &default, Npm, "left-pad", None, ask(npm_pub)),
            ("public source", &default, Npm, "left-pad", Some("https://registry.npmjs.org/"), ask(npm_pub)),
            ("yarn's alias is public", &default, Npm, "left-pad", Some("https://registry.yarnpkg.com/"), ask(npm_pub)),
            ("private host withheld", &default, Npm, "corp-utils", Some("https://npm.corp.example/"), held("npm.corp.example")),
            ("port is part of the host", &default, Npm, "x", Some("http://127.0.0.1:4873/"), held("127.0.0.1:4873")),
            ("unreadable source withheld", &default, Npm, "x", Some("not a url"), held("an unreadable source URL")),
            ("scope routes its own", &scoped, Npm, "@corp/ui", None, ask("https://npm.corp.example/private/")),
            ("scope beats a public source", &scoped, Npm, "@corp/ui", Some("https://registry.npmjs.org/"), ask("https://npm.corp.example/private/")),
            ("scope is not a prefix match", &scoped, Npm, "@corpx/ui", None, ask(npm_pub)),
            ("source on a scope's host", &scoped, Npm, "corp-utils", Some("https://npm.corp.example/private/"), ask("https://npm.corp.example/private/")),
            ("allowed mirror to public", &scoped, Npm, "lodash", Some("https://mirror.corp.example/npm/"), ask(npm_pub)),
            ("mirror configured", &mirror, Npm, "lodash", Some("https://mirror.corp.example/npm/"), ask("https://mirror.corp.example/npm/")),
            ("public via mirror", &mirror, Npm, "lodash", Some("https://registry.npmjs.org/"), ask("https://mirror.corp.example/npm/")),
            ("other private, user chose a registry", &mirror, Npm, "x", Some("https://npm.other.example/"), ask("https://mirror.corp.example/npm/")),
            ("pypi public index", &default, Pypi, "six", Some("https://pypi.org/simple"), ask(pypi_pub)),
            ("pypi private index withheld", &default, Pypi, "corp-lib", Some("https://pypi.corp.example/simple"), held("pypi.corp.example")),
            ("pypi mirror configured", &mirror, Pypi, "six", Some("https://mirror.corp.example/simple/"), ask("https://mirror.corp.example/simple/")),
            ("crates default registry", &default, Crates, "serde", None, ask(crates_pub)),
            ("crates.io git index", &default, Crates, "serde", Some(public::CRATES_IO_GIT_INDEX), ask(crates_pub)),
            ("crates.io sparse index", &default, Crates, "serde", Some(public::CRATES_IO_SPARSE_INDEX), ask(crates_pub)),
            ("other git index on github", &default, Crates, "x", Some("registry+https://github.com/corp/index"), held("github.com")),
            ("crates alternative registry", &default, Crates, "corp", Some("sparse+https://cargo.corp.example/index/"), held("cargo.corp.example")),
            ("crates registry configured", &mirror, Crates, "corp", Some("sparse+https://cargo.corp.example/index/"), ask("https://cargo.corp.example/")),
            ("test upstream is public", &tests, Npm, "x", Some("http://127.0.0.1:1/"), ask("http://127.0.0.1:1/")),
            ("test private host", &tests, Npm, "x", Some("http://127.0.0.1:2/"), held("127.0.0.1:2")),
        ];
        for (what, e, eco, name, source, want) in table {
            assert_eq!(route_for(e, eco, name, source), want, "{what}");
        }
    }

    #[test]
    fn upstream_only_for_packages_that_are_not_private() {
        use Ecosystem::{Npm, Pypi};
        let mut e = endpoints(Overrides {
            npm: Some("https://mirror.corp.example/npm/".into()),
            npm_upstream: Some("http://127.0.0.1:1/".into()),
            allow_sources: vec!["other-mirror.corp.example".into()],
            ..Default::default()
        });
        e.provenance_from.set(Some(Npm), true);
        e.private = vec!["corp-*".into(), "@internal/*".into()];
        e.npm_scopes.push(Scope {
            scope: "@corp".into(),
            url: Url::parse("https://npm.corp.example/").unwrap(),
            from: "~/.npmrc".into(),
        });
        let mut no_mirror = endpoints(Overrides::default());
        no_mirror.provenance_from.set(None, true);
        let up = ask("http://127.0.0.1:1/");
        let Route::Ask(up) = up else { unreachable!() };
        let up = Route::Upstream(up);
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("public name, no source", &e, Npm, "lodash", None, up.clone()),
            ("resolved from the mirror", &e, Npm, "lodash", Some("https://mirror.corp.example/npm/"), up.clone()),
            ("resolved from the public registry", &e, Npm, "lodash", Some("https://registry.npmjs.org/"), up.clone()),
            ("an allowed mirror", &e, Npm, "lodash", Some("https://other-mirror.corp.example/"), up.clone()),
            ("a routed scope stays home", &e, Npm, "@corp/ui", None, ask("https://npm.corp.example/")),
            ("a private pattern stays home", &e, Npm, "corp-utils", None, ask("https://mirror.corp.example/npm/")),
            ("a private scope pattern", &e, Npm, "@internal/x", None, ask("https://mirror.corp.example/npm/")),
            ("a private host stays home", &e, Npm, "x", Some("https://npm.secret.example/"), ask("https://mirror.corp.example/npm/")),
            ("a scope registry's path on another host stays there", &e, Npm, "x", Some("https://npm.corp.example/x/-/x-1.0.0.tgz"), ask("https://npm.corp.example/")),
            ("other ecosystems unchanged", &e, Pypi, "six", None, ask(public::PYPI_INDEX)),
            ("no mirror: the upstream is the install registry", &no_mirror, Npm, "lodash", None, ask(public::NPM_REGISTRY)),
        ];
        for (what, e, eco, name, source, want) in table {
            assert_eq!(route_for(e, eco, name, source), want, "{what}");
        }
    }

    #[test]
    fn private_patterns() {
        use Ecosystem::{Crates, Npm, Pypi};
        for (pattern, eco, name, want) in [
            ("@corp/*", Npm, "@corp/ui", true),
            ("@corp/*", Npm, "@corpx/ui", false),
            ("corp-*", Npm, "corp-utils", true),
            ("corp-*", Npm, "my-corp-utils", false),
            ("*-internal", Crates, "auth-internal", true),
            ("exact", Crates, "exact", true),
            ("exact", Crates, "exactly", false),
            ("Corp_*", Pypi, "corp.lib", true),
            ("a*b*c", Npm, "axxbyyc", true),
            ("a*b*c", Npm, "acb", false),
            ("ab*ba", Npm, "aba", false),
        ] {
            assert_eq!(private_match(pattern, eco, name), want, "{pattern} {name}");
        }
    }

    fn test_upstreams() -> Endpoints {
        endpoints(Overrides {
            npm_upstream: Some("http://127.0.0.1:1/".into()),
            ..Default::default()
        })
    }

    #[test]
    fn one_hint_names_each_host_and_count() {
        use crate::model::{LockedPackage, merge};
        let e = endpoints(Overrides::default());
        let mut found = Vec::new();
        for (eco, name, src) in [
            (Ecosystem::Npm, "a", Some("https://npm.corp.example/")),
            (Ecosystem::Npm, "b", Some("https://npm.corp.example/")),
            (Ecosystem::Npm, "c", Some("https://registry.npmjs.org/")),
            (
                Ecosystem::Pypi,
                "d",
                Some("https://pypi.corp.example/simple"),
            ),
        ] {
            let mut p = LockedPackage::new(eco, name, "1.0.0");
            p.source = Source::Registry {
                url: src.map(str::to_string),
            };
            found.push((p, "lock".to_string()));
        }
        let (lookups, hint) = withheld(&e, &merge(found));
        assert_eq!(lookups.len(), 3);
        assert!(matches!(&lookups[0].1, Lookup::Unknown { reason }
            if reason.starts_with("resolved from npm.corp.example; not asked of the public registry")));
        let hint = hint.unwrap();
        assert!(
            hint.starts_with("3 packages")
                && hint.contains("npm.corp.example (npm, 2)")
                && hint.contains("pypi.corp.example (pypi, 1)")
                && hint.contains("--allow-source"),
            "{hint}"
        );
        let (none, no_hint) = withheld(&e, &[]);
        assert!(none.is_empty() && no_hint.is_none());
    }

    #[test]
    fn extra_pypi_indexes_fail_closed() {
        use crate::registry::endpoints::Index;
        use Ecosystem::Pypi;
        let index = |u: &str| Index {
            url: Url::parse(u).unwrap(),
            from: "pip.conf".into(),
            project: false,
        };
        let mirror = "https://art.corp.example/api/pypi/pypi-virtual/simple/";
        let private = "https://art.corp.example/api/pypi/pypi-private/simple/";
        let devpi = "https://devpi.corp.example/root/dev/+simple/";
        let mut e = endpoints(Overrides {
            pypi: Some(mirror.into()),
            pypi_upstream: Some("http://127.0.0.1:1/simple/".into()),
            ..Default::default()
        });
        e.pypi_extra = vec![index(private), index(devpi)];
        let first_of = |indexes: &[&str], upstream: Option<&str>| Route::FirstOf {
            indexes: indexes.iter().map(|u| Url::parse(u).unwrap()).collect(),
            upstream: upstream.map(|u| Url::parse(u).unwrap()),
        };
        let mut up = e.clone();
        up.provenance_from.set(Some(Pypi), true);
        up.private = vec!["corp-*".into()];
        let mut public = endpoints(Overrides::default());
        public.pypi_extra = vec![index(devpi)];
        let upstream = Route::Upstream(Url::parse("http://127.0.0.1:1/simple/").unwrap());
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("under the private index on the mirror's host", &e, Pypi, "x", Some("https://art.corp.example/api/pypi/pypi-private/simple"), ask(private)),
            ("under the mirror", &e, Pypi, "x", Some(mirror), ask(mirror)),
            ("public source: the default index", &e, Pypi, "x", Some("https://pypi.org/simple"), ask(mirror)),
            ("another index on a configured host", &e, Pypi, "x", Some("https://devpi.corp.example/other/+simple/"), ask(devpi)),
            ("no source: every index, in order", &e, Pypi, "x", None, first_of(&[mirror, private, devpi], None)),
            ("public default: private indexes first", &public, Pypi, "x", None, first_of(&[devpi, public::PYPI_INDEX], None)),
            ("public default, unknown host withheld", &public, Pypi, "x", Some("https://other.example/simple"), held("other.example")),
            ("upstream: the mirror's package", &up, Pypi, "x", Some(mirror), upstream.clone()),
            ("upstream: a private index's package stays", &up, Pypi, "x", Some(private), ask(private)),
            ("upstream: no source, private indexes first", &up, Pypi, "x", None, first_of(&[private, devpi], Some("http://127.0.0.1:1/simple/"))),
            ("upstream: a private name never goes up", &up, Pypi, "corp-lib", None, first_of(&[mirror, private, devpi], None)),
        ];
        for (what, e, eco, name, source, want) in table {
            assert_eq!(route_for(e, eco, name, source), want, "{what}");
        }
        assert_eq!(
            first_of(&[devpi], None).cache_key().as_deref(),
            Some(format!("first-of {devpi}").as_str())
        );
    }
}
