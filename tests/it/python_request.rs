//! `--python` requests as uv reads them (issue #23): `3.11` in a uv project is the
//! project's `.venv`, `3.9` is found on `PATH`, and a request nothing satisfies exits 2
//! naming what was tried.

use crate::support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::python::{self, output, stderr};

const PYENV: &str = "/root/.pyenv/versions";

/// `<PYENV>/<version>/bin`, or `None` (after skip_or_fail) when this machine lacks it.
fn pyenv_bin(version: &str) -> Option<PathBuf> {
    let bin = Path::new(PYENV).join(version).join("bin");
    if bin.join("python3").is_file() {
        Some(bin)
    } else {
        python::skip_or_fail(&format!("no Python at {}", bin.display()));
        None
    }
}

fn path_of(directories: &[PathBuf]) -> OsString {
    std::env::join_paths(directories).unwrap()
}

/// Our binary in `cwd` with `PATH=path`, `--format json --python REQUEST`.
fn run(cwd: &Path, path: &OsString, request: &str) -> Output {
    output(
        python::command(cwd)
            .env("PATH", path)
            .args(["--format", "json", "--python", request]),
    )
}

/// The environment's interpreter and prefix from the JSON document.
#[track_caller]
fn chosen(output: &Output) -> (String, String) {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    let document: serde_json::Value = serde_json::from_str(&python::stdout(output)).unwrap();
    let environment = &document["environment"];
    (
        environment["interpreter"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        environment["prefix"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn a_version_request_in_a_uv_project_is_its_venv() {
    let (Some(bin311), Some(bin312)) = (pyenv_bin("3.11.7"), pyenv_bin("3.12.1")) else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path().join("app");
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs::write(root.join("uv.lock"), "version = 1\n").unwrap();
    let created = std::process::Command::new(bin311.join("python3"))
        .args(["-m", "venv", "--without-pip"])
        .arg(root.join(".venv"))
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    // The global 3.11 first on PATH: uv's order still prefers the project's `.venv`.
    let path = path_of(&[bin311.clone(), bin312.clone()]);
    let venv = root.join(".venv").display().to_string();
    for request in ["3.11", "python3.11", "cpython@3.11", ">=3.11,<3.12", "3"] {
        let (_, prefix) = chosen(&run(&root.join("src"), &path, request));
        assert_eq!(prefix, venv, "--python {request}");
    }
    // One the `.venv` does not satisfy comes from PATH.
    let (interpreter, _) = chosen(&run(&root, &path, "3.12"));
    assert_eq!(interpreter, bin312.join("python3.12").display().to_string());
}

#[test]
fn a_version_request_is_found_on_path() {
    let (Some(bin311), Some(bin39)) = (pyenv_bin("3.11.7"), pyenv_bin("3.9.18")) else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let path = path_of(&[bin311, bin39.clone()]);
    let (interpreter, prefix) = chosen(&run(directory.path(), &path, "3.9"));
    assert_eq!(interpreter, bin39.join("python3.9").display().to_string());
    assert_eq!(
        prefix,
        Path::new(PYENV).join("3.9.18").display().to_string()
    );
}

#[test]
fn a_request_nothing_satisfies_names_what_was_tried() {
    let (Some(bin311), Some(bin39)) = (pyenv_bin("3.11.7"), pyenv_bin("3.9.18")) else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let path = path_of(&[bin311, bin39]);
    let out = output(
        python::command(directory.path())
            .env("PATH", &path)
            .args(["--python", "3.99"]),
    );
    let transcript = format!(
        "exit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        python::stdout(&out),
        stderr(&out)
    )
    .replace(PYENV, "[PYENV]");
    insta::assert_snapshot!("nothing_satisfies", transcript);
    // A path that does not exist is still a path.
    let missing = output(
        python::command(directory.path())
            .env("PATH", &path)
            .args(["--python", "./3.11"]),
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );
}
