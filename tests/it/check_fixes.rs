//! `--check` prints its fix in the project's words (issue #23): `uv add --optional EXTRA`
//! for `--from uv.lock --extra EXTRA`, `uv add --group GROUP` for a group, `poetry add
//! --group GROUP`, `pdm add`, `pipenv install`. Each printed fix is run, as printed, by `sh` in the directory that
//! printed it with the real tool on `PATH`; the tool must accept it and `--check` must then
//! pass.

use crate::support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::mirror::{path_with_uv, path_without_uv, Stack};
use support::python::{self, output, stderr};
use support::tools_lock::{self, Tool};

/// The pinned stack the projects start from (so that the fix needs no move of the core).
const STACK: &[&str] = &[
    "opentelemetry-distro==0.66b1",
    "opentelemetry-exporter-otlp==1.45.1",
];

/// The `fix:` lines of a failed check.
#[track_caller]
fn fixes(check: &Output) -> Vec<String> {
    assert_eq!(check.status.code(), Some(1), "{}", stderr(check));
    let fixes: Vec<String> = stderr(check)
        .lines()
        .filter_map(|line| line.strip_prefix("fix: "))
        .map(str::to_owned)
        .collect();
    assert!(!fixes.is_empty(), "no fix in:\n{}", stderr(check));
    fixes
}

/// `PATH` with `<scratch>/shims` (a `pdm` and a `pipenv` running the provisioned tools)
/// and uv first.
fn shims(stack: &Stack, tools: &[(&str, &Tool)]) -> OsString {
    let directory = stack.path("shims");
    fs::create_dir_all(&directory).unwrap();
    for (name, tool) in tools {
        let shim = directory.join(name);
        fs::write(
            &shim,
            format!(
                "#!/bin/sh\nexec '{}' -m {} \"$@\"\n",
                tool.python.display(),
                tool.module
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let mut directories = vec![directory];
    let rest = match python::uv() {
        Some(uv) => path_with_uv(&uv),
        None => path_without_uv(),
    };
    directories.extend(std::env::split_paths(&rest));
    std::env::join_paths(directories).unwrap()
}

/// Runs each fix with `sh -c` in `root` (hermetic, the tools' loopback settings); each
/// must succeed. Then `check_args` must pass.
#[track_caller]
fn run_fixes_then_check(
    stack: &Stack,
    root: &Path,
    path: &OsString,
    fixes: &[String],
    check_args: &[&str],
) {
    for fix in fixes {
        let mut command = stack.command("sh", root, path);
        command.args(["-c", fix]);
        tools_lock::loopback(&mut command, stack);
        let ran = output(&mut command);
        assert!(
            ran.status.success(),
            "the printed fix failed: {fix}\n{}\n{}",
            python::stdout(&ran),
            stderr(&ran)
        );
    }
    let again = output(stack.ours(root, path).args(check_args));
    assert_eq!(
        again.status.code(),
        Some(0),
        "--check {check_args:?} still fails after {fixes:?}:\n{}",
        stderr(&again)
    );
}

#[test]
fn uv_fixes_go_into_the_extra_or_group_that_was_checked() {
    let Some(stack) = Stack::new() else { return };
    let Some(project) = stack.uv_project("uvfix", STACK) else {
        return;
    };
    let Some(mut add) = stack.uv(&project.root) else {
        return;
    };
    python::run_ok(add.args(["add", "--optional", "web", "flask"]));
    let Some(mut add) = stack.uv(&project.root) else {
        return;
    };
    python::run_ok(add.args(["add", "--group", "svc", "requests"]));
    let path = shims(&stack, &[]);
    for (selection, expected) in [
        (["--extra", "web"], "uv add --optional web "),
        (["--group", "svc"], "uv add --group svc "),
    ] {
        let mut args = vec!["--from", "uv.lock", "--check"];
        args.extend(selection);
        let check = output(stack.ours(&project.root, &path).args(&args));
        let fixes = fixes(&check);
        assert!(fixes[0].starts_with(expected), "{fixes:?}");
        run_fixes_then_check(&stack, &project.root, &path, &fixes, &args);
    }
    let pyproject = project.pyproject();
    let web = pyproject.split("web = [").nth(1).unwrap_or_default();
    assert!(
        web.split(']')
            .next()
            .unwrap_or_default()
            .contains("opentelemetry-instrumentation-flask"),
        "{pyproject}"
    );
}

/// A project the tool locks from `pyproject`/`Pipfile` text in `<scratch>/<name>`.
fn project(stack: &Stack, name: &str, file: &str, text: &str) -> PathBuf {
    let root = stack.path(name);
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join(file), text).unwrap();
    root
}

#[test]
fn pdm_fix_is_pdm_add() {
    let Some(pdm) = tools_lock::pdm() else { return };
    let Some(stack) = Stack::new() else { return };
    let dependencies: Vec<String> = STACK
        .iter()
        .chain(&["flask", "requests"])
        .map(|requirement| format!("\"{requirement}\""))
        .collect();
    let root = project(
        &stack,
        "pdmfix",
        "pyproject.toml",
        &format!(
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \"=={}.*\"\n\
             dependencies = [{}]\n\n[tool.pdm]\ndistribution = false\n",
            python::python_version(),
            dependencies.join(", ")
        ),
    );
    let path = shims(&stack, &[("pdm", &pdm)]);
    let mut lock = stack.command("sh", &root, &path);
    lock.args(["-c", "pdm lock"]);
    tools_lock::loopback(&mut lock, &stack);
    python::run_ok(&mut lock);
    let args = ["--from", "pdm.lock", "--check"];
    let check = output(stack.ours(&root, &path).args(args));
    let fixes = fixes(&check);
    assert!(fixes[0].starts_with("pdm add "), "{fixes:?}");
    run_fixes_then_check(&stack, &root, &path, &fixes, &args);
}

#[test]
fn pipenv_fix_is_pipenv_install() {
    let Some(pipenv) = tools_lock::pipenv() else {
        return;
    };
    let Some(stack) = Stack::new() else { return };
    let packages: String = STACK
        .iter()
        .map(|pin| {
            let (name, version) = pin.split_once("==").unwrap();
            format!("{name} = \"=={version}\"\n")
        })
        .collect();
    let root = project(
        &stack,
        "pipenvfix",
        "Pipfile",
        &format!(
            "[[source]]\nurl = \"{}\"\nverify_ssl = false\nname = \"mirror\"\n\n\
             [packages]\n{packages}flask = \"*\"\nrequests = \"*\"\n",
            stack.index.url()
        ),
    );
    let path = shims(&stack, &[("pipenv", &pipenv)]);
    let args = ["--from", "Pipfile.lock", "--check"];
    let mut lock = stack.command("sh", &root, &path);
    lock.args(["-c", "pipenv lock"]);
    tools_lock::loopback(&mut lock, &stack);
    python::run_ok(&mut lock);
    let check = output(stack.ours(&root, &path).args(args));
    let fixes = fixes(&check);
    assert!(fixes[0].starts_with("pipenv install "), "{fixes:?}");
    run_fixes_then_check(&stack, &root, &path, &fixes, &args);
}

#[test]
fn poetry_fix_is_poetry_add_into_the_group() {
    let Some(poetry_python) = crate::lockfile_selection::poetry_python() else {
        return;
    };
    let Some(stack) = Stack::new() else { return };
    let pins: String = STACK
        .iter()
        .map(|pin| {
            let (name, version) = pin.split_once("==").unwrap();
            format!("{name} = \"{version}\"\n")
        })
        .collect();
    let root = project(
        &stack,
        "poetryfix",
        "pyproject.toml",
        &format!(
            "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\npackage-mode = false\n\n\
             [tool.poetry.dependencies]\npython = \"~{}\"\nflask = \"*\"\n\n\
             [tool.poetry.group.otel.dependencies]\n{pins}\n\
             [[tool.poetry.source]]\nname = \"loopback\"\nurl = \"{}\"\npriority = \"primary\"\n",
            python::python_version(),
            stack.index.url()
        ),
    );
    let tool = Tool {
        python: poetry_python,
        module: "poetry",
    };
    let path = shims(&stack, &[("poetry", &tool)]);
    let mut lock = stack.command("sh", &root, &path);
    lock.args(["-c", "poetry lock"]);
    tools_lock::loopback(&mut lock, &stack);
    python::run_ok(&mut lock);
    let args = ["--from", "poetry.lock", "--check", "--with", "otel"];
    let check = output(stack.ours(&root, &path).args(args));
    let fixes = fixes(&check);
    assert!(
        fixes[0].starts_with("poetry add --group otel "),
        "{fixes:?}"
    );
    run_fixes_then_check(&stack, &root, &path, &fixes, &args);
}
