//! The binary, run in temp dirs with a clean environment: every discovery source, every
//! scan case (good and bad), the output modes and the exit codes. No Python is started
//! here (the layouts are written by the tests); `real_env.rs` covers real interpreters.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::python::{command, stderr, stdout_lines};

const DEFAULTS: [&str; 8] = [
    "opentelemetry-instrumentation-asyncio==0.66b1",
    "opentelemetry-instrumentation-dbapi==0.66b1",
    "opentelemetry-instrumentation-exceptions==0.66b1",
    "opentelemetry-instrumentation-logging==0.66b1",
    "opentelemetry-instrumentation-sqlite3==0.66b1",
    "opentelemetry-instrumentation-threading==0.66b1",
    "opentelemetry-instrumentation-urllib==0.66b1",
    "opentelemetry-instrumentation-wsgi==0.66b1",
];

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Writes `<name>-<version>.dist-info/METADATA` with the given header lines.
fn dist_info(site_packages: &Path, folder: &str, metadata: Option<&str>) -> PathBuf {
    let directory = site_packages.join(format!("{folder}.dist-info"));
    fs::create_dir_all(&directory).unwrap();
    if let Some(metadata) = metadata {
        fs::write(directory.join("METADATA"), metadata).unwrap();
    }
    directory
}

fn dist(site_packages: &Path, name: &str, version: &str) -> PathBuf {
    let folder = format!("{}-{version}", name.replace('-', "_"));
    dist_info(
        site_packages,
        &folder,
        Some(&format!(
            "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n"
        )),
    )
}

/// A fake venv (pyvenv.cfg + lib/python3.11/site-packages) with OTel 0.66b1 installed.
fn fake_venv(root: &Path) -> PathBuf {
    let site_packages = root.join("lib/python3.11/site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    fs::write(
        root.join("pyvenv.cfg"),
        "home = /nonexistent/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    )
    .unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    site_packages
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run otel-bootstrap")
}

fn expect_lines(output: &Output, extra: &[&str]) {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    let expected: Vec<String> = DEFAULTS
        .iter()
        .chain(extra)
        .map(|line| (*line).to_owned())
        .collect();
    assert_eq!(stdout_lines(output), expected, "stderr: {}", stderr(output));
}

fn flask_line() -> &'static str {
    "opentelemetry-instrumentation-flask==0.66b1"
}

// ---------------------------------------------------------------------------------------
// Discovery sources
// ---------------------------------------------------------------------------------------

#[test]
fn site_packages_flag_needs_no_interpreter() {
    let dir = temp();
    let site_packages = dir.path().join("sp");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    dist(&site_packages, "Flask", "3.0.0");
    let output = run(command(dir.path())
        .arg("--site-packages")
        .arg(&site_packages)
        .env("PATH", ""));
    expect_lines(&output, &[flask_line()]);
}

#[test]
fn python_flag_takes_a_venv_directory_or_its_interpreter_path() {
    let dir = temp();
    let venv = dir.path().join("env");
    let site_packages = fake_venv(&venv);
    dist(&site_packages, "flask", "3.0.0");
    let output = run(command(dir.path()).arg("--python").arg(&venv));
    expect_lines(&output, &[flask_line()]);

    // `<venv>/bin/python` is resolved as the venv without being run (it does not exist
    // as a working interpreter here: a dangling symlink, as when the base Python is gone).
    fs::create_dir_all(venv.join("bin")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/nonexistent/python3", venv.join("bin/python")).unwrap();
    let output = run(command(dir.path())
        .arg("--python")
        .arg(venv.join("bin/python")));
    expect_lines(&output, &[flask_line()]);
}

#[test]
fn virtual_env_variable() {
    let dir = temp();
    let venv = dir.path().join("active");
    let site_packages = fake_venv(&venv);
    dist(&site_packages, "requests", "2.31.0");
    let output = run(command(dir.path()).env("VIRTUAL_ENV", &venv));
    expect_lines(&output, &["opentelemetry-instrumentation-requests==0.66b1"]);
}

#[test]
fn a_stale_virtual_env_is_an_error() {
    let dir = temp();
    let output = run(command(dir.path()).env("VIRTUAL_ENV", dir.path().join("gone")));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains("gone"), "{message}");
    assert!(message.contains("hint:"), "{message}");
    assert!(output.stdout.is_empty());
}

#[test]
fn conda_prefix_variable() {
    let dir = temp();
    let prefix = dir.path().join("conda");
    fs::create_dir_all(prefix.join("conda-meta")).unwrap();
    let site_packages = prefix.join("lib/python3.12/site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    dist(&site_packages, "redis", "5.0.4");
    let output = run(command(dir.path()).env("CONDA_PREFIX", &prefix));
    expect_lines(&output, &["opentelemetry-instrumentation-redis==0.66b1"]);
}

#[test]
fn virtual_env_wins_over_conda_prefix_and_dot_venv() {
    let dir = temp();
    let venv = dir.path().join("active");
    dist(&fake_venv(&venv), "requests", "2.31.0");
    let dot_venv = dir.path().join(".venv");
    dist(&fake_venv(&dot_venv), "flask", "3.0.0");
    let output = run(command(dir.path())
        .env("VIRTUAL_ENV", &venv)
        .env("CONDA_PREFIX", dir.path().join("nothing-here")));
    expect_lines(&output, &["opentelemetry-instrumentation-requests==0.66b1"]);
}

#[test]
fn nearest_dot_venv_from_a_subdirectory() {
    let dir = temp();
    let project = dir.path().join("project");
    dist(&fake_venv(&project.join(".venv")), "flask", "3.0.0");
    let deep = project.join("src/app");
    fs::create_dir_all(&deep).unwrap();
    let output = run(command(&deep).env("PATH", ""));
    expect_lines(&output, &[flask_line()]);
}

#[cfg(unix)]
#[test]
fn python_on_path_is_asked_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp();
    let site_packages = dir.path().join("system/site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    dist(&site_packages, "httpx", "0.27.0");
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\necho '{{\"version\": \"3.11\", \"prefix\": \"{root}\", \"base_prefix\": \"{root}\", \"executable\": \"{root}/bin/python3\", \"site_packages\": [\"{sp}\"]}}'\n",
        root = dir.path().display(),
        sp = site_packages.display()
    );
    fs::write(bin.join("python3"), script).unwrap();
    fs::set_permissions(bin.join("python3"), fs::Permissions::from_mode(0o755)).unwrap();
    let output = run(command(dir.path()).env("PATH", &bin));
    expect_lines(&output, &["opentelemetry-instrumentation-httpx==0.66b1"]);
}

#[test]
fn no_environment_at_all() {
    let dir = temp();
    let output = run(command(dir.path()).env("PATH", ""));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("no Python environment found"), "{message}");
    assert!(message.contains("VIRTUAL_ENV"), "{message}");
    assert!(message.contains("hint: pass `--python PATH`"), "{message}");
    assert_eq!(message.lines().count(), 2, "{message}");
}

#[test]
fn paths_that_are_not_environments() {
    let dir = temp();
    let file = dir.path().join("file.txt");
    fs::write(&file, "x").unwrap();
    for args in [
        vec!["--site-packages".into(), dir.path().join("missing")],
        vec!["--site-packages".into(), file.clone()],
        vec!["--python".into(), dir.path().join("missing")],
        vec!["--python".into(), dir.path().to_path_buf()],
    ] {
        let output = run(command(dir.path()).args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(message.starts_with("error: "), "{args:?}: {message}");
        assert!(message.contains("hint: "), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{message}");
    }
}

// ---------------------------------------------------------------------------------------
// Scanning
// ---------------------------------------------------------------------------------------

fn scan_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = temp();
    let site_packages = dir.path().join("site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    // Installed beside it, as `opentelemetry-distro` brings it: without it every run warns
    // that nothing would be exported (`without_the_sdk_the_run_says_nothing_is_exported`).
    dist(&site_packages, "opentelemetry-sdk", "1.45.1");
    (dir, site_packages)
}

#[test]
fn without_the_sdk_the_run_says_nothing_is_exported() {
    let (_dir, site_packages) = scan_dir();
    fs::remove_dir_all(site_packages.join("opentelemetry_sdk-1.45.1.dist-info")).unwrap();
    dist(&site_packages, "flask", "3.0.0");
    for extra in [&[][..], &["--check"], &["--format", "json"]] {
        let output = scan(&site_packages, extra);
        let text = format!(
            "{}{}",
            stderr(&output),
            String::from_utf8_lossy(&output.stdout)
        );
        // Bare site-packages cannot take `-a install`: the fix says what to install.
        assert!(
            text.contains("there is no `opentelemetry-sdk` here")
                && text.contains("install `opentelemetry-distro` and an exporter"),
            "{extra:?}: {text}"
        );
    }
}

fn scan(site_packages: &Path, extra: &[&str]) -> Output {
    run(command(site_packages)
        .arg("--site-packages")
        .arg(site_packages)
        .args(extra))
}

#[test]
fn egg_info_directories_files_and_eggs() {
    let (_dir, site_packages) = scan_dir();
    let egg_info = site_packages.join("Flask-2.0.0-py3.11.egg-info");
    fs::create_dir_all(&egg_info).unwrap();
    fs::write(
        egg_info.join("PKG-INFO"),
        "Metadata-Version: 1.1\nName: Flask\nVersion: 2.0.0\n",
    )
    .unwrap();
    fs::write(
        site_packages.join("requests-2.31.0-py3.11.egg-info"),
        "Metadata-Version: 1.1\r\nName: requests\r\nVersion: 2.31.0\r\n",
    )
    .unwrap();
    let egg = site_packages.join("redis-5.0.4-py3.11.egg/EGG-INFO");
    fs::create_dir_all(&egg).unwrap();
    fs::write(egg.join("PKG-INFO"), "Name: redis\nVersion: 5.0.4\n").unwrap();
    let output = scan(&site_packages, &[]);
    expect_lines(
        &output,
        &[
            flask_line(),
            "opentelemetry-instrumentation-redis==0.66b1",
            "opentelemetry-instrumentation-requests==0.66b1",
        ],
    );
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

#[test]
fn editable_installs_count() {
    let (_dir, site_packages) = scan_dir();
    let directory = dist(&site_packages, "flask", "3.1.0.dev0");
    fs::write(
        directory.join("direct_url.json"),
        r#"{"url": "file:///src/flask", "dir_info": {"editable": true}}"#,
    )
    .unwrap();
    fs::write(
        site_packages.join("__editable__.flask-3.1.0.dev0.pth"),
        "/src/flask\n",
    )
    .unwrap();
    expect_lines(&scan(&site_packages, &[]), &[flask_line()]);
}

#[test]
fn leftovers_of_interrupted_uninstalls_are_ignored() {
    let (_dir, site_packages) = scan_dir();
    dist_info(
        &site_packages,
        "~lask-3.0.0",
        Some("Name: flask\nVersion: 3.0.0\n"),
    );
    let output = scan(&site_packages, &[]);
    expect_lines(&output, &[]);
    assert!(stderr(&output).is_empty());
}

#[test]
fn broken_distributions_are_warnings_naming_the_folder() {
    let (_dir, site_packages) = scan_dir();
    dist_info(&site_packages, "requests-2.31.0", None);
    dist_info(
        &site_packages,
        "flask-3.0.0",
        Some("Metadata-Version: 2.1\nName: flask\n\n"),
    );
    dist_info(&site_packages, "redis-5.0.4", Some(""));
    dist_info(
        &site_packages,
        "psutil-2.2.1ubuntu1",
        Some("Name: psutil\nVersion: 2.2.1ubuntu1\n"),
    );
    dist(&site_packages, "httpx", "0.27.0");
    let output = scan(&site_packages, &[]);
    expect_lines(&output, &["opentelemetry-instrumentation-httpx==0.66b1"]);
    let message = stderr(&output);
    for folder in [
        "requests-2.31.0.dist-info",
        "flask-3.0.0.dist-info",
        "redis-5.0.4.dist-info",
    ] {
        assert!(message.contains(folder), "{folder}: {message}");
    }
    assert!(message.contains("no `METADATA`"), "{message}");
    assert!(message.contains("`2.2.1ubuntu1`"), "{message}");
    assert!(
        message.lines().all(|line| line.starts_with("warning: ")),
        "{message}"
    );

    // -q silences warnings, not data.
    let quiet = scan(&site_packages, &["-q"]);
    expect_lines(&quiet, &["opentelemetry-instrumentation-httpx==0.66b1"]);
    assert!(quiet.stderr.is_empty());
}

#[cfg(unix)]
#[test]
fn symlinks_dangling_looping_and_files_in_place_of_folders() {
    use std::os::unix::fs::symlink;
    let (_dir, site_packages) = scan_dir();
    symlink(
        site_packages.join("nowhere"),
        site_packages.join("flask-3.0.0.dist-info"),
    )
    .unwrap();
    symlink(
        site_packages.join("requests-2.31.0.dist-info"),
        site_packages.join("requests-2.31.0.dist-info"),
    )
    .unwrap();
    fs::write(site_packages.join("redis-5.0.4.dist-info"), "not a folder").unwrap();
    dist(&site_packages, "httpx", "0.27.0");
    // A symlink to a good dist-info works.
    let real = dist(&site_packages.join("elsewhere"), "jinja2", "3.1.4");
    symlink(&real, site_packages.join("jinja2-3.1.4.dist-info")).unwrap();
    let output = scan(&site_packages, &[]);
    expect_lines(
        &output,
        &[
            "opentelemetry-instrumentation-httpx==0.66b1",
            "opentelemetry-instrumentation-jinja2==0.66b1",
        ],
    );
    let message = stderr(&output);
    for folder in [
        "flask-3.0.0.dist-info",
        "requests-2.31.0.dist-info",
        "redis-5.0.4.dist-info",
    ] {
        assert!(message.contains(folder), "{folder}: {message}");
    }
}

#[cfg(unix)]
#[test]
fn unreadable_site_packages_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, site_packages) = scan_dir();
    let locked = dir.path().join("locked");
    fs::create_dir_all(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read_dir(&locked).is_ok() {
        // Running as root: permissions do not stop reads; nothing to observe here.
        eprintln!("note: running as root, unreadable-directory case not observable");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }
    let output = run(command(dir.path())
        .arg("--site-packages")
        .arg(&site_packages)
        .arg("--site-packages")
        .arg(&locked));
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    expect_lines(&output, &[]);
    assert!(stderr(&output).contains("locked"), "{}", stderr(&output));
}

#[test]
fn first_directory_wins() {
    let dir = temp();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    fs::create_dir_all(&first).unwrap();
    fs::create_dir_all(&second).unwrap();
    dist(&first, "opentelemetry-instrumentation", "0.66b1");
    dist(&first, "sqlalchemy", "2.1.0");
    dist(&second, "sqlalchemy", "2.0.30");
    dist(&second, "flask", "3.0.0");
    let output = run(command(dir.path())
        .arg("--site-packages")
        .arg(&first)
        .arg("--site-packages")
        .arg(&second));
    expect_lines(&output, &[flask_line()]);
    assert!(
        stderr(&output).contains("`sqlalchemy` 2.1.0"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn metadata_is_the_truth_when_the_folder_name_disagrees() {
    let (_dir, site_packages) = scan_dir();
    // The folder says sqlalchemy 2.0.30, METADATA says 2.1.0 (out of range).
    dist_info(
        &site_packages,
        "SQLAlchemy-2.0.30",
        Some("Name: SQLAlchemy\nVersion: 2.1.0\n"),
    );
    // The folder says flask, METADATA says quart: not flask.
    dist_info(
        &site_packages,
        "flask-3.0.0",
        Some("Name: quart\nVersion: 0.19.0\n"),
    );
    let output = scan(&site_packages, &[]);
    expect_lines(&output, &[]);
    let message = stderr(&output);
    assert!(message.contains("`sqlalchemy` 2.1.0"), "{message}");
    assert!(message.contains("quart"), "{message}");
}

#[test]
fn names_are_compared_normalized_and_metadata_may_be_odd() {
    let (_dir, site_packages) = scan_dir();
    dist_info(
        &site_packages,
        "Tortoise_ORM-0.21.0",
        Some("Metadata-Version: 2.1\r\nName: Tortoise.ORM\r\nVersion:\r\n  0.21.0\r\n\r\n"),
    );
    dist_info(
        &site_packages,
        "pydantic-2.7.0",
        Some("name: pydantic\nversion: 2.7.0\nAuthor: J\u{f6}rg\n"),
    );
    let bytes = b"Name: jinja2\nAuthor: \xff\xfe\nVersion: 3.1.4\n";
    let directory = site_packages.join("Jinja2-3.1.4.dist-info");
    fs::create_dir_all(&directory).unwrap();
    fs::write(directory.join("METADATA"), bytes).unwrap();
    let output = scan(&site_packages, &[]);
    expect_lines(
        &output,
        &[
            "opentelemetry-instrumentation-jinja2==0.66b1",
            "opentelemetry-instrumentation-tortoiseorm==0.66b1",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Output, flags and exit codes
// ---------------------------------------------------------------------------------------

#[test]
fn each_instrumentation_once_in_upstream_order() {
    let (_dir, site_packages) = scan_dir();
    for (name, version) in [
        ("urllib3", "2.2.1"),
        ("psycopg2-binary", "2.9.9"),
        ("psycopg2", "2.9.9"),
        ("aiobotocore", "2.13.0"),
        ("botocore", "1.34.0"),
        ("aiohttp", "3.9.5"),
        ("pydantic", "2.7.0"),
        ("fastapi", "0.110.0"),
        ("starlette", "0.37.2"),
    ] {
        dist(&site_packages, name, version);
    }
    let output = scan(&site_packages, &[]);
    expect_lines(
        &output,
        &[
            "opentelemetry-instrumentation-aiohttp-client==0.66b1",
            "opentelemetry-instrumentation-aiohttp-server==0.66b1",
            "opentelemetry-instrumentation-botocore==0.66b1",
            "opentelemetry-instrumentation-fastapi==0.66b1",
            "opentelemetry-instrumentation-psycopg2==0.66b1",
            "opentelemetry-instrumentation-starlette==0.66b1",
            "opentelemetry-instrumentation-urllib3==0.66b1",
        ],
    );
}

#[test]
fn exclude_and_include_flags() {
    let (_dir, site_packages) = scan_dir();
    dist(&site_packages, "flask", "3.0.0");
    dist(&site_packages, "requests", "2.31.0");
    let output = scan(
        &site_packages,
        &[
            "--exclude",
            "flask",
            "--exclude",
            "opentelemetry-instrumentation-requests",
            "-q",
        ],
    );
    expect_lines(&output, &[]);

    let output = scan(&site_packages, &["--include", "does-not-exist"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("does-not-exist"));

    let output = scan(&site_packages, &["--exclude", "nonsense"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("`--exclude nonsense`"));
}

#[test]
fn verbose_explains_each_decision() {
    let (_dir, site_packages) = scan_dir();
    dist(&site_packages, "flask", "3.0.0");
    dist(&site_packages, "pydantic", "2.7.0");
    let output = scan(&site_packages, &["-v"]);
    let message = stderr(&output);
    assert!(
        message.contains("flask 3.0.0 satisfies `flask>=1.0`"),
        "{message}"
    );
    assert!(message.contains("tortoise-orm"), "{message}");
    assert!(
        message.contains(&site_packages.display().to_string()),
        "{message}"
    );
}

#[test]
fn json_document() {
    let (_dir, site_packages) = scan_dir();
    dist(&site_packages, "flask", "3.0.0");
    dist(&site_packages, "celery", "6.0.0");
    dist_info(&site_packages, "requests-2.31.0", None);
    let output = scan(&site_packages, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["version"], 1);
    assert_eq!(document["environment"]["source"], "site-packages-flag");
    assert_eq!(document["registry"]["source"], "bundled");
    assert_eq!(document["registry"]["release"], "0.66b1");
    assert_eq!(document["registry"]["choice"]["kind"], "installed");
    let recommendations = document["recommendations"].as_array().unwrap();
    assert_eq!(recommendations.len(), DEFAULTS.len() + 1);
    let flask = &recommendations[DEFAULTS.len()];
    assert_eq!(flask["requirement"], flask_line());
    assert_eq!(flask["reason"]["kind"], "libraries");
    assert_eq!(flask["reason"]["satisfied_by"][0]["version"], "3.0.0");
    assert_eq!(document["skipped"][0]["reasons"][0]["kind"], "out-of-range");
    let warnings: Vec<&str> = document["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|warning| warning["kind"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, ["broken-distribution", "out-of-range"]);
}

#[test]
fn version_and_help() {
    let dir = temp();
    let output = run(command(dir.path()).arg("--version"));
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("otel-bootstrap "), "{text}");
    assert!(text.contains("registry: 0.41b0 to "), "{text}");

    let output = run(command(dir.path()).arg("--help"));
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "--action",
        "--site-packages",
        "--python",
        "Examples:",
        "Exit status",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp();
    for args in [
        vec!["-a", "bogus"],
        vec!["--no-such-flag"],
        vec!["-q", "-v"],
        vec!["--otel-version", "not-a-version", "--site-packages", "."],
        vec!["--otel-version", "0.1b0", "--site-packages", "."],
    ] {
        let output = run(command(dir.path()).args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!stderr(&output).contains("panicked"), "{args:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_is_a_clean_exit() {
    let (_dir, site_packages) = scan_dir();
    let mut child = command(&site_packages)
        .arg("--site-packages")
        .arg(&site_packages)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

// ---------------------------------------------------------------------------------------
// Custom registries
// ---------------------------------------------------------------------------------------

#[test]
fn custom_registry_and_its_errors() {
    let (dir, site_packages) = scan_dir();
    dist(&site_packages, "openai", "1.30.0");
    let registry = dir.path().join("vendor.json");
    fs::write(
        &registry,
        r#"{"schema": 1, "release": "0.66b1", "allow_other_names": true, "instrumentations": [
            {"name": "acme-otel-defaults", "requirement": "acme-otel-defaults==2.0", "kind": "default"},
            {"name": "acme-instrumentation-openai", "requirement": "acme-instrumentation-openai>=1", "kind": "library", "instruments": ["openai>=1.26.0"]}
        ]}"#,
    )
    .unwrap();
    let output = scan(&site_packages, &["--registry", registry.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout_lines(&output),
        ["acme-otel-defaults==2.0", "acme-instrumentation-openai>=1"]
    );
    // A vendor's own packages, allowed by the file and reported.
    assert!(
        stderr(&output).contains("adds 2 packages that are not OpenTelemetry"),
        "{}",
        stderr(&output)
    );

    fs::write(
        &registry,
        r#"{"schema": 1, "release": "0.66b1", "instrumentations": [
            {"name": "x", "requirement": "x==1", "kind": "library", "instruments": ["foo. >= 1"]}
        ]}"#,
    )
    .unwrap();
    let output = scan(&site_packages, &["--registry", registry.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("vendor.json"), "{message}");
    assert!(
        message.contains("instrumentations[0].instruments"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");

    fs::write(&registry, "{ not json").unwrap();
    let output = scan(&site_packages, &["--registry", registry.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 1"), "{}", stderr(&output));
}

#[test]
fn registry_list_and_show() {
    let dir = temp();
    let output = run(command(dir.path()).args(["registry", "list"]));
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("0.66b1"));

    let output = run(command(dir.path()).args(["registry", "show", "0.66b1"]));
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        text.contains("opentelemetry-instrumentation-tortoiseorm==0.66b1"),
        "{text}"
    );
    assert!(
        text.contains("pydantic>=1.10.2 + tortoise-orm>=0.17.0"),
        "{text}"
    );

    let output = run(command(dir.path()).args(["registry", "show", "0.66b1", "--format", "json"]));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["release"], "0.66b1");

    let output = run(command(dir.path()).args(["registry", "show", "9.9b9"]));
    assert_eq!(output.status.code(), Some(2));
}

/// `otel-bootstrap … 2>&1 | head -1` closes stderr early: no job may die of it (exit
/// 101, "failed printing to stderr"), and each still ends with its own exit status.
#[test]
fn a_closed_stderr_stops_no_job() {
    let (_dir, site_packages) = scan_dir();
    dist(&site_packages, "flask", "3.0.0");
    let site = site_packages.to_str().unwrap();
    let jobs: [(&[&str], i32); 5] = [
        (&["-v", "--site-packages", site], 0),
        (&["--check", "-v", "--site-packages", site], 1),
        (&["explain", "-v", "--site-packages", site], 0),
        (&["registry", "list", "-v"], 0),
        (&["--otel-version", "0.1", "--site-packages", site], 2),
    ];
    for (args, code) in jobs {
        let mut child = command(&site_packages)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

/// An out-of-range library is worth a warning only when it is all that keeps its
/// instrumentation out: `pydantic` 1.6.2 alone (no tortoise-orm) says nothing.
#[test]
fn out_of_range_warnings_only_for_candidates() {
    let (_dir, site_packages) = scan_dir();
    dist(&site_packages, "pydantic", "1.6.2");
    let output = scan(&site_packages, &[]);
    assert!(!stderr(&output).contains("pydantic"), "{}", stderr(&output));
    dist(&site_packages, "tortoise-orm", "0.20.0");
    let output = scan(&site_packages, &[]);
    assert!(
        stderr(&output).contains("`pydantic` 1.6.2 is installed, but `opentelemetry-instrumentation-tortoiseorm` supports"),
        "{}",
        stderr(&output)
    );
}

/// A venv whose base Python was removed: the error names the dead link and says how to
/// recreate the environment (not "pass `--python`", which was passed).
#[cfg(unix)]
#[test]
fn a_dead_interpreter_link_is_named() {
    let dir = temp();
    let prefix = dir.path().join("venv");
    fs::create_dir_all(prefix.join("lib/python3.11/site-packages")).unwrap();
    fs::create_dir_all(prefix.join("bin")).unwrap();
    fs::write(
        prefix.join("pyvenv.cfg"),
        "home = /nonexistent/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/nonexistent/bin/python3.11", prefix.join("bin/python")).unwrap();
    for python in [prefix.clone(), prefix.join("bin/python")] {
        let output = run(command(dir.path())
            .args(["-a", "install", "--dry-run", "--python"])
            .arg(&python));
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.contains("is a link to `/nonexistent/bin/python3.11`, which does not exist"),
            "{message}"
        );
        assert!(message.contains("python3 -m venv --clear"), "{message}");
        assert!(output.stdout.is_empty());
    }
}

/// The working directory was deleted under us: absolute paths still work.
#[cfg(unix)]
#[test]
fn absolute_paths_work_from_a_deleted_working_directory() {
    let (dir, site_packages) = scan_dir();
    dist(&site_packages, "flask", "3.0.0");
    let gone = dir.path().join("gone");
    fs::create_dir_all(&gone).unwrap();
    let output = run(Command::new("/bin/sh")
        .arg("-c")
        .arg("cd \"$1\" && rmdir \"$1\" && exec \"$2\" --site-packages \"$3\"")
        .arg("sh")
        .arg(&gone)
        .arg(support::python::bin())
        .arg(&site_packages)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", support::python::empty_home()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout_lines(&output).contains(&flask_line().to_owned()));
}

/// A `.dist-info` folder without `METADATA` (an install cut short by a full disk) is named
/// with the command that repairs it.
#[test]
fn a_dist_info_without_metadata_names_its_repair() {
    let (_dir, site_packages) = scan_dir();
    fs::create_dir_all(site_packages.join("flask-3.0.0.dist-info")).unwrap();
    let message = stderr(&scan(&site_packages, &[]));
    assert!(
        message.contains("has no `METADATA`")
            && message.contains("pip install --force-reinstall --no-deps flask==3.0.0"),
        "{message}"
    );
}
