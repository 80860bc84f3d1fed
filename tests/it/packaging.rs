//! The Python packaging: `pyproject.toml` builds, with maturin, a wheel that carries the
//! `otel-bootstrap` executable, and the installed executable finds the right environment.
//!
//! * [`pip_installed_binary_scans_its_own_venv`]: `pip install` the wheel into a fresh venv
//!   and run `<venv>/bin/otel-bootstrap` with no flags, a clean environment (no
//!   `VIRTUAL_ENV`, no Python on `PATH`) and a current directory outside any project: it
//!   scans that venv.
//! * [`uv_tool_environments_scan_the_project`]: `uv tool install` the wheel (and run it with
//!   `uvx`): from a project it scans the project's `.venv`, never the tool environment.
//!
//! * [`the_wheel_is_manylinux_2_17`]: on x86_64/aarch64 Linux the wheel is the one the
//!   release publishes there: `auditwheel show` calls it `manylinux_2_17_<arch>` (glibc
//!   2.17, so Amazon Linux 2, RHEL 8, Debian 11), and the installed binary runs.
//!
//! # The wheel
//!
//! maturin, ziglang and auditwheel come from `support::tools` (one venv of pinned tools,
//! provisioned once into `<target>/test-tools/dist-tools-v1`). The wheel is built once per
//! test process with the README's command, `maturin build --locked --zig --compatibility
//! manylinux2014` (zig links against glibc 2.17; the flags are Linux-only), `--profile dev`,
//! into its own cargo target directory, `<target>/test-tools/wheel-target-manylinux2014`:
//! the tests' own binaries in `<target>/debug` are never rebuilt under running tests, and
//! later runs rebuild only the crate (the first compiles the dependencies, unoptimised:
//! under a minute on two cores). Every test that needs the wheel (here, and the action and
//! pre-commit tests in `channels.rs`) uses that one build. Set
//! `OTEL_BOOTSTRAP_TEST_WHEEL_PROFILE=release` to test the wheel exactly as published.
//! maturin runs `cargo metadata`, which wants the crates of every platform in the lock
//! file: the first run may download the few that `cargo build` did not need.
#![cfg(unix)]

use crate::support;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use support::python::{self, skip_or_fail};
use support::tools::{self, run_captured, DistTools};
use support::wheel::{build_wheel, WheelSpec};

/// The distribution name on the package index (see `pyproject.toml` and the README).
const DISTRIBUTION: &str = "otel-bootstrap-rs";
const RELEASE: &str = "0.66b1";
const PROFILE_ENV: &str = "OTEL_BOOTSTRAP_TEST_WHEEL_PROFILE";
/// The wheel builds' cargo target directory under `tools_dir()` (also the name of their lock).
const WHEEL_TARGET: &str = "wheel-target-manylinux2014";

// ---------------------------------------------------------------------------------------
// Provisioning maturin and building the wheel
// ---------------------------------------------------------------------------------------

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
}

/// `maturin` (with ziglang and auditwheel beside it), provisioned by `support::tools`.
fn maturin_result() -> Result<DistTools, String> {
    tools::dist_tools_result()
}

/// The `cargo` that runs these tests (maturin calls `cargo` from `PATH` otherwise).
pub(crate) fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .or_else(|| on_path("cargo"))
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// The cargo target directory of the wheel builds (its own: the tests' binaries in
/// `<target>/debug` are never rebuilt under running tests). The pre-commit test's source
/// build of the repository shares it.
pub(crate) fn wheel_target_dir() -> PathBuf {
    python::tools_dir().join(WHEEL_TARGET)
}

/// Held while something builds into [`wheel_target_dir`] (cargo would wait for its own lock
/// anyway; this keeps two builds of the crate from different source paths from taking turns
/// at undoing each other).
pub(crate) fn wheel_target_lock() -> python::LockGuard {
    python::lock(WHEEL_TARGET)
}

/// The build profile of the test wheel: `dev` unless `OTEL_BOOTSTRAP_TEST_WHEEL_PROFILE` says
/// otherwise.
pub(crate) fn wheel_profile() -> String {
    std::env::var(PROFILE_ENV)
        .ok()
        .filter(|profile| !profile.is_empty())
        .unwrap_or_else(|| "dev".to_owned())
}

/// What a maturin build of the wheel needs beyond `maturin build`: on Linux, zig as the
/// linker against glibc 2.17 (`--zig --compatibility manylinux2014`, the README's command),
/// then the profile; the environment: the target directory, zig on `PATH`, no debug info,
/// no incremental state.
pub(crate) fn wheel_build_args(tools: &DistTools) -> (Vec<String>, Vec<(String, OsString)>) {
    let mut args = Vec::new();
    if cfg!(target_os = "linux") {
        args.extend(["--zig", "--compatibility", "manylinux2014"].map(str::to_owned));
    }
    args.extend(["--profile".to_owned(), wheel_profile()]);
    let env = vec![
        ("CARGO".to_owned(), cargo().into_os_string()),
        (
            "CARGO_TARGET_DIR".to_owned(),
            wheel_target_dir().into_os_string(),
        ),
        // A dev build without debug info: smaller, faster to zip and install.
        (
            "CARGO_PROFILE_DEV_DEBUG".to_owned(),
            OsString::from("false"),
        ),
        // Built once per target directory: incremental state only costs time and disk.
        ("CARGO_INCREMENTAL".to_owned(), OsString::from("0")),
        ("PATH".to_owned(), tools.path_with_zig()),
    ];
    (args, env)
}

/// Builds the wheel (once per process) and returns its path in `<tools>/wheels`.
fn wheel_result() -> Result<PathBuf, String> {
    static WHEEL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let tools = maturin_result()?;
            let wheels = python::tools_dir().join("wheels-manylinux2014");
            let out = wheels.join(format!(".tmp-{}", std::process::id()));
            let _ = fs::remove_dir_all(&out);
            fs::create_dir_all(&out).unwrap();
            // One build at a time: they share a target directory (cargo would wait
            // anyway) and the output name.
            let _lock = wheel_target_lock();
            eprintln!(
                "building the wheel (maturin, profile {}; the first run compiles every \
                 dependency into {}) ...",
                wheel_profile(),
                wheel_target_dir().display()
            );
            let started = Instant::now();
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
            let (args, env) = wheel_build_args(&tools);
            let mut build = Command::new(tools.bin("maturin"));
            build
                .args(["build", "--locked"])
                .args(&args)
                .arg("--manifest-path")
                .arg(&manifest)
                .arg("--out")
                .arg(&out)
                .envs(env)
                .env_remove("VIRTUAL_ENV")
                .env_remove("CONDA_PREFIX");
            let built = run_captured(&mut build, "maturin build");
            let found = built.and_then(|_| {
                let mut found: Vec<PathBuf> = fs::read_dir(&out)
                    .map_err(|error| error.to_string())?
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|ext| ext == "whl"))
                    .collect();
                match found.len() {
                    1 => Ok(found.remove(0)),
                    n => Err(format!("maturin wrote {n} wheels to {}", out.display())),
                }
            });
            let result = found.and_then(|built| {
                let name = built.file_name().expect("a wheel file name").to_owned();
                let dest = wheels.join(name);
                fs::rename(&built, &dest).map_err(|error| error.to_string())?;
                Ok(dest)
            });
            let _ = fs::remove_dir_all(&out);
            eprintln!("built the wheel in {:.1}s", started.elapsed().as_secs_f64());
            result
        })
        .clone()
}

/// The wheel, or `None` after [`skip_or_fail`] when maturin cannot be provisioned. A
/// failing build (maturin ran) always panics: that is a packaging bug.
#[track_caller]
pub(crate) fn wheel() -> Option<PathBuf> {
    if let Err(error) = maturin_result() {
        skip_or_fail(&format!("maturin is needed to build the wheel: {error}"));
        return None;
    }
    Some(wheel_result().unwrap_or_else(|error| panic!("{error}")))
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// A `--find-links` directory with our wheel, Flask and `opentelemetry-instrumentation`
/// (empty wheels built here; only their metadata matters).
fn find_links(dir: &Path, wheel: &Path) -> PathBuf {
    let links = dir.join("find-links");
    fs::create_dir_all(&links).unwrap();
    fs::copy(wheel, links.join(wheel.file_name().unwrap())).unwrap();
    build_wheel(
        &WheelSpec::new("opentelemetry-instrumentation", RELEASE)
            .file("otel_bootstrap_test_marker.py", "# marker\n"),
        &links,
    );
    build_wheel(&WheelSpec::new("Flask", "3.0.3"), &links);
    build_wheel(&WheelSpec::new("redis", "5.0.4"), &links);
    links
}

const FLASK: &str = "opentelemetry-instrumentation-flask==0.66b1";
const REDIS: &str = "opentelemetry-instrumentation-redis==0.66b1";

/// `program args` with nothing of this process's environment but `HOME` (empty), `LANG`
/// and the given `PATH`.
fn clean(program: &Path, cwd: &Path, path: &OsStr) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", path)
        .env("HOME", python::empty_home())
        .env("LANG", "C.UTF-8")
        .current_dir(cwd)
        .stdin(Stdio::null());
    command
}

/// `command`'s stdout and stderr; it must succeed (`python::run_ok`).
#[track_caller]
fn succeed(command: &mut Command) -> (String, String) {
    let out = python::run_ok(command);
    (python::stdout(&out), python::stderr(&out))
}

/// `--format json`'s `environment` object.
#[track_caller]
fn environment_of(json: &str) -> serde_json::Value {
    let document: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|error| panic!("{error}: {json}"));
    document["environment"].clone()
}

/// A directory guaranteed to be outside any project: a fresh one under the temp dir,
/// checked to have no `.venv` above it.
fn outside_any_project(root: &Path) -> PathBuf {
    let dir = root.join("elsewhere");
    fs::create_dir_all(&dir).unwrap();
    let enclosing = dir
        .ancestors()
        .find(|directory| directory.join(".venv/pyvenv.cfg").is_file());
    assert!(
        enclosing.is_none(),
        "{enclosing:?} holds a .venv: the test needs a clean tree"
    );
    dir
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn pip_installed_binary_scans_its_own_venv() {
    let Some(wheel) = wheel() else { return };
    let tmp = tempfile::tempdir().unwrap();

    // The wheel: the name we publish under, the crate's version, the executable only.
    let file_name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    let prefix = format!(
        "{}-{}-py3-none-",
        DISTRIBUTION.replace('-', "_"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(file_name.starts_with(&prefix), "{file_name}");

    let Some(venv) = python::venv(&tmp.path().join("app-venv")) else {
        return;
    };
    let links = find_links(tmp.path(), &wheel);
    venv.pip_install_from(
        &[&links],
        &[
            DISTRIBUTION,
            "Flask==3.0.3",
            &format!("opentelemetry-instrumentation=={RELEASE}"),
        ],
    );
    let installed = venv.bin("otel-bootstrap");
    assert!(
        installed.is_file(),
        "pip did not put {}",
        installed.display()
    );
    let metadata = venv.python_c(&format!(
        "import importlib.metadata as m; print(m.version('{DISTRIBUTION}'))"
    ));
    assert_eq!(metadata.trim(), env!("CARGO_PKG_VERSION"));

    // No flags, no VIRTUAL_ENV, no Python on PATH, no project around: its own venv.
    let cwd = outside_any_project(tmp.path());
    let no_python = tmp.path().join("empty-bin");
    fs::create_dir_all(&no_python).unwrap();
    let (stdout, stderr) = succeed(&mut clean(&installed, &cwd, no_python.as_os_str()));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&FLASK), "{stdout}\n{stderr}");
    assert!(!lines.contains(&REDIS), "{stdout}");
    assert!(
        lines.iter().all(|line| line.ends_with("==0.66b1")),
        "{stdout}"
    );

    let (json, _) =
        succeed(clean(&installed, &cwd, no_python.as_os_str()).args(["--format", "json"]));
    let environment = environment_of(&json);
    assert_eq!(environment["source"], "installed-venv", "{json}");
    assert_eq!(
        environment["prefix"].as_str().map(PathBuf::from),
        Some(venv.root.clone()),
        "{json}"
    );
    assert_eq!(
        environment["site_packages"][0].as_str().map(PathBuf::from),
        Some(venv.site_packages.clone())
    );

    // An activated environment still wins over the installed one (it comes first).
    let Some(other) = python::venv(&tmp.path().join("other-venv")) else {
        return;
    };
    other.pip_install_from(&[&links], &["redis==5.0.4"]);
    let (stdout, _) =
        succeed(clean(&installed, &cwd, no_python.as_os_str()).env("VIRTUAL_ENV", &other.root));
    assert!(stdout.lines().any(|line| line == REDIS), "{stdout}");
    assert!(!stdout.lines().any(|line| line == FLASK), "{stdout}");

    // The subcommands work from the installed binary too.
    let (script, _) =
        succeed(clean(&installed, &cwd, no_python.as_os_str()).args(["completions", "bash"]));
    assert!(script.contains("otel-bootstrap"));
}

#[test]
fn the_wheel_is_manylinux_2_17() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Some(wheel) = wheel() else { return };
    let Some(tools) = tools::dist_tools() else {
        return;
    };
    let arch = std::env::consts::ARCH;
    let tag = format!("manylinux_2_17_{arch}");
    let file_name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    let platforms: Vec<&str> = file_name
        .trim_end_matches(".whl")
        .rsplit('-')
        .next()
        .unwrap()
        .split('.')
        .collect();
    assert!(
        platforms.contains(&tag.as_str())
            && platforms.contains(&format!("manylinux2014_{arch}").as_str()),
        "{file_name}"
    );

    // auditwheel's own reading of the ELF file: the symbol versions it needs.
    let out = python::run_ok(tools.module("auditwheel").arg("show").arg(&wheel));
    let shown = python::stdout(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        shown.contains(&format!(
            "is consistent with the following platform tag: \"{tag}\""
        )),
        "{shown}"
    );

    // And the installed executable runs.
    let tmp = tempfile::tempdir().unwrap();
    let Some(venv) = python::venv(&tmp.path().join("venv")) else {
        return;
    };
    venv.pip_install_from(&[wheel.parent().unwrap()], &[DISTRIBUTION]);
    let (stdout, _) = succeed(Command::new(venv.bin("otel-bootstrap")).arg("--version"));
    assert!(
        stdout.starts_with(&format!("otel-bootstrap {}", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
}

#[test]
fn uv_tool_environments_scan_the_project() {
    let Some(wheel) = wheel() else { return };
    let Some(_) = python::uv() else { return };
    let Some(python3) = python::python3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let links = find_links(root, &wheel);
    let tool_dir = root.join("uv-tools");
    let tool_bin = root.join("uv-bin");
    let cache = root.join("uv-cache");
    let uv = |cwd: &Path| {
        let mut command = python::uv_command();
        command
            .env_remove("UV_NO_CACHE")
            .env("UV_CACHE_DIR", &cache)
            .env("UV_TOOL_DIR", &tool_dir)
            .env("UV_TOOL_BIN_DIR", &tool_bin)
            .current_dir(cwd);
        command
    };

    // `uv tool install`: the executable lands in UV_TOOL_BIN_DIR, linked into the tool
    // environment `UV_TOOL_DIR/otel-bootstrap-rs`.
    succeed(
        uv(root)
            .args(["tool", "install", "--offline", "--no-index", "--find-links"])
            .arg(&links)
            .arg("--python")
            .arg(&python3)
            .arg(DISTRIBUTION),
    );
    let tool_env = tool_dir.join(DISTRIBUTION);
    assert!(
        tool_env.join("uv-receipt.toml").is_file(),
        "no receipt in {}",
        tool_env.display()
    );
    let installed = tool_bin.join("otel-bootstrap");
    assert!(installed.exists(), "{}", installed.display());

    // A uv-style project with Flask in its `.venv`; run from a subdirectory.
    let project = root.join("project");
    let Some(dot_venv) = python::uv_venv(&project.join(".venv")) else {
        return;
    };
    dot_venv.pip_install_from(
        &[&links],
        &[
            "Flask==3.0.3",
            &format!("opentelemetry-instrumentation=={RELEASE}"),
        ],
    );
    let src = project.join("src");
    fs::create_dir_all(&src).unwrap();
    let no_python = root.join("empty-bin");
    fs::create_dir_all(&no_python).unwrap();
    let (json, _) =
        succeed(clean(&installed, &src, no_python.as_os_str()).args(["--format", "json"]));
    let environment = environment_of(&json);
    assert_eq!(environment["source"], "dot-venv", "{json}");
    assert_eq!(
        environment["prefix"].as_str().map(PathBuf::from),
        Some(dot_venv.root.clone())
    );
    let (stdout, _) = succeed(&mut clean(&installed, &src, no_python.as_os_str()));
    assert!(stdout.lines().any(|line| line == FLASK), "{stdout}");

    // Outside any project, with no Python on PATH: the tool environment is not a
    // fallback (it holds only otel-bootstrap), so nothing is found.
    let elsewhere = outside_any_project(root);
    let out = python::output(&mut clean(&installed, &elsewhere, no_python.as_os_str()));
    assert_eq!(out.status.code(), Some(2), "{}", python::stdout(&out));
    assert!(
        python::stderr(&out).contains("no Python environment found"),
        "{}",
        python::stderr(&out)
    );

    // `uvx` (an environment in uv's cache, its `bin/` first on PATH): from the project,
    // the project; from elsewhere, the Python on PATH after uv's, not uv's own.
    let base_bin = root.join("base-bin");
    fs::create_dir_all(&base_bin).unwrap();
    std::os::unix::fs::symlink(&python3, base_bin.join("python3")).unwrap();
    let uvx = |cwd: &Path| {
        let mut command = uv(cwd);
        command
            .env("PATH", &base_bin)
            .args(["tool", "run", "--offline", "--no-index", "--find-links"])
            .arg(&links)
            .arg("--python")
            .arg(&python3)
            .args(["--from", DISTRIBUTION, "otel-bootstrap", "--format", "json"]);
        command
    };
    let (json, _) = succeed(&mut uvx(&src));
    let environment = environment_of(&json);
    assert_eq!(environment["source"], "dot-venv", "{json}");
    assert_eq!(
        environment["prefix"].as_str().map(PathBuf::from),
        Some(dot_venv.root.clone())
    );
    let (json, _) = succeed(&mut uvx(&elsewhere));
    let environment = environment_of(&json);
    assert_eq!(environment["source"], "path-interpreter", "{json}");
    assert_eq!(
        environment["interpreter"].as_str().map(PathBuf::from),
        Some(base_bin.join("python3")),
        "{json}"
    );
    let prefix = environment["prefix"].as_str().unwrap_or_default();
    assert!(
        !Path::new(prefix).starts_with(&cache),
        "scanned uv's own environment: {json}"
    );
}
