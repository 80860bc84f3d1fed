//! Provisioned Python tools for the integration tests: the base `python3`, real venvs
//! (`python3 -m venv`, `uv venv`), uv, the upstream `opentelemetry-bootstrap`, fake
//! site-packages entries, and our binary run in a clean environment.
//!
//! # Prerequisites and the CI rule
//!
//! Everything that depends on something outside the repository (a `python3` on `PATH`,
//! PyPI for the one-time downloads) returns an `Option`: `None` means "not available,
//! skip this test". Before returning `None` the helper calls [`skip_or_fail`], which
//! panics under `CI=true` (a missing prerequisite fails the test there) and otherwise
//! prints a loud `SKIPPED` banner on stderr. Tests use
//! `let Some(x) = helper() else { return };`. A command that *runs* but fails (a venv that
//! cannot be created, an offline install that does not resolve) always panics.
//!
//! # Provisioning (first use, then cached)
//!
//! Downloads happen once into [`tools_dir`] (`<target>/test-tools`) and are reused by every
//! later run, so `cargo test` needs the internet only on its first run:
//!
//! * `wheelhouse/<release>/`: `pip download opentelemetry-instrumentation==<release>` and
//!   all its dependencies (the only step that reaches PyPI for the upstream tool);
//! * `upstream-<release>/`: `pip install --target` of that wheelhouse, offline, used to run
//!   upstream against synthetic site-packages ([`Upstream::run`]);
//! * `uv/bin/uv`: `pip install --target uv` when `uv` is not on `PATH`;
//! * the tool venvs (Poetry, PDM, pipenv, Hatch, pip-tools, the lock and distribution
//!   tools): `python3 -m venv`, then [`install_tools`] (uv, from the index).
//!
//! Each entry is built in a private temporary directory and renamed into place, under a
//! per-entry lock file (`.locks/<entry>.lock`, taken with `create_new`, stale locks of dead
//! processes are broken), so parallel test threads and parallel test binaries build it once
//! and never see a half-built directory. A failed download is remembered for the rest of
//! the process (each test binary tries once, not once per test).
//!
//! Offline first run: set `OTEL_BOOTSTRAP_TEST_WHEELHOUSE=<dir>` to a directory holding the
//! wheels (`opentelemetry-instrumentation`, its dependencies, `uv`); provisioning then runs
//! `pip` with `--no-index --find-links <dir>`. Otherwise an unreachable index makes pip fail
//! within about a minute (`--timeout 30 --retries 1`) and the tests that need the tool skip
//! (fail under CI).
//!
//! # Installing into a venv
//!
//! Venvs are created `--without-pip` (about 0.1 s instead of 3 s) and packages are
//! installed with the base interpreter's pip through `python3 -m pip --python <venv python>`
//! (supported since pip 22.3; this machine has 23.2). pip runs with
//! `PIP_CONFIG_FILE=/dev/null` and every `PIP_*` variable removed so that offline
//! installs (`--no-index --find-links`) are hermetic. [`venv_with_pip`] creates a venv with
//! its own pip for the cases that need one.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Environment variable naming a directory of wheels used instead of PyPI for provisioning.
pub const WHEELHOUSE_ENV: &str = "OTEL_BOOTSTRAP_TEST_WHEELHOUSE";

// ---------------------------------------------------------------------------------------
// The CI rule
// ---------------------------------------------------------------------------------------

/// Whether the tests run under CI (`CI` set to anything but empty, `0` or `false`).
pub fn ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => {
            let v = v.trim().to_ascii_lowercase();
            !(v.is_empty() || v == "0" || v == "false" || v == "no")
        }
        Err(_) => false,
    }
}

/// A prerequisite is missing: panics under CI, otherwise prints a loud banner on stderr
/// (the caller then returns early).
#[track_caller]
pub fn skip_or_fail(message: &str) {
    if ci() {
        panic!("missing test prerequisite (CI=true, so this fails instead of skipping): {message}");
    }
    let caller = std::panic::Location::caller();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    eprintln!();
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED {test} ({caller})");
    eprintln!("!!! {message}");
    eprintln!("!!! (under CI=true this is a failure)");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!();
}

/// `true` when `condition` holds; otherwise [`skip_or_fail`] with `what` and `false`.
#[track_caller]
pub fn require(condition: bool, what: &str) -> bool {
    if !condition {
        skip_or_fail(what);
    }
    condition
}

/// Unwraps a provisioning result the CI way: `Err` → [`skip_or_fail`] → `None`.
#[track_caller]
fn or_skip<T>(result: Result<T, String>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            skip_or_fail(&e);
            None
        }
    }
}

// ---------------------------------------------------------------------------------------
// Paths, our binary
// ---------------------------------------------------------------------------------------

/// `<CARGO_TARGET_DIR or <manifest>/target>/test-tools`, created on first use.
pub fn tools_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() => {
            let t = PathBuf::from(t);
            if t.is_absolute() {
                t
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(t)
            }
        }
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    };
    let dir = target.join("test-tools");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// The `otel-bootstrap` binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_otel-bootstrap"))
}

/// An empty directory used as `HOME` for the commands the tests run.
pub fn empty_home() -> PathBuf {
    let home = tools_dir().join("home");
    fs::create_dir_all(&home).unwrap();
    home
}

/// Our binary in `cwd` with a clean environment: only `PATH`, `HOME` (an empty directory
/// under `target/test-tools`) and `LANG=C.UTF-8` (plus coverage variables when set). No
/// `VIRTUAL_ENV`, `CONDA_PREFIX`, `PYTHONPATH`, `PIP_*`, `UV_*`.
pub fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in std::env::vars_os() {
        let k_str = k.to_string_lossy();
        if k_str == "LLVM_PROFILE_FILE" || k_str.starts_with("CARGO_LLVM_COV") {
            cmd.env(&k, v);
        }
    }
    cmd.env("HOME", empty_home())
        .env("LANG", "C.UTF-8")
        .current_dir(cwd)
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd`, capturing output; panics (with the command line) if it cannot start.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null());
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `cmd` and panics with its stdout/stderr unless it exits 0.
#[track_caller]
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = output(cmd);
    if !out.status.success() {
        panic!(
            "command failed ({}): {cmd:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is not UTF-8")
}

/// Stderr as text (lossy).
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout split into lines (no trailing empty line).
pub fn stdout_lines(out: &Output) -> Vec<String> {
    stdout(out).lines().map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------
// python3
// ---------------------------------------------------------------------------------------

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn resolve_python3() -> Result<PathBuf, String> {
    let launcher = find_on_path("python3")
        .ok_or_else(|| "python3 is not on PATH (the Python tests need Python 3.8+)".to_owned())?;
    // Resolve shims (pyenv, asdf) to the real interpreter once: `sys.executable`.
    let out = Command::new(&launcher)
        .args([
            "-I",
            "-c",
            "import sys; assert sys.version_info >= (3, 8), sys.version; print(sys.executable)",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", launcher.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} does not work or is older than 3.8: {}",
            launcher.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let exe = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if exe.is_empty() {
        return Ok(launcher);
    }
    Ok(PathBuf::from(exe))
}

fn python3_result() -> Result<PathBuf, String> {
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PY.get_or_init(resolve_python3).clone()
}

/// The base interpreter (`python3` on `PATH`, shims resolved to `sys.executable`).
/// `None` (after [`skip_or_fail`]) when there is none.
#[track_caller]
pub fn python3() -> Option<PathBuf> {
    or_skip(python3_result())
}

fn python3_or_panic() -> PathBuf {
    python3_result().unwrap_or_else(|e| panic!("{e}"))
}

/// The base interpreter's `major.minor`, e.g. `3.11`.
pub fn python_version() -> String {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let out = run_ok(Command::new(python3_or_panic()).args([
            "-I",
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2])",
        ]));
        stdout(&out).trim().to_owned()
    })
    .clone()
}

/// Removes every variable that changes what pip or Python do.
fn scrub_python_env(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("PIP_")
            || k.starts_with("UV_")
            || k.starts_with("PYTHON")
            || k == "VIRTUAL_ENV"
            || k == "CONDA_PREFIX"
            || k == "CONDA_DEFAULT_ENV"
            || k == "__PYVENV_LAUNCHER__"
        {
            cmd.env_remove(&*k);
        }
    }
    cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // The loopback index must never go through a proxy.
        .env("NO_PROXY", no_proxy())
        .env("no_proxy", no_proxy());
}

fn no_proxy() -> String {
    let mut hosts = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    if let Ok(existing) = std::env::var("NO_PROXY").or_else(|_| std::env::var("no_proxy")) {
        hosts.extend(
            existing
                .split(',')
                .map(str::to_owned)
                .filter(|h| !h.is_empty()),
        );
    }
    hosts.join(",")
}

/// `python3 -m pip …` for offline work: config files and `PIP_*` ignored.
pub fn pip_offline() -> Command {
    let mut cmd = Command::new(python3_or_panic());
    scrub_python_env(&mut cmd);
    cmd.env("PIP_CONFIG_FILE", "/dev/null");
    cmd.args(["-m", "pip"]);
    cmd
}

/// `python3 -m pip …` that may reach the index: the user's pip configuration (proxy,
/// certificates) is kept; with [`WHEELHOUSE_ENV`] set it is offline from that directory.
fn pip_online() -> Command {
    let mut cmd = Command::new(python3_or_panic());
    cmd.env_remove("PYTHONPATH")
        .env_remove("PIP_TARGET")
        .env_remove("PIP_PREFIX")
        .env_remove("PIP_USER")
        .env_remove("PIP_REQUIRE_VIRTUALENV")
        .env_remove("VIRTUAL_ENV")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1");
    cmd.args(["-m", "pip"]);
    cmd
}

fn index_args() -> Vec<String> {
    match std::env::var_os(WHEELHOUSE_ENV) {
        Some(dir) if !dir.is_empty() => vec![
            "--no-index".into(),
            "--find-links".into(),
            dir.to_string_lossy().into_owned(),
        ],
        _ => vec![
            "--timeout".into(),
            "30".into(),
            "--retries".into(),
            "1".into(),
        ],
    }
}

// ---------------------------------------------------------------------------------------
// Provisioning (lock + atomic rename)
// ---------------------------------------------------------------------------------------

/// Held while provisioning; removes its lock file when dropped.
pub struct LockGuard(PathBuf);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn lock_is_stale(path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    if let Ok(pid) = text.trim().parse::<u32>() {
        if cfg!(target_os = "linux") && !Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
    }
    // Nothing takes this long; a lock this old belongs to a dead or hung process.
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > Duration::from_secs(30 * 60))
}

/// Takes `tools_dir/.locks/<name>.lock` (exclusive across threads and processes; a lock
/// of a dead process is broken). Test files that provision something of their own use it.
pub fn lock(name: &str) -> LockGuard {
    let dir = tools_dir().join(".locks");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.lock"));
    let start = Instant::now();
    let mut warned = false;
    loop {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let _ = write!(f, "{}", std::process::id());
                return LockGuard(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if lock_is_stale(&path) {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                if !warned && start.elapsed() > Duration::from_secs(10) {
                    eprintln!(
                        "waiting for {} (another test is provisioning)",
                        path.display()
                    );
                    warned = true;
                }
                if start.elapsed() > Duration::from_secs(40 * 60) {
                    panic!("timed out waiting for {}", path.display());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("cannot create {}: {e}", path.display()),
        }
    }
}

/// Returns `tools_dir/<name>`, building it first (once, under a lock, in a temporary
/// directory renamed into place) with `build(tmp_dir)`. Failures are cached per process.
pub fn provision(
    name: &str,
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    static FAILED: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let failed = FAILED.get_or_init(Default::default);
    let dest = tools_dir().join(name);
    if dest.exists() {
        return Ok(dest);
    }
    if let Some(e) = failed.lock().unwrap().get(name) {
        return Err(e.clone());
    }
    let _guard = lock(name);
    if dest.exists() {
        return Ok(dest);
    }
    if let Some(e) = failed.lock().unwrap().get(name) {
        return Err(e.clone());
    }
    let tmp = tools_dir().join(format!(".tmp-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).unwrap();
    eprintln!("provisioning {} (first use) ...", dest.display());
    let started = Instant::now();
    match build(&tmp) {
        Ok(()) => {
            fs::rename(&tmp, &dest).unwrap_or_else(|e| {
                panic!("renaming {} to {}: {e}", tmp.display(), dest.display())
            });
            eprintln!(
                "provisioned {} in {:.1}s",
                dest.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(dest)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            failed.lock().unwrap().insert(name.to_owned(), e.clone());
            Err(e)
        }
    }
}

fn run_for_provision(cmd: &mut Command, what: &str) -> Result<Output, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({}); no network? Set {WHEELHOUSE_ENV}=<dir of wheels> to \
             provision offline.\n  command: {cmd:?}\n  stderr (tail): {}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr), 15)
        ))
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n    ")
}

// ---------------------------------------------------------------------------------------
// Venvs
// ---------------------------------------------------------------------------------------

/// A real virtual environment.
#[derive(Debug, Clone)]
pub struct Venv {
    /// The venv directory (holds `pyvenv.cfg`).
    pub root: PathBuf,
    /// `<root>/bin/python`.
    pub python: PathBuf,
    /// `<root>/lib/pythonX.Y/site-packages`.
    pub site_packages: PathBuf,
}

impl Venv {
    /// Describes an existing venv at `root` (`bin/python`, `lib/python*/site-packages`).
    pub fn at(root: &Path) -> Venv {
        let python = root.join("bin").join("python");
        let lib = root.join("lib");
        let site_packages = fs::read_dir(&lib)
            .unwrap_or_else(|e| panic!("{}: {e}", lib.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("python"))
            })
            .map(|p| p.join("site-packages"))
            .unwrap_or_else(|| panic!("no lib/python*/site-packages in {}", root.display()));
        assert!(
            site_packages.is_dir(),
            "{} missing",
            site_packages.display()
        );
        Venv {
            root: root.to_path_buf(),
            python,
            site_packages,
        }
    }

    /// `<root>/bin/<name>`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.root.join("bin").join(name)
    }

    /// `python3 -m pip --python <venv python> install <args>` (base pip, hermetic config:
    /// pass `--no-index --find-links DIR` or `--index-url URL` yourself). Panics on failure.
    #[track_caller]
    pub fn pip_install<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let mut cmd = pip_offline();
        cmd.arg("--python").arg(&self.python).arg("install");
        cmd.args(["--no-warn-script-location", "--disable-pip-version-check"]);
        cmd.args(args);
        run_ok(&mut cmd)
    }

    /// Offline install of `requirements` from the wheel directories `find_links`.
    #[track_caller]
    pub fn pip_install_from(&self, find_links: &[&Path], requirements: &[&str]) -> Output {
        let mut args: Vec<std::ffi::OsString> = vec!["--no-index".into()];
        for dir in find_links {
            args.push("--find-links".into());
            args.push(dir.as_os_str().to_owned());
        }
        args.extend(requirements.iter().map(Into::into));
        self.pip_install(&args)
    }

    /// Sets `include-system-site-packages` in `pyvenv.cfg`.
    pub fn set_system_site_packages(&self, include: bool) {
        let cfg = self.root.join("pyvenv.cfg");
        let text = fs::read_to_string(&cfg).unwrap();
        let mut found = false;
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| {
                if l.split('=').next().unwrap().trim() == "include-system-site-packages" {
                    found = true;
                    format!("include-system-site-packages = {include}")
                } else {
                    l.to_owned()
                }
            })
            .collect();
        if !found {
            lines.push(format!("include-system-site-packages = {include}"));
        }
        fs::write(&cfg, lines.join("\n") + "\n").unwrap();
    }

    /// Runs the venv's interpreter with `-c code` (clean Python environment) and returns
    /// stdout. Panics on failure.
    #[track_caller]
    pub fn python_c(&self, code: &str) -> String {
        let mut cmd = Command::new(&self.python);
        scrub_python_env(&mut cmd);
        stdout(&run_ok(cmd.arg("-c").arg(code)))
    }
}

fn create_venv(dir: &Path, with_pip: bool, system_site_packages: bool) -> Venv {
    let mut cmd = Command::new(python3_or_panic());
    scrub_python_env(&mut cmd);
    cmd.args(["-m", "venv"]);
    if !with_pip {
        cmd.arg("--without-pip");
    }
    if system_site_packages {
        cmd.arg("--system-site-packages");
    }
    run_ok(cmd.arg(dir));
    Venv::at(dir)
}

/// `python3 -m venv --without-pip <dir>` (install with [`Venv::pip_install`]).
#[track_caller]
pub fn venv(dir: &Path) -> Option<Venv> {
    python3()?;
    Some(create_venv(dir, false, false))
}

/// Like [`venv`] but with `--system-site-packages`.
#[track_caller]
pub fn venv_system_site_packages(dir: &Path) -> Option<Venv> {
    python3()?;
    Some(create_venv(dir, false, true))
}

/// `python3 -m venv <dir>`: a venv with its own pip (about 3 s).
#[track_caller]
pub fn venv_with_pip(dir: &Path) -> Option<Venv> {
    python3()?;
    Some(create_venv(dir, true, false))
}

// ---------------------------------------------------------------------------------------
// uv
// ---------------------------------------------------------------------------------------

fn uv_result() -> Result<PathBuf, String> {
    static UV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    UV.get_or_init(|| {
        if let Some(uv) = find_on_path("uv") {
            return Ok(uv);
        }
        python3_result()?;
        let dir = provision("uv", |tmp| {
            let mut cmd = pip_online();
            cmd.args(["install", "--only-binary=:all:", "--no-compile", "--target"])
                .arg(tmp)
                .args(index_args())
                .arg("uv");
            run_for_provision(&mut cmd, "pip install --target uv")?;
            if tmp.join("bin/uv").is_file() {
                Ok(())
            } else {
                Err(format!(
                    "pip installed uv into {} without bin/uv",
                    tmp.display()
                ))
            }
        })?;
        Ok(dir.join("bin/uv"))
    })
    .clone()
}

/// `uv` on `PATH`, else provisioned once with `pip install --target <tools>/uv uv`.
#[track_caller]
pub fn uv() -> Option<PathBuf> {
    or_skip(uv_result())
}

/// `uv` with a hermetic environment: no `UV_*`/`PIP_*`/`VIRTUAL_ENV`, no config files,
/// no managed-Python downloads, no cache (a temporary one per run). Call [`uv`] first.
pub fn uv_command() -> Command {
    let uv = uv_result().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(uv);
    scrub_python_env(&mut cmd);
    cmd.env("UV_NO_CONFIG", "1")
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_CACHE", "1")
        .env("UV_NO_PROGRESS", "1")
        .env("HOME", empty_home());
    cmd
}

/// `uv venv --python <python3> <dir>`: a venv without pip, as uv makes them.
#[track_caller]
pub fn uv_venv(dir: &Path) -> Option<Venv> {
    uv()?;
    let python = python3()?;
    run_ok(
        uv_command()
            .args(["venv", "--quiet", "--python"])
            .arg(&python)
            .arg(dir),
    );
    Some(Venv::at(dir))
}

/// Installs `requirements` from the package index (or the wheelhouse of [`WHEELHOUSE_ENV`])
/// into the venv whose interpreter is `python`, with uv: how the test tools (Poetry, PDM,
/// pipenv, Hatch, pip-tools, the lock tools, the distribution tools) are provisioned. uv
/// resolves and downloads in parallel, several times faster than pip on a fresh clone;
/// pip stays what the tests install *with* wherever pip is under test. The OS certificate
/// store is trusted (the index may sit behind a TLS proxy).
pub fn install_tools(python: &Path, requirements: &[String], what: &str) -> Result<(), String> {
    uv_result()?;
    let mut cmd = uv_command();
    // `UV_SYSTEM_CERTS` is today's name; `UV_NATIVE_TLS` the one older uv releases read.
    cmd.env("UV_SYSTEM_CERTS", "1")
        .env("UV_NATIVE_TLS", "1")
        .env("UV_HTTP_TIMEOUT", "60")
        .args(["pip", "install", "--quiet", "--python"])
        .arg(python);
    if let Some(dir) = std::env::var_os(WHEELHOUSE_ENV).filter(|dir| !dir.is_empty()) {
        cmd.arg("--no-index").arg("--find-links").arg(dir);
    }
    cmd.args(requirements);
    run_for_provision(&mut cmd, what).map(drop)
}

// ---------------------------------------------------------------------------------------
// Upstream opentelemetry-bootstrap
// ---------------------------------------------------------------------------------------

/// A provisioned upstream `opentelemetry-instrumentation` release.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// e.g. `0.66b1`.
    pub version: String,
    /// Wheels of the release and all its dependencies (for `--no-index --find-links`).
    pub wheelhouse: PathBuf,
    /// `pip install --target` of the release (what [`Upstream::run`] puts on `sys.path`).
    pub target: PathBuf,
}

/// Runs upstream's `run()` with the given site-packages first on `sys.path` and the
/// provisioned release last. `-I -S`: no user or system site-packages, no `PYTHON*`.
const UPSTREAM_RUNNER: &str = r#"
import json, sys
cfg = json.loads(sys.argv[1])
sys.path[:0] = cfg["site_packages"]
sys.path.append(cfg["upstream"])
sys.argv = ["opentelemetry-bootstrap"] + cfg["args"]
from opentelemetry.instrumentation.bootstrap import run
run()
"#;

const UPSTREAM_GEN: &str = r#"
import json, sys
sys.path.append(sys.argv[1])
from opentelemetry.instrumentation import bootstrap_gen as g
libraries = g.libraries
# Before 0.45 `libraries` was a dict keyed by library name.
if isinstance(libraries, dict):
    libraries = list(libraries.values())
print(json.dumps({"libraries": libraries, "default": g.default_instrumentations}))
"#;

fn upstream_result(version: &str) -> Result<Upstream, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Result<Upstream, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap().get(version) {
        return r.clone();
    }
    let result = (|| {
        python3_result()?;
        // Releases before 0.49 import `pkg_resources`, which setuptools 81 removed; their
        // `setuptools>=16.0` dependency must stay below it, as it did when they shipped.
        let wheelhouse = provision(&format!("wheelhouse-v2-{version}"), |tmp| {
            let mut cmd = pip_online();
            cmd.args(["download", "--only-binary=:all:", "--dest"])
                .arg(tmp)
                .args(index_args())
                .arg(format!("opentelemetry-instrumentation=={version}"))
                .arg("setuptools<81");
            run_for_provision(
                &mut cmd,
                &format!("pip download opentelemetry-instrumentation=={version}"),
            )
            .map(drop)
        })?;
        let target = provision(&format!("upstream-v2-{version}"), |tmp| {
            let mut cmd = pip_offline();
            cmd.args(["install", "--no-index", "--no-compile", "--find-links"])
                .arg(&wheelhouse)
                .arg("--target")
                .arg(tmp)
                .arg(format!("opentelemetry-instrumentation=={version}"));
            run_for_provision(&mut cmd, "offline pip install --target of upstream").map(drop)
        })?;
        Ok(Upstream {
            version: version.to_owned(),
            wheelhouse,
            target,
        })
    })();
    cache
        .lock()
        .unwrap()
        .insert(version.to_owned(), result.clone());
    result
}

/// Provisions upstream `opentelemetry-instrumentation==<version>` (download once, then
/// offline). `None` (after [`skip_or_fail`]) when it cannot be downloaded.
#[track_caller]
pub fn upstream(version: &str) -> Option<Upstream> {
    or_skip(upstream_result(version))
}

impl Upstream {
    /// Runs upstream `opentelemetry-bootstrap <args>` seeing exactly `site_packages` (in
    /// that order) plus its own installation (appended last: `opentelemetry-api`,
    /// `-semantic-conventions`, `packaging`, `wrapt`, `typing-extensions`, ..., none of
    /// which is an instrumented library).
    pub fn run(&self, site_packages: &[&Path], args: &[&str]) -> Output {
        let cfg = serde_json::json!({
            "site_packages": site_packages.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
            "upstream": self.target.to_string_lossy(),
            "args": args,
        });
        let mut cmd = Command::new(python3_or_panic());
        scrub_python_env(&mut cmd);
        cmd.env("HOME", empty_home())
            .args(["-I", "-S", "-c", UPSTREAM_RUNNER])
            .arg(cfg.to_string());
        output(&mut cmd)
    }

    /// `opentelemetry-bootstrap -a requirements` over `site_packages`: stdout lines.
    /// Panics unless upstream exits 0.
    #[track_caller]
    pub fn requirements(&self, site_packages: &[&Path]) -> Vec<String> {
        let out = self.run(site_packages, &["-a", "requirements"]);
        if !out.status.success() {
            panic!(
                "upstream {} failed ({}):\n{}",
                self.version,
                out.status,
                stderr(&out)
            );
        }
        stdout_lines(&out)
    }

    /// Installs the release into `venv` offline from the wheelhouse (the realistic way:
    /// afterwards `venv.bin("opentelemetry-bootstrap")` exists).
    #[track_caller]
    pub fn install_into(&self, venv: &Venv) {
        venv.pip_install_from(
            &[&self.wheelhouse],
            &[&format!("opentelemetry-instrumentation=={}", self.version)],
        );
    }

    /// Runs `<venv>/bin/opentelemetry-bootstrap <args>` (after [`Upstream::install_into`])
    /// with a clean environment.
    pub fn run_in_venv(venv: &Venv, args: &[&str]) -> Output {
        let mut cmd = Command::new(venv.bin("opentelemetry-bootstrap"));
        scrub_python_env(&mut cmd);
        cmd.env("HOME", empty_home()).args(args);
        output(&mut cmd)
    }

    /// The release's `bootstrap_gen`: `(library requirement, instrumentation)` pairs in
    /// order, and the default instrumentations.
    pub fn generated(&self) -> (Vec<(String, String)>, Vec<String>) {
        let mut cmd = Command::new(python3_or_panic());
        scrub_python_env(&mut cmd);
        cmd.args(["-I", "-S", "-c", UPSTREAM_GEN]).arg(&self.target);
        let out = run_ok(&mut cmd);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let libraries = v["libraries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["library"].as_str().unwrap().to_owned(),
                    e["instrumentation"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let defaults = v["default"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect();
        (libraries, defaults)
    }

    /// Whether `version` satisfies the PEP 440 `specifier` (e.g. `>= 1.0, < 2`), decided
    /// by the `packaging` the release ships with.
    pub fn specifier_contains(&self, specifier: &str, version: &str) -> bool {
        let code = "import sys; sys.path.append(sys.argv[1]); \
                    from packaging.specifiers import SpecifierSet; \
                    print(SpecifierSet(sys.argv[2]).contains(sys.argv[3], prereleases=True))";
        let mut cmd = Command::new(python3_or_panic());
        scrub_python_env(&mut cmd);
        cmd.args(["-I", "-S", "-c", code])
            .arg(&self.target)
            .arg(specifier)
            .arg(version);
        stdout(&run_ok(&mut cmd)).trim() == "True"
    }
}

// ---------------------------------------------------------------------------------------
// Fake site-packages entries
// ---------------------------------------------------------------------------------------

/// A project name as installers spell it in a `.dist-info` directory name (runs of
/// `-`, `_`, `.` become `_`; case kept).
pub fn dist_info_stem(name: &str) -> String {
    let mut out = String::new();
    let mut prev_sep = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == '.' {
            if !prev_sep {
                out.push('_');
            }
            prev_sep = true;
        } else {
            out.push(c);
            prev_sep = false;
        }
    }
    out
}

fn metadata_text(name: &str, version: &str) -> String {
    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: fake {name} for otel-bootstrap tests\n")
}

/// Writes `<site_packages>/<name>-<version>.dist-info/{METADATA,INSTALLER}`; returns the
/// directory.
pub fn fake_dist(site_packages: &Path, name: &str, version: &str) -> PathBuf {
    let dir = site_packages.join(format!("{}-{version}.dist-info", dist_info_stem(name)));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("METADATA"), metadata_text(name, version)).unwrap();
    fs::write(dir.join("INSTALLER"), "pip\n").unwrap();
    dir
}

/// Writes every `(name, version)` with [`fake_dist`].
pub fn fake_dists(site_packages: &Path, dists: &[(&str, &str)]) {
    for (name, version) in dists {
        fake_dist(site_packages, name, version);
    }
}

/// A `.dist-info` directory with `INSTALLER` and `RECORD` but no `METADATA` (a broken or
/// half-removed installation).
pub fn fake_dist_without_metadata(site_packages: &Path, name: &str, version: &str) -> PathBuf {
    let dir = site_packages.join(format!("{}-{version}.dist-info", dist_info_stem(name)));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("INSTALLER"), "pip\n").unwrap();
    fs::write(dir.join("RECORD"), "").unwrap();
    dir
}

/// A setuptools `<name>-<version>-pyX.Y.egg-info/PKG-INFO` directory.
pub fn fake_egg_info_dir(site_packages: &Path, name: &str, version: &str) -> PathBuf {
    let dir = site_packages.join(format!(
        "{}-{version}-py{}.egg-info",
        dist_info_stem(name),
        python_version_or_default()
    ));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("PKG-INFO"), metadata_text(name, version)).unwrap();
    dir
}

/// A distutils-style `<name>-<version>-pyX.Y.egg-info` *file* holding PKG-INFO.
pub fn fake_egg_info_file(site_packages: &Path, name: &str, version: &str) -> PathBuf {
    let file = site_packages.join(format!(
        "{}-{version}-py{}.egg-info",
        dist_info_stem(name),
        python_version_or_default()
    ));
    fs::create_dir_all(site_packages).unwrap();
    fs::write(&file, metadata_text(name, version)).unwrap();
    file
}

fn python_version_or_default() -> String {
    if python3_result().is_ok() {
        python_version()
    } else {
        "3.11".to_owned()
    }
}

/// The `opentelemetry-instrumentation` distribution a real environment has, so that our
/// release selection picks `version`.
pub fn fake_otel_instrumentation(site_packages: &Path, version: &str) -> PathBuf {
    fake_dist(site_packages, "opentelemetry-instrumentation", version)
}
