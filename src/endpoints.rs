//! The public registries' default endpoints. This is the only place in provscan that names
//! them; everything else takes endpoints from [`crate::registry::Endpoints`], so tests and
//! private mirrors can point provscan anywhere.

/// The npm registry: packuments at `{base}{escaped-name}`.
pub const NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// PyPI's simple index: project pages at `{base}{normalised-name}/`.
pub const PYPI_INDEX: &str = "https://pypi.org/simple/";

/// crates.io's web API base: `{base}api/v1/crates/{name}`.
pub const CRATES_API: &str = "https://crates.io/";

/// crates.io's git index as Cargo.lock writes it (cargo writes this form even over the sparse
/// protocol).
pub const CRATES_IO_GIT_INDEX: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// crates.io's sparse index as Cargo.lock may write it (`sparse+` prefix included).
pub const CRATES_IO_SPARSE_INDEX: &str = "sparse+https://index.crates.io/";

/// provscan's home, named in the User-Agent as crates.io's data-access policy asks.
pub const PROJECT_URL: &str = env!("CARGO_PKG_REPOSITORY");

/// Hosts that serve the public npm registry (the registry itself and yarn's alias, which
/// lockfiles written by yarn record in `resolved`).
pub const NPM_PUBLIC_HOSTS: &[&str] = &["registry.npmjs.org", "registry.yarnpkg.com"];

/// Hosts that serve PyPI (its index, its legacy name, and its file host).
pub const PYPI_PUBLIC_HOSTS: &[&str] = &["pypi.org", "pypi.python.org", "files.pythonhosted.org"];

/// Hosts that serve only crates.io's index or API (a git index on github.com is matched by its
/// whole URL, [`CRATES_IO_GIT_INDEX`], since other registries live on github.com too).
pub const CRATES_PUBLIC_HOSTS: &[&str] = &["index.crates.io", "crates.io", "static.crates.io"];
