//! provscan: per-package provenance status for every pinned dependency of a project.
//!
//! The pipeline (see `docs/architecture.md`) is driven by [`scan::run`]; the binary in
//! `main.rs` only parses the command line, calls it and renders the [`report::Report`].

pub mod lockfile;
pub mod model;
