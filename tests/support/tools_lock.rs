//! Real pipenv and PDM for the `--from Pipfile.lock` / `--from pdm.lock` tests, each in a
//! venv of its own under `target/test-tools/<tool>-<version>` (installed once with pip
//! from the package index, in a temporary directory renamed into place under the entry's
//! lock, as `python.rs` provisions), and run hermetically against the loopback mirror
//! (`mirror::Stack`).
//!
//! Scripts in those venvs keep the temporary directory in their `#!` line, so the tools
//! are run as `<entry>/bin/python -m pipenv` / `-m pdm` ([`Tool`]).
//!
//! The entries are named `pipenv-<version>` and `pdm-<version>`, as the project-manager
//! tests name theirs (`tools_pm.rs`), so whichever runs first provisions them for both. PDM
//! 2.29.4 breaks with hishel 2 (`module 'hishel' has no attribute 'SyncSqliteStorage'` on
//! any lock): it is installed with `hishel<2`, and an existing entry with hishel 2 is left
//! alone and a `pdm-<version>-hishel1` entry used instead.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::mirror::Stack;
use super::python;

pub const PIPENV_VERSION: &str = "2026.10.3";
pub const PDM_VERSION: &str = "2.29.4";

/// A provisioned tool: its venv's interpreter and the module that runs it.
#[derive(Debug, Clone)]
pub struct Tool {
    pub python: PathBuf,
    pub module: &'static str,
}

impl Tool {
    /// `<python> -m <module>` in `cwd`, hermetic ([`Stack::command`]), `PATH=path`.
    pub fn command(&self, stack: &Stack, cwd: &Path, path: &OsStr) -> Command {
        let mut command = stack.command(&self.python, cwd, path);
        command.args(["-m", self.module]);
        command
    }
}

/// The settings that keep pipenv, PDM, Poetry and uv on the loopback index with the base
/// interpreter and nothing asked: `PIPENV_*` (venv in the project), `PDM_*` (the index as
/// `PDM_PYPI_URL`), `POETRY_*` (venv in the project), `UV_PYTHON`.
pub fn loopback(command: &mut Command, stack: &Stack) {
    let python3 = python::python3().expect("python3");
    command
        .env("UV_PYTHON", &python3)
        .env("PIPENV_VENV_IN_PROJECT", "1")
        .env("PIPENV_YES", "1")
        .env("PIPENV_NOSPIN", "1")
        .env("PIPENV_IGNORE_VIRTUALENVS", "1")
        .env("PIPENV_PYTHON", &python3)
        .env("PDM_PYPI_URL", stack.index.url())
        .env("PDM_CHECK_UPDATE", "false")
        .env("PDM_NON_INTERACTIVE", "1")
        .env("PDM_PYTHON", &python3)
        .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
        .env("POETRY_NO_INTERACTION", "1");
}

/// pipenv, `<tools_dir>/pipenv-<version>`.
pub fn pipenv() -> Option<Tool> {
    let entry = format!("pipenv-{PIPENV_VERSION}");
    provision(&entry, &[&format!("pipenv=={PIPENV_VERSION}")]).map(|root| Tool {
        python: root.join("bin").join("python"),
        module: "pipenv",
    })
}

/// PDM, `<tools_dir>/pdm-<version>`, with a hishel PDM works with.
pub fn pdm() -> Option<Tool> {
    let requirements = [&*format!("pdm=={PDM_VERSION}"), "hishel<2"];
    let shared = format!("pdm-{PDM_VERSION}");
    let root = provision(&shared, &requirements)?;
    let works = Command::new(root.join("bin").join("python"))
        .args(["-c", "import hishel; hishel.SyncSqliteStorage"])
        .output()
        .is_ok_and(|output| output.status.success());
    let root = if works {
        root
    } else {
        provision(&format!("{shared}-hishel1"), &requirements)?
    };
    Some(Tool {
        python: root.join("bin").join("python"),
        module: "pdm",
    })
}

/// The venv `<tools_dir>/<entry>` with `requirements` installed, made once (uv from the
/// package index, in a temporary directory renamed into place under the entry's lock).
pub fn provision(entry: &str, requirements: &[&str]) -> Option<PathBuf> {
    let python3 = python::python3()?;
    let root = python::tools_dir().join(entry);
    let ready = |root: &Path| root.join("bin").join("python").is_file();
    if ready(&root) {
        return Some(root);
    }
    let _guard = python::lock(entry);
    if ready(&root) {
        return Some(root);
    }
    let temporary = python::tools_dir().join(format!(".tmp-{entry}-lock-{}", std::process::id()));
    let _ = fs::remove_dir_all(&temporary);
    let attempt = || -> Result<(), String> {
        let venv = Command::new(&python3)
            .args(["-m", "venv"])
            .arg(&temporary)
            .output()
            .map_err(|error| error.to_string())?;
        if !venv.status.success() {
            return Err(String::from_utf8_lossy(&venv.stderr).into_owned());
        }
        let requirements: Vec<String> = requirements.iter().map(|r| (*r).to_owned()).collect();
        python::install_tools(
            &temporary.join("bin").join("python"),
            &requirements,
            &format!("uv pip install {}", requirements.join(" ")),
        )?;
        fs::rename(&temporary, &root).map_err(|error| error.to_string())
    };
    match attempt() {
        Ok(()) => Some(root),
        Err(error) => {
            let _ = fs::remove_dir_all(&temporary);
            python::skip_or_fail(&format!("cannot provision {entry}: {error}"));
            None
        }
    }
}
