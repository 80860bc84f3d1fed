//! Lock file selections as the projects' own tools make them (issue #13): `--from DIR`,
//! out-of-range warnings that apply, targets the lock cannot serve, direct references.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::python::{command, output, stderr, stdout};

/// Our binary in `cwd` with markers from the flags.
fn run(cwd: &Path, args: &[&str]) -> Output {
    output(
        command(cwd)
            .args(["--python-version", "3.12", "--platform", "linux"])
            .args(args),
    )
}

/// Real uv in `root`, on the loopback `index` only; it must succeed.
#[track_caller]
fn uv_in(root: &Path, index: &support::index::IndexServer, args: &[&str]) -> Output {
    support::python::run_ok(
        support::python::uv_command()
            .current_dir(root)
            .env("UV_DEFAULT_INDEX", index.url())
            .env("UV_PYTHON", "python3")
            .args(args),
    )
}

/// Exit 2, no panic, a hint, and stderr holding every needle.
#[track_caller]
fn fails(output: &Output, needles: &[&str]) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
    assert!(text.contains("hint:"), "no hint in:\n{text}");
}

// ---------------------------------------------------------------------------------------
// `--from DIR` and `--from pyproject.toml`
// ---------------------------------------------------------------------------------------

#[test]
fn a_project_directory_or_pyproject_finds_its_lock_file() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles");
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    // Nothing to find: the error names every file looked for.
    for from in [".", "pyproject.toml"] {
        let output = run(root, &["--from", from]);
        fails(
            &output,
            &[
                "no lock file found",
                "uv.lock`",
                "poetry.lock`",
                "pylock.toml`",
            ],
        );
    }
    // pylock.toml, then poetry.lock, then uv.lock: the first in uv, poetry, pylock order wins.
    let expected = |file: &str| {
        let output = run(&fixtures.join(file), &["--from", FILES[file]]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    for (copy, wins) in [
        ("pylock", "pylock.toml"),
        ("poetry", "poetry.lock"),
        ("uv-groups", "uv.lock"),
    ] {
        fs::copy(fixtures.join(copy).join(wins), root.join(wins)).unwrap();
        for from in [".", "pyproject.toml"] {
            // Which file was read is a detail: `-v` names it.
            let output = run(root, &["--from", from, "-v"]);
            assert!(output.status.success(), "{}", stderr(&output));
            assert!(
                stderr(&output).contains(&format!("from: {wins} "))
                    || stderr(&output).contains(&format!("from: ./{wins} ")),
                "{}",
                stderr(&output)
            );
            assert_eq!(stdout(&output), expected(copy), "{from} with {wins}");
        }
    }
}

/// The lock file in each fixture directory.
static FILES: std::sync::LazyLock<std::collections::HashMap<&'static str, &'static str>> =
    std::sync::LazyLock::new(|| {
        [
            ("pylock", "pylock.toml"),
            ("poetry", "poetry.lock"),
            ("uv-groups", "uv.lock"),
        ]
        .into_iter()
        .collect()
    });

// ---------------------------------------------------------------------------------------
// Out-of-range warnings
// ---------------------------------------------------------------------------------------

#[test]
fn out_of_range_warnings_only_for_candidates_and_say_locked() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    // tortoiseorm needs pydantic and tortoise-orm: pydantic alone makes it no candidate.
    fs::write(root.join("alone.txt"), "pydantic==1.6.2\n").unwrap();
    let output = run(root, &["--from", "alone.txt"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("tortoiseorm"),
        "{}",
        stderr(&output)
    );
    let json = run(root, &["--from", "alone.txt", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        !document["warnings"].to_string().contains("tortoiseorm"),
        "{document}"
    );
    // With tortoise-orm locked too it would be recommended: the warning applies.
    fs::write(
        root.join("both.txt"),
        "pydantic==1.6.2\ntortoise-orm==0.21.0\n",
    )
    .unwrap();
    let output = run(root, &["--from", "both.txt"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("`pydantic` is locked at 1.6.2 (both.txt:1), but `opentelemetry-instrumentation-tortoiseorm` supports `pydantic>=1.10.2`"),
        "{text}"
    );
    assert!(!text.contains("is installed"), "{text}");
}

// ---------------------------------------------------------------------------------------
// Targets the lock cannot serve
// ---------------------------------------------------------------------------------------

#[test]
fn targets_outside_requires_python_or_environments_are_errors() {
    use support::index::IndexServer;
    use support::python;
    use support::wheel::{build_wheel, WheelSpec};
    if python::uv().is_none() || python::python3().is_none() {
        return;
    }
    let temporary = tempfile::tempdir().unwrap();
    let wheels = temporary.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    build_wheel(&WheelSpec::new("flask", "3.0.0"), &wheels);
    let index = IndexServer::start(&wheels);
    let root = temporary.path().join("app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"flask==3.0.0\"]\n\n[tool.uv]\nenvironments = [\"sys_platform == 'linux'\", \"sys_platform == 'darwin'\"]\n",
    )
    .unwrap();
    let uv = |args: &[&str]| uv_in(&root, &index, args);
    uv(&["lock"]);
    uv(&[
        "export",
        "--frozen",
        "--format",
        "pylock.toml",
        "--output-file",
        "pylock.toml",
    ]);
    for file in ["uv.lock", "pylock.toml"] {
        let served = output(command(&root).args([
            "--from",
            file,
            "--python-version",
            "3.12",
            "--platform",
            "macos",
        ]));
        assert!(served.status.success(), "{file}: {}", stderr(&served));
        assert!(
            stdout(&served).contains("opentelemetry-instrumentation-flask=="),
            "{file}: {}",
            stdout(&served)
        );
        let windows = output(command(&root).args([
            "--from",
            file,
            "--python-version",
            "3.12",
            "--platform",
            "windows",
        ]));
        fails(
            &windows,
            &[
                file,
                "matches none of the lock's environments",
                "sys_platform == 'linux'",
                "--platform",
            ],
        );
        let old = output(command(&root).args([
            "--from",
            file,
            "--python-version",
            "3.10",
            "--platform",
            "linux",
        ]));
        fails(
            &old,
            &[file, "requires-python `>=3.11`", "--python-version"],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Direct references in requirements files
// ---------------------------------------------------------------------------------------

#[test]
fn direct_references_count_their_project_without_printing_the_url() {
    let secret = "dIr3ct-s3cr3t-T0KEN";
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    fs::write(
        root.join("requirements.txt"),
        format!(
            "flask @ https://user:{secret}@files.example/packages/flask-3.0.0-py3-none-any.whl#sha256=00\n\
             sqlalchemy @ https://{secret}@files.example/SQLAlchemy-2.0.30.tar.gz\n\
             redis @ git+https://user:{secret}@git.example/redis-py.git@v5.0.0\n"
        ),
    )
    .unwrap();
    fs::write(
        root.join("pinned.txt"),
        "flask==3.0.0\nsqlalchemy==2.0.30\n",
    )
    .unwrap();
    let pinned = run(root, &["--from", "pinned.txt"]);
    assert!(pinned.status.success(), "{}", stderr(&pinned));
    for extra in [
        &[][..],
        &["--format", "json"][..],
        &["--check"][..],
        &["-v"][..],
    ] {
        let mut args = vec!["--from", "requirements.txt"];
        args.extend_from_slice(extra);
        let out = run(root, &args);
        let everything = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!everything.contains(secret), "{extra:?}: {everything}");
        assert!(!everything.contains("panicked"), "{everything}");
        if extra.is_empty() {
            assert!(out.status.success(), "{}", stderr(&out));
            // The same lines as the pinned file: flask and sqlalchemy count.
            assert_eq!(stdout(&out), stdout(&pinned));
            // The VCS reference names no version: a warning with its line, URL redacted.
            let text = stderr(&out);
            assert!(text.contains("requirements.txt:3:"), "{text}");
            assert!(text.contains("user:****@git.example"), "{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Extras (uv.lock, pylock.toml), compared with what `uv export` selects
// ---------------------------------------------------------------------------------------

#[test]
fn extras_select_what_uv_export_selects() {
    use support::index::IndexServer;
    use support::python;
    use support::wheel::{build_wheel, WheelSpec};
    if python::uv().is_none() || python::python3().is_none() {
        return;
    }
    let temporary = tempfile::tempdir().unwrap();
    let wheels = temporary.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    for spec in [
        WheelSpec::new("flask", "3.0.0"),
        WheelSpec::new("sqlalchemy", "2.0.30"),
        WheelSpec::new("redis", "5.0.0"),
        WheelSpec::new("psycopg2-binary", "2.9.9"),
    ] {
        build_wheel(&spec, &wheels);
    }
    let index = IndexServer::start(&wheels);
    let root = temporary.path().join("app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"flask==3.0.0\"]\n\n[project.optional-dependencies]\ndb = [\"sqlalchemy==2.0.30\", \"psycopg2-binary==2.9.9\"]\ncache = [\"redis==5.0.0\"]\n",
    )
    .unwrap();
    let uv = |args: &[&str]| uv_in(&root, &index, args);
    uv(&["lock"]);
    uv(&[
        "export",
        "--frozen",
        "--all-extras",
        "--format",
        "pylock.toml",
        "--output-file",
        "pylock.toml",
    ]);
    let ours = |args: &[&str]| {
        let out = run(&root, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    for (flags, export_flags) in [
        (&[][..], &[][..]),
        (&["--extra", "db"][..], &["--extra", "db"][..]),
        (&["--all-extras"][..], &["--all-extras"][..]),
    ] {
        let mut export = vec![
            "export",
            "--frozen",
            "--no-hashes",
            "--output-file",
            "exported.txt",
        ];
        export.extend_from_slice(export_flags);
        uv(&export);
        let expected = ours(&["--from", "exported.txt"]);
        let mut from_lock = vec!["--from", "uv.lock"];
        from_lock.extend_from_slice(flags);
        assert_eq!(ours(&from_lock), expected, "uv.lock {flags:?}");
    }
    // uv exports a single-use pylock.toml: the extras chosen at export are unconditional.
    uv(&[
        "export",
        "--frozen",
        "--no-hashes",
        "--all-extras",
        "--output-file",
        "exported.txt",
    ]);
    assert_eq!(
        ours(&["--from", "pylock.toml"]),
        ours(&["--from", "exported.txt"])
    );
    assert!(ours(&["--from", "uv.lock", "--extra", "db"])
        .contains("opentelemetry-instrumentation-sqlalchemy=="));
    let unknown = run(&root, &["--from", "uv.lock", "--extra", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("extra `nope` is not defined"));
    let poetry_flag = run(&root, &["--from", "uv.lock", "--with", "docs"]);
    fails(&poetry_flag, &["`--with`", "--group"]);
}

// ---------------------------------------------------------------------------------------
// Poetry groups and extras (a poetry.lock 2.1 and its pyproject.toml)
// ---------------------------------------------------------------------------------------

const POETRY_PYPROJECT: &str = r#"[tool.poetry]
name = "app"
version = "0.1.0"
package-mode = false

[tool.poetry.dependencies]
python = "^3.11"
flask = "3.0.0"
psycopg2-binary = { version = "2.9.9", optional = true }

[tool.poetry.extras]
postgres = ["psycopg2-binary"]

[tool.poetry.group.dev.dependencies]
redis = "5.0.0"

[tool.poetry.group.db]
optional = true

[tool.poetry.group.db.dependencies]
sqlalchemy = "2.0.30"
"#;

const POETRY_LOCK: &str = r#"# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

[[package]]
name = "flask"
version = "3.0.0"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = []

[[package]]
name = "psycopg2-binary"
version = "2.9.9"
description = ""
optional = true
python-versions = ">=3.7"
groups = ["main"]
markers = "extra == \"postgres\""
files = []

[[package]]
name = "redis"
version = "5.0.0"
description = ""
optional = false
python-versions = ">=3.7"
groups = ["dev"]
files = []

[[package]]
name = "sqlalchemy"
version = "2.0.30"
description = ""
optional = false
python-versions = ">=3.7"
groups = ["db"]
files = []

[extras]
postgres = ["psycopg2-binary"]

[metadata]
lock-version = "2.1"
python-versions = "^3.11"
content-hash = "0000"
"#;

#[test]
fn poetry_optional_groups_and_extras_follow_poetry_install() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    fs::write(root.join("pyproject.toml"), POETRY_PYPROJECT).unwrap();
    fs::write(root.join("poetry.lock"), POETRY_LOCK).unwrap();
    let has = |args: &[&str], name: &str| {
        let mut all = vec!["--from", "poetry.lock"];
        all.extend_from_slice(args);
        let out = run(root, &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out).contains(&format!("opentelemetry-instrumentation-{name}=="))
    };
    // `poetry install`: main and dev, not the optional db group, no extras.
    assert!(has(&[], "flask"));
    assert!(has(&[], "redis"));
    assert!(!has(&[], "sqlalchemy"));
    assert!(!has(&[], "psycopg2"));
    assert!(has(&["--with", "db"], "sqlalchemy"));
    assert!(has(&["--group", "db"], "sqlalchemy"));
    assert!(!has(&["--without", "dev"], "redis"));
    assert!(!has(&["--no-dev"], "redis"));
    assert!(!has(&["--only", "main"], "redis"));
    assert!(has(&["--only", "db"], "sqlalchemy"));
    assert!(!has(&["--only", "db"], "flask"));
    assert!(has(&["--extra", "postgres"], "psycopg2"));
    assert!(has(&["--all-extras"], "psycopg2"));
    let unknown = run(root, &["--from", "poetry.lock", "--with", "docs"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("group `docs` is not defined"));
}

// ---------------------------------------------------------------------------------------
// uv workspaces: a root without `[project]`, its groups, `--package`, `--all-packages`
// ---------------------------------------------------------------------------------------

#[test]
fn workspace_selections_match_uv_export() {
    use support::index::IndexServer;
    use support::python;
    use support::wheel::{build_wheel, WheelSpec};
    if python::uv().is_none() || python::python3().is_none() {
        return;
    }
    let temporary = tempfile::tempdir().unwrap();
    let wheels = temporary.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    for spec in [
        WheelSpec::new("flask", "3.0.0"),
        WheelSpec::new("sqlalchemy", "2.0.30"),
        WheelSpec::new("redis", "5.0.0"),
        WheelSpec::new("requests", "2.31.0"),
        WheelSpec::new("jinja2", "3.1.3"),
    ] {
        build_wheel(&spec, &wheels);
    }
    let index = IndexServer::start(&wheels);
    let root = temporary.path().join("ws");
    for member in ["a", "b"] {
        fs::create_dir_all(root.join("packages").join(member).join("src").join(member)).unwrap();
        fs::write(
            root.join("packages")
                .join(member)
                .join("src")
                .join(member)
                .join("__init__.py"),
            "",
        )
        .unwrap();
    }
    fs::write(
        root.join("pyproject.toml"),
        "[tool.uv.workspace]\nmembers = [\"packages/*\"]\n\n[dependency-groups]\ndev = [\"redis==5.0.0\"]\nlint = [\"jinja2==3.1.3\"]\n",
    )
    .unwrap();
    fs::write(
        root.join("packages/a/pyproject.toml"),
        "[project]\nname = \"a\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"flask==3.0.0\"]\n\n[build-system]\nrequires = [\"uv_build>=0.8,<0.20\"]\nbuild-backend = \"uv_build\"\n",
    )
    .unwrap();
    fs::write(
        root.join("packages/b/pyproject.toml"),
        "[project]\nname = \"b\"\nversion = \"0.1.0\"\nrequires-python = \">=3.9\"\ndependencies = [\"sqlalchemy==2.0.30\"]\n\n[dependency-groups]\ndev = [\"requests==2.31.0\"]\n\n[build-system]\nrequires = [\"uv_build>=0.8,<0.20\"]\nbuild-backend = \"uv_build\"\n",
    )
    .unwrap();
    let uv = |args: &[&str]| uv_in(&root, &index, args);
    uv(&["lock"]);
    let ours = |args: &[&str]| {
        let out = run(&root, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    for flags in [
        &[][..],
        &["--no-dev"][..],
        &["--group", "lint"][..],
        &["--package", "b"][..],
        &["--package", "a", "--no-dev"][..],
        &["--all-packages"][..],
    ] {
        let mut export = vec![
            "export",
            "--frozen",
            "--no-hashes",
            "--no-emit-workspace",
            "--output-file",
            "exported.txt",
        ];
        export.extend_from_slice(flags);
        uv(&export);
        let mut from_lock = vec!["--from", "uv.lock"];
        from_lock.extend_from_slice(flags);
        assert_eq!(
            ours(&from_lock),
            ours(&["--from", "exported.txt"]),
            "{flags:?}\n{}",
            fs::read_to_string(root.join("exported.txt")).unwrap()
        );
    }
    // The root's own `dev` group counts by default, and only then.
    let default = ours(&["--from", "uv.lock"]);
    assert!(
        default.contains("opentelemetry-instrumentation-redis=="),
        "{default}"
    );
    assert!(!ours(&["--from", "uv.lock", "--no-dev"]).contains("instrumentation-redis=="));
    assert!(ours(&["--from", "uv.lock", "--group", "lint"]).contains("instrumentation-jinja2=="));
    let only_a = ours(&["--from", "uv.lock", "--package", "a"]);
    assert!(only_a.contains("instrumentation-flask=="), "{only_a}");
    assert!(!only_a.contains("instrumentation-sqlalchemy=="), "{only_a}");
    let unknown = run(&root, &["--from", "uv.lock", "--package", "nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("no such workspace member"));
}

// ---------------------------------------------------------------------------------------
// Real Poetry: a lock with an optional group and an extra, against `poetry install --dry-run`
// ---------------------------------------------------------------------------------------

const POETRY_VERSION: &str = "2.1.3";

/// A Python that runs Poetry (`python -m poetry`), provisioned once into
/// `<target>/test-tools/poetry-<version>` with pip from the package index.
pub(crate) fn poetry_python() -> Option<std::path::PathBuf> {
    support::tools_lock::provision(
        &format!("poetry-{POETRY_VERSION}"),
        &[&format!("poetry=={POETRY_VERSION}")],
    )
    .map(|root| root.join("bin/python"))
}

/// `name==version` for every "Installing NAME (VERSION)" line of `poetry install --dry-run`
/// that is not skipped.
fn dry_run_requirements(output: &str) -> String {
    let mut lines: Vec<String> = output
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("- Installing ")?;
            let (name, version) = rest.split_once(" (")?;
            let (version, after) = version.split_once(')')?;
            // `- Installing x (1.0): Skipped for the following reason: Not required`
            if after.contains("Skipped") {
                return None;
            }
            Some(format!("{name}=={version}\n"))
        })
        .collect();
    lines.sort();
    lines.concat()
}

#[test]
fn real_poetry_groups_and_extras_match_poetry_install() {
    use support::index::IndexServer;
    use support::python;
    use support::wheel::{build_wheel, WheelSpec};
    let Some(poetry) = poetry_python() else {
        return;
    };
    let temporary = tempfile::tempdir().unwrap();
    let wheels = temporary.path().join("wheels");
    fs::create_dir_all(&wheels).unwrap();
    for spec in [
        WheelSpec::new("flask", "3.0.0"),
        WheelSpec::new("sqlalchemy", "2.0.30"),
        WheelSpec::new("redis", "5.0.0"),
        WheelSpec::new("psycopg2-binary", "2.9.9"),
        WheelSpec::new("pywin32", "306"),
    ] {
        build_wheel(&spec, &wheels);
    }
    let index = IndexServer::start(&wheels);
    let root = temporary.path().join("app");
    fs::create_dir_all(&root).unwrap();
    fs::write(
        root.join("pyproject.toml"),
        format!(
            "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\npackage-mode = false\n\n\
             [tool.poetry.dependencies]\npython = \">=3.9\"\nflask = \"3.0.0\"\npywin32 = {{ version = \"306\", markers = \"sys_platform == 'win32'\" }}\n\
             psycopg2-binary = {{ version = \"2.9.9\", optional = true }}\n\n\
             [tool.poetry.extras]\npostgres = [\"psycopg2-binary\"]\n\n\
             [tool.poetry.group.dev.dependencies]\nredis = \"5.0.0\"\n\n\
             [tool.poetry.group.db]\noptional = true\n\n[tool.poetry.group.db.dependencies]\nsqlalchemy = \"2.0.30\"\n\n\
             [[tool.poetry.source]]\nname = \"loopback\"\nurl = \"{}\"\npriority = \"primary\"\n",
            index.url()
        ),
    )
    .unwrap();
    let run_poetry = |args: &[&str]| {
        python::run_ok(
            std::process::Command::new(&poetry)
                .current_dir(&root)
                .env_remove("VIRTUAL_ENV")
                .env("POETRY_CACHE_DIR", temporary.path().join("poetry-cache"))
                .env("POETRY_CONFIG_DIR", temporary.path().join("poetry-config"))
                .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
                .env("POETRY_NO_INTERACTION", "1")
                .args(["-m", "poetry"])
                .args(args),
        )
    };
    run_poetry(&["lock"]);
    let python_version = python::python_version();
    for flags in [
        &[][..],
        &["--with", "db"][..],
        &["--without", "dev"][..],
        &["--only", "main"][..],
        &["--extras", "postgres"][..],
        &["--all-extras", "--with", "db"][..],
    ] {
        let mut install = vec!["install", "--dry-run", "--no-root"];
        install.extend_from_slice(flags);
        let out = run_poetry(&install);
        let expected = dry_run_requirements(&String::from_utf8_lossy(&out.stdout));
        fs::write(root.join("installed.txt"), &expected).unwrap();
        let ours_flags: Vec<&str> = flags
            .iter()
            .map(|flag| if *flag == "--extras" { "--extra" } else { flag })
            .collect();
        let mut from_lock = vec![
            "--from",
            "poetry.lock",
            "--python-version",
            python_version.as_str(),
        ];
        from_lock.extend_from_slice(&ours_flags);
        // Markers for this machine's Python on Linux, as Poetry resolved them here.
        let lock_out = output(
            command(&root)
                .args(&from_lock)
                .args(["--platform", "linux"]),
        );
        let installed_out = output(command(&root).args([
            "--from",
            "installed.txt",
            "--python-version",
            python_version.as_str(),
            "--platform",
            "linux",
        ]));
        assert!(
            lock_out.status.success(),
            "{flags:?}: {}",
            stderr(&lock_out)
        );
        assert!(installed_out.status.success(), "{}", stderr(&installed_out));
        assert_eq!(
            stdout(&lock_out),
            stdout(&installed_out),
            "{flags:?}: poetry installs\n{expected}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// A real application's lock, against `uv export --frozen`
// ---------------------------------------------------------------------------------------

/// Real projects' `uv.lock` files, each compared with `uv export --frozen` of the same lock
/// under each selection: every directory of `../shared/real-locks/` beside the checkout
/// holding a `uv.lock` (aegra's workspace and pydantic/logfire's 1.38 MB lock; each names
/// its source in `SOURCE.md`), or the one `OTEL_BOOTSTRAP_REAL_LOCK=<dir>` names. They are
/// other projects' files, so the repository does not carry them; without any, the test
/// fails under CI. Each is copied into a temporary directory first (the shared copy is
/// read-only).
#[test]
fn real_locks_match_uv_export() {
    use support::python;
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-locks");
    let roots: Vec<std::path::PathBuf> = match std::env::var_os("OTEL_BOOTSTRAP_REAL_LOCK") {
        Some(directory) => vec![directory.into()],
        None => std::fs::read_dir(&shared)
            .map(|entries| {
                let mut roots: Vec<_> = entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.join("uv.lock").is_file())
                    .collect();
                roots.sort();
                roots
            })
            .unwrap_or_default(),
    };
    if roots.is_empty() {
        python::skip_or_fail(&format!(
            "no real lock: `{}` holds none and OTEL_BOOTSTRAP_REAL_LOCK is not set",
            shared.display()
        ));
        return;
    }
    for original in roots {
        let temp = tempfile::tempdir().unwrap();
        let copy = temp.path().join("project");
        copy_tree(&original, &copy);
        compare_with_uv_export(&copy);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn compare_with_uv_export(root: &Path) {
    use support::python;
    for flags in [
        &[][..],
        &["--no-dev"][..],
        &["--all-packages"][..],
        &["--all-extras"][..],
        &["--all-packages", "--all-extras"][..],
    ] {
        let mut export = vec![
            "export",
            "--frozen",
            "--offline",
            "--no-hashes",
            "--no-emit-workspace",
            "--output-file",
            "exported.txt",
        ];
        export.extend_from_slice(flags);
        python::run_ok(python::uv_command().current_dir(root).args(&export));
        for platform in ["linux", "windows"] {
            let ours = |args: &[&str]| {
                let out = output(
                    command(root)
                        .args(["--python-version", "3.12", "--platform", platform])
                        .args(args),
                );
                assert!(out.status.success(), "{args:?}: {}", stderr(&out));
                stdout(&out)
            };
            let mut from_lock = vec!["--from", "uv.lock"];
            from_lock.extend_from_slice(flags);
            let expected = ours(&["--from", "exported.txt"]);
            assert_eq!(ours(&from_lock), expected, "{flags:?} on {platform}");
        }
    }
}
