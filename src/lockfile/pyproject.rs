//! Placeholder: direct dependencies from pyproject.toml (written with the poetry reader).
