//! `--python 3.12` (a request, not a path): the first interpreter that satisfies it, in
//! uv's order.
//!
//! 1. the active environment (`VIRTUAL_ENV`, then `CONDA_PREFIX`) and the project's
//!    (`UV_PROJECT_ENVIRONMENT` of a uv project, else the nearest `.venv`), each when it
//!    satisfies the request;
//! 2. interpreters on `PATH`, directory by directory, each directory's names in the
//!    request's order (`python3.12`, the other `python3.N` that may match, `python3`,
//!    `python`), tool environments (`uvx`) skipped;
//! 3. uv-managed interpreters (`uv python find --managed-python --system`), when `uv`
//!    is on `PATH`.
//!
//! A venv's `pyvenv.cfg` tells its version; an interpreter is asked once
//! (`platform.python_implementation()`, `platform.python_version()`). What the request
//! means is [`crate::python_request`]'s (pure) business.

use std::path::{Path, PathBuf};

use super::{
    enclosing_venv, find_uv_project, from_environment_directory, from_interpreter,
    is_executable_file, is_tool_environment, nearest_dot_venv, venv_interpreter, DiscoveryOptions,
    Environment, EnvironmentError, Source,
};
use crate::python_request::PythonRequest;

/// The environment `--python REQUEST` names, or `None` when `python` is a path (it
/// exists, or does not read as a request).
pub(super) fn find(
    options: &DiscoveryOptions,
    python: &Path,
) -> Option<Result<Environment, EnvironmentError>> {
    if options.absolute(python).symlink_metadata().is_ok() {
        return None;
    }
    let text = python.to_str()?;
    let request = PythonRequest::parse(text);
    if matches!(request, PythonRequest::Path(_)) {
        return None;
    }
    let mut tried = Vec::new();
    let mut seen = Vec::new();
    for (label, prefix) in environments(options) {
        if !seen.contains(&prefix) {
            seen.push(prefix.clone());
            if let Some(identity) = environment_identity(&prefix) {
                let satisfied = request.matches(&identity.0, &identity.1);
                tried.push(format!(
                    "{label} `{}` ({} {})",
                    prefix.display(),
                    identity.0,
                    identity.1
                ));
                if satisfied {
                    return Some(from_environment_directory(&prefix, Source::PythonFlag));
                }
            }
        }
    }
    let mut asked: Vec<PathBuf> = Vec::new();
    for interpreter in on_path(options, &request) {
        let canonical = interpreter
            .canonicalize()
            .unwrap_or_else(|_| interpreter.clone());
        if asked.contains(&canonical) {
            continue;
        }
        asked.push(canonical);
        if let Some((implementation, version)) = identify(&interpreter) {
            tried.push(format!(
                "PATH `{}` ({implementation} {version})",
                interpreter.display()
            ));
            if request.matches(&implementation, &version) {
                return Some(from_path_interpreter(&interpreter));
            }
        }
    }
    match uv_managed(options, text) {
        Some(interpreter) => {
            if let Some((implementation, version)) = identify(&interpreter) {
                if request.matches(&implementation, &version) {
                    return Some(from_path_interpreter(&interpreter));
                }
                tried.push(format!(
                    "uv-managed `{}` ({implementation} {version})",
                    interpreter.display()
                ));
            }
        }
        None => tried.push("uv-managed interpreters (none found)".to_owned()),
    }
    // An executable of that very name that could not be asked (`python3.12` answering
    // only the discovery query): the name as a path, as before requests.
    let named = options
        .path
        .as_ref()
        .and_then(|path| super::find_on_path(path, &[text]));
    if named.is_some() {
        return None;
    }
    Some(Err(EnvironmentError::NoInterpreterForRequest {
        request: text.to_owned(),
        tried,
    }))
}

/// An interpreter from `PATH` or uv: its venv when it lives in one.
fn from_path_interpreter(interpreter: &Path) -> Result<Environment, EnvironmentError> {
    from_interpreter(interpreter, Source::PythonFlag)
}

/// The active and project environments, in order, with their labels.
fn environments(options: &DiscoveryOptions) -> Vec<(&'static str, PathBuf)> {
    let mut found = Vec::new();
    if let Some(virtual_env) = &options.virtual_env {
        found.push(("VIRTUAL_ENV", options.absolute(virtual_env)));
    }
    if let Some(conda_prefix) = &options.conda_prefix {
        found.push(("CONDA_PREFIX", options.absolute(conda_prefix)));
    }
    // Seam: the project tool's environment (Poetry's, pipenv's, Hatch's) from
    // `src/project/` goes here, before the nearest `.venv`.
    let uv_environment = options.uv_project_environment.as_ref().and_then(|value| {
        find_uv_project(&options.current_dir, Some(value.as_os_str()))
            .map(|project| project.environment)
    });
    if let Some(environment) = uv_environment {
        found.push(("the uv project's environment", environment));
    }
    if let Some(prefix) = nearest_dot_venv(&options.current_dir) {
        found.push((".venv", prefix));
    }
    found
}

/// `(implementation, full version)` of a venv or conda environment: from `pyvenv.cfg`
/// when it says both, else from its interpreter.
fn environment_identity(prefix: &Path) -> Option<(String, String)> {
    if let Ok(text) = std::fs::read_to_string(prefix.join("pyvenv.cfg")) {
        let mut version = None;
        let mut implementation = None;
        for (key, value) in text.lines().filter_map(|line| line.split_once('=')) {
            match key.trim().to_ascii_lowercase().as_str() {
                "version_info" | "version" if version.is_none() => {
                    // `3.11.7.final.0` (uv) or `3.11.7` (venv).
                    let parts: Vec<&str> = value.trim().split('.').take(3).collect();
                    version = Some(parts.join("."));
                }
                "implementation" => implementation = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        if let (Some(implementation), Some(version)) = (implementation, version) {
            return Some((implementation, version));
        }
    }
    let interpreter = venv_interpreter(prefix)
        .or_else(|| Some(prefix.join("bin").join("python")).filter(|path| path.is_file()))?;
    identify(&interpreter)
}

/// `interpreter`'s implementation (`CPython`) and full version, through the one probe
/// (asked at most once per run, cached across runs).
fn identify(interpreter: &Path) -> Option<(String, String)> {
    let markers = crate::interpreter::probe(interpreter).ok()?.markers?;
    Some((
        markers.platform_python_implementation,
        markers.python_full_version,
    ))
}

/// The executables on `PATH` worth asking, in order.
fn on_path(options: &DiscoveryOptions, request: &PythonRequest) -> Vec<PathBuf> {
    let Some(search_path) = &options.path else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for directory in std::env::split_paths(search_path) {
        if directory.as_os_str().is_empty() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        let present: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| {
                ["python", "pypy", "graalpy"]
                    .iter()
                    .any(|stem| name.starts_with(stem))
            })
            .collect();
        for name in request.executable_names(&present) {
            let candidate = directory.join(&name);
            if is_executable_file(&candidate)
                && !enclosing_venv(&candidate).is_some_and(is_tool_environment)
            {
                found.push(candidate);
            }
        }
    }
    found
}

/// `uv python find --managed-python --system REQUEST` with the `uv` on `PATH`.
fn uv_managed(options: &DiscoveryOptions, request: &str) -> Option<PathBuf> {
    let uv = options
        .path
        .as_ref()
        .and_then(|path| super::find_on_path(path, &["uv"]))?;
    let output = crate::interpreter::run::run_script(
        &uv,
        &[
            "python",
            "find",
            "--managed-python",
            "--system",
            "--no-project",
            request,
        ],
    )
    .ok()?;
    if !output.status.success() {
        return None;
    }
    let path = PathBuf::from(output.stdout.lines().next()?.trim());
    path.is_file().then_some(path)
}
