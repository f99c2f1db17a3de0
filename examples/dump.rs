//! Development aid while the CLI is written: parse one lockfile and print its packages as JSON
//! in the shape `../shared/conformance/check.py` reads. Removed once `provscan --offline` works.
#![allow(clippy::print_stdout)]
use std::path::Path;

use provscan::lockfile::{self, Input, LockfileKind, Options};

fn main() {
    let arg = std::env::args().nth(1).expect("usage: dump LOCKFILE");
    let path = Path::new(&arg);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some(kind) = LockfileKind::from_file_name(name) else {
        eprintln!("unknown lockfile name {name}");
        std::process::exit(2);
    };
    let text = match lockfile::read_text(path, &arg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let root = path.parent().unwrap_or(Path::new("."));
    let options = Options::default();
    let input = Input {
        text: &text,
        path,
        display: &arg,
        root,
        options: &options,
    };
    match lockfile::parse(kind, &input) {
        Ok(parsed) => {
            let packages: Vec<_> = parsed
                .packages
                .iter()
                .map(|(p, file)| {
                    serde_json::json!({
                        "ecosystem": p.ecosystem, "name": p.name, "version": p.version,
                        "source": p.source, "integrity": p.integrity, "direct": p.direct,
                        "dev": p.dev, "optional": p.optional, "peer": p.peer,
                        "unpinned_spec": p.unpinned_spec, "line": p.line, "lockfile": file,
                    })
                })
                .collect();
            for w in &parsed.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "packages": packages })).unwrap()
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
