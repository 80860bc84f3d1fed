//! What a person reads, pinned word for word: one snapshot (exit code, stdout, stderr) per
//! message family the tool prints — errors with their hints, warnings, notes, `--check`
//! results and fixes, lock file and registry problems. The layouts are written by the
//! tests (no Python is started), so every snapshot means the same thing on any machine.
//! A wording change shows up here as a diff to review.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::python::command;
use support::snapshot;

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn dist(site_packages: &Path, name: &str, version: &str) {
    dist_with(site_packages, name, version, "");
}

/// `<name>-<version>.dist-info/METADATA` with extra header lines.
fn dist_with(site_packages: &Path, name: &str, version: &str, headers: &str) {
    let directory = site_packages.join(format!("{}-{version}.dist-info", name.replace('-', "_")));
    fs::create_dir_all(&directory).unwrap();
    fs::write(
        directory.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{headers}\nbody\n"),
    )
    .unwrap();
}

/// A site-packages with the 0.66b1 stack (instrumentation, SDK) and `extra` installed.
fn site_packages(root: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let site_packages = root.join("site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    dist(&site_packages, "opentelemetry-sdk", "1.45.1");
    dist(&site_packages, "opentelemetry-api", "1.45.1");
    for (name, version) in extra {
        dist(&site_packages, name, version);
    }
    site_packages
}

/// Runs our binary in `cwd` with `args` and the temp dir labelled `[TEMP]`.
fn transcript(root: &Path, cwd: &Path, args: &[&str]) -> String {
    transcript_of(root, command(cwd).args(args))
}

fn transcript_of(root: &Path, cmd: &mut Command) -> String {
    snapshot::run(cmd.env("PATH", ""), &[(root, "[TEMP]")])
}

fn on(root: &Path, site_packages: &Path, args: &[&str]) -> String {
    let mut all = vec!["--site-packages", site_packages.to_str().unwrap()];
    all.extend_from_slice(args);
    transcript(root, root, &all)
}

// ---------------------------------------------------------------------------------------
// Finding the environment
// ---------------------------------------------------------------------------------------

#[test]
fn error_no_environment() {
    let dir = temp();
    insta::assert_snapshot!(transcript(dir.path(), dir.path(), &[]));
}

#[test]
fn error_site_packages_missing() {
    let dir = temp();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["--site-packages", "missing"]
    ));
}

#[test]
fn error_site_packages_is_a_file() {
    let dir = temp();
    fs::write(dir.path().join("file.txt"), "x").unwrap();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["--site-packages", "file.txt"]
    ));
}

#[test]
fn error_python_missing() {
    let dir = temp();
    insta::assert_snapshot!(transcript(dir.path(), dir.path(), &["--python", "missing"]));
}

#[test]
fn error_python_is_a_plain_directory() {
    let dir = temp();
    insta::assert_snapshot!(transcript(dir.path(), dir.path(), &["--python", "."]));
}

#[test]
fn error_stale_virtual_env() {
    let dir = temp();
    insta::assert_snapshot!(transcript_of(
        dir.path(),
        command(dir.path()).env("VIRTUAL_ENV", dir.path().join("gone"))
    ));
}

#[cfg(unix)]
#[test]
fn error_dead_interpreter_link() {
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
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["-a", "install", "--dry-run", "--python", "venv"]
    ));
}

#[test]
fn error_uv_project_without_its_environment() {
    let dir = temp();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs::write(dir.path().join("uv.lock"), "version = 1\n").unwrap();
    insta::assert_snapshot!(transcript(dir.path(), dir.path(), &[]));
}

/// The commands in backticks on the `hint:` line of `transcript`.
fn hinted_commands(transcript: &str) -> Vec<String> {
    let hint = transcript
        .lines()
        .find_map(|line| line.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{transcript}"));
    hint.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// `command` run by `sh` in `cwd` as a person would paste it, in the clean environment of
/// our binary's runs, with our binary as `otel-bootstrap` on `PATH` (and nothing else there).
#[cfg(unix)]
fn run_as_printed(cwd: &Path, command: &str) -> std::process::Output {
    let directory = temp();
    std::os::unix::fs::symlink(
        support::python::bin(),
        directory.path().join("otel-bootstrap"),
    )
    .unwrap();
    support::python::output(
        Command::new("/bin/sh")
            .args(["-c", command])
            .current_dir(cwd)
            .env_clear()
            .env("PATH", directory.path())
            .env("HOME", support::python::empty_home())
            .env("LANG", "C.UTF-8"),
    )
}

/// From a subdirectory of an unsynced uv project, the hint's commands name the project:
/// `cd` to its root for `uv sync`, and the lock by its path from here, which our binary
/// then reads as printed.
#[cfg(unix)]
#[test]
fn error_uv_project_without_its_environment_from_a_subdirectory() {
    let dir = temp();
    let root = dir.path().join("my app");
    let below = root.join("src");
    fs::create_dir_all(&below).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs::write(
        root.join("uv.lock"),
        "version = 1\nrevision = 2\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n    { name = \"flask\" },\n]\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
    )
    .unwrap();
    let text = transcript(dir.path(), &below, &[]);
    insta::assert_snapshot!(text);
    let commands = hinted_commands(&text);
    let sync = commands
        .iter()
        .find(|command| command.ends_with("uv sync"))
        .unwrap();
    let cd = sync
        .strip_suffix(" && uv sync")
        .unwrap()
        .replace("[TEMP]", dir.path().to_str().unwrap());
    let there = run_as_printed(&below, &format!("{cd} && test -f uv.lock"));
    assert!(there.status.success(), "{cd}");
    let from = commands
        .iter()
        .find(|command| command.starts_with("otel-bootstrap --from"))
        .unwrap();
    let out = run_as_printed(&below, from);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("opentelemetry-instrumentation-flask=="),
        "{from}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A request no interpreter satisfies: the suggested `uv python install` quotes it, so a
/// shell passes it as one word (`>` and `<` would be redirections).
#[cfg(unix)]
#[test]
fn error_python_request_nothing_satisfies() {
    let dir = temp();
    let text = transcript(dir.path(), dir.path(), &["--python", ">=3.98,<3.99"]);
    insta::assert_snapshot!(text);
    let install = hinted_commands(&text)
        .into_iter()
        .find(|command| command.starts_with("uv python install "))
        .unwrap();
    let words = install.replacen("uv python install", "printf '%s|'", 1);
    let out = run_as_printed(dir.path(), &words);
    assert_eq!(String::from_utf8_lossy(&out.stdout), ">=3.98,<3.99|");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
}

/// A venv (`my venv`, a space in its name) with the stack and flask, and an interpreter
/// that only fails: enough for `-a install` to reach the choice of installer.
#[cfg(unix)]
fn venv_without_pip(root: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let prefix = root.join("my venv");
    site_packages(&prefix.join("lib/python3.12"), &[("flask", "3.0.0")]);
    fs::write(
        prefix.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.1\n",
    )
    .unwrap();
    fs::create_dir_all(prefix.join("bin")).unwrap();
    fs::write(prefix.join("bin/python"), "#!/bin/sh\nexit 1\n").unwrap();
    fs::set_permissions(prefix.join("bin/python"), fs::Permissions::from_mode(0o755)).unwrap();
    prefix
}

/// `--installer pip` in a venv without pip: `ensurepip` with that venv's interpreter.
#[cfg(unix)]
#[test]
fn error_pip_missing() {
    let dir = temp();
    venv_without_pip(dir.path());
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &[
            "-a",
            "install",
            "--dry-run",
            "--installer",
            "pip",
            "--python",
            "my venv"
        ]
    ));
}

/// `--installer uv` without uv: ways to install it that work in a venv and under PEP 668.
#[cfg(unix)]
#[test]
fn error_uv_missing() {
    let dir = temp();
    venv_without_pip(dir.path());
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &[
            "-a",
            "install",
            "--dry-run",
            "--installer",
            "uv",
            "--python",
            "my venv"
        ]
    ));
}

// ---------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------

#[test]
fn error_unknown_action() {
    let dir = temp();
    insta::assert_snapshot!(transcript(dir.path(), dir.path(), &["-a", "bogus"]));
}

#[test]
fn error_quiet_and_verbose() {
    let dir = temp();
    insta::assert_snapshot!(transcript(dir.path(), dir.path(), &["-q", "-v"]));
}

#[test]
fn error_install_with_from() {
    let dir = temp();
    fs::write(dir.path().join("requirements.txt"), "flask==3.0.0\n").unwrap();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["-a", "install", "--from", "requirements.txt"]
    ));
}

#[test]
fn error_otel_version_not_a_version() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[]);
    insta::assert_snapshot!(on(
        dir.path(),
        &site_packages,
        &["--otel-version", "not-a-version"]
    ));
}

#[test]
fn error_otel_version_unknown() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[]);
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["--otel-version", "0.1b0"]));
}

#[test]
fn error_python_version_without_from() {
    let dir = temp();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["--python-version", "3.12"]
    ));
}

// ---------------------------------------------------------------------------------------
// Scanning: broken distributions are warnings naming the folder
// ---------------------------------------------------------------------------------------

#[test]
fn warning_dist_info_without_metadata() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[]);
    fs::create_dir_all(site_packages.join("flask-3.0.0.dist-info")).unwrap();
    insta::assert_snapshot!(on(dir.path(), &site_packages, &[]));
}

/// In a virtual environment's layout, the repair names that environment's interpreter.
#[test]
fn warning_dist_info_without_metadata_in_a_venv() {
    let dir = temp();
    let prefix = dir.path().join("my venv");
    let lib = prefix.join("lib/python3.12");
    fs::create_dir_all(&lib).unwrap();
    fs::create_dir_all(prefix.join("bin")).unwrap();
    fs::write(prefix.join("pyvenv.cfg"), "version = 3.12.1\n").unwrap();
    fs::write(prefix.join("bin/python"), "").unwrap();
    let site_packages = site_packages(&lib, &[]);
    fs::create_dir_all(site_packages.join("flask-3.0.0.dist-info")).unwrap();
    insta::assert_snapshot!(on(dir.path(), &site_packages, &[]));
}

#[test]
fn warning_version_not_pep440() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[("python-apt", "2.2.1ubuntu1")]);
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["-v"]));
}

#[test]
fn warning_no_sdk() {
    let dir = temp();
    let site_packages = dir.path().join("site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b1");
    dist(&site_packages, "flask", "3.0.0");
    insta::assert_snapshot!(on(dir.path(), &site_packages, &[]));
}

#[test]
fn warning_library_out_of_range() {
    let dir = temp();
    let site_packages = site_packages(
        dir.path(),
        &[("pydantic", "1.6.2"), ("tortoise-orm", "0.20.0")],
    );
    insta::assert_snapshot!(on(dir.path(), &site_packages, &[]));
}

#[test]
fn warning_unused_exclude() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[("flask", "3.0.0")]);
    insta::assert_snapshot!(on(
        dir.path(),
        &site_packages,
        &["--exclude", "opentelemetry-instrumentation-nothing"]
    ));
}

#[test]
fn quiet_silences_warnings() {
    let dir = temp();
    let site_packages = site_packages(
        dir.path(),
        &[("pydantic", "1.6.2"), ("tortoise-orm", "0.20.0")],
    );
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["-q"]));
}

#[test]
fn verbose_reasons() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[("flask", "3.0.0"), ("requests", "2.32.3")]);
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["-v"]));
}

// ---------------------------------------------------------------------------------------
// --check
// ---------------------------------------------------------------------------------------

#[test]
fn check_missing_instrumentation() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[("flask", "3.0.0")]);
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["--check"]));
}

#[test]
fn check_passes() {
    let dir = temp();
    let mut installed = vec![("flask", "3.0.0")];
    let defaults = [
        "asyncio",
        "dbapi",
        "exceptions",
        "logging",
        "sqlite3",
        "threading",
        "urllib",
        "wsgi",
        "flask",
    ];
    let names: Vec<String> = defaults
        .iter()
        .map(|name| format!("opentelemetry-instrumentation-{name}"))
        .collect();
    installed.extend(names.iter().map(|name| (name.as_str(), "0.66b1")));
    let site_packages = site_packages(dir.path(), &installed);
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["--check"]));
}

#[test]
fn check_wrong_version() {
    let dir = temp();
    let site_packages = site_packages(
        dir.path(),
        &[
            ("flask", "3.0.0"),
            ("opentelemetry-instrumentation-flask", "0.60b0"),
        ],
    );
    insta::assert_snapshot!(on(dir.path(), &site_packages, &["--check"]));
}

// ---------------------------------------------------------------------------------------
// --from: lock and requirements files
// ---------------------------------------------------------------------------------------

fn from(root: &Path, file: &str, text: &str, args: &[&str]) -> String {
    fs::write(root.join(file), text).unwrap();
    let mut all = vec![
        "--from",
        file,
        "--python-version",
        "3.12",
        "--platform",
        "linux",
    ];
    all.extend_from_slice(args);
    transcript(root, root, &all)
}

#[test]
fn from_missing_file() {
    let dir = temp();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["--from", "requirements.txt"]
    ));
}

/// `--from DIR` without a lock: the project's own lock command, run in that directory, and
/// a `--from` path that works from here.
#[cfg(unix)]
#[test]
fn from_directory_without_a_lock() {
    let dir = temp();
    let app = dir.path().join("my app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("pyproject.toml"),
        "[tool.poetry]\nname = \"app\"\npackage-mode = false\n",
    )
    .unwrap();
    insta::assert_snapshot!(
        "from_directory_without_a_lock_poetry",
        transcript(dir.path(), dir.path(), &["--from", "my app"])
    );
    // No tool shows in the files: the usual lock commands, and the requirements file there.
    fs::write(
        app.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs::write(
        app.join("requirements.txt"),
        "flask==3.0.0 # via app\nopentelemetry-sdk==1.45.1 # via app\n",
    )
    .unwrap();
    let text = transcript(dir.path(), dir.path(), &["--from", "my app/pyproject.toml"]);
    insta::assert_snapshot!("from_directory_without_a_lock_requirements", text);
    let from = hinted_commands(&text)
        .into_iter()
        .find(|command| command.starts_with("--from "))
        .unwrap();
    let out = run_as_printed(
        dir.path(),
        &format!("otel-bootstrap {from} --python-version 3.12 --platform linux"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("opentelemetry-instrumentation-flask=="),
        "{from}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn from_requirements_without_the_sdk() {
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "requirements.txt",
        "flask==3.0.0\nrequests==2.32.3\n",
        &[]
    ));
}

#[test]
fn from_requirements_direct_dependencies_only() {
    // A Django application's hand-written file: asgiref (and its instrumentation) is
    // missed, and the warning says how to get the whole set.
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "requirements.txt",
        "# web\ndjango==5.1\ngunicorn==23.0.0\nopentelemetry-distro==0.66b1\nopentelemetry-sdk==1.45.1\n",
        &[]
    ));
}

#[test]
fn from_requirements_compiled_is_complete() {
    // The same application compiled by `uv pip compile`: no warning, asgiref is seen.
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "requirements.txt",
        "# This file was autogenerated by uv via the following command:\n#    uv pip compile requirements.in\nasgiref==3.8.1\n    # via django\ndjango==5.1\ngunicorn==23.0.0\nopentelemetry-distro==0.66b1\nopentelemetry-instrumentation==0.66b1\nopentelemetry-sdk==1.45.1\n",
        &[]
    ));
}

#[test]
fn from_requirements_bad_line() {
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "requirements.txt",
        "flask==3.0.0\nthis is not a requirement\nopentelemetry-sdk==1.45.1\n",
        &[]
    ));
}

#[test]
fn from_requirements_url_include_refused() {
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "requirements.txt",
        "-r https://example.com/more.txt\nflask==3.0.0\nopentelemetry-sdk==1.45.1\n",
        &[]
    ));
}

#[test]
fn from_requirements_check_missing() {
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "requirements.txt",
        "flask==3.0.0\nopentelemetry-sdk==1.45.1\nopentelemetry-instrumentation==0.66b1\n",
        &["--check"]
    ));
}

#[test]
fn from_poetry_lock_not_toml() {
    let dir = temp();
    insta::assert_snapshot!(from(
        dir.path(),
        "poetry.lock",
        "[[package]\nname = \n",
        &[]
    ));
}

#[test]
fn from_uv_lock_not_toml() {
    let dir = temp();
    insta::assert_snapshot!(from(dir.path(), "uv.lock", "version = = 1\n", &[]));
}

#[test]
fn from_bad_python_version() {
    let dir = temp();
    fs::write(dir.path().join("requirements.txt"), "flask==3.0.0\n").unwrap();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["--from", "requirements.txt", "--python-version", "py3"]
    ));
}

// ---------------------------------------------------------------------------------------
// Registries
// ---------------------------------------------------------------------------------------

#[test]
fn registry_missing_file() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[]);
    insta::assert_snapshot!(on(
        dir.path(),
        &site_packages,
        &["--registry", "missing.json"]
    ));
}

#[test]
fn registry_not_json() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[]);
    fs::write(dir.path().join("vendor.json"), "{ not json").unwrap();
    insta::assert_snapshot!(on(
        dir.path(),
        &site_packages,
        &["--registry", "vendor.json"]
    ));
}

#[test]
fn registry_bad_requirement() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[]);
    fs::write(
        dir.path().join("vendor.json"),
        r#"{"schema": 1, "release": "0.66b1", "instrumentations": [
            {"name": "x", "requirement": "x==1", "kind": "library", "instruments": ["foo. >= 1"]}
        ]}"#,
    )
    .unwrap();
    insta::assert_snapshot!(on(
        dir.path(),
        &site_packages,
        &["--registry", "vendor.json"]
    ));
}

#[test]
fn registry_show_unknown_release() {
    let dir = temp();
    insta::assert_snapshot!(transcript(
        dir.path(),
        dir.path(),
        &["registry", "show", "0.1b0"]
    ));
}

// ---------------------------------------------------------------------------------------
// explain
// ---------------------------------------------------------------------------------------

/// A fix that is a sentence (pip-tools: edit `requirements.in`, then compile it) is
/// word-wrapped; only a command is continued with ` \`, which a shell would read.
#[test]
fn explain_wraps_a_sentence_fix_without_backslashes() {
    let dir = temp();
    let site_packages = site_packages(dir.path(), &[("flask", "3.0.0")]);
    fs::write(dir.path().join("requirements.in"), "flask\n").unwrap();
    let text = transcript(
        dir.path(),
        dir.path(),
        &[
            "explain",
            "--site-packages",
            site_packages.to_str().unwrap(),
        ],
    );
    let fix: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("To install what is missing:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .collect();
    assert!(fix.len() > 1, "{text}");
    assert!(fix[0].starts_with("  add "), "{text}");
    assert!(fix.iter().all(|line| !line.ends_with('\\')), "{text}");
}

/// The installed release is partial: the heading names it as the installed one and the
/// complete release used instead.
#[test]
fn explain_heading_for_a_partial_release() {
    let dir = temp();
    let site_packages = dir.path().join("site-packages");
    fs::create_dir_all(&site_packages).unwrap();
    dist(&site_packages, "opentelemetry-instrumentation", "0.66b2");
    dist(&site_packages, "opentelemetry-sdk", "1.45.2");
    dist(&site_packages, "flask", "3.0.0");
    let text = transcript(
        dir.path(),
        dir.path(),
        &[
            "explain",
            "--site-packages",
            site_packages.to_str().unwrap(),
        ],
    );
    // The heading: from `Release` to the first blank line (it wraps at 80 columns).
    let heading: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("Release "))
        .take_while(|line| !line.trim().is_empty())
        .collect();
    insta::assert_snapshot!(heading.join("\n"));
}
