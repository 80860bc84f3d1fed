//! Finding the target Python environment and its site-packages directories.
//!
//! Sources are tried in a fixed order (first that applies wins): `--site-packages`,
//! `--python`, `VIRTUAL_ENV`, `CONDA_PREFIX`, the nearest `.venv`, then `python3` /
//! `python` on `PATH`. A venv's `pyvenv.cfg` is usually enough to find its
//! site-packages without starting Python; the interpreter is asked (once, JSON out,
//! never through a shell) only when the layout does not tell.

use std::path::PathBuf;

/// Where the environment came from, in the order the sources are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `--site-packages DIR` (one or more).
    SitePackagesFlag,
    /// `--python PATH` (an interpreter or an environment directory).
    PythonFlag,
    /// The `VIRTUAL_ENV` variable (an activated venv).
    VirtualEnv,
    /// The `CONDA_PREFIX` variable (an activated conda environment).
    CondaPrefix,
    /// The nearest `.venv` in the current directory or one of its parents.
    DotVenv,
    /// `python3` or `python` found on `PATH`.
    PathInterpreter,
}

/// Inputs to discovery. The process environment is passed in explicitly so that
/// discovery is testable without touching global state.
#[derive(Debug, Clone, Default)]
pub struct DiscoveryOptions {
    /// `--site-packages` directories, in the order given.
    pub site_packages: Vec<PathBuf>,
    /// `--python`.
    pub python: Option<PathBuf>,
    /// The current directory (start of the `.venv` search).
    pub current_dir: PathBuf,
    /// `VIRTUAL_ENV`, if set and non-empty.
    pub virtual_env: Option<PathBuf>,
    /// `CONDA_PREFIX`, if set and non-empty.
    pub conda_prefix: Option<PathBuf>,
    /// `PATH`, if set.
    pub path: Option<std::ffi::OsString>,
}

/// A found environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Environment {
    pub source: Source,
    /// The environment's prefix (venv or conda directory), when there is one.
    pub prefix: Option<PathBuf>,
    /// The interpreter, when known (not for `--site-packages`).
    pub interpreter: Option<PathBuf>,
    /// `major.minor`, when known.
    pub python_version: Option<String>,
    /// Whether the environment was created by uv (`uv = ...` in `pyvenv.cfg`).
    pub created_by_uv: bool,
    /// Directories to scan, in `sys.path` order (the first occurrence of a project wins).
    pub site_packages: Vec<PathBuf>,
}
