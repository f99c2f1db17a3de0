//! Reading an earlier JSON report (schema version 1), for `provscan diff` and `--baseline`.
//!
//! Only the fields these features compare are read, and unknown fields are ignored, so reports
//! from any provscan that writes schema version 1 load.

use std::path::Path;

use serde::Deserialize;

use crate::model::{Ecosystem, pep503_normalize};
use crate::report::Status;

/// Why an earlier report cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PriorError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a provscan JSON report of a schema version this provscan reads.
    #[error("{path}: not a provscan JSON report (schema version 1): {message}")]
    Invalid {
        /// The path given.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// One package of an earlier report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorPackage {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written.
    pub name: String,
    /// Version as written.
    pub version: String,
    /// Status.
    pub status: Status,
    /// Publisher repository, when the report had one.
    pub repository: Option<String>,
    /// Publisher workflow, when the report had one.
    pub workflow: Option<String>,
    /// Flag kinds raised on it (`source-mismatch`, …).
    pub flags: Vec<String>,
}

impl PriorPackage {
    /// Identity for comparison: ecosystem, normalised name, version.
    pub fn key(&self) -> (Ecosystem, String, String) {
        (
            self.ecosystem,
            normalized(self.ecosystem, &self.name),
            self.version.clone(),
        )
    }
}

/// The name as compared (PEP 503 for PyPI).
pub fn normalized(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi => pep503_normalize(name),
        _ => name.to_string(),
    }
}

#[derive(Deserialize)]
struct Wire {
    schema_version: u32,
    packages: Vec<WirePackage>,
}

#[derive(Deserialize)]
struct WirePackage {
    ecosystem: String,
    name: String,
    version: String,
    status: String,
    #[serde(default)]
    evidence: Option<WireEvidence>,
    #[serde(default)]
    flags: Vec<WireFlag>,
}

#[derive(Deserialize)]
struct WireEvidence {
    #[serde(default)]
    publisher: Option<WirePublisher>,
}

#[derive(Deserialize)]
struct WirePublisher {
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    workflow: Option<String>,
}

#[derive(Deserialize)]
struct WireFlag {
    kind: String,
}

/// Load an earlier report's packages.
pub fn load(path: &Path) -> Result<Vec<PriorPackage>, PriorError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PriorError::Io {
        path: shown.clone(),
        source,
    })?;
    parse(&shown, &text)
}

/// Parse an earlier report's text.
pub fn parse(shown: &str, text: &str) -> Result<Vec<PriorPackage>, PriorError> {
    let invalid = |message: String| PriorError::Invalid {
        path: shown.to_string(),
        message,
    };
    let wire: Wire = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if wire.schema_version != 1 {
        return Err(invalid(format!("schema_version {}", wire.schema_version)));
    }
    wire.packages
        .into_iter()
        .map(|p| {
            let ecosystem = match p.ecosystem.as_str() {
                "npm" => Ecosystem::Npm,
                "pypi" => Ecosystem::Pypi,
                "crates" => Ecosystem::Crates,
                other => return Err(invalid(format!("unknown ecosystem `{other}`"))),
            };
            let status = Status::parse(&p.status)
                .ok_or_else(|| invalid(format!("unknown status `{}`", p.status)))?;
            let publisher = p.evidence.and_then(|e| e.publisher);
            Ok(PriorPackage {
                ecosystem,
                name: p.name,
                version: p.version,
                status,
                repository: publisher.as_ref().and_then(|p| p.repository.clone()),
                workflow: publisher.and_then(|p| p.workflow),
                flags: p.flags.into_iter().map(|f| f.kind).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_compares_and_rejects_other_documents() {
        let text = r#"{"schema_version": 1, "future_field": true, "packages": [
            {"ecosystem": "pypi", "name": "Zope.Interface", "version": "6.0", "status": "attested",
             "evidence": {"publisher": {"provider": "github", "repository": "o/r", "workflow": "r.yml"}},
             "flags": [{"kind": "publisher-changed", "message": "x"}]}]}"#;
        let pkgs = parse("old.json", text).unwrap();
        assert_eq!(
            pkgs[0].key(),
            (Ecosystem::Pypi, "zope-interface".into(), "6.0".into())
        );
        assert_eq!(pkgs[0].repository.as_deref(), Some("o/r"));
        assert_eq!(pkgs[0].flags, ["publisher-changed"]);
        assert!(parse("x", r#"{"schema_version": 2, "packages": []}"#).is_err());
        assert!(
            parse("x", "[]")
                .unwrap_err()
                .to_string()
                .starts_with("x: not a provscan JSON report")
        );
        let bad = r#"{"schema_version": 1, "packages": [{"ecosystem": "npm", "name": "a", "version": "1", "status": "great"}]}"#;
        assert!(
            parse("x", bad)
                .unwrap_err()
                .to_string()
                .contains("unknown status")
        );
    }
}
