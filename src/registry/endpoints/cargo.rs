//! Cargo's registry settings: `[source.crates-io] replace-with` (a crates.io mirror),
//! `[registries.NAME] index` (alternative registries) and their tokens.
//!
//! Read from your `$CARGO_HOME/config.toml` (default `~/.cargo`), `$CARGO_HOME/credentials.toml`
//! and `CARGO_REGISTRIES_NAME_INDEX` / `CARGO_REGISTRIES_NAME_TOKEN`, then the scanned project's
//! `.cargo/config.toml` (at the scan root only: provscan never climbs above it as cargo does),
//! which ranks below yours and is ignored with `--no-project-config`.
//!
//! Cargo names an index, never the web API provscan asks (`--crates-api`), so these settings
//! are shown in `provscan explain` and used for routing and tokens only:
//! - the host of *your* crates.io replacement counts as a mirror of crates.io (cargo requires a
//!   replacement to serve the same crates), a project's does not (it could otherwise declare a
//!   private registry's host public);
//! - a registry token goes only to URLs under that registry's root (a sparse index URL without
//!   its trailing `index/`), and a token of yours only to the index *you* defined under that
//!   name, never to one a project names.

use std::path::{Path, PathBuf};

use super::credentials::{Bound, Credential, Token};
use super::read::{escape, read_config};
use super::{ConfigSources, Setting, host_key, shown_raw};
use crate::model::Ecosystem;

/// An index cargo's settings name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoIndex {
    /// The registry or source name.
    pub name: String,
    /// The index URL as written (credentials removed).
    pub index: String,
    /// Where it was read.
    pub from: String,
    /// Read from the scanned tree.
    pub project: bool,
}

/// What cargo's settings resolve to.
#[derive(Debug, Default)]
pub(super) struct CratesSettings {
    /// The source crates.io is replaced with, if any.
    pub replacement: Option<CargoIndex>,
    /// `[registries.NAME]`.
    pub registries: Vec<CargoIndex>,
    /// Registry tokens.
    pub tokens: Vec<Credential>,
}

/// One configuration file's tables.
struct Layer {
    from: String,
    project: bool,
    table: toml::Table,
}

/// Resolve cargo's settings.
pub(super) fn resolve(
    src: &ConfigSources<'_>,
    no_project: bool,
    warnings: &mut Vec<String>,
    settings: &mut Vec<Setting>,
) -> CratesSettings {
    let env = |k: &str| (src.env)(k).filter(|v| !v.trim().is_empty());
    let cargo_home = env("CARGO_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| src.home.map(|h| h.join(".cargo")));
    let mut layers = Vec::new();
    if let Some(home) = &cargo_home {
        for pair in [
            ["config.toml", "config"],
            ["credentials.toml", "credentials"],
        ] {
            layers.extend(read_layer(home, &pair, None, warnings));
        }
    }
    if !no_project {
        layers.extend(read_layer(
            &src.project.join(".cargo"),
            &["config.toml", "config"],
            Some(src.project),
            warnings,
        ));
    }

    let mut out = CratesSettings::default();
    // [registries.NAME] index, the environment's first.
    for name in src.env_names.iter().filter_map(|k| {
        k.strip_prefix("CARGO_REGISTRIES_")
            .and_then(|r| r.strip_suffix("_INDEX"))
    }) {
        if let Some(index) = env(&format!("CARGO_REGISTRIES_{name}_INDEX")) {
            out.registries.push(CargoIndex {
                name: name.to_ascii_lowercase().replace('_', "-"),
                index: shown_raw(&index),
                from: format!("environment variable CARGO_REGISTRIES_{name}_INDEX"),
                project: false,
            });
        }
    }
    for layer in &layers {
        let Some(registries) = layer.table.get("registries").and_then(|r| r.as_table()) else {
            continue;
        };
        for (name, entry) in registries {
            let Some(index) = entry.get("index").and_then(|i| i.as_str()) else {
                continue;
            };
            let mine = out.registries.iter().find(|r| r.name == *name);
            let (used, note) = match mine {
                Some(r) if layer.project => {
                    (false, format!("ignored: yours ({}) ranks higher", r.from))
                }
                Some(_) => (false, "overridden by a setting of higher rank".into()),
                None => (
                    true,
                    if layer.project {
                        "an alternative registry, from the scanned project".into()
                    } else {
                        "an alternative registry".into()
                    },
                ),
            };
            settings.push(Setting::new(
                Ecosystem::Crates,
                &format!("registries.{}.index", escape(name)),
                &shown_raw(index),
                &layer.from,
                used,
                Some(note),
            ));
            if used {
                out.registries.push(CargoIndex {
                    name: name.clone(),
                    index: shown_raw(index),
                    from: layer.from.clone(),
                    project: layer.project,
                });
            }
        }
    }

    // [source.crates-io] replace-with, followed through [source.*] (yours first).
    let source = |name: &str| {
        layers.iter().find_map(|l| {
            let t = l.table.get("source")?.get(name)?.as_table()?;
            Some((l, t))
        })
    };
    let mut name = "crates-io".to_string();
    let mut hops = 0;
    while let Some((layer, table)) = source(&name) {
        if let Some(next) = table.get("replace-with").and_then(|r| r.as_str()) {
            settings.push(Setting::new(
                Ecosystem::Crates,
                &format!("source.{}.replace-with", escape(&name)),
                &escape(next),
                &layer.from,
                true,
                None,
            ));
            name = next.to_string();
            hops += 1;
            if hops > 8 {
                warnings.push(format!(
                    "{}: `replace-with` loops; cargo's source replacement ignored",
                    layer.from
                ));
                break;
            }
            continue;
        }
        if name == "crates-io" {
            break;
        }
        let index = table
            .get("registry")
            .and_then(|r| r.as_str())
            .map(shown_raw)
            .or_else(|| {
                ["local-registry", "directory"].iter().find_map(|k| {
                    table
                        .get(*k)
                        .and_then(|v| v.as_str())
                        .map(|p| format!("{k} {}", escape(p)))
                })
            });
        if let Some(index) = index {
            let note = if layer.project {
                "crates.io is replaced by this source (the scanned project's: not treated as a mirror of crates.io)"
            } else {
                "crates.io is replaced by this source: its host counts as a mirror of crates.io"
            };
            settings.push(Setting::new(
                Ecosystem::Crates,
                &format!("source.{}", escape(&name)),
                &index,
                &layer.from,
                true,
                Some(note.into()),
            ));
            if layer.project {
                warnings.push(format!(
                    "{}: replaces crates.io with `{}` ({index}); provscan still asks crates.io's API \
                     (or --crates-api) about crates.io packages",
                    layer.from,
                    escape(&name)
                ));
            }
            out.replacement = Some(CargoIndex {
                name: name.clone(),
                index,
                from: layer.from.clone(),
                project: layer.project,
            });
        }
        break;
    }

    // Tokens: `[registries.NAME] token` and CARGO_REGISTRIES_NAME_TOKEN, each bound to the
    // index defined with it (yours to yours).
    let mut tokens: Vec<(String, String, bool, String)> = Vec::new();
    for name in src.env_names.iter().filter_map(|k| {
        k.strip_prefix("CARGO_REGISTRIES_")
            .and_then(|r| r.strip_suffix("_TOKEN"))
    }) {
        let var = format!("CARGO_REGISTRIES_{name}_TOKEN");
        if let Some(token) = env(&var) {
            tokens.push((
                name.to_ascii_lowercase().replace('_', "-"),
                token,
                false,
                format!("environment variable {var}"),
            ));
        }
    }
    for layer in &layers {
        if let Some(registries) = layer.table.get("registries").and_then(|r| r.as_table()) {
            for (name, entry) in registries {
                if let Some(token) = entry.get("token").and_then(|t| t.as_str()) {
                    tokens.push((
                        name.clone(),
                        token.to_string(),
                        layer.project,
                        layer.from.clone(),
                    ));
                }
            }
        }
        if layer
            .table
            .get("registry")
            .and_then(|r| r.get("token"))
            .is_some()
        {
            settings.push(Setting::new(
                Ecosystem::Crates,
                "registry.token",
                "<secret>",
                &layer.from,
                false,
                Some("not used: crates.io needs no token to read".into()),
            ));
        }
    }
    for (name, token, project, from) in tokens {
        let index = out.registries.iter().find(|r| r.name == name);
        let root = index
            .filter(|r| r.project == project)
            .and_then(|r| registry_root(&r.index));
        let note = match (&root, index) {
            (Some(root), _) => format!("sent only to URLs under {root}"),
            (None, None) => "not used: no registry of that name".into(),
            (None, Some(r)) if r.project != project => {
                "not used: the registry of that name is defined elsewhere (a token goes only to the index defined with it)".into()
            }
            (None, Some(_)) => "not used: only a sparse index's token is sent".into(),
        };
        settings.push(Setting::new(
            Ecosystem::Crates,
            &format!("registries.{}.token", escape(&name)),
            "<secret>",
            &from,
            root.is_some(),
            Some(note),
        ));
        if let Some(root) = root
            && !out
                .tokens
                .iter()
                .any(|c| c.bound == Bound::Prefix(root.clone()))
        {
            out.tokens.push(Credential {
                bound: Bound::Prefix(root),
                token: Token::raw(token),
                from,
            });
        }
    }
    out
}

/// The first of `names` in `dir` that is there, as a parsed table.
fn read_layer(
    dir: &Path,
    names: &[&str],
    project: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Option<Layer> {
    let path = names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.symlink_metadata().is_ok())?;
    let text = read_config(&path, project, warnings)?;
    let from = escape(&path.display().to_string());
    match text.parse::<toml::Table>() {
        Ok(table) => Some(Layer {
            from,
            project: project.is_some(),
            table,
        }),
        Err(_) => {
            warnings.push(format!("{from}: ignored: not valid TOML"));
            None
        }
    }
}

/// The root under which a sparse registry's token may be sent: `//host[:port]/path/` of the
/// index URL without `sparse+` and a final `index/` segment. Git indexes have none.
fn registry_root(index: &str) -> Option<String> {
    let url = url::Url::parse(index.strip_prefix("sparse+")?).ok()?;
    if url.scheme() != "https" && !super::is_loopback(&url) {
        return None;
    }
    let host = host_key(&url)?;
    let mut path = url.path().to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    if let Some(stripped) = path.strip_suffix("index/") {
        path = stripped.to_string();
    }
    Some(format!("//{host}{path}"))
}

/// The host (`host[:port]`) of a cargo index URL (`sparse+` / `registry+` removed).
pub fn index_host(index: &str) -> Option<String> {
    let text = index
        .strip_prefix("sparse+")
        .or_else(|| index.strip_prefix("registry+"))
        .unwrap_or(index);
    host_key(&url::Url::parse(text).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_roots() {
        assert_eq!(
            registry_root("sparse+https://cargo.corp.example/index/").as_deref(),
            Some("//cargo.corp.example/")
        );
        assert_eq!(
            registry_root("sparse+https://art.corp.example/artifactory/api/cargo/local/index/")
                .as_deref(),
            Some("//art.corp.example/artifactory/api/cargo/local/")
        );
        assert_eq!(registry_root("https://github.com/corp/index"), None);
        assert_eq!(
            registry_root("sparse+http://cargo.corp.example/index/"),
            None
        );
        assert_eq!(
            index_host("sparse+https://Cargo.Corp.example:8443/index/").as_deref(),
            Some("cargo.corp.example:8443")
        );
    }
}
