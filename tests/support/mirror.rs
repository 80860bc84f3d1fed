//! A loopback mirror of **real** OpenTelemetry wheels that reproduces the index as it was
//! on 2026-11-30, and the helpers the end-to-end tests build on it: fresh environments
//! made the way users make them (a pip venv, a `uv venv`, a uv project), the consistency
//! checks pip and uv offer, and small Flask / FastAPI apps run under
//! `opentelemetry-instrument` with the console exporter, whose spans are parsed back.
//!
//! # The mirror
//!
//! [`otel_mirror`] downloads once, with `python3 -m pip download` from the machine's normal
//! package index (its certificate and index settings kept, `PIP_FIND_LINKS` dropped), into
//! `<tools_dir>/otel-mirror-v1/`: every `opentelemetry-*` distribution at an exact pinned
//! version ([`OTEL_PINS_0_66B1`], [`OTEL_PINS_0_66B2`], [`OTHER_OTEL_PINS`]) and the
//! third-party projects, constrained to the versions of that day ([`THIRD_PARTY_PINS`]),
//! all wheels for the current Python and platform. `MANIFEST.txt` lists each file with its
//! sha256 and the download date. Upstream publishing 0.66b3 (or flask instrumentation
//! 0.66b2) changes nothing here: an `opentelemetry-*` file that is not pinned fails the
//! provisioning. **Bump [`MIRROR`]'s suffix whenever a pin list changes** (the old
//! directory is then simply ignored).
//!
//! The state this reproduces ("today"): unpinned `opentelemetry-distro
//! opentelemetry-exporter-otlp` resolves to distro / instrumentation / semantic-conventions
//! / exporter-otlp-common / exporter-http-transport 0.66b2 and api / sdk / exporters 1.45.2,
//! while most instrumentations (flask, starlette, urllib, urllib3, asyncio, sqlite3,
//! threading, click, jinja2, exceptions, psycopg2) exist only up to 0.66b1, so
//! `otel-bootstrap` falls back to the complete 0.66b1 release. (Upstream did publish
//! requests, fastapi, asgi, wsgi, httpx, dbapi, logging, grpc, django and system-metrics at
//! 0.66b2 too; the mirror deliberately holds every instrumentation at 0.66b1 only.)
//!
//! FastAPI 0.165 (the pinned version) depends on `opentelemetry-api` and traces its own
//! requests (a SERVER span with the stable HTTP semantic conventions) whenever a tracer
//! provider is configured, with no instrumentation installed; it steps aside when the
//! fastapi instrumentation is present. [`AppRun::instrumented_server_spans`] tells the two
//! apart.
//!
//! # Hermetic installers
//!
//! Every pip / uv / `otel-bootstrap` command made here runs with a cleared environment:
//! `PATH`, a `HOME` and caches inside the test's temporary directory, `PIP_CONFIG_FILE=/dev/null`,
//! `UV_NO_CONFIG=1`, `PIP_INDEX_URL` / `UV_INDEX_URL` pointing at the loopback index and
//! `NO_PROXY=127.0.0.1,localhost` (see [`Stack::hermetic`]). Nothing reaches the internet
//! after the one-time download.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::index::IndexServer;
use super::python::{self, Venv};
use super::wheel::normalize_name;

/// The mirror's directory name under `tools_dir()`. Bump the suffix whenever a pin list
/// below changes.
pub const MIRROR: &str = "otel-mirror-v1";

/// The 0.66b1 / 1.45.1 stack, every instrumentation the tests (and `otel-bootstrap` on a
/// Flask / FastAPI / Azure environment) need, all at 0.66b1.
pub const OTEL_PINS_0_66B1: &[&str] = &[
    "opentelemetry-distro==0.66b1",
    "opentelemetry-instrumentation==0.66b1",
    "opentelemetry-semantic-conventions==0.66b1",
    "opentelemetry-exporter-otlp-common==0.66b1",
    "opentelemetry-exporter-http-transport==0.66b1",
    "opentelemetry-util-http==0.66b1",
    "opentelemetry-api==1.45.1",
    "opentelemetry-sdk==1.45.1",
    "opentelemetry-exporter-otlp==1.45.1",
    "opentelemetry-exporter-otlp-proto-http==1.45.1",
    "opentelemetry-exporter-otlp-proto-grpc==1.45.1",
    "opentelemetry-exporter-otlp-proto-common==1.45.1",
    "opentelemetry-proto==1.45.1",
    // The defaults `otel-bootstrap` recommends everywhere.
    "opentelemetry-instrumentation-asyncio==0.66b1",
    "opentelemetry-instrumentation-dbapi==0.66b1",
    "opentelemetry-instrumentation-exceptions==0.66b1",
    "opentelemetry-instrumentation-logging==0.66b1",
    "opentelemetry-instrumentation-sqlite3==0.66b1",
    "opentelemetry-instrumentation-threading==0.66b1",
    "opentelemetry-instrumentation-urllib==0.66b1",
    "opentelemetry-instrumentation-wsgi==0.66b1",
    // Flask, requests, FastAPI, uvicorn, httpx (and what they bring: click, jinja2,
    // starlette, urllib3; grpcio from the OTLP exporter).
    "opentelemetry-instrumentation-asgi==0.66b1",
    "opentelemetry-instrumentation-click==0.66b1",
    "opentelemetry-instrumentation-fastapi==0.66b1",
    "opentelemetry-instrumentation-flask==0.66b1",
    "opentelemetry-instrumentation-grpc==0.66b1",
    "opentelemetry-instrumentation-httpx==0.66b1",
    "opentelemetry-instrumentation-jinja2==0.66b1",
    "opentelemetry-instrumentation-requests==0.66b1",
    "opentelemetry-instrumentation-starlette==0.66b1",
    "opentelemetry-instrumentation-urllib3==0.66b1",
    // Required by azure-monitor-opentelemetry whatever is installed; psutil (from its
    // exporter) makes `otel-bootstrap` recommend system-metrics.
    "opentelemetry-instrumentation-django==0.66b1",
    "opentelemetry-instrumentation-psycopg2==0.66b1",
    "opentelemetry-instrumentation-system-metrics==0.66b1",
];

/// The partial 0.66b2 release and the 1.45.2 core: what unpinned installs get today.
pub const OTEL_PINS_0_66B2: &[&str] = &[
    "opentelemetry-distro==0.66b2",
    "opentelemetry-instrumentation==0.66b2",
    "opentelemetry-semantic-conventions==0.66b2",
    "opentelemetry-exporter-otlp-common==0.66b2",
    "opentelemetry-exporter-http-transport==0.66b2",
    "opentelemetry-util-http==0.66b2",
    "opentelemetry-api==1.45.2",
    "opentelemetry-sdk==1.45.2",
    "opentelemetry-exporter-otlp==1.45.2",
    "opentelemetry-exporter-otlp-proto-http==1.45.2",
    "opentelemetry-exporter-otlp-proto-grpc==1.45.2",
    "opentelemetry-exporter-otlp-proto-common==1.45.2",
    "opentelemetry-proto==1.45.2",
];

/// `opentelemetry-*` projects outside the release trains (azure-monitor-opentelemetry's).
pub const OTHER_OTEL_PINS: &[&str] = &["opentelemetry-resource-detector-azure==0.3.0"];

/// Every other project, at its version on 2026-11-30 (a constraint: on another Python a
/// marker may add a project not listed here, which is then resolved freely).
pub const THIRD_PARTY_PINS: &[&str] = &[
    "annotated-doc==0.0.7",
    "annotated-types==0.8.0",
    "anyio==4.16.0",
    "asgiref==3.13.0",
    "azure-core==1.41.0",
    "azure-core-tracing-opentelemetry==1.0.0b13",
    "azure-identity==1.27.0",
    "azure-monitor-opentelemetry==1.8.11",
    "azure-monitor-opentelemetry-exporter==1.0.0b58",
    "blinker==1.9.0",
    "certifi==2026.10.19.post1",
    "cffi==2.1.1",
    "charset-normalizer==3.5.3",
    "click==8.5.1",
    "cryptography==50.0.2",
    "fastapi==0.165.0",
    "flask==3.1.3",
    "googleapis-common-protos==1.76.0",
    "grpcio==1.85.3",
    "h11==0.16.0",
    "httpcore==1.0.9",
    "httpx==0.28.1",
    "idna==3.20",
    "isodate==0.7.2",
    "itsdangerous==2.2.0",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    "msal==1.39.0",
    "msal-extensions==1.3.1",
    "msrest==0.7.1",
    "oauthlib==4.0.1",
    "packaging==26.4",
    "protobuf==7.36.2",
    "psutil==7.2.2",
    "pycparser==3.12",
    "pydantic==2.14.4",
    "pydantic-core==2.50.5",
    "pyjwt==2.15.1",
    "requests==2.34.2",
    "requests-oauthlib==2.0.0",
    "starlette==1.10.0",
    "typing-extensions==4.16.0",
    "typing-inspection==0.4.5",
    "urllib3==2.8.0",
    "uvicorn==0.54.0",
    "werkzeug==3.1.9",
    "wrapt==2.5.2",
];

/// The applications' libraries (resolved with both stacks).
const APP_LIBRARIES: &[&str] = &["flask", "requests", "fastapi", "uvicorn", "httpx"];

/// The documented flow for a Flask app, unpinned: `pip install <these>`.
pub const FLASK_FLOW: &[&str] = &[
    "opentelemetry-distro",
    "opentelemetry-exporter-otlp",
    "flask",
    "requests",
];

/// The documented flow for a FastAPI app, unpinned.
pub const FASTAPI_FLOW: &[&str] = &[
    "opentelemetry-distro",
    "opentelemetry-exporter-otlp",
    "fastapi",
    "uvicorn",
    "httpx",
];

/// What a careful user installs by hand for a working 0.66b1 setup of both apps: the core
/// at 0.66b1 / 1.45.1 and the flask, requests, fastapi, httpx instrumentations (plus the
/// asgi / wsgi ones they depend on, pulled in by the resolver).
pub const BY_HAND_0_66B1: &[&str] = &[
    "opentelemetry-distro==0.66b1",
    "opentelemetry-instrumentation==0.66b1",
    "opentelemetry-semantic-conventions==0.66b1",
    "opentelemetry-api==1.45.1",
    "opentelemetry-sdk==1.45.1",
    "opentelemetry-exporter-otlp==1.45.1",
    "opentelemetry-instrumentation-flask==0.66b1",
    "opentelemetry-instrumentation-requests==0.66b1",
    "opentelemetry-instrumentation-fastapi==0.66b1",
    "opentelemetry-instrumentation-httpx==0.66b1",
    "flask",
    "requests",
    "fastapi",
    "uvicorn",
    "httpx",
];

// ---------------------------------------------------------------------------------------
// Provisioning
// ---------------------------------------------------------------------------------------

/// `(normalized name, version)` of a `name==version` pin.
pub(crate) fn split_pin(pin: &str) -> (String, String) {
    let (name, version) = pin.split_once("==").expect("a pin is name==version");
    let name = name.split('[').next().unwrap_or(name);
    (normalize_name(name), version.to_owned())
}

/// Every pinned `opentelemetry-*` `(name, version)`.
pub fn otel_pins() -> Vec<(String, String)> {
    OTEL_PINS_0_66B1
        .iter()
        .chain(OTEL_PINS_0_66B2)
        .chain(OTHER_OTEL_PINS)
        .map(|pin| split_pin(pin))
        .collect()
}

/// `(normalized name, version)` of a wheel file name; `None` for anything else.
pub fn wheel_name_version(filename: &str) -> Option<(String, String)> {
    let stem = filename.strip_suffix(".whl")?;
    let mut parts = stem.split('-');
    let name = parts.next()?;
    let version = parts.next()?;
    Some((normalize_name(name), version.to_owned()))
}

/// `python3 -m pip` that may reach the machine's index: its configuration (certificate,
/// index URL, timeouts) is kept, `PIP_FIND_LINKS` and whatever would redirect the
/// download are dropped. With `OTEL_BOOTSTRAP_TEST_WHEELHOUSE` set it is offline from that
/// directory instead.
pub(crate) fn pip_download(python3: &Path, dest: &Path, constraints: &Path) -> Command {
    let mut cmd = Command::new(python3);
    for name in [
        "PIP_FIND_LINKS",
        "PIP_CONSTRAINT",
        "PIP_REQUIREMENT",
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_USER",
        "PIP_NO_DEPS",
        "PIP_REQUIRE_VIRTUALENV",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_INPUT", "1")
        .args(["-m", "pip", "download", "--only-binary", ":all:", "--dest"])
        .arg(dest)
        .arg("--constraint")
        .arg(constraints);
    match std::env::var_os(python::WHEELHOUSE_ENV) {
        Some(dir) if !dir.is_empty() => {
            cmd.arg("--no-index").arg("--find-links").arg(dir);
        }
        _ => {
            cmd.args(["--timeout", "60", "--retries", "2"]);
        }
    }
    cmd
}

pub(crate) fn run_download(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    Err(format!(
        "{what} failed ({}); no network? Set {}=<dir of wheels> to provision offline.\n  \
         command: {cmd:?}\n  stderr (tail):\n    {}",
        out.status,
        python::WHEELHOUSE_ENV,
        lines[lines.len().saturating_sub(15)..].join("\n    ")
    ))
}

/// Writes `MANIFEST.txt` (sha256 of every file, the date, the Python and platform) with the
/// base interpreter (hashing 20 MB is instant there).
pub(crate) const WRITE_MANIFEST: &str = r##"
import datetime, hashlib, os, sys, sysconfig
directory, name = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
lines = [
    "# %s: real wheels reproducing the index of 2026-11-30 (see tests/support/mirror.rs)" % name,
    "# downloaded %s for Python %d.%d (%s)" % ((now,) + tuple(sys.version_info[:2]) + (sysconfig.get_platform(),)),
    "# sha256  file",
]
for file in sorted(os.listdir(directory)):
    if file.endswith(".whl"):
        with open(os.path.join(directory, file), "rb") as f:
            lines.append("%s  %s" % (hashlib.sha256(f.read()).hexdigest(), file))
with open(os.path.join(directory, "MANIFEST.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
"##;

/// Downloads the two stacks into `tmp` and checks that every `opentelemetry-*` file is
/// pinned and every pin is there.
fn build_mirror(python3: &Path, tmp: &Path) -> Result<(), String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let constraints = scratch.path().join("constraints.txt");
    fs::write(&constraints, THIRD_PARTY_PINS.join("\n") + "\n")
        .map_err(|e| format!("writing {}: {e}", constraints.display()))?;

    // Today's stack: 0.66b2 / 1.45.2, with the app libraries.
    let mut today = pip_download(python3, tmp, &constraints);
    today
        .args(OTEL_PINS_0_66B2)
        .arg("opentelemetry-exporter-http-transport[requests,urllib3]==0.66b2")
        .args(APP_LIBRARIES);
    run_download(&mut today, "pip download (the 0.66b2 / 1.45.2 stack)")?;

    // The complete release: 0.66b1 / 1.45.1 with every instrumentation, and Azure's distro
    // (which resolves only with it).
    let mut release = pip_download(python3, tmp, &constraints);
    release
        .args(OTEL_PINS_0_66B1)
        .arg("opentelemetry-exporter-http-transport[requests,urllib3]==0.66b1")
        .args(OTHER_OTEL_PINS)
        .arg("azure-monitor-opentelemetry")
        .args(APP_LIBRARIES);
    run_download(&mut release, "pip download (the 0.66b1 / 1.45.1 stack)")?;

    let pins = otel_pins();
    let files: Vec<String> = fs::read_dir(tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    for file in &files {
        let Some((name, version)) = wheel_name_version(file) else {
            return Err(format!("pip download left {file}, which is not a wheel"));
        };
        if name.starts_with("opentelemetry-") && !pins.contains(&(name.clone(), version)) {
            return Err(format!(
                "pip download brought {file}, an opentelemetry distribution that is not \
                 pinned in tests/support/mirror.rs: pin it (and bump MIRROR)"
            ));
        }
    }
    for (name, version) in &pins {
        if !files
            .iter()
            .any(|file| wheel_name_version(file).as_ref() == Some(&(name.clone(), version.clone())))
        {
            return Err(format!("pip download did not bring {name}=={version}"));
        }
    }

    let mut manifest = Command::new(python3);
    manifest
        .args(["-I", "-c", WRITE_MANIFEST])
        .arg(tmp)
        .arg(MIRROR);
    run_download(&mut manifest, "writing MANIFEST.txt")
}

fn mirror_result() -> Result<PathBuf, String> {
    static MIRROR_DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    MIRROR_DIR
        .get_or_init(|| provision(MIRROR, build_mirror))
        .clone()
}

/// `<tools_dir>/<name>`, built once by `build(python3, temporary directory)` (which must
/// write `MANIFEST.txt`) under a lock, then renamed into place: the one provisioning
/// rule of every mirror entry.
pub(crate) fn provision(
    name: &str,
    build: fn(&Path, &Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let dest = python::tools_dir().join(name);
    if dest.join("MANIFEST.txt").is_file() {
        return Ok(dest);
    }
    let python3 =
        python::python3().ok_or_else(|| "python3 is needed to download the mirror".to_owned())?;
    let _guard = python::lock(name);
    if dest.join("MANIFEST.txt").is_file() {
        return Ok(dest);
    }
    let tmp = python::tools_dir().join(format!(".tmp-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    eprintln!("provisioning {} (first use) ...", dest.display());
    let started = Instant::now();
    if let Err(e) = build(&python3, &tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // A directory without MANIFEST.txt is a leftover of an interrupted older layout.
    let _ = fs::remove_dir_all(&dest);
    fs::rename(&tmp, &dest)
        .map_err(|e| format!("renaming {} to {}: {e}", tmp.display(), dest.display()))?;
    eprintln!(
        "provisioned {} in {:.1}s",
        dest.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(dest)
}

/// The mirror directory (wheels and `MANIFEST.txt`), downloaded on first use. `None`
/// (after [`python::skip_or_fail`]: a failure under `CI=true`) when it cannot be.
#[track_caller]
pub fn otel_mirror() -> Option<PathBuf> {
    match mirror_result() {
        Ok(dir) => Some(dir),
        Err(e) => {
            python::skip_or_fail(&e);
            None
        }
    }
}

/// `MANIFEST.txt` as `(file name, sha256)` pairs.
pub fn manifest(mirror: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(mirror.join("MANIFEST.txt")).expect("MANIFEST.txt");
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (digest, file) = line.split_once("  ").expect("`<sha256>  <file>`");
            (file.to_owned(), digest.to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// PATH
// ---------------------------------------------------------------------------------------

/// `PATH` without any directory holding `uv` (so `otel-bootstrap` picks pip).
pub fn path_without_uv() -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|directory| !directory.join("uv").exists())
        .collect();
    std::env::join_paths(kept).unwrap()
}

/// `PATH` with `uv`'s directory first.
pub fn path_with_uv(uv: &Path) -> OsString {
    let mut directories = vec![uv.parent().unwrap().to_path_buf()];
    directories.extend(std::env::split_paths(&path_without_uv()));
    std::env::join_paths(directories).unwrap()
}

// ---------------------------------------------------------------------------------------
// A test's world: the mirror served on 127.0.0.1, a scratch directory
// ---------------------------------------------------------------------------------------

/// The mirror served on 127.0.0.1 and a scratch directory (environments, projects, apps,
/// caches, `HOME`), removed when dropped.
pub struct Stack {
    /// The scratch directory.
    pub dir: tempfile::TempDir,
    /// The mirror's directory (what the index serves).
    pub mirror: PathBuf,
    /// The loopback index serving the mirror.
    pub index: IndexServer,
}

/// A uv project (`uv init --app`) and its `.venv`.
#[derive(Debug, Clone)]
pub struct UvProject {
    /// The directory holding `pyproject.toml` and `uv.lock`.
    pub root: PathBuf,
    /// `<root>/.venv`.
    pub venv: Venv,
}

impl UvProject {
    /// `pyproject.toml`'s text.
    pub fn pyproject(&self) -> String {
        fs::read_to_string(self.root.join("pyproject.toml")).unwrap()
    }

    /// `uv.lock`'s text.
    pub fn lock(&self) -> String {
        fs::read_to_string(self.root.join("uv.lock")).unwrap()
    }
}

/// A consistency check's outcome: whether the tool said the environment is consistent,
/// and what it printed (command, stdout, stderr), for assertion messages.
#[derive(Debug, Clone)]
pub struct Checked {
    pub ok: bool,
    pub output: String,
}

impl Checked {
    fn of(cmd: &Command, out: &Output) -> Checked {
        Checked {
            ok: out.status.success(),
            output: format!(
                "$ {cmd:?}\n[{}]\n--- stdout ---\n{}--- stderr ---\n{}",
                out.status,
                python::stdout(out),
                python::stderr(out)
            ),
        }
    }

    /// Panics with the output unless the check passed.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.ok, "consistency check failed:\n{}", self.output);
    }

    /// Panics with the output unless the check failed.
    #[track_caller]
    pub fn assert_failed(&self) {
        assert!(
            !self.ok,
            "consistency check passed unexpectedly:\n{}",
            self.output
        );
    }
}

impl Stack {
    /// Serves the mirror (downloading it first if needed) on 127.0.0.1. `None` (a failure
    /// under `CI=true`) when the mirror or `python3` is unavailable.
    #[track_caller]
    pub fn new() -> Option<Stack> {
        python::python3()?;
        let mirror = otel_mirror()?;
        Some(Stack::serving(mirror))
    }

    /// Serves another mirror entry (already provisioned) on 127.0.0.1.
    pub fn serving(mirror: PathBuf) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("home")).unwrap();
        let index = IndexServer::start(&mirror);
        Stack { dir, mirror, index }
    }

    /// `<scratch>/<name>`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The variables that keep pip, uv and `otel-bootstrap` on the loopback index with no
    /// configuration, `HOME` or cache of the machine: `PATH=path`, `HOME` and the pip / uv
    /// caches in the scratch directory, `PIP_CONFIG_FILE=/dev/null`, `UV_NO_CONFIG=1`,
    /// `PIP_INDEX_URL` / `UV_INDEX_URL` = the loopback index (which `otel-bootstrap` passes
    /// on to whichever installer it runs), no proxy for 127.0.0.1. Call on a command whose
    /// environment was cleared.
    pub fn hermetic(&self, cmd: &mut Command, path: &OsStr) {
        let scratch = self.dir.path();
        cmd.env("PATH", path)
            .env("HOME", scratch.join("home"))
            .env("LANG", "C.UTF-8")
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PIP_INDEX_URL", self.index.url())
            .env("PIP_CACHE_DIR", scratch.join("pip-cache"))
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .env("PIP_RETRIES", "1")
            .env("PIP_TIMEOUT", "30")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("UV_NO_CONFIG", "1")
            .env("UV_INDEX_URL", self.index.url())
            .env("UV_CACHE_DIR", scratch.join("uv-cache"))
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env("UV_HTTP_RETRIES", "0")
            .env("UV_NO_PROGRESS", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
    }

    /// `program` with a cleared, [hermetic](Stack::hermetic) environment, in `cwd`.
    pub fn command(&self, program: impl AsRef<OsStr>, cwd: &Path, path: &OsStr) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear();
        self.hermetic(&mut cmd, path);
        cmd.current_dir(cwd).stdin(Stdio::null());
        cmd
    }

    /// pip for `venv`: the venv's own `bin/pip` when it has one (as a user runs it), else
    /// the base interpreter's `python3 -m pip --python <venv python>`. Hermetic, `PATH`
    /// without uv.
    pub fn pip(&self, venv: &Venv) -> Command {
        let own = venv.bin("pip");
        if own.is_file() {
            return self.command(&own, self.dir.path(), &path_without_uv());
        }
        let python3 = python::python3().expect("python3");
        let mut cmd = self.command(python3, self.dir.path(), &path_without_uv());
        cmd.args(["-m", "pip", "--python"]).arg(&venv.python);
        cmd
    }

    /// `pip install <requirements>` into `venv` from the loopback index. Panics on failure.
    #[track_caller]
    pub fn pip_install(&self, venv: &Venv, requirements: &[&str]) -> Output {
        let mut cmd = self.pip(venv);
        cmd.args(["install", "--no-warn-script-location"])
            .args(requirements);
        python::run_ok(&mut cmd)
    }

    /// `python3 -m venv <scratch>/<name>` (with pip, as users make them), then
    /// `<venv>/bin/pip install <requirements>` from the loopback index.
    #[track_caller]
    pub fn pip_venv(&self, name: &str, requirements: &[&str]) -> Venv {
        let venv = python::venv_with_pip(&self.path(name)).expect("python3");
        if !requirements.is_empty() {
            self.pip_install(&venv, requirements);
        }
        venv
    }

    /// Like [`Stack::pip_venv`] but `--without-pip` (0.1 s instead of 3 s), installed with
    /// the base interpreter's pip: for environments `otel-bootstrap` does not install into.
    #[track_caller]
    pub fn venv_without_pip(&self, name: &str, requirements: &[&str]) -> Venv {
        let venv = python::venv(&self.path(name)).expect("python3");
        if !requirements.is_empty() {
            self.pip_install(&venv, requirements);
        }
        venv
    }

    /// `uv <args>` in `cwd`, hermetic, `PATH` with uv first, `UV_PYTHON` = the base
    /// interpreter. `None` (after skip_or_fail) when uv is unavailable.
    #[track_caller]
    pub fn uv(&self, cwd: &Path) -> Option<Command> {
        let uv = python::uv()?;
        let python3 = python::python3()?;
        let mut cmd = self.command(&uv, cwd, &path_with_uv(&uv));
        cmd.env("UV_PYTHON", python3);
        Some(cmd)
    }

    /// `uv venv <scratch>/<name>` then `uv pip install --python <venv> <requirements>` from
    /// the loopback index (a venv without pip, as uv makes them).
    #[track_caller]
    pub fn uv_venv(&self, name: &str, requirements: &[&str]) -> Option<Venv> {
        let root = self.path(name);
        let mut venv = self.uv(self.dir.path())?;
        python::run_ok(venv.args(["venv", "--quiet"]).arg(&root));
        let venv = Venv::at(&root);
        if !requirements.is_empty() {
            let mut install = self.uv(self.dir.path())?;
            install
                .args(["pip", "install", "--python"])
                .arg(&venv.python)
                .args(requirements);
            python::run_ok(&mut install);
        }
        Some(venv)
    }

    /// A uv application project in `<scratch>/<name>`: `uv init --app --no-package` (no
    /// VCS, no README, no author), `requires-python = "==X.Y.*"` for the base interpreter
    /// (keeping uv's universal resolution to the wheels the mirror has), then
    /// `uv add <requirements>` from the loopback index (which creates `.venv` and
    /// `uv.lock`).
    #[track_caller]
    pub fn uv_project(&self, name: &str, requirements: &[&str]) -> Option<UvProject> {
        let root = self.path(name);
        fs::create_dir_all(&root).unwrap();
        let mut init = self.uv(&root)?;
        init.args([
            "init",
            "--app",
            "--no-package",
            "--vcs",
            "none",
            "--author-from",
            "none",
            "--no-readme",
            "--no-workspace",
            "--name",
            name,
        ]);
        python::run_ok(&mut init);
        let pyproject = root.join("pyproject.toml");
        let text = fs::read_to_string(&pyproject).unwrap();
        let requires_python = format!("requires-python = \"=={}.*\"", python::python_version());
        let text: Vec<String> = text
            .lines()
            .map(|line| {
                if line.starts_with("requires-python") {
                    requires_python.clone()
                } else {
                    line.to_owned()
                }
            })
            .collect();
        fs::write(&pyproject, text.join("\n") + "\n").unwrap();
        if !requirements.is_empty() {
            let mut add = self.uv(&root)?;
            add.arg("add").args(requirements);
            python::run_ok(&mut add);
        } else {
            let mut sync = self.uv(&root)?;
            python::run_ok(sync.arg("sync"));
        }
        Some(UvProject {
            venv: Venv::at(&root.join(".venv")),
            root,
        })
    }

    // -----------------------------------------------------------------------------------
    // Consistency checks
    // -----------------------------------------------------------------------------------

    /// `pip check` on `venv` (its own `bin/pip` when present).
    pub fn pip_check(&self, venv: &Venv) -> Checked {
        let mut cmd = self.pip(venv);
        cmd.arg("check");
        let out = python::output(&mut cmd);
        Checked::of(&cmd, &out)
    }

    /// `uv pip check --python <venv>`. `None` when uv is unavailable.
    #[track_caller]
    pub fn uv_pip_check(&self, venv: &Venv) -> Option<Checked> {
        let mut cmd = self.uv(self.dir.path())?;
        cmd.args(["pip", "check", "--python"]).arg(&venv.python);
        let out = python::output(&mut cmd);
        Some(Checked::of(&cmd, &out))
    }

    /// `uv sync --locked` in the project: passes when `uv.lock` matches `pyproject.toml`
    /// and the environment can be synced to it.
    #[track_caller]
    pub fn uv_sync_locked(&self, project: &UvProject) -> Option<Checked> {
        let mut cmd = self.uv(&project.root)?;
        cmd.args(["sync", "--locked"]);
        let out = python::output(&mut cmd);
        Some(Checked::of(&cmd, &out))
    }

    /// Everything a uv project offers: `uv sync --locked` then `uv pip check` on its
    /// `.venv`; the first that fails, else the last.
    #[track_caller]
    pub fn uv_project_check(&self, project: &UvProject) -> Option<Checked> {
        let synced = self.uv_sync_locked(project)?;
        if !synced.ok {
            return Some(synced);
        }
        let checked = self.uv_pip_check(&project.venv)?;
        Some(Checked {
            ok: checked.ok,
            output: format!("{}\n{}", synced.output, checked.output),
        })
    }

    // -----------------------------------------------------------------------------------
    // otel-bootstrap
    // -----------------------------------------------------------------------------------

    /// Our binary in `cwd`, hermetic (`PATH=path`, the loopback index through
    /// `PIP_INDEX_URL` / `UV_INDEX_URL`). Add the arguments.
    pub fn ours(&self, cwd: &Path, path: &OsStr) -> Command {
        let mut cmd = self.command(python::bin(), cwd, path);
        for (name, value) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text == "LLVM_PROFILE_FILE" || name_text.starts_with("CARGO_LLVM_COV") {
                cmd.env(&name, value);
            }
        }
        cmd
    }

    /// `otel-bootstrap -a install --python <venv> <extra>`, with uv on `PATH` or not
    /// (`with_uv`: what a `uv venv` user has; without it `otel-bootstrap` uses pip).
    #[track_caller]
    pub fn install_into(&self, venv: &Venv, with_uv: bool, extra: &[&str]) -> Output {
        let path = self.path_for(with_uv);
        let mut cmd = self.ours(self.dir.path(), &path);
        cmd.args(["-a", "install", "--python"])
            .arg(&venv.root)
            .args(extra);
        python::output(&mut cmd)
    }

    /// `otel-bootstrap -a install <extra>` inside the uv project (uv on `PATH`).
    #[track_caller]
    pub fn install_in_project(&self, project: &UvProject, extra: &[&str]) -> Output {
        let path = self.path_for(true);
        let mut cmd = self.ours(&project.root, &path);
        cmd.args(["-a", "install"]).args(extra);
        python::output(&mut cmd)
    }

    /// `otel-bootstrap --check --python <venv> <extra>`.
    #[track_caller]
    pub fn check_venv(&self, venv: &Venv, extra: &[&str]) -> Output {
        let mut cmd = self.ours(self.dir.path(), &path_without_uv());
        cmd.args(["--check", "--python"])
            .arg(&venv.root)
            .args(extra);
        python::output(&mut cmd)
    }

    #[track_caller]
    fn path_for(&self, with_uv: bool) -> OsString {
        if with_uv {
            let uv = python::uv().expect("uv (call Stack::uv_venv / uv_project first)");
            path_with_uv(&uv)
        } else {
            path_without_uv()
        }
    }

    // -----------------------------------------------------------------------------------
    // Apps under opentelemetry-instrument
    // -----------------------------------------------------------------------------------

    /// Writes `app` into `<scratch>/apps/` and runs it as
    /// `<venv>/bin/opentelemetry-instrument <venv>/bin/python <app>` with the console
    /// trace exporter (`OTEL_TRACES_EXPORTER=console`, metrics and logs off,
    /// `OTEL_SERVICE_NAME=t`), hermetic. Fails only if it hangs (2 minutes); the exit
    /// status and output are in the result.
    #[track_caller]
    pub fn run_app(&self, venv: &Venv, app: App) -> AppRun {
        let apps = self.path("apps");
        fs::create_dir_all(&apps).unwrap();
        let script = apps.join(app.file_name());
        fs::write(&script, app.source()).unwrap();
        let instrument = venv.bin("opentelemetry-instrument");
        let mut path = vec![venv.root.join("bin")];
        path.extend(std::env::split_paths(&path_without_uv()));
        let path = std::env::join_paths(path).unwrap();
        let mut cmd = self.command(&instrument, &apps, &path);
        cmd.env("VIRTUAL_ENV", &venv.root)
            .env("OTEL_TRACES_EXPORTER", "console")
            .env("OTEL_METRICS_EXPORTER", "none")
            .env("OTEL_LOGS_EXPORTER", "none")
            .env("OTEL_SERVICE_NAME", "t")
            .arg(&venv.python)
            .arg(&script);
        let (status, stdout, stderr) = run_with_timeout(&mut cmd, Duration::from_secs(120));
        AppRun {
            command: format!("{cmd:?}"),
            spans: parse_console_spans(&stdout),
            status,
            stdout,
            stderr,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------

/// The installed version of each project, read by the venv's own interpreter.
pub fn versions(venv: &Venv, names: &[&str]) -> Vec<Option<String>> {
    let code = format!(
        "import importlib.metadata as m\nfor n in {names:?}:\n    try: print(m.version(n))\n    except m.PackageNotFoundError: print('-')"
    );
    venv.python_c(&code)
        .lines()
        .map(|line| (line != "-").then(|| line.to_owned()))
        .collect()
}

/// The installed version of one project.
pub fn version(venv: &Venv, name: &str) -> Option<String> {
    versions(venv, &[name]).pop().flatten()
}

/// Every installed distribution: normalized name → version.
pub fn installed(venv: &Venv) -> BTreeMap<String, String> {
    let code = "import importlib.metadata as m\nfor d in m.distributions():\n    print(d.metadata['Name'], d.version)";
    venv.python_c(code)
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(name, version)| (normalize_name(name), version.to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Apps
// ---------------------------------------------------------------------------------------

/// A tiny app: it serves one `GET /hello` through its framework's test client; the view
/// calls `GET /ping` on a stdlib HTTP server on 127.0.0.1 with the app's HTTP client. It
/// prints nothing on stdout (which is left to the console exporter), `app: <status> <body>`
/// on stderr, and exits 0 when the request succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// Flask + requests.
    Flask,
    /// FastAPI (Starlette's test client) + httpx.
    FastApi,
}

const DOWNSTREAM: &str = r#"import http.server
import sys
import threading


class Downstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"pong"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


downstream = http.server.HTTPServer(("127.0.0.1", 0), Downstream)
threading.Thread(target=downstream.serve_forever, daemon=True).start()
DOWNSTREAM = "http://127.0.0.1:%d/ping" % downstream.server_address[1]
"#;

const FLASK_APP: &str = r#"
import flask
import requests

app = flask.Flask(__name__)


@app.route("/hello")
def hello():
    response = requests.get(DOWNSTREAM, timeout=30)
    return "hello " + response.text


response = app.test_client().get("/hello")
downstream.shutdown()
sys.stderr.write("app: %s %s\n" % (response.status_code, response.get_data(as_text=True)))
sys.exit(0 if response.status_code == 200 else 1)
"#;

const FASTAPI_APP: &str = r#"
import fastapi
import httpx
from fastapi.testclient import TestClient

app = fastapi.FastAPI()


@app.get("/hello")
async def hello():
    async with httpx.AsyncClient() as client:
        response = await client.get(DOWNSTREAM, timeout=30)
    return {"downstream": response.text}


with TestClient(app) as client:
    response = client.get("/hello")
downstream.shutdown()
sys.stderr.write("app: %s %s\n" % (response.status_code, response.text))
sys.exit(0 if response.status_code == 200 else 1)
"#;

impl App {
    /// The script's file name.
    pub fn file_name(self) -> &'static str {
        match self {
            App::Flask => "flask_app.py",
            App::FastApi => "fastapi_app.py",
        }
    }

    /// The script.
    pub fn source(self) -> String {
        let body = match self {
            App::Flask => FLASK_APP,
            App::FastApi => FASTAPI_APP,
        };
        format!("{DOWNSTREAM}{body}")
    }
}

/// One run of an app under `opentelemetry-instrument`.
#[derive(Debug, Clone)]
pub struct AppRun {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Every span the console exporter printed, in order.
    pub spans: Vec<Value>,
}

impl AppRun {
    /// Spans of `kind` (`"SERVER"`, `"CLIENT"`, `"INTERNAL"`, ...).
    pub fn spans_of_kind(&self, kind: &str) -> Vec<&Value> {
        let kind = format!("SpanKind.{kind}");
        self.spans
            .iter()
            .filter(|span| span["kind"].as_str() == Some(kind.as_str()))
            .collect()
    }

    /// The SERVER spans for `GET /hello`, whoever made them.
    pub fn server_spans(&self) -> Vec<&Value> {
        self.spans_of_kind("SERVER")
            .into_iter()
            .filter(|span| {
                attribute(span, &["http.route", "http.target", "url.path"])
                    .is_some_and(|route| route == "/hello")
            })
            .collect()
    }

    /// The SERVER spans for `GET /hello` made by an OpenTelemetry instrumentation (the
    /// flask / fastapi ones): they carry the pre-stable `http.method` attribute, the
    /// default of the 0.66b1 instrumentations, while FastAPI's built-in telemetry (see
    /// [`AppRun::framework_spans`]) sets only the stable `http.request.method`.
    pub fn instrumented_server_spans(&self) -> Vec<&Value> {
        self.server_spans()
            .into_iter()
            .filter(|span| attribute(span, &["http.method"]).is_some())
            .collect()
    }

    /// The spans FastAPI makes by itself: fastapi 0.165 depends on `opentelemetry-api`
    /// and, whenever a tracer provider is configured (as `opentelemetry-instrument` with
    /// the distro does), emits a SERVER span per request and `fastapi.*` INTERNAL spans,
    /// with no instrumentation installed. It steps aside when the contrib ASGI middleware
    /// (the fastapi instrumentation) is present.
    pub fn framework_spans(&self) -> Vec<&Value> {
        self.spans
            .iter()
            .filter(|span| {
                let name = span["name"].as_str().unwrap_or_default();
                match span["kind"].as_str() {
                    Some("SpanKind.SERVER") => {
                        attribute(span, &["http.method"]).is_none()
                            && attribute(span, &["http.request.method"]).is_some()
                    }
                    Some("SpanKind.INTERNAL") => name.starts_with("fastapi."),
                    _ => false,
                }
            })
            .collect()
    }

    /// The CLIENT spans for the app's outgoing `GET .../ping`.
    pub fn client_spans(&self) -> Vec<&Value> {
        self.spans_of_kind("CLIENT")
            .into_iter()
            .filter(|span| {
                attribute(span, &["http.url", "url.full"]).is_some_and(|url| url.ends_with("/ping"))
            })
            .collect()
    }

    /// A resource attribute shared by the spans (e.g. `telemetry.sdk.version`,
    /// `telemetry.auto.version`), from the first span.
    pub fn resource_attribute(&self, name: &str) -> Option<String> {
        let value = &self.spans.first()?["resource"]["attributes"][name];
        value.as_str().map(str::to_owned)
    }

    /// Everything, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "$ {}\n[{}]\n--- stdout ---\n{}--- stderr ---\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }

    /// Panics unless the app exited 0.
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "the app failed:\n{}",
            self.describe()
        );
    }

    /// The app exited 0 and printed an instrumentation's server span for `GET /hello`
    /// and the client span for its outgoing request, in the same trace.
    #[track_caller]
    pub fn assert_server_and_client_spans(&self) {
        self.assert_success();
        let servers = self.instrumented_server_spans();
        let clients = self.client_spans();
        assert!(
            !servers.is_empty(),
            "no SERVER span for GET /hello from an instrumentation:\n{}",
            self.describe()
        );
        assert!(
            !clients.is_empty(),
            "no CLIENT span for the outgoing GET /ping:\n{}",
            self.describe()
        );
        let trace = |span: &Value| span["context"]["trace_id"].as_str().map(str::to_owned);
        assert!(
            clients
                .iter()
                .any(|client| servers.iter().any(|server| trace(client) == trace(server))),
            "the CLIENT span is not in the SERVER span's trace:\n{}",
            self.describe()
        );
    }

    /// The app exited 0 and no instrumentation printed a span: the only spans, if any,
    /// are the framework's own ([`AppRun::framework_spans`]).
    #[track_caller]
    pub fn assert_no_instrumentation_spans(&self) {
        self.assert_success();
        assert_eq!(
            self.framework_spans().len(),
            self.spans.len(),
            "expected no spans but the framework's own:\n{}",
            self.describe()
        );
    }
}

/// The first of `names` among the span's attributes, as text.
fn attribute(span: &Value, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| match &span["attributes"][*name] {
            Value::String(text) => Some(text.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
}

/// The spans `ConsoleSpanExporter` printed: each is a JSON object starting with a line
/// that is exactly `{` (it prints `span.to_json()` with an indent of 4). Other output is
/// ignored.
pub fn parse_console_spans(stdout: &str) -> Vec<Value> {
    let mut spans = Vec::new();
    let mut offset = 0;
    for line in stdout.split_inclusive('\n') {
        if line.trim_end() == "{" {
            let mut values = serde_json::Deserializer::from_str(&stdout[offset..]).into_iter();
            if let Some(Ok(value)) = values.next() {
                let value: Value = value;
                if value.get("kind").is_some() && value.get("context").is_some() {
                    spans.push(value);
                }
            }
        }
        offset += line.len();
    }
    spans
}

/// Runs `cmd` with piped output; kills it and panics (with the output so far) after
/// `timeout`. Returns the exit status, stdout and stderr.
#[track_caller]
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> (ExitStatus, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the app") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} hung (killed after {timeout:?})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status,
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    )
}
