//! The public registries' default endpoints. This is the only place in provscan that names
//! them; everything else takes endpoints from [`crate::registry::Endpoints`], so tests and
//! private mirrors can point provscan anywhere.

/// The npm registry: packuments at `{base}{escaped-name}`.
pub const NPM_REGISTRY: &str = "https://registry.npmjs.org/";

/// PyPI's simple index: project pages at `{base}{normalised-name}/`.
pub const PYPI_INDEX: &str = "https://pypi.org/simple/";

/// crates.io's web API base: `{base}api/v1/crates/{name}/versions`.
pub const CRATES_API: &str = "https://crates.io/";

/// crates.io's git index as Cargo.lock writes it (cargo writes this form even over the sparse
/// protocol).
pub const CRATES_IO_GIT_INDEX: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// crates.io's sparse index as Cargo.lock may write it (`sparse+` prefix included).
pub const CRATES_IO_SPARSE_INDEX: &str = "sparse+https://index.crates.io/";

/// provscan's home, named in the User-Agent as crates.io's data-access policy asks.
pub const PROJECT_URL: &str = env!("CARGO_PKG_REPOSITORY");
