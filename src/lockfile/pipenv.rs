//! Pipenv's `Pipfile.lock` (JSON).
//!
//! Reads `_meta.sources` and every package category: `default`, `develop` and any custom
//! category. A version `==x` (or `===x`) pins x; another specifier or none leaves the package
//! unpinned (version "", `unpinned_spec` = name and specifier as written). `index` names a source
//! whose URL becomes `Registry { url }` (the first source when no `index` is given); `git`/`ref` →
//! `Git`, `path` / local `file` → `Path`, remote `file` → `Url`; other VCS keys (`hg`, `svn`,
//! `bzr`) → `Url` with a `vcs+` prefix. Hashes have no file names in this format. A package in
//! `default` is not dev; one only in `develop` is dev; one only in custom categories is unknown.
//! The same name, version and source in several categories is reported once. Direct
//! dependencies come from the `Pipfile` beside the lockfile (its package sections); without one,
//! direct is unknown. Markers are not evaluated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use super::{Input, LockfileError, Parsed, pyproject};
use crate::model::{DistFile, Ecosystem, LockedPackage, Source, pep503_normalize};

/// Parse a Pipfile.lock.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let text = input.text;
    if text.trim().is_empty() {
        return Ok(Parsed::from_packages(input.display, Vec::new()));
    }
    let wire: Wire =
        serde_json::from_str(text).map_err(|e| LockfileError::json(input.display, &e))?;

    let mut warnings = Vec::new();
    let direct = match read_pipfile(input) {
        Ok(d) => d,
        Err(w) => {
            warnings.push(w);
            None
        }
    };

    let sources: BTreeMap<&str, &str> = wire
        .meta
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.url.as_str()))
        .collect();
    let first_source = wire.meta.sources.first().map(|s| s.url.clone());

    let mut out: Vec<LockedPackage> = Vec::new();
    let mut categories: Vec<BTreeSet<String>> = Vec::new();
    let mut index: BTreeMap<(String, String, Source), usize> = BTreeMap::new();
    let mut search_from = 0;
    let mut lines = LineCursor::default();
    for (category, entries) in wire.categories {
        let section_at = find_key(text, &category, search_from);
        if let Some(at) = section_at {
            search_from = at;
        }
        // Packages follow each other in file order, so each search starts at the previous one.
        let mut cursor = section_at;
        for (name, entry) in entries.0 {
            let found = cursor.and_then(|at| find_key(text, &name, at));
            if let Some(at) = found {
                cursor = Some(at + 1);
            }
            let line = found.map(|at| lines.line_at(text, at));
            let pkg = convert(name, entry, &sources, first_source.as_deref(), line);
            let key = (
                pep503_normalize(&pkg.name),
                pkg.version.clone(),
                pkg.source.clone(),
            );
            let i = match index.get(&key) {
                Some(&i) => i,
                None => {
                    index.insert(key, out.len());
                    out.push(LockedPackage {
                        integrity: Default::default(),
                        ..pkg.clone()
                    });
                    categories.push(BTreeSet::new());
                    out.len() - 1
                }
            };
            if let (Some(p), Some(c)) = (out.get_mut(i), categories.get_mut(i)) {
                c.insert(category.clone());
                for file in pkg.integrity.files {
                    if !p.integrity.files.contains(&file) {
                        p.integrity.files.push(file);
                    }
                }
            }
        }
    }
    for (p, c) in out.iter_mut().zip(&categories) {
        p.dev = if c.contains("default") {
            Some(false)
        } else if c.contains("develop") {
            Some(true)
        } else {
            None
        };
        if let Some(direct) = &direct {
            p.direct = Some(direct.contains(&pep503_normalize(&p.name)));
        }
    }
    let mut parsed = Parsed::from_packages(input.display, out);
    parsed.warnings = warnings;
    Ok(parsed)
}

fn convert(
    name: String,
    entry: WireEntry,
    sources: &BTreeMap<&str, &str>,
    first_source: Option<&str>,
    line: Option<usize>,
) -> LockedPackage {
    let pinned = entry.version.as_deref().and_then(|v| {
        let v = v.trim();
        v.strip_prefix("===")
            .or_else(|| v.strip_prefix("=="))
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.contains([',', '*']))
    });
    let mut source = None;
    if let Some(url) = entry.git {
        source = Some(Source::Git {
            url,
            commit: entry.r#ref,
        });
    } else if let Some((vcs, url)) = entry
        .hg
        .map(|u| ("hg", u))
        .or(entry.svn.map(|u| ("svn", u)))
        .or(entry.bzr.map(|u| ("bzr", u)))
    {
        source = Some(Source::Url {
            url: format!("{vcs}+{url}"),
        });
    } else if let Some(path) = entry.path {
        source = Some(Source::Path { path });
    } else if let Some(file) = entry.file {
        let remote = file.contains("://") && !file.starts_with("file:");
        source = Some(if remote {
            Source::Url { url: file }
        } else {
            Source::Path { path: file }
        });
    }
    let registry = source.is_none();
    let source = source.unwrap_or_else(|| Source::Registry {
        url: match entry.index.as_deref() {
            Some(ix) => sources
                .get(ix)
                .map(|u| u.to_string())
                .or_else(|| first_source.map(str::to_string)),
            None => first_source.map(str::to_string),
        },
    });

    let mut pkg = LockedPackage::new(Ecosystem::Pypi, name, pinned.unwrap_or_default());
    if registry && pinned.is_none() {
        let spec = entry
            .version
            .as_deref()
            .map(str::trim)
            .filter(|v| *v != "*")
            .unwrap_or_default();
        pkg.unpinned_spec = Some(format!("{}{spec}", pkg.name));
    }
    pkg.source = source;
    pkg.line = line;
    pkg.integrity.files = entry
        .hashes
        .iter()
        .map(|h| pyproject::dist_file(None, Some(h)))
        .filter(|f: &DistFile| !f.hashes.is_empty())
        .collect();
    pkg
}

/// Byte offset of a JSON object key `"key"` whose value is an object (`"key": {`), at or after
/// `from`. Package and category keys have object values; the fields inside a package do not.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut at = from;
    loop {
        let pos = text.get(at..)?.find(&needle)? + at;
        let after = text.get(pos + needle.len()..)?.trim_start();
        if let Some(value) = after.strip_prefix(':')
            && value.trim_start().starts_with('{')
        {
            return Some(pos);
        }
        at = pos + needle.len();
    }
}

/// Line numbers of increasing byte offsets without rescanning the text from its start.
#[derive(Default)]
struct LineCursor {
    offset: usize,
    line: usize,
}

impl LineCursor {
    fn line_at(&mut self, text: &str, pos: usize) -> usize {
        if pos < self.offset || self.line == 0 {
            *self = LineCursor { offset: 0, line: 1 };
        }
        let newlines = text
            .get(self.offset..pos)
            .map_or(0, |s| s.matches('\n').count());
        self.line += newlines;
        self.offset = pos;
        self.line
    }
}

/// Names in the sibling Pipfile's package sections, normalised; `Ok(None)` without a Pipfile.
fn read_pipfile(input: &Input<'_>) -> Result<Option<BTreeSet<String>>, String> {
    let Some(read) = pyproject::read_sibling_text(input, "Pipfile") else {
        return Ok(None);
    };
    let (text, display) = read?;
    let doc: BTreeMap<String, toml::Value> =
        toml::from_str(&text).map_err(|e| pyproject::toml_warning(&display, &text, &e))?;
    let mut names = BTreeSet::new();
    for (section, value) in &doc {
        // Every other table is a package category (`packages`, `dev-packages`, custom ones).
        if matches!(
            section.as_str(),
            "source" | "requires" | "pipenv" | "scripts"
        ) {
            continue;
        }
        if let Some(table) = value.as_table() {
            names.extend(table.keys().map(|n| pep503_normalize(n)));
        }
    }
    Ok(Some(names))
}

// ---- wire format: a subset of Pipfile.lock, only the fields read ----

/// `_meta` plus the package categories, in file order.
#[derive(Debug, Default)]
struct Wire {
    meta: WireMeta,
    categories: Vec<(String, Ordered<WireEntry>)>,
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WireVisitor;
        impl<'de> Visitor<'de> for WireVisitor {
            type Value = Wire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Pipfile.lock object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire, A::Error> {
                let mut wire = Wire::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "_meta" {
                        wire.meta = map.next_value()?;
                    } else {
                        let entries = map.next_value()?;
                        wire.categories.push((key, entries));
                    }
                }
                Ok(wire)
            }
        }
        deserializer.deserialize_map(WireVisitor)
    }
}

/// A JSON object kept in file order.
#[derive(Debug)]
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of packages")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut items = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    items.push(entry);
                }
                Ok(Ordered(items))
            }
        }
        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
struct WireMeta {
    #[serde(default)]
    sources: Vec<WireSource>,
}

#[derive(Debug, Deserialize)]
struct WireSource {
    name: String,
    url: String,
}

#[derive(Debug, Deserialize)]
struct WireEntry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    index: Option<String>,
    git: Option<String>,
    hg: Option<String>,
    svn: Option<String>,
    bzr: Option<String>,
    r#ref: Option<String>,
    path: Option<String>,
    file: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse_at(text: &str, path: &Path) -> Result<Parsed, LockfileError> {
        crate::lockfile::testing::run(parse, text, path, "p/Pipfile.lock")
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        crate::lockfile::testing::packages(
            parse,
            text,
            Path::new("/nonexistent/Pipfile.lock"),
            "p/Pipfile.lock",
        )
    }

    const LOCK: &str = r#"{
    "_meta": {
        "sources": [
            {"name": "pypi", "url": "https://index.example/simple", "verify_ssl": true},
            {"name": "private", "url": "https://private.example/simple", "verify_ssl": true}
        ]
    },
    "default": {
        "itsdangerous": {
            "hashes": ["sha256:2C23", "sha256:5dbb"],
            "index": "pypi",
            "version": "==2.1.2"
        },
        "internal": {"index": "private", "version": "==1.0"},
        "loose": {"version": ">=1.0"},
        "bare": {},
        "markupsafe": {"editable": true, "git": "https://git.example/pallets/markupsafe", "ref": "b36054111bc1e8bbadb5d0d60158feb72926f467"},
        "localpkg": {"editable": true, "path": "./libs/localpkg"},
        "tarball": {"file": "https://downloads.example/tarball-1.0.tar.gz"},
        "hgpkg": {"hg": "https://hg.example/repo"}
    },
    "develop": {
        "itsdangerous": {"hashes": ["sha256:2c23"], "index": "pypi", "version": "==2.1.2"},
        "pluggy": {"version": "==1.0.0"}
    },
    "docs": {
        "sphinx": {"version": "===7.0"}
    }
}"#;

    #[test]
    fn categories_sources_and_pins() {
        let pkgs = packages(LOCK);
        let got: Vec<(&str, &str, Option<&str>, Option<bool>)> = pkgs
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.unpinned_spec.as_deref(),
                    p.dev,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("itsdangerous", "2.1.2", None, Some(false)),
                ("internal", "1.0", None, Some(false)),
                ("loose", "", Some("loose>=1.0"), Some(false)),
                ("bare", "", Some("bare"), Some(false)),
                ("markupsafe", "", None, Some(false)),
                ("localpkg", "", None, Some(false)),
                ("tarball", "", None, Some(false)),
                ("hgpkg", "", None, Some(false)),
                ("pluggy", "1.0.0", None, Some(true)),
                ("sphinx", "7.0", None, None),
            ]
        );
        let public = Source::Registry {
            url: Some("https://index.example/simple".into()),
        };
        assert_eq!(pkgs[0].source, public);
        assert_eq!(
            pkgs[1].source,
            Source::Registry {
                url: Some("https://private.example/simple".into())
            }
        );
        assert_eq!(pkgs[8].source, public, "no index: the first source");
        assert_eq!(
            pkgs[4].source,
            Source::Git {
                url: "https://git.example/pallets/markupsafe".into(),
                commit: Some("b36054111bc1e8bbadb5d0d60158feb72926f467".into())
            }
        );
        assert_eq!(
            pkgs[5].source,
            Source::Path {
                path: "./libs/localpkg".into()
            }
        );
        assert_eq!(
            pkgs[6].source,
            Source::Url {
                url: "https://downloads.example/tarball-1.0.tar.gz".into()
            }
        );
        assert_eq!(
            pkgs[7].source,
            Source::Url {
                url: "hg+https://hg.example/repo".into()
            }
        );
        // Hashes without file names, deduplicated across categories.
        let hashes: Vec<_> = pkgs[0]
            .integrity
            .files
            .iter()
            .map(|f| (f.filename.clone(), f.hashes["sha256"].clone()))
            .collect();
        assert_eq!(
            hashes,
            [(None, "2c23".to_string()), (None, "5dbb".to_string())]
        );
        assert_eq!(pkgs[0].line, Some(9));
        assert_eq!(pkgs[8].line, Some(24));
        assert_eq!(pkgs[9].line, Some(27));
        assert!(pkgs.iter().all(|p| p.direct.is_none()));
    }

    #[test]
    fn different_versions_stay_apart() {
        let pkgs = packages(
            r#"{"_meta":{"sources":[]},"default":{"pluggy":{"version":"==1.0.1"}},"develop":{"pluggy":{"version":"==1.0.0"}}}"#,
        );
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| (p.version.as_str(), p.dev, p.line, p.source.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("1.0.1", Some(false), Some(1), Source::DEFAULT_REGISTRY),
                ("1.0.0", Some(true), Some(1), Source::DEFAULT_REGISTRY)
            ]
        );
    }

    #[test]
    fn direct_from_pipfile() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Pipfile"),
            "[[source]]\nname = \"pypi\"\nurl = \"https://index.example/simple\"\n\n[packages]\nItsDangerous = \"*\"\n\n[dev-packages]\npluggy = \"*\"\n\n[requires]\npython_version = \"3.11\"\n",
        )
        .unwrap();
        let parsed = parse_at(LOCK, &dir.path().join("Pipfile.lock")).unwrap();
        let direct: Vec<_> = parsed
            .packages
            .iter()
            .filter(|(p, _)| p.direct == Some(true))
            .map(|(p, _)| p.name.as_str())
            .collect();
        assert_eq!(direct, ["itsdangerous", "pluggy"]);
        assert!(parsed.packages.iter().all(|(p, _)| p.direct.is_some()));

        std::fs::write(dir.path().join("Pipfile"), "[packages\n").unwrap();
        let parsed = parse_at(LOCK, &dir.path().join("Pipfile.lock")).unwrap();
        assert!(parsed.packages.iter().all(|(p, _)| p.direct.is_none()));
        assert!(
            parsed.warnings[0].starts_with("p/Pipfile:1:"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn empty_and_errors() {
        assert!(packages("").is_empty());
        assert!(packages("\n  \n").is_empty());
        assert!(packages(r#"{"_meta": {}, "default": {}, "develop": {}}"#).is_empty());
        let bad = |t: &str| {
            parse_at(t, Path::new("/nonexistent/Pipfile.lock"))
                .unwrap_err()
                .to_string()
        };
        let e = bad("this is not json!\n");
        assert!(e.starts_with("p/Pipfile.lock:1:"), "{e}");
        assert!(bad("null").starts_with("p/Pipfile.lock:1:"));
        assert!(bad("[]").starts_with("p/Pipfile.lock:1:"));
        let e = bad("{\n\"default\": {\n  \"a\": {\"version\": 3}\n}}");
        assert!(e.starts_with("p/Pipfile.lock:3:"), "{e}");
        let e = bad("{\"default\": 4}");
        assert!(e.contains("object of packages"), "{e}");
    }

    #[test]
    fn lines_skip_fields_named_like_packages() {
        let text = "{\n\"default\": {\n  \"a\": {\n    \"version\": \"==1\"\n  },\n  \"version\": {\n    \"version\": \"==2\"\n  }\n}\n}";
        let pkgs = packages(text);
        let got: Vec<_> = pkgs.iter().map(|p| (p.name.as_str(), p.line)).collect();
        assert_eq!(got, [("a", Some(3)), ("version", Some(6))]);
    }
}
