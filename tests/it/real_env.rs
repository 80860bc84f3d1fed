//! Discovery of real Python environments: venvs made by `python3 -m venv` and `uv venv`,
//! with packages installed by real pip and uv from wheels the tests build (offline: a
//! `--find-links` directory or the loopback index), found through `--python <venv>`,
//! `--python <venv>/bin/python`, `VIRTUAL_ENV`, the nearest `.venv`, `CONDA_PREFIX`,
//! and `include-system-site-packages = true`.
//!
//! Every environment gets an `opentelemetry-instrumentation==0.66b1` wheel (an empty one
//! built here: only its metadata matters), so our release selection picks 0.66b1 and the
//! expected lines are known.

use crate::support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::index::IndexServer;
use support::python::{self, Venv};
use support::wheel::{build_wheel, WheelSpec};

const RELEASE: &str = "0.66b1";

/// 0.66b1's `default_instrumentations`, in order.
const DEFAULTS: &[&str] = &[
    "asyncio",
    "dbapi",
    "exceptions",
    "logging",
    "sqlite3",
    "threading",
    "urllib",
    "wsgi",
];

/// The defaults, then `libraries` (short names, in upstream order).
fn expected(libraries: &[&str]) -> Vec<String> {
    DEFAULTS
        .iter()
        .chain(libraries)
        .map(|short| format!("opentelemetry-instrumentation-{short}=={RELEASE}"))
        .collect()
}

/// Builds wheels for `dists` plus `opentelemetry-instrumentation==0.66b1` into `dir`.
fn build_wheels(dir: &Path, dists: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    build_wheel(
        &WheelSpec::new("opentelemetry-instrumentation", RELEASE)
            .file("otel_bootstrap_test_marker.py", "# marker\n"),
        dir,
    );
    for (name, version) in dists {
        build_wheel(&WheelSpec::new(*name, *version), dir);
    }
}

/// `opentelemetry-instrumentation==0.66b1` and `name==version` for every dist.
fn pins(dists: &[(&str, &str)]) -> Vec<String> {
    std::iter::once(format!("opentelemetry-instrumentation=={RELEASE}"))
        .chain(dists.iter().map(|(n, v)| format!("{n}=={v}")))
        .collect()
}

/// A `python3 -m venv --without-pip` venv at `dir` with `dists` installed by pip from a
/// `--find-links` directory.
fn pip_venv(tmp: &Path, dir: &Path, dists: &[(&str, &str)]) -> Option<Venv> {
    let venv = python::venv(dir)?;
    let wheels = tmp.join("wheels");
    build_wheels(&wheels, dists);
    let pins = pins(dists);
    let pins: Vec<&str> = pins.iter().map(String::as_str).collect();
    venv.pip_install_from(&[&wheels], &pins);
    Some(venv)
}

/// Runs ours in `cwd` with `args` and `env`, asserting exit 0.
#[track_caller]
fn ours(cwd: &Path, env: &[(&str, &OsStr)], args: &[&OsStr]) -> Output {
    let mut cmd = python::command(cwd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = python::output(cmd.arg("-a").arg("requirements").args(args));
    assert_eq!(
        out.status.code(),
        Some(0),
        "otel-bootstrap {args:?} (env {env:?}) failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
        python::stdout(&out),
        python::stderr(&out)
    );
    out
}

#[track_caller]
fn assert_lines(out: &Output, expected: &[String], how: &str) {
    assert_eq!(
        python::stdout_lines(out),
        expected,
        "{how}\n--- stderr ---\n{}",
        python::stderr(out)
    );
}

const WEB: &[(&str, &str)] = &[
    ("Flask", "3.0.3"),
    ("requests", "2.31.0"),
    ("redis", "5.0.4"),
    ("unrelated-lib", "0.1"),
];
const WEB_EXPECTED: &[&str] = &["flask", "redis", "requests"];

#[test]
fn pip_venv_via_python_flag_directory_and_interpreter() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(venv) = pip_venv(tmp.path(), &tmp.path().join("env"), WEB) else {
        return;
    };
    let want = expected(WEB_EXPECTED);
    let out = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.root.as_os_str()],
    );
    assert_lines(&out, &want, "--python <venv>");
    let out = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.python.as_os_str()],
    );
    assert_lines(&out, &want, "--python <venv>/bin/python");
    // A relative --python, resolved against the current directory.
    let out = ours(tmp.path(), &[], &["--python".as_ref(), "env".as_ref()]);
    assert_lines(&out, &want, "--python env (relative)");
}

#[test]
fn pip_venv_via_virtual_env() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(venv) = pip_venv(tmp.path(), &tmp.path().join("env"), WEB) else {
        return;
    };
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = ours(&elsewhere, &[("VIRTUAL_ENV", venv.root.as_os_str())], &[]);
    assert_lines(&out, &expected(WEB_EXPECTED), "VIRTUAL_ENV");
}

#[test]
fn dot_venv_found_from_a_subdirectory() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    let Some(_venv) = pip_venv(tmp.path(), &project.join(".venv"), WEB) else {
        return;
    };
    let sub = project.join("src").join("app");
    std::fs::create_dir_all(&sub).unwrap();
    let out = ours(&sub, &[], &[]);
    assert_lines(&out, &expected(WEB_EXPECTED), ".venv from project/src/app");
    let out = ours(&project, &[], &[]);
    assert_lines(&out, &expected(WEB_EXPECTED), ".venv from project");
}

#[test]
fn flags_and_variables_take_precedence_in_documented_order() {
    // --python beats VIRTUAL_ENV beats .venv.
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    let Some(dot) = pip_venv(tmp.path(), &project.join(".venv"), &[("redis", "5.0.4")]) else {
        return;
    };
    let other_tmp = tmp.path().join("other");
    std::fs::create_dir_all(&other_tmp).unwrap();
    let Some(active) = pip_venv(&other_tmp, &other_tmp.join("env"), &[("Flask", "3.0.3")]) else {
        return;
    };
    let venv_env = [("VIRTUAL_ENV", active.root.as_os_str())];
    let out = ours(&project, &venv_env, &[]);
    assert_lines(&out, &expected(&["flask"]), "VIRTUAL_ENV over .venv");
    let out = ours(
        &project,
        &venv_env,
        &["--python".as_ref(), dot.root.as_os_str()],
    );
    assert_lines(&out, &expected(&["redis"]), "--python over VIRTUAL_ENV");
    let out = ours(&project, &[], &[]);
    assert_lines(&out, &expected(&["redis"]), ".venv alone");
}

#[test]
fn pip_install_from_the_loopback_index() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(venv) = python::venv(&tmp.path().join("env")) else {
        return;
    };
    let dists = [("aiohttp", "3.9.5"), ("SQLAlchemy", "2.0.30")];
    let wheels = tmp.path().join("wheels");
    build_wheels(&wheels, &dists);
    let index = IndexServer::start(&wheels);
    let mut args = vec!["--index-url".to_owned(), index.url()];
    args.extend(pins(&dists));
    venv.pip_install(&args);
    let out = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.root.as_os_str()],
    );
    assert_lines(
        &out,
        &expected(&["aiohttp-client", "aiohttp-server", "sqlalchemy"]),
        "pip from loopback index",
    );
}

#[test]
fn uv_venv_with_uv_pip_install() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(venv) = python::uv_venv(&tmp.path().join("uvenv")) else {
        return;
    };
    let cfg = std::fs::read_to_string(venv.root.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains("uv ="), "not a uv venv:\n{cfg}");
    assert!(
        !venv.bin("pip").exists(),
        "uv venvs have no pip; this one does"
    );

    let dists = [
        ("aiohttp", "3.9.5"),
        ("SQLAlchemy", "2.0.30"),
        ("urllib3", "2.2.1"),
        ("numpy-lookalike", "1.0"),
    ];
    let wheels = tmp.path().join("wheels");
    build_wheels(&wheels, &dists);
    let index = IndexServer::start(&wheels);
    python::run_ok(
        python::uv_command()
            .args(["pip", "install", "--quiet", "--python"])
            .arg(&venv.root)
            .arg("--index-url")
            .arg(index.url())
            .args(pins(&dists)),
    );
    assert!(
        index.request_count() > 0,
        "uv did not use the loopback index"
    );

    let want = expected(&["aiohttp-client", "aiohttp-server", "sqlalchemy", "urllib3"]);
    let out = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.root.as_os_str()],
    );
    assert_lines(&out, &want, "--python <uv venv>");
    let out = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.python.as_os_str()],
    );
    assert_lines(&out, &want, "--python <uv venv>/bin/python");
    let out = ours(tmp.path(), &[("VIRTUAL_ENV", venv.root.as_os_str())], &[]);
    assert_lines(&out, &want, "VIRTUAL_ENV=<uv venv>");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("pkg")).unwrap();
    std::fs::rename(&venv.root, project.join(".venv")).unwrap();
    let out = ours(&project.join("pkg"), &[], &[]);
    assert_lines(&out, &want, ".venv made by uv");
}

/// The site-packages directories the venv's interpreter has on `sys.path`, in order.
fn interpreter_site_packages(venv: &Venv) -> Vec<PathBuf> {
    let text = venv.python_c(
        "import json, sys; print(json.dumps([p for p in sys.path if p.rstrip('/').endswith(('site-packages', 'dist-packages'))]))",
    );
    serde_json::from_str::<Vec<String>>(text.trim())
        .unwrap()
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// `--site-packages` for each directory, in order.
fn site_packages_args(dirs: &[PathBuf]) -> Vec<&OsStr> {
    dirs.iter()
        .flat_map(|d| [OsStr::new("--site-packages"), d.as_os_str()])
        .collect()
}

#[test]
fn include_system_site_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(venv) = python::venv_system_site_packages(&tmp.path().join("env")) else {
        return;
    };
    let wheels = tmp.path().join("wheels");
    let dists = [("redis", "5.0.4")];
    build_wheels(&wheels, &dists);
    let pins = pins(&dists);
    let pins: Vec<&str> = pins.iter().map(String::as_str).collect();
    venv.pip_install_from(&[&wheels], &pins);

    // With the system site-packages: the same as scanning what the interpreter's sys.path
    // holds, in the same order.
    let dirs = interpreter_site_packages(&venv);
    assert!(
        dirs.len() >= 2,
        "expected venv + base site-packages: {dirs:?}"
    );
    let with_system = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.root.as_os_str()],
    );
    let explicit = ours(tmp.path(), &[], &site_packages_args(&dirs));
    assert_eq!(
        python::stdout(&with_system),
        python::stdout(&explicit),
        "include-system-site-packages = true must scan {dirs:?}\n--- stderr ---\n{}",
        python::stderr(&with_system)
    );
    let lines = python::stdout_lines(&with_system);
    assert!(lines.contains(&format!("opentelemetry-instrumentation-redis=={RELEASE}")));

    // A library only the base interpreter has is recommended with the flag, not without.
    let flask_in_base = venv.python_c(
        "import importlib.metadata as m\ntry: print(m.version('flask'))\nexcept m.PackageNotFoundError: print('')",
    );
    let flask_line = format!("opentelemetry-instrumentation-flask=={RELEASE}");
    let flask_major: Option<u32> = flask_in_base
        .trim()
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    if flask_major.is_some_and(|m| m >= 1) {
        assert!(
            lines.contains(&flask_line),
            "base flask {flask_in_base} ignored: {lines:#?}"
        );
    } else {
        eprintln!(
            "note: the base interpreter has no flask; only the sys.path equivalence is checked"
        );
    }

    venv.set_system_site_packages(false);
    let without = ours(
        tmp.path(),
        &[],
        &["--python".as_ref(), venv.root.as_os_str()],
    );
    let only_venv = ours(
        tmp.path(),
        &[],
        &site_packages_args(std::slice::from_ref(&venv.site_packages)),
    );
    assert_eq!(python::stdout(&without), python::stdout(&only_venv));
    assert_lines(
        &without,
        &expected(&["redis"]),
        "include-system-site-packages = false",
    );
}

#[test]
fn conda_style_prefix() {
    // A conda environment's layout: conda-meta/ with the python package record, and
    // lib/pythonX.Y/site-packages filled by real pip (`--prefix`).
    let tmp = tempfile::tempdir().unwrap();
    if python::python3().is_none() {
        return;
    }
    let version = python::python_version();
    let prefix = tmp.path().join("miniconda3").join("envs").join("svc");
    let meta = prefix.join("conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(meta.join("history"), "==> 2024-05-01 12:00:00 <==\n").unwrap();
    std::fs::write(
        meta.join(format!("python-{version}.7-h955ad1f_0.json")),
        format!("{{\"name\": \"python\", \"version\": \"{version}.7\"}}\n"),
    )
    .unwrap();
    // A conda package named python-dateutil must not be taken for the interpreter.
    std::fs::write(meta.join("python-dateutil-2.9.0-pyhd8ed1ab_0.json"), "{}\n").unwrap();

    let dists = [("pymongo", "4.7.2"), ("celery", "5.4.0")];
    let wheels = tmp.path().join("wheels");
    build_wheels(&wheels, &dists);
    python::run_ok(
        python::pip_offline()
            .args([
                "install",
                "--no-index",
                "--no-warn-script-location",
                "--find-links",
            ])
            .arg(&wheels)
            .arg("--prefix")
            .arg(&prefix)
            .args(pins(&dists)),
    );
    let sp = prefix
        .join("lib")
        .join(format!("python{version}"))
        .join("site-packages");
    assert!(sp.is_dir(), "pip --prefix did not create {}", sp.display());

    let want = expected(&["celery", "pymongo"]);
    let out = ours(tmp.path(), &[("CONDA_PREFIX", prefix.as_os_str())], &[]);
    assert_lines(&out, &want, "CONDA_PREFIX");
    let out = ours(tmp.path(), &[], &["--python".as_ref(), prefix.as_os_str()]);
    assert_lines(&out, &want, "--python <conda prefix>");
}

#[test]
fn missing_environment_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-venv");
    let out = python::output(
        python::command(tmp.path())
            .args(["-a", "requirements", "--python"])
            .arg(&missing),
    );
    assert_eq!(out.status.code(), Some(2), "{}", python::stderr(&out));
    assert!(python::stdout(&out).is_empty(), "stdout is data only");
    let out = python::output(
        python::command(tmp.path())
            .env("VIRTUAL_ENV", &missing)
            .args(["-a", "requirements"]),
    );
    assert_eq!(out.status.code(), Some(2), "{}", python::stderr(&out));
    assert!(python::stdout(&out).is_empty(), "stdout is data only");
}
