//! Projects of every manager, end to end against the loopback mirror of real wheels: the
//! project is made with its own tool (Poetry, PDM, pipenv), `otel-bootstrap -a install`
//! runs from the project directory with nothing activated, then the tool's own lock check
//! and sync pass, `pip check` passes and a Flask server span appears under
//! `opentelemetry-instrument`. And a project whose environment does not exist yet changes
//! no interpreter at all.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::mirror::{installed, App, Stack, FLASK_FLOW};
use crate::support::python::{self, Venv};
use crate::support::tools_pm::{stable, Manager, Managers};

/// `pyproject.toml` of an application project (no package), `requires-python` pinned to
/// the base interpreter's minor so that resolution stays within the mirror's wheels.
fn pyproject(tool_tables: &str) -> String {
    format!(
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \"=={}.*\"\ndependencies = []\n\n{tool_tables}",
        python::python_version()
    )
}

/// Exit code, stdout, and stderr made stable, for a snapshot.
fn outcome(stack: &Stack, output: &std::process::Output) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        output.status.code(),
        stable(stack, &python::stdout(output)),
        stable(stack, &python::stderr(output))
    )
}

/// The Flask app's server span and `pip check`, in the project's environment.
#[track_caller]
fn spans_and_pip_check(stack: &Stack, venv: &Venv) {
    stack.pip_check(venv).assert_ok();
    let run = stack.run_app(venv, App::Flask);
    run.assert_server_and_client_spans();
}

/// `<scratch>/app`: a Poetry application project (no package) on the loopback index.
fn poetry_project(stack: &Stack) -> std::path::PathBuf {
    let root = stack.path("app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        pyproject(&format!(
            "[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\nname = \"loopback\"\nurl = \"{}\"\npriority = \"primary\"\n",
            stack.index.url()
        )),
    )
    .unwrap();
    root
}

#[test]
fn poetry_project_records_with_poetry_add_and_survives_poetry_sync() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::Poetry]) else {
        return;
    };
    let root = poetry_project(&stack);
    let mut add = vec!["add"];
    add.extend_from_slice(FLASK_FLOW);
    managers.run(&stack, "poetry", &root, &add);
    let prefix = managers.run(&stack, "poetry", &root, &["env", "info", "--path"]);
    let venv = Venv::at(Path::new(prefix.trim()));
    assert!(
        venv.root.starts_with(stack.path("home")),
        "Poetry's environment is under its cache: {}",
        venv.root.display()
    );

    // Verbose discovery names the project and its tool.
    let verbose = managers.ours(&stack, &root, &["-v"]);
    let text = python::stderr(&verbose);
    assert!(text.contains("project: Poetry (poetry.lock in "), "{text}");
    let json = managers.ours(&stack, &root, &["--format", "json"]);
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["environment"]["project"]["tool"], "poetry");
    assert_eq!(document["environment"]["source"], "project");

    // `--check` on the project's environment prints the fix in Poetry's words.
    let check = managers.ours(&stack, &root, &["--check"]);
    let text = python::stderr(&check);
    assert_eq!(check.status.code(), Some(1), "{text}");
    assert!(text.contains("poetry add "), "{text}");
    assert!(!text.contains("pip install"), "{text}");

    let installed_before = managers.ours(&stack, &root, &["-a", "install"]);
    insta::assert_snapshot!("poetry_install", outcome(&stack, &installed_before));
    assert_eq!(installed_before.status.code(), Some(0));
    let manifest = fs::read_to_string(root.join("pyproject.toml")).unwrap();
    assert!(
        manifest.contains("opentelemetry-instrumentation-flask"),
        "{manifest}"
    );

    managers.run(&stack, "poetry", &root, &["check", "--lock"]);
    let before_sync = installed(&venv);
    managers.run(&stack, "poetry", &root, &["sync"]);
    assert_eq!(installed(&venv), before_sync, "poetry sync changed nothing");
    spans_and_pip_check(&stack, &venv);
    // Nothing left to do, nothing changed.
    let again = managers.ours(&stack, &root, &["-a", "install"]);
    assert_eq!(again.status.code(), Some(0), "{}", python::stderr(&again));
    assert!(python::stderr(&again).contains("Nothing to install"));
}

#[test]
fn a_poetry_project_without_its_environment_changes_no_interpreter() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::Poetry]) else {
        return;
    };
    let root = poetry_project(&stack);
    managers.run(&stack, "poetry", &root, &["lock"]);
    // `poetry lock` made the environment: remove it, as after a fresh clone.
    managers.run(&stack, "poetry", &root, &["env", "remove", "--all"]);
    // A venv on PATH (as the global interpreter would be): never touched.
    let other = stack.venv_without_pip("other", &["flask"]);
    let before = installed(&other);
    let mut path = vec![other.root.join("bin")];
    path.extend(std::env::split_paths(&managers.path));
    let path = std::env::join_paths(path).unwrap();
    let mut command = stack.ours(&root, &path);
    command.args(["-a", "install"]);
    let output = python::output(&mut command);
    insta::assert_snapshot!("poetry_without_environment", outcome(&stack, &output));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(installed(&other), before);
    let mut command = stack.ours(&root, &path);
    let requirements = python::output(&mut command);
    assert_eq!(requirements.status.code(), Some(2));
}

#[test]
fn pdm_project_records_with_pdm_add_in_its_pip_less_venv() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::Pdm]) else {
        return;
    };
    let root = stack.path("app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        pyproject("[tool.pdm]\ndistribution = false\n"),
    )
    .unwrap();
    let mut add = vec!["add"];
    add.extend_from_slice(FLASK_FLOW);
    managers.run(&stack, "pdm", &root, &add);
    let venv = Venv::at(&root.join(".venv"));
    assert!(!venv.bin("pip").exists(), "PDM's venv has no pip");

    // No uv, no pip: `pdm add` records and installs.
    let output = managers.ours(&stack, &root, &["-a", "install"]);
    insta::assert_snapshot!("pdm_install", outcome(&stack, &output));
    assert_eq!(output.status.code(), Some(0));

    managers.run(&stack, "pdm", &root, &["lock", "--check"]);
    let before_sync = installed(&venv);
    managers.run(&stack, "pdm", &root, &["sync", "--clean"]);
    assert_eq!(
        installed(&venv),
        before_sync,
        "pdm sync --clean changed nothing"
    );
    spans_and_pip_check(&stack, &venv);
}

#[test]
fn uv_project_keeping_the_distro_in_a_dependency_group() {
    let Some(stack) = Stack::new() else { return };
    let Some(project) = stack.uv_project("grp", &["flask", "requests"]) else {
        return;
    };
    let Some(mut add) = stack.uv(&project.root) else {
        return;
    };
    python::run_ok(add.args([
        "add",
        "--group",
        "otel",
        "opentelemetry-distro",
        "opentelemetry-exporter-otlp",
    ]));
    let Some(mut sync) = stack.uv(&project.root) else {
        return;
    };
    python::run_ok(sync.args(["sync", "--group", "otel"]));
    let output = stack.install_in_project(&project, &[]);
    insta::assert_snapshot!("uv_group_install", outcome(&stack, &output));
    assert_eq!(output.status.code(), Some(0));
    let manifest = project.pyproject();
    let group = manifest
        .split("[dependency-groups]")
        .nth(1)
        .unwrap_or_default();
    assert!(
        group.contains("opentelemetry-instrumentation-flask"),
        "the instrumentations go to the distro's group:\n{manifest}"
    );
    let Some(mut locked) = stack.uv(&project.root) else {
        return;
    };
    python::run_ok(locked.args(["sync", "--locked", "--group", "otel"]));
    spans_and_pip_check(&stack, &project.venv);
}

#[test]
fn uv_workspace_member_records_into_the_member() {
    let Some(stack) = Stack::new() else { return };
    let root = stack.path("ws");
    let member = root.join("packages/svc");
    let library = root.join("packages/lib");
    fs::create_dir_all(&member).unwrap();
    fs::create_dir_all(&library).unwrap();
    let requires = format!("requires-python = \"=={}.*\"", python::python_version());
    fs::write(
        root.join("pyproject.toml"),
        "[tool.uv.workspace]\nmembers = [\"packages/*\"]\n",
    )
    .unwrap();
    fs::write(
        member.join("pyproject.toml"),
        format!("[project]\nname = \"svc\"\nversion = \"0.1.0\"\n{requires}\ndependencies = []\n\n# kept\n[tool.uv]\npackage = false\n"),
    )
    .unwrap();
    fs::write(
        library.join("pyproject.toml"),
        format!("[project]\nname = \"lib\"\nversion = \"0.1.0\"\n{requires}\ndependencies = [\"requests\"]\n\n[tool.uv]\npackage = false\n"),
    )
    .unwrap();
    let Some(mut add) = stack.uv(&member) else {
        return;
    };
    let mut arguments = vec!["add"];
    arguments.extend_from_slice(FLASK_FLOW);
    python::run_ok(add.args(&arguments));
    let Some(mut sync) = stack.uv(&root) else {
        return;
    };
    python::run_ok(sync.args(["sync", "--all-packages"]));
    let root_manifest = fs::read_to_string(root.join("pyproject.toml")).unwrap();

    let path = crate::support::mirror::path_with_uv(&python::uv().unwrap());
    let mut ours = stack.ours(&member, &path);
    ours.args(["-a", "install"]);
    let output = python::output(&mut ours);
    insta::assert_snapshot!("uv_workspace_member_install", outcome(&stack, &output));
    assert_eq!(output.status.code(), Some(0));
    let manifest = fs::read_to_string(member.join("pyproject.toml")).unwrap();
    assert!(
        manifest.contains("opentelemetry-instrumentation-flask"),
        "{manifest}"
    );
    assert!(manifest.contains("# kept"), "{manifest}");
    assert_eq!(
        fs::read_to_string(root.join("pyproject.toml")).unwrap(),
        root_manifest
    );
    let Some(mut locked) = stack.uv(&root) else {
        return;
    };
    python::run_ok(locked.args(["sync", "--locked", "--all-packages"]));
    spans_and_pip_check(&stack, &Venv::at(&root.join(".venv")));
}

#[test]
fn pipenv_project_records_with_pipenv_install_then_lock() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::Pipenv]) else {
        return;
    };
    let root = stack.path("web");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("Pipfile"),
        format!(
            "[[source]]\nurl = \"{}\"\nverify_ssl = false\nname = \"loopback\"\n\n[packages]\n\n[requires]\npython_version = \"{}\"\n",
            stack.index.url(),
            python::python_version()
        ),
    )
    .unwrap();
    let mut add = vec!["install"];
    add.extend_from_slice(FLASK_FLOW);
    managers.run(&stack, "pipenv", &root, &add);
    let prefix = managers.run(&stack, "pipenv", &root, &["--venv"]);
    let venv = Venv::at(Path::new(prefix.trim()));
    assert!(
        venv.root.starts_with(stack.path("home")),
        "{}",
        venv.root.display()
    );

    let output = managers.ours(&stack, &root, &["-a", "install"]);
    assert_eq!(output.status.code(), Some(0), "{}", python::stderr(&output));
    let pipfile = fs::read_to_string(root.join("Pipfile")).unwrap();
    assert!(
        pipfile.contains("opentelemetry-instrumentation-flask"),
        "{pipfile}"
    );

    managers.run(&stack, "pipenv", &root, &["verify"]);
    managers.run(&stack, "pipenv", &root, &["sync"]);
    spans_and_pip_check(&stack, &venv);
}

#[test]
fn hatch_project_is_recorded_in_pyproject_and_survives_prune_and_recreate() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::Hatch]) else {
        return;
    };
    let root = stack.path("app");
    fs::create_dir_all(&root).unwrap();
    let dependencies: Vec<String> = FLASK_FLOW
        .iter()
        .map(|name| format!("    \"{name}\","))
        .collect();
    // The environment skips installing the project (no build backend on the loopback
    // index), so it installs from its own `dependencies`: the instrumentations go there,
    // where the project keeps `opentelemetry-distro`.
    fs::write(
        root.join("pyproject.toml"),
        pyproject(&format!(
            "[tool.hatch.envs.default]\nskip-install = true\n# what the app runs with\ndependencies = [\n{}\n]  # kept\n",
            dependencies.join("\n")
        )),
    )
    .unwrap();
    managers.run(&stack, "hatch", &root, &["env", "create"]);
    let prefix = managers.run(&stack, "hatch", &root, &["env", "find"]);
    let venv = Venv::at(Path::new(prefix.trim()));
    assert!(
        venv.root.starts_with(stack.path("home")),
        "{}",
        venv.root.display()
    );
    let verbose = managers.ours(&stack, &root, &["-v"]);
    assert!(
        python::stderr(&verbose)
            .contains("project: Hatch ([tool.hatch.envs] in pyproject.toml in "),
        "{}",
        python::stderr(&verbose)
    );
    let output = managers.ours(&stack, &root, &["-a", "install"]);
    let text = python::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("requirements in `tool.hatch.envs.default.dependencies` of "),
        "{text}"
    );
    let manifest = fs::read_to_string(root.join("pyproject.toml")).unwrap();
    assert!(
        manifest.contains("    \"opentelemetry-instrumentation-flask=="),
        "{manifest}"
    );
    assert!(
        manifest.contains("# what the app runs with\n"),
        "{manifest}"
    );
    assert!(manifest.contains("]  # kept\n"), "{manifest}");
    spans_and_pip_check(&stack, &venv);

    // Hatch has no lock: a pruned environment is made again from the manifest.
    managers.run(&stack, "hatch", &root, &["env", "prune"]);
    assert!(!venv.root.exists(), "{}", venv.root.display());
    managers.run(&stack, "hatch", &root, &["run", "python", "-c", "pass"]);
    let recreated = installed(&venv);
    assert!(
        recreated.contains_key("opentelemetry-instrumentation-flask"),
        "{recreated:?}"
    );
    spans_and_pip_check(&stack, &venv);
    let again = managers.ours(&stack, &root, &["-a", "install"]);
    assert_eq!(again.status.code(), Some(0), "{}", python::stderr(&again));
    assert!(python::stderr(&again).contains("Nothing to install"));
}

/// `<scratch>/app` with a `requirements.in` of `header` and the Flask flow, compiled by
/// pip-tools into `requirements.txt`; returns the directory and the input's text.
fn compiled_pip_tools_project(
    stack: &Stack,
    managers: &Managers,
    header: &str,
) -> (PathBuf, String) {
    let root = stack.path("app");
    fs::create_dir_all(&root).unwrap();
    let mut input = String::from(header);
    for name in FLASK_FLOW {
        input.push_str(name);
        input.push('\n');
    }
    fs::write(root.join("requirements.in"), &input).unwrap();
    managers.run(
        stack,
        "pip-compile",
        &root,
        &[
            "--quiet",
            "--output-file=requirements.txt",
            "requirements.in",
        ],
    );
    (root, input)
}

/// The project's `.venv` (with the pip `pip-sync` needs), synced to `requirements.txt`;
/// returns it and the `--python-executable=` argument that names it.
fn synced_pip_tools_venv(
    stack: &Stack,
    managers: &Managers,
    root: &Path,
) -> Option<(Venv, String)> {
    let pip_wheel = crate::support::tools_pm::pip_wheel_directory()?;
    let venv = stack.pip_venv("app/.venv", &[]);
    venv.pip_install_from(&[&pip_wheel], &["pip==26.3"]);
    let executable = format!("--python-executable={}", venv.python.display());
    managers.run(stack, "pip-sync", root, &[&executable, "requirements.txt"]);
    Some((venv, executable))
}

#[test]
fn pip_tools_project_records_in_requirements_in_and_survives_pip_sync() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::PipTools]) else {
        return;
    };
    let (root, _) = compiled_pip_tools_project(&stack, &managers, "# what the app runs with\n");
    let Some((venv, executable)) = synced_pip_tools_venv(&stack, &managers, &root) else {
        return;
    };

    let output = managers.ours(&stack, &root, &["-a", "install"]);
    let text = python::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let recorded = fs::read_to_string(root.join("requirements.in")).unwrap();
    assert!(
        recorded.starts_with("# what the app runs with\n"),
        "{recorded}"
    );
    assert!(
        recorded.contains("\nopentelemetry-instrumentation-flask=="),
        "{recorded}"
    );
    let compiled = fs::read_to_string(root.join("requirements.txt")).unwrap();
    assert!(
        compiled.contains("opentelemetry-instrumentation-flask=="),
        "{compiled}"
    );
    // The tool's own sync keeps them.
    let before_sync = installed(&venv);
    managers.run(
        &stack,
        "pip-sync",
        &root,
        &[&executable, "requirements.txt"],
    );
    assert_eq!(installed(&venv), before_sync, "pip-sync changed nothing");
    spans_and_pip_check(&stack, &venv);
}

/// `--check` in a pip-tools project: with no `.venv`, the Python on `PATH` is not the
/// project's (a warning says so, and the fix is a plain pip install into it, as `-a install`
/// would do); with one, the fix records in `requirements.in`, compiles and syncs, and
/// following it word for word makes the check pass.
#[test]
fn pip_tools_check_fix_records_compiles_and_syncs() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::PipTools]) else {
        return;
    };
    let (root, mut input) = compiled_pip_tools_project(&stack, &managers, "");

    let fix = |output: &std::process::Output| -> String {
        let text = python::stderr(output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        text.lines()
            .find_map(|line| line.strip_prefix("fix: "))
            .unwrap_or_else(|| panic!("no fix in:\n{text}"))
            .to_owned()
    };
    let no_venv = managers.ours(&stack, &root, &["--check"]);
    let text = python::stderr(&no_venv);
    assert!(
        text.contains("(from PATH) is not an environment of the pip-tools project")
            && text.contains("which has no `.venv`"),
        "{text}"
    );
    let plain = fix(&no_venv);
    assert!(
        plain.contains(" -m pip install ") && !plain.contains("requirements.in"),
        "{plain}"
    );

    let Some((venv, _)) = synced_pip_tools_venv(&stack, &managers, &root) else {
        return;
    };
    let check = managers.ours(&stack, &root, &["--check"]);
    assert!(
        !python::stderr(&check).contains("is not an environment of"),
        "{}",
        python::stderr(&check)
    );
    // `add A B to `<in>`, then `pip-compile <in>` and `pip-sync --python-executable <py> <txt>``
    let fix = fix(&check);
    let parts: Vec<&str> = fix.split('`').collect();
    assert_eq!(parts.len(), 7, "{fix}");
    let requirements = parts[0]
        .strip_prefix("add ")
        .and_then(|rest| rest.strip_suffix(" to "))
        .unwrap_or_else(|| panic!("{fix}"));
    assert_eq!(parts[1], root.join("requirements.in").display().to_string());
    let expected_sync = format!(
        "pip-sync --python-executable {} {}",
        venv.python.display(),
        root.join("requirements.txt").display()
    );
    assert_eq!(parts[5], expected_sync, "{fix}");
    for requirement in requirements.split(' ') {
        input.push_str(requirement);
        input.push('\n');
    }
    fs::write(root.join("requirements.in"), &input).unwrap();
    for step in [parts[3], parts[5]] {
        let mut words = step.split(' ');
        let program = words.next().unwrap();
        let args: Vec<&str> = words.collect();
        managers.run(&stack, program, &root, &args);
    }
    let again = managers.ours(&stack, &root, &["--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", python::stderr(&again));
}

#[test]
fn a_failed_pip_tools_recording_puts_both_files_back_byte_for_byte() {
    let Some(stack) = Stack::new() else { return };
    let Some(managers) = Managers::new(&stack, &[Manager::PipTools]) else {
        return;
    };
    let root = stack.path("app");
    fs::create_dir_all(&root).unwrap();
    // `pip-compile` fails on the missing constraints file, after the input was edited.
    let input = "# keep me\n-c missing-constraints.txt\nflask  # web\n";
    let compiled = "flask==3.1.0\n# compiled by hand\n";
    fs::write(root.join("requirements.in"), input).unwrap();
    fs::write(root.join("requirements.txt"), compiled).unwrap();
    stack.pip_venv("app/.venv", &["flask"]);
    let output = managers.ours(&stack, &root, &["-a", "install"]);
    let text = python::stderr(&output);
    assert_ne!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("pip-compile"), "{text}");
    assert_eq!(
        fs::read_to_string(root.join("requirements.in")).unwrap(),
        input
    );
    assert_eq!(
        fs::read_to_string(root.join("requirements.txt")).unwrap(),
        compiled
    );
}
