//! Hardening, round 3 (issue #20): what a hostile site-packages, registry file or
//! installer could do before. Each test is one reproduced break: it must end within a
//! bound that only catches a hang, with a clear message, and print no control character.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::memory::run_measured;
use support::python::{command, fake_dist, fake_dists, stderr, stdout};

/// Newer than every bundled release: its list is derived from the target.
const NEWER: &str = "0.99b0";
const BOOTSTRAP_GEN: &str = "opentelemetry/instrumentation/bootstrap_gen.py";
/// Peak RSS a refused input may reach (KiB).
const MEMORY_BOUND_KIB: i64 = 128 * 1024;

/// Runs `cmd` for its output and peak RSS; a run past `limit` is a hang.
fn run(cmd: &mut Command, limit: Duration) -> (Output, i64) {
    let measured = run_measured(cmd, limit);
    let message = stderr(&measured.output);
    assert!(!message.contains("panicked"), "{message}");
    (measured.output, measured.max_rss_kib)
}

/// No byte of the output is a control character other than a line break.
#[track_caller]
fn assert_no_control_characters(output: &Output) {
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let found: Vec<char> = text
            .chars()
            .filter(|character| character.is_control() && *character != '\n')
            .collect();
        assert!(found.is_empty(), "{stream} holds {found:?}:\n{text}");
    }
}

/// A site-packages with `opentelemetry-instrumentation` at [`NEWER`] and its
/// `bootstrap_gen.py` holding `source`.
fn site_with_list(dir: &Path, source: &str) -> PathBuf {
    let site = dir.join("site-packages");
    fake_dists(
        &site,
        &[("opentelemetry-instrumentation", NEWER), ("flask", "3.0.0")],
    );
    let file = site.join(BOOTSTRAP_GEN);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, source).unwrap();
    site
}

fn plain(dir: &Path, site: &Path) -> Command {
    let mut cmd = command(dir);
    cmd.env("OTEL_BOOTSTRAP_REGISTRY_DIR", dir.join("user-registry"))
        .args(["--offline", "--site-packages"])
        .arg(site);
    cmd
}

/// Break 1: a `bootstrap_gen.py` in site-packages may not choose what gets installed.
#[test]
fn a_derived_list_names_only_opentelemetry_packages() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "libraries = [\n  {{'library': 'flask >= 1.0', 'instrumentation': 'evil-package==6.6.6'}},\n  {{'library': 'flask >= 1.0', 'instrumentation': 'opentelemetry-instrumentation-flask=={NEWER}'}},\n]\ndefault_instrumentations = ['totally-not-malware==1.0', 'opentelemetry-instrumentation-asyncio=={NEWER}']\n"
    );
    let site = site_with_list(dir.path(), &source);
    let (output, _) = run(&mut plain(dir.path(), &site), Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = stdout(&output);
    assert!(
        !lines.contains("evil") && !lines.contains("malware"),
        "{lines}"
    );
    assert!(
        lines.contains(&format!("opentelemetry-instrumentation-flask=={NEWER}")),
        "{lines}"
    );
    let message = stderr(&output);
    assert!(
        message.contains("ignoring 2 packages from `")
            && message.contains(BOOTSTRAP_GEN)
            && message.contains("`evil-package`")
            && message.contains("`totally-not-malware`"),
        "{message}"
    );

    // `-a install --dry-run` passes neither to the installer.
    let venv = fake_venv(dir.path(), &site);
    let mut cmd = command(dir.path());
    cmd.env(
        "OTEL_BOOTSTRAP_REGISTRY_DIR",
        dir.path().join("user-registry"),
    )
    .env("PATH", format!("{}:/usr/bin:/bin", venv.bin.display()))
    .args(["-a", "install", "--offline", "--dry-run", "--python"])
    .arg(&venv.root);
    let (output, _) = run(&mut cmd, Duration::from_secs(60));
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        !all.contains("evil-package==") && !all.contains("malware=="),
        "{all}"
    );
}

struct FakeVenv {
    root: PathBuf,
    bin: PathBuf,
}

/// A venv whose `lib/python3.11/site-packages` is a copy of `site`, with a `uv` and `pip`
/// on `bin` that only say they ran.
fn fake_venv(dir: &Path, site: &Path) -> FakeVenv {
    let root = dir.join("venv");
    let lib = root.join("lib/python3.11");
    fs::create_dir_all(&lib).unwrap();
    std::os::unix::fs::symlink(site, lib.join("site-packages")).unwrap();
    fs::write(
        root.join("pyvenv.cfg"),
        "home = /nonexistent/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("bin")).unwrap();
    executable(&root.join("bin/python"), "#!/bin/sh\nexit 1\n");
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for name in ["uv", "pip"] {
        executable(&bin.join(name), "#!/bin/sh\nexit 0\n");
    }
    FakeVenv { root, bin }
}

/// Writes an executable script.
fn executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Break 2: lists built to be slow to parse end promptly (the bound only catches a hang).
#[test]
fn slow_to_parse_lists_end_promptly() {
    let dir = tempfile::tempdir().unwrap();
    // The old dict layout, 33,000 distinct keys that are not strings.
    let mut source = String::from("libraries = {\n");
    for index in 0..33_000 {
        source.push_str(&format!("['{index}']:[],\n"));
    }
    source.push_str("}\ndefault_instrumentations = []\n");
    let site = site_with_list(dir.path(), &source);
    let (output, _) = run(&mut plain(dir.path(), &site), Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(BOOTSTRAP_GEN),
        "{}",
        stderr(&output)
    );

    // 13,000 entries over a 5,000-distribution site-packages: one scan, not one per entry.
    let dir = tempfile::tempdir().unwrap();
    let mut source = String::from("libraries = [\n");
    for index in 0..13_000 {
        source.push_str(&format!(
            "{{'library':'l{index}','instrumentation':'opentelemetry-instrumentation-x{index}'}},\n"
        ));
    }
    source.push_str("]\ndefault_instrumentations = []\n");
    let site = site_with_list(dir.path(), &source);
    for index in 0..5_000 {
        fake_dist(
            &site,
            &format!("opentelemetry-instrumentation-x{index}"),
            "1.0",
        );
    }
    let (output, _) = run(&mut plain(dir.path(), &site), Duration::from_secs(120));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Break 3: escape sequences in `Name:` / `Version:` and in `bootstrap_gen.py` strings
/// reach no terminal raw: not in warnings, not in the `explain` table.
#[test]
fn escape_sequences_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let source = format!(
        "libraries = [{{'library': 'flask >= 1.0', 'instrumentation': 'opentelemetry-instrumentation-flask=={NEWER}'}}, {{'library': 'x\\x1b]0;pwned\\x07', 'instrumentation': 'opentelemetry-instrumentation-y\\r\\x1b[2J'}}]\ndefault_instrumentations = []\n"
    );
    let site = site_with_list(dir.path(), &source);
    for (folder, metadata) in [
        (
            "evil_name-1.0",
            "Metadata-Version: 2.1\nName: evil\x1b]0;title\x07\nVersion: 1.0\n",
        ),
        (
            "flask_login-1.0",
            "Metadata-Version: 2.1\nName: flask-login\nVersion: 1.0\x1b[31m\rX\n",
        ),
        (
            "requests-2.0",
            "Metadata-Version: 2.1\nName: requests\u{9b}2J\nVersion: 2.0\n",
        ),
    ] {
        let info = site.join(format!("{folder}.dist-info"));
        fs::create_dir_all(&info).unwrap();
        fs::write(info.join("METADATA"), metadata).unwrap();
    }
    for args in [&["--offline"][..], &["explain"][..]] {
        let mut cmd = command(dir.path());
        cmd.args(args)
            .env(
                "OTEL_BOOTSTRAP_REGISTRY_DIR",
                dir.path().join("user-registry"),
            )
            .env("COLUMNS", "60")
            .arg("--site-packages")
            .arg(&site);
        let (output, _) = run(&mut cmd, Duration::from_secs(60));
        assert_no_control_characters(&output);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(all.contains("\\x1b"), "shown escaped: {all}");
    }
}

/// Break 8: `--registry` paths are read by the one hardened reader.
#[test]
fn registry_paths_are_read_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    fake_dists(&site, &[("opentelemetry-instrumentation", "0.66b1")]);
    let registry = dir.path().join("registry");
    fs::create_dir_all(&registry).unwrap();
    assert!(Command::new("mkfifo")
        .arg(registry.join("0.66b1.json"))
        .status()
        .unwrap()
        .success());
    let sparse = dir.path().join("huge.json");
    fs::File::create(&sparse)
        .unwrap()
        .set_len(8 * 1024 * 1024 * 1024)
        .unwrap();
    for (path, needle) in [
        (registry.as_path(), "FIFO"),
        (Path::new("/dev/zero"), "system file"),
        (sparse.as_path(), "larger than 4 MiB"),
    ] {
        let mut cmd = plain(dir.path(), &site);
        cmd.arg("--registry").arg(path);
        let (output, rss) = run(&mut cmd, Duration::from_secs(60));
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(needle), "{}", stderr(&output));
        assert!(rss < MEMORY_BOUND_KIB, "peak RSS {rss} KiB");
    }
}

/// Break 9: the uv project's `pyproject.toml` is read under its 4 MiB cap: a 3 GB sparse
/// one does not grow the run.
#[test]
fn a_huge_uv_project_pyproject_is_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let venv = project.join(".venv");
    let site = venv.join("lib/python3.11/site-packages");
    fs::create_dir_all(&site).unwrap();
    fake_dists(
        &site,
        &[
            ("opentelemetry-instrumentation", "0.66b1"),
            ("flask", "3.0.0"),
        ],
    );
    fs::write(
        venv.join("pyvenv.cfg"),
        "home = /nonexistent/bin\ninclude-system-site-packages = false\nversion = 3.11.7\nuv = 0.5.0\n",
    )
    .unwrap();
    fs::create_dir_all(venv.join("bin")).unwrap();
    executable(&venv.join("bin/python"), "#!/bin/sh\nexit 1\n");
    fs::File::create(project.join("pyproject.toml"))
        .unwrap()
        .set_len(3 * 1024 * 1024 * 1024)
        .unwrap();
    fs::write(project.join("uv.lock"), "version = 1\n").unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    executable(&bin.join("uv"), "#!/bin/sh\nexit 0\n");
    let mut cmd = command(&project);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args(["-a", "install", "--offline", "--dry-run", "--python"])
        .arg(&venv);
    let (output, rss) = run(&mut cmd, Duration::from_secs(60));
    assert_no_control_characters(&output);
    assert!(
        rss < MEMORY_BOUND_KIB,
        "peak RSS {rss} KiB\n{}",
        stderr(&output)
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The project's installer was chosen, so its pyproject.toml was read (and refused).
    assert!(stdout(&output).contains(" add "), "{}", stdout(&output));
}

/// Also noticed: requirements broken before the run are summarised past a few lines, not
/// printed one warning line each (13,000 lines on a hostile METADATA set).
#[test]
fn pre_existing_problems_are_summarised_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    fake_dists(
        &site,
        &[
            ("opentelemetry-instrumentation", "0.66b1"),
            ("flask", "3.0.0"),
        ],
    );
    for index in 0..300 {
        let info = fake_dist(&site, &format!("broken{index}"), "1.0");
        fs::write(
            info.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: broken{index}\nVersion: 1.0\nRequires-Dist: missing{index}>=1\n"),
        )
        .unwrap();
    }
    let venv = fake_venv(dir.path(), &site);
    let mut cmd = command(dir.path());
    cmd.env("PATH", format!("{}:/usr/bin:/bin", venv.bin.display()))
        .args(["-a", "install", "--offline", "--dry-run", "--python"])
        .arg(&venv.root);
    let (output, _) = run(&mut cmd, Duration::from_secs(60));
    let message = stderr(&output);
    assert!(
        message.contains("already had 300 broken requirements"),
        "{message}"
    );
    assert!(message.contains("… and 290 more"), "{message}");
    assert!(message.lines().count() < 40, "{message}");
}

/// Also noticed: `PATH=.:…` does not run `./python3` from the current directory.
#[test]
fn relative_path_entries_are_not_searched_for_interpreters() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    for name in ["python3", "python", "uv", "pip"] {
        executable(
            &dir.path().join(name),
            &format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display()),
        );
    }
    for search_path in [".", ":", "bin:."] {
        let mut cmd = command(dir.path());
        cmd.env("PATH", search_path).env_remove("VIRTUAL_ENV");
        let (_output, _) = run(&mut cmd, Duration::from_secs(60));
        assert!(!marker.exists(), "PATH={search_path} ran ./python3");
    }
}
