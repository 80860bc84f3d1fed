//! `-a install` against real pip and real uv, offline: a small registry written by the test
//! whose packages are wheels the test builds, served by a package index on 127.0.0.1.
//!
//! Every command runs with a clean environment (`support::python::command`), no
//! configuration files, caches inside the test's temporary directory, and `PATH` reduced
//! to what the case needs (with or without uv), so neither installer can reach the
//! internet or depend on the machine's settings (`PIP_FIND_LINKS` is set globally on some
//! machines: it is not passed).

use crate::support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::index::IndexServer;
use support::python::{self, Venv};
use support::wheel::{build_wheel, WheelSpec};

const FLASK_INSTRUMENTATION: &str = "opentelemetry-instrumentation-flask";
const SQLITE_INSTRUMENTATION: &str = "opentelemetry-instrumentation-sqlite3";
const CORE: &str = "opentelemetry-instrumentation";

/// A release file (schema 1): one default instrumentation (sqlite3) and flask's, both
/// pinned to the release; `flask_published: false` makes the release partial.
fn release_json(release: &str, flask_published: bool) -> String {
    format!(
        r#"{{
  "schema": 1,
  "release": "{release}",
  "core": [
    {{ "name": "{CORE}", "version": "{release}", "published": true }}
  ],
  "instrumentations": [
    {{
      "name": "{SQLITE_INSTRUMENTATION}",
      "requirement": "{SQLITE_INSTRUMENTATION}=={release}",
      "kind": "default",
      "published": true,
      "instruments": [],
      "instruments_any": []
    }},
    {{
      "name": "{FLASK_INSTRUMENTATION}",
      "requirement": "{FLASK_INSTRUMENTATION}=={release}",
      "kind": "library",
      "published": {flask_published},
      "instruments": ["flask>=1.0"],
      "instruments_any": []
    }}
  ]
}}
"#
    )
}

/// The wheels of one release: the core package and both instrumentations, pinning it.
fn release_wheels(release: &str, wheels: &Path) {
    build_wheel(&WheelSpec::new(CORE, release), wheels);
    for name in [SQLITE_INSTRUMENTATION, FLASK_INSTRUMENTATION] {
        let mut spec = WheelSpec::new(name, release).requires(format!("{CORE}=={release}"));
        if name == FLASK_INSTRUMENTATION {
            spec = spec.requires("flask>=1.0; extra == \"instruments\"");
        }
        build_wheel(&spec, wheels);
    }
}

/// A test's world: wheels, the index serving them, the registry file, a scratch directory.
struct World {
    dir: tempfile::TempDir,
    wheels: PathBuf,
    registry: PathBuf,
    index: IndexServer,
}

impl World {
    /// Release 0.66b1 complete, `flask` 2.0.0 on the index.
    fn new() -> World {
        Self::with(|wheels, registry| {
            release_wheels("0.66b1", wheels);
            fs::write(registry.join("0.66b1.json"), release_json("0.66b1", true)).unwrap();
        })
    }

    fn with(setup: impl FnOnce(&Path, &Path)) -> World {
        let dir = tempfile::tempdir().unwrap();
        let wheels = dir.path().join("wheels");
        let registry = dir.path().join("registry");
        fs::create_dir_all(&wheels).unwrap();
        fs::create_dir_all(&registry).unwrap();
        build_wheel(&WheelSpec::new("flask", "2.0.0"), &wheels);
        setup(&wheels, &registry);
        let index = IndexServer::start(&wheels);
        World {
            dir,
            wheels,
            registry,
            index,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Our binary, hermetic: installers configured for the loopback index only.
    fn ours(&self, cwd: &Path, path: &OsString) -> Command {
        let mut command = python::command(cwd);
        installer_environment(&mut command, self.dir.path(), path);
        command.arg("--registry").arg(&self.registry);
        command
    }

    /// `-a install --python <venv> --index-url <loopback>`, plus `extra`.
    fn install(&self, venv: &Venv, path: &OsString, extra: &[&str]) -> Output {
        let mut command = self.ours(self.dir.path(), path);
        command
            .args(["-a", "install", "--python"])
            .arg(&venv.root)
            .arg("--index-url")
            .arg(self.index.url())
            .args(extra);
        python::output(&mut command)
    }
}

/// Variables that keep pip and uv offline and hermetic.
fn installer_environment(command: &mut Command, scratch: &Path, path: &OsString) {
    command
        .env("PATH", path)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .env("PIP_RETRIES", "1")
        .env("PIP_TIMEOUT", "5")
        .env("UV_NO_CONFIG", "1")
        .env("UV_CACHE_DIR", scratch.join("uv-cache"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_HTTP_RETRIES", "0")
        .env("UV_NO_PROGRESS", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
}

/// `PATH` without any directory holding `uv`.
fn path_without_uv() -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|directory| !directory.join("uv").exists())
        .collect();
    std::env::join_paths(kept).unwrap()
}

/// `PATH` with `uv`'s directory first.
fn path_with_uv(uv: &Path) -> OsString {
    let mut directories = vec![uv.parent().unwrap().to_path_buf()];
    directories.extend(std::env::split_paths(&path_without_uv()));
    std::env::join_paths(directories).unwrap()
}

/// The installed version of each project, read by the venv's own interpreter.
fn versions(venv: &Venv, names: &[&str]) -> Vec<Option<String>> {
    let code = format!(
        "import importlib.metadata as m\nfor n in {names:?}:\n    try: print(m.version(n))\n    except m.PackageNotFoundError: print('-')"
    );
    venv.python_c(&code)
        .lines()
        .map(|line| (line != "-").then(|| line.to_owned()))
        .collect()
}

fn some(version: &str) -> Option<String> {
    Some(version.to_owned())
}

/// A venv (with its own pip when `with_pip`) holding flask 2.0.0 from the test's wheels.
fn venv_with_flask(world: &World, name: &str, with_pip: bool) -> Option<Venv> {
    let root = world.path(name);
    let venv = if with_pip {
        python::venv_with_pip(&root)?
    } else {
        python::venv(&root)?
    };
    venv.pip_install_from(&[&world.wheels], &["flask==2.0.0"]);
    Some(venv)
}

fn uv_venv_with_flask(world: &World, name: &str) -> Option<Venv> {
    let venv = python::uv_venv(&world.path(name))?;
    venv.pip_install_from(&[&world.wheels], &["flask==2.0.0"]);
    Some(venv)
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        python::stdout(output),
        python::stderr(output)
    );
}

const PLANNED: [&str; 3] = [SQLITE_INSTRUMENTATION, FLASK_INSTRUMENTATION, CORE];

#[test]
fn a_pip_venv_is_installed_in_one_pip_run_and_a_second_run_is_a_no_op() {
    let world = World::new();
    let Some(venv) = venv_with_flask(&world, "venv", true) else {
        return;
    };
    let output = world.install(&venv, &path_without_uv(), &[]);
    assert_exit(&output, 0);
    assert_eq!(python::stdout(&output), "", "install mode prints no data");
    let stderr = python::stderr(&output);
    assert!(stderr.contains("with pip install"), "{stderr}");
    assert_eq!(
        versions(&venv, &PLANNED),
        [some("0.66b1"), some("0.66b1"), some("0.66b1")]
    );

    world.index.clear_requests();
    let again = world.install(&venv, &path_without_uv(), &[]);
    assert_exit(&again, 0);
    assert!(
        python::stderr(&again).contains("Nothing to install"),
        "{}",
        python::stderr(&again)
    );
    assert_eq!(world.index.request_count(), 0, "no installer ran");
}

#[test]
fn a_uv_venv_without_pip_is_installed_with_uv_pip() {
    let world = World::new();
    let Some(uv) = python::uv() else { return };
    let Some(venv) = uv_venv_with_flask(&world, "venv") else {
        return;
    };
    let output = world.install(&venv, &path_with_uv(&uv), &[]);
    assert_exit(&output, 0);
    assert_eq!(python::stdout(&output), "");
    assert!(
        python::stderr(&output).contains("with uv pip install"),
        "{}",
        python::stderr(&output)
    );
    assert_eq!(
        versions(&venv, &PLANNED),
        [some("0.66b1"), some("0.66b1"), some("0.66b1")]
    );
    let again = world.install(&venv, &path_with_uv(&uv), &[]);
    assert_exit(&again, 0);
    assert!(python::stderr(&again).contains("Nothing to install"));
}

#[test]
fn a_missing_installer_is_an_error_with_a_hint() {
    let world = World::new();
    // uv made the venv (no pip in it), and uv is not on PATH.
    let Some(venv) = uv_venv_with_flask(&world, "uv-venv") else {
        return;
    };
    let output = world.install(&venv, &path_without_uv(), &[]);
    assert_exit(&output, 2);
    let stderr = python::stderr(&output);
    assert!(stderr.contains("uv is needed"), "{stderr}");
    assert!(stderr.contains("hint: install uv"), "{stderr}");

    // `--installer pip` where there is no pip.
    let output = world.install(&venv, &path_without_uv(), &["--installer", "pip"]);
    assert_exit(&output, 2);
    assert!(python::stderr(&output).contains("pip is not installed"));
    assert_eq!(versions(&venv, &[FLASK_INSTRUMENTATION]), [None]);
}

#[test]
fn dry_run_prints_the_command_redacted_and_changes_nothing() {
    let world = World::new();
    let Some(venv) = venv_with_flask(&world, "venv", false) else {
        return;
    };
    let url = world.index.url().replace("http://", "http://user:s3cret@");
    let mut command = world.ours(world.dir.path(), &path_without_uv());
    command
        .args([
            "-a",
            "install",
            "--installer",
            "pip",
            "--dry-run",
            "--python",
        ])
        .arg(&venv.root)
        .arg("--index-url")
        .arg(&url)
        .args(["--", "--no-compile"]);
    // A venv without pip and `--installer pip`: refused, even for a dry run.
    assert_exit(&python::output(&mut command), 2);

    let Some(venv) = venv_with_flask(&world, "venv-pip", true) else {
        return;
    };
    let mut command = world.ours(world.dir.path(), &path_without_uv());
    command
        .args(["-a", "install", "--dry-run", "--python"])
        .arg(&venv.root)
        .arg("--index-url")
        .arg(&url)
        .args(["--", "--no-compile"]);
    let output = python::output(&mut command);
    assert_exit(&output, 0);
    let stdout = python::stdout(&output);
    let expected = format!(
        "{} -m pip install -U --upgrade-strategy only-if-needed --index-url={} --no-compile -- {SQLITE_INSTRUMENTATION}==0.66b1 {FLASK_INSTRUMENTATION}==0.66b1\n",
        venv.python.display(),
        world.index.url().replace("http://", "http://user:****@"),
    );
    assert_eq!(stdout, expected);
    assert!(!python::stderr(&output).contains("s3cret"));
    assert_eq!(world.index.request_count(), 0);
    assert_eq!(versions(&venv, &[FLASK_INSTRUMENTATION]), [None]);
}

#[test]
fn a_conflict_left_by_the_installer_is_reported_by_package_name() {
    let world = World::new();
    let Some(uv) = python::uv() else { return };
    let Some(venv) = uv_venv_with_flask(&world, "venv") else {
        return;
    };
    // `--no-deps`, passed through: the core package the instrumentations pin is left out.
    let output = world.install(&venv, &path_with_uv(&uv), &["--", "--no-deps"]);
    assert_exit(&output, 1);
    let stderr = python::stderr(&output);
    for name in [SQLITE_INSTRUMENTATION, FLASK_INSTRUMENTATION] {
        let line =
            format!("conflict: {name} 0.66b1 requires `{CORE}==0.66b1`, which is not installed");
        assert!(stderr.contains(&line), "{line}\n{stderr}");
    }
    assert!(
        !stderr.contains("requires `flask"),
        "extras are ignored: {stderr}"
    );
}

#[test]
fn a_package_missing_from_the_index_fails_naming_it_and_changes_nothing() {
    let world = World::with(|wheels, registry| {
        release_wheels("0.66b1", wheels);
        fs::remove_file(wheels.join("opentelemetry_instrumentation_flask-0.66b1-py3-none-any.whl"))
            .unwrap();
        fs::write(registry.join("0.66b1.json"), release_json("0.66b1", true)).unwrap();
    });
    let Some(pip_venv) = venv_with_flask(&world, "pip-venv", true) else {
        return;
    };
    let output = world.install(&pip_venv, &path_without_uv(), &[]);
    assert_exit(&output, 1);
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("error: pip install found no way to install the plan")
            && stderr.contains(FLASK_INSTRUMENTATION),
        "{stderr}"
    );
    assert_eq!(versions(&pip_venv, &[SQLITE_INSTRUMENTATION]), [None]);

    let Some(uv) = python::uv() else { return };
    let Some(uv_venv) = uv_venv_with_flask(&world, "uv-venv") else {
        return;
    };
    let output = world.install(&uv_venv, &path_with_uv(&uv), &[]);
    assert_exit(&output, 1);
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("error: uv pip install found no way to install the plan")
            && stderr.contains(FLASK_INSTRUMENTATION),
        "{stderr}"
    );
    assert_eq!(versions(&uv_venv, &[SQLITE_INSTRUMENTATION]), [None]);
}

#[test]
fn an_unreachable_index_is_an_error() {
    let world = World::new();
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}/simple/");
    let Some(venv) = venv_with_flask(&world, "venv", true) else {
        return;
    };
    let mut command = world.ours(world.dir.path(), &path_without_uv());
    command
        .args(["-a", "install", "--python"])
        .arg(&venv.root)
        .arg("--index-url")
        .arg(&url);
    let output = python::output(&mut command);
    assert_exit(&output, 2);
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("error: pip install could not reach the package index"),
        "{stderr}"
    );

    let Some(uv) = python::uv() else { return };
    let mut command = world.ours(world.dir.path(), &path_with_uv(&uv));
    command
        .args(["-a", "install", "--installer", "uv", "--python"])
        .arg(&venv.root)
        .arg("--index-url")
        .arg(&url);
    let output = python::output(&mut command);
    assert_exit(&output, 2);
    assert!(
        python::stderr(&output).contains("error: uv pip install could not reach the package index"),
        "{}",
        python::stderr(&output)
    );
}

#[test]
fn a_partial_release_moves_the_core_package_in_the_same_transaction() {
    let world = World::with(|wheels, registry| {
        release_wheels("0.65b0", wheels);
        release_wheels("0.66b1", wheels);
        fs::write(registry.join("0.65b0.json"), release_json("0.65b0", true)).unwrap();
        // flask's instrumentation was never published at 0.66b1.
        fs::write(registry.join("0.66b1.json"), release_json("0.66b1", false)).unwrap();
    });
    let Some(uv) = python::uv() else { return };
    let Some(venv) = uv_venv_with_flask(&world, "venv") else {
        return;
    };
    venv.pip_install_from(&[&world.wheels], &["opentelemetry-instrumentation==0.66b1"]);
    let output = world.install(&venv, &path_with_uv(&uv), &["-v"]);
    assert_exit(&output, 0);
    let stderr = python::stderr(&output);
    // One line says the release is partial; `-v` names the core move.
    assert!(
        stderr.contains("release `0.66b1` is partial (1 recommended package was never published at it); using `0.65b0`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "core packages that move: opentelemetry-instrumentation 0.66b1 -> opentelemetry-instrumentation==0.65b0"
        ),
        "{stderr}"
    );
    assert_eq!(
        versions(&venv, &PLANNED),
        [some("0.65b0"), some("0.65b0"), some("0.65b0")]
    );
}

#[test]
fn a_uv_project_records_the_instrumentations_so_uv_sync_keeps_them() {
    let world = World::new();
    let Some(uv) = python::uv() else { return };
    let Some(python3) = python::python3() else {
        return;
    };
    let project = world.path("app");
    fs::create_dir_all(&project).unwrap();
    let uv_in = |args: &[&str]| {
        let mut command = Command::new(&uv);
        command.env_clear();
        installer_environment(&mut command, world.dir.path(), &path_with_uv(&uv));
        command
            .env("HOME", python::empty_home())
            .env("UV_INDEX_URL", world.index.url())
            .env("UV_PYTHON", &python3)
            .current_dir(&project)
            .args(args);
        python::run_ok(&mut command)
    };
    uv_in(&["init", "--bare", "--name", "app", "--no-workspace"]);
    uv_in(&["add", "flask==2.0.0"]);
    let venv = Venv::at(&project.join(".venv"));

    let mut command = world.ours(&project, &path_with_uv(&uv));
    command
        .env("UV_INDEX_URL", world.index.url())
        .args(["-a", "install"]);
    let output = python::output(&mut command);
    assert_exit(&output, 0);
    assert!(
        python::stderr(&output).contains("with uv add"),
        "{}",
        python::stderr(&output)
    );
    let pyproject = fs::read_to_string(project.join("pyproject.toml")).unwrap();
    for name in [SQLITE_INSTRUMENTATION, FLASK_INSTRUMENTATION] {
        assert!(
            pyproject.contains(&format!("{name}==0.66b1")),
            "{pyproject}"
        );
    }
    uv_in(&["sync"]);
    assert_eq!(
        versions(&venv, &PLANNED),
        [some("0.66b1"), some("0.66b1"), some("0.66b1")]
    );

    let mut again = world.ours(&project, &path_with_uv(&uv));
    again.args(["-a", "install"]);
    let again = python::output(&mut again);
    assert_exit(&again, 0);
    assert!(python::stderr(&again).contains("Nothing to install"));
}

/// A Python installation that is not a venv, with an `EXTERNALLY-MANAGED` file: the
/// interpreter binary copied into a fresh prefix whose stdlib entries link to the real
/// ones (a venv will not do: pip and uv skip the PEP 668 check inside virtual
/// environments). `None` when the base interpreter's layout does not allow it.
fn externally_managed_python(root: &Path) -> Option<PathBuf> {
    let python3 = python::python3()?;
    let probe = python::output(Command::new(&python3).args([
        "-I",
        "-c",
        "import sys,sysconfig;print(sys.base_prefix);print(sysconfig.get_path('stdlib'));print(sysconfig.get_path('purelib'));print('%d.%d'%sys.version_info[:2])",
    ]));
    let text = python::stdout(&probe);
    let lines: Vec<&str> = text.lines().collect();
    let [_, stdlib, purelib, version] = lines[..] else {
        return None;
    };
    let real = fs::canonicalize(&python3).ok()?;
    let prefix = root.to_path_buf();
    let bin = prefix.join("bin");
    let lib = prefix.join("lib").join(format!("python{version}"));
    let site = lib.join("site-packages");
    fs::create_dir_all(&bin).ok()?;
    fs::create_dir_all(&site).ok()?;
    let interpreter = bin.join(format!("python{version}"));
    fs::copy(&real, &interpreter).ok()?;
    for entry in fs::read_dir(stdlib).ok()?.flatten() {
        if entry.file_name() != "site-packages" {
            std::os::unix::fs::symlink(entry.path(), lib.join(entry.file_name())).ok()?;
        }
    }
    for entry in fs::read_dir(purelib).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "pip" || (name.starts_with("pip-") && name.ends_with(".dist-info")) {
            std::os::unix::fs::symlink(entry.path(), site.join(&name)).ok()?;
        }
    }
    fs::write(
        lib.join("EXTERNALLY-MANAGED"),
        "[externally-managed]\nError=This Python belongs to the test distributor; use a venv.\n",
    )
    .ok()?;
    // The copy must see its own prefix, or the setup does not hold here.
    let check = python::output(Command::new(&interpreter).env_clear().args([
        "-I",
        "-c",
        "import sys, pip; print(sys.prefix)",
    ]));
    let own_prefix = check.status.success()
        && fs::canonicalize(python::stdout(&check).trim()).ok() == fs::canonicalize(&prefix).ok();
    own_prefix.then_some(interpreter)
}

#[test]
fn an_externally_managed_interpreter_is_refused_with_the_reason_and_a_hint() {
    let world = World::new();
    let Some(interpreter) = externally_managed_python(&world.path("system")) else {
        python::skip_or_fail("cannot build an externally managed Python prefix here");
        return;
    };
    let mut command = world.ours(world.dir.path(), &path_without_uv());
    command
        .args(["-a", "install", "--python"])
        .arg(&interpreter)
        .arg("--index-url")
        .arg(world.index.url());
    let output = python::output(&mut command);
    assert_exit(&output, 2);
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("externally managed (PEP 668): This Python belongs to the test distributor; use a venv."),
        "{stderr}"
    );
    assert!(stderr.contains("--break-system-packages"), "{stderr}");
    assert_eq!(world.index.request_count(), 0, "refused before resolving");

    let Some(uv) = python::uv() else { return };
    let mut command = world.ours(world.dir.path(), &path_with_uv(&uv));
    command
        .args(["-a", "install", "--installer", "uv", "--python"])
        .arg(&interpreter)
        .arg("--index-url")
        .arg(world.index.url());
    let output = python::output(&mut command);
    assert_exit(&output, 2);
    let stderr = python::stderr(&output);
    assert!(
        stderr.contains("error: uv pip install refused: the interpreter is externally managed (PEP 668): This Python belongs to the test distributor; use a venv."),
        "{stderr}"
    );
}

#[test]
fn install_flags_need_the_install_action_and_install_prints_no_json() {
    let dir = tempfile::tempdir().unwrap();
    let output = python::output(python::command(dir.path()).arg("--dry-run"));
    assert_exit(&output, 2);
    assert!(python::stderr(&output).contains("--action"));
    let output =
        python::output(python::command(dir.path()).args(["-a", "install", "--format", "json"]));
    assert_exit(&output, 2);
    assert_eq!(python::stdout(&output), "");
    assert!(python::stderr(&output).contains("cannot be combined with `--format json`"));
}
