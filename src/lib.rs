//! provscan: per-package provenance status for every pinned dependency of a project.
//!
//! The pipeline (see `docs/architecture.md`) is driven by [`scan::run`]; the binary in
//! `main.rs` only parses the command line, calls it and renders the [`report::Report`].

pub mod cache;
pub mod classify;
pub mod cli;
pub mod config;
pub mod diff;
pub mod discover;
pub mod endpoints;
pub mod exit;
pub mod explain;
pub mod lockfile;
pub mod manual;
pub mod memory;
pub mod merge;
pub mod model;
pub mod own;
pub mod pattern;
pub mod policy;
pub mod prior;
pub mod publishing;
pub mod registry;
pub mod render;
pub mod report;
pub mod scan;
pub mod settings;
pub mod verify;
