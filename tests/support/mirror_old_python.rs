//! Loopback mirrors of **real** wheels for Pythons older than OpenTelemetry's current
//! releases support: Python 3.9 (newest release 0.62b1, with the 1.41.1 core) and Python
//! 3.8 (0.54b1, with 1.33.1). 0.63b0 and later need Python >= 3.10; 0.55b0 and later need
//! >= 3.9 (the `Requires-Python` of the real wheels, recorded in `data/releases`).
//!
//! Each mirror is downloaded once by **that Python's own pip** (`python3.9 -m pip download
//! --only-binary :all:`, so markers and `Requires-Python` are that interpreter's) into
//! `<tools_dir>/<entry>/`, through [`mirror::provision`] like every mirror entry: the
//! stack at exact pins, the instrumentations a Flask + requests environment with the OTLP
//! exporter is recommended,
//! and flask / requests at versions that support that Python. Bump the entry's suffix when
//! a pin list changes.
//!
//! The interpreters come from the machine's pyenv (`/root/.pyenv/versions/3.9.18`,
//! `3.8.18`, or `$OTEL_BOOTSTRAP_TEST_PYTHON39` / `$OTEL_BOOTSTRAP_TEST_PYTHON38`); a
//! missing one fails under `CI=true` ([`python::skip_or_fail`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::mirror::{self, Stack};
use super::python::{self, Venv};

/// One old Python and its mirror.
pub struct OldPython {
    /// `3.9`.
    pub version: &'static str,
    /// The mirror entry under `tools_dir()`.
    pub mirror: &'static str,
    /// The newest release this Python can install (`0.62b1`).
    pub release: &'static str,
    /// The core (api / sdk / exporters) paired with it.
    pub core: &'static str,
    /// Every `opentelemetry-*` pin.
    pub otel_pins: &'static [&'static str],
    /// Every other project, as a constraint.
    pub third_party_pins: &'static [&'static str],
    /// Where pyenv keeps the interpreter, and the variable that overrides it.
    interpreter: &'static str,
    interpreter_env: &'static str,
    build: fn(&Path, &Path) -> Result<(), String>,
}

/// Python 3.9: 0.62b1 / 1.41.1.
pub const PYTHON_39: OldPython = OldPython {
    version: "3.9",
    mirror: "otel-mirror-py39-v2",
    release: "0.62b1",
    core: "1.41.1",
    otel_pins: &[
        "opentelemetry-distro==0.62b1",
        "opentelemetry-instrumentation==0.62b1",
        "opentelemetry-semantic-conventions==0.62b1",
        "opentelemetry-util-http==0.62b1",
        "opentelemetry-api==1.41.1",
        "opentelemetry-sdk==1.41.1",
        "opentelemetry-exporter-otlp==1.41.1",
        "opentelemetry-exporter-otlp-proto-http==1.41.1",
        "opentelemetry-exporter-otlp-proto-grpc==1.41.1",
        "opentelemetry-exporter-otlp-proto-common==1.41.1",
        "opentelemetry-proto==1.41.1",
        "opentelemetry-instrumentation-asyncio==0.62b1",
        "opentelemetry-instrumentation-dbapi==0.62b1",
        "opentelemetry-instrumentation-logging==0.62b1",
        "opentelemetry-instrumentation-sqlite3==0.62b1",
        "opentelemetry-instrumentation-threading==0.62b1",
        "opentelemetry-instrumentation-urllib==0.62b1",
        "opentelemetry-instrumentation-wsgi==0.62b1",
        "opentelemetry-instrumentation-click==0.62b1",
        "opentelemetry-instrumentation-flask==0.62b1",
        // The OTLP exporter brings grpcio.
        "opentelemetry-instrumentation-grpc==0.62b1",
        "opentelemetry-instrumentation-jinja2==0.62b1",
        "opentelemetry-instrumentation-requests==0.62b1",
        "opentelemetry-instrumentation-urllib3==0.62b1",
    ],
    third_party_pins: &[
        "blinker==1.9.0",
        "certifi==2026.10.19.post1",
        "charset-normalizer==3.5.3",
        "click==8.1.8",
        "flask==3.1.3",
        "googleapis-common-protos==1.75.0",
        "grpcio==1.80.1",
        "idna==3.20",
        "importlib-metadata==8.7.1",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "markupsafe==3.0.4",
        "packaging==26.3",
        "protobuf==6.33.6",
        "requests==2.32.5",
        "typing-extensions==4.16.0",
        "urllib3==2.6.3",
        "werkzeug==3.1.9",
        "wrapt==2.5.2",
        "zipp==3.23.1",
    ],
    interpreter: "/root/.pyenv/versions/3.9.18/bin/python3.9",
    interpreter_env: "OTEL_BOOTSTRAP_TEST_PYTHON39",
    build: build_39,
};

/// Python 3.8: 0.54b1 / 1.33.1.
pub const PYTHON_38: OldPython = OldPython {
    version: "3.8",
    mirror: "otel-mirror-py38-v2",
    release: "0.54b1",
    core: "1.33.1",
    otel_pins: &[
        "opentelemetry-distro==0.54b1",
        "opentelemetry-instrumentation==0.54b1",
        "opentelemetry-semantic-conventions==0.54b1",
        "opentelemetry-util-http==0.54b1",
        "opentelemetry-api==1.33.1",
        "opentelemetry-sdk==1.33.1",
        "opentelemetry-exporter-otlp==1.33.1",
        "opentelemetry-exporter-otlp-proto-http==1.33.1",
        "opentelemetry-exporter-otlp-proto-grpc==1.33.1",
        "opentelemetry-exporter-otlp-proto-common==1.33.1",
        "opentelemetry-proto==1.33.1",
        "opentelemetry-instrumentation-asyncio==0.54b1",
        "opentelemetry-instrumentation-dbapi==0.54b1",
        "opentelemetry-instrumentation-logging==0.54b1",
        "opentelemetry-instrumentation-sqlite3==0.54b1",
        "opentelemetry-instrumentation-threading==0.54b1",
        "opentelemetry-instrumentation-urllib==0.54b1",
        "opentelemetry-instrumentation-wsgi==0.54b1",
        "opentelemetry-instrumentation-click==0.54b1",
        "opentelemetry-instrumentation-flask==0.54b1",
        // The OTLP exporter brings grpcio.
        "opentelemetry-instrumentation-grpc==0.54b1",
        "opentelemetry-instrumentation-jinja2==0.54b1",
        "opentelemetry-instrumentation-requests==0.54b1",
        "opentelemetry-instrumentation-urllib3==0.54b1",
    ],
    third_party_pins: &[
        "blinker==1.8.2",
        "certifi==2026.10.19.post1",
        "charset-normalizer==3.5.3",
        "click==8.1.8",
        "deprecated==1.3.1",
        "flask==3.0.3",
        "googleapis-common-protos==1.73.0",
        "grpcio==1.70.0",
        "idna==3.15",
        "importlib-metadata==8.5.0",
        "itsdangerous==2.2.0",
        "jinja2==3.1.6",
        "markupsafe==2.1.5",
        "packaging==26.2",
        "protobuf==5.29.6",
        "requests==2.32.4",
        "typing-extensions==4.13.2",
        "urllib3==2.2.3",
        "werkzeug==3.0.6",
        "wrapt==1.17.3",
        "zipp==3.20.2",
    ],
    interpreter: "/root/.pyenv/versions/3.8.18/bin/python3.8",
    interpreter_env: "OTEL_BOOTSTRAP_TEST_PYTHON38",
    build: build_38,
};

/// What a user on that Python installs for a Flask app, unpinned.
pub const FLASK_FLOW: &[&str] = mirror::FLASK_FLOW;

impl OldPython {
    /// The interpreter, if it is on this machine.
    fn interpreter_path(&self) -> Option<PathBuf> {
        let path = std::env::var_os(self.interpreter_env)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(self.interpreter));
        path.is_file().then_some(path)
    }

    /// The interpreter; `None` after [`python::skip_or_fail`] (a failure under `CI=true`).
    #[track_caller]
    pub fn interpreter(&self) -> Option<PathBuf> {
        let found = self.interpreter_path();
        if found.is_none() {
            python::skip_or_fail(&format!(
                "Python {} is needed (looked for {}; set {})",
                self.version, self.interpreter, self.interpreter_env
            ));
        }
        found
    }

    /// The mirror served on 127.0.0.1 (downloaded on first use); `None` (a failure under
    /// `CI=true`) when the interpreter or the mirror is unavailable.
    #[track_caller]
    pub fn stack(&self) -> Option<Stack> {
        static PY39: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        static PY38: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        self.interpreter()?;
        python::python3()?;
        let cell = if self.version == "3.9" { &PY39 } else { &PY38 };
        match cell
            .get_or_init(|| mirror::provision(self.mirror, self.build))
            .clone()
        {
            Ok(dir) => Some(Stack::serving(dir)),
            Err(e) => {
                python::skip_or_fail(&e);
                None
            }
        }
    }

    /// `<this python> -m venv <scratch>/<name>` (with its own pip, as users make them),
    /// then `<venv>/bin/pip install <requirements>` from the loopback index.
    #[track_caller]
    pub fn pip_venv(&self, stack: &Stack, name: &str, requirements: &[&str]) -> Venv {
        let interpreter = self.interpreter_path().expect("checked by stack()");
        let root = stack.path(name);
        let mut create = Command::new(interpreter);
        for variable in [
            "PYTHONPATH",
            "PYTHONHOME",
            "VIRTUAL_ENV",
            "PIP_REQUIRE_VIRTUALENV",
        ] {
            create.env_remove(variable);
        }
        python::run_ok(create.args(["-m", "venv"]).arg(&root));
        let venv = Venv::at(&root);
        if !requirements.is_empty() {
            stack.pip_install(&venv, requirements);
        }
        venv
    }
}

fn build_39(_python3: &Path, tmp: &Path) -> Result<(), String> {
    build(&PYTHON_39, tmp)
}

fn build_38(_python3: &Path, tmp: &Path) -> Result<(), String> {
    build(&PYTHON_38, tmp)
}

/// Downloads the stack with that Python's own pip and checks that every
/// `opentelemetry-*` file is pinned and every pin is there.
fn build(old: &OldPython, tmp: &Path) -> Result<(), String> {
    let interpreter = old
        .interpreter_path()
        .ok_or_else(|| format!("Python {} is not on this machine", old.version))?;
    let scratch = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let constraints = scratch.path().join("constraints.txt");
    fs::write(&constraints, old.third_party_pins.join("\n") + "\n")
        .map_err(|e| format!("writing {}: {e}", constraints.display()))?;
    let mut download = mirror::pip_download(&interpreter, tmp, &constraints);
    download.args(old.otel_pins).args(["flask", "requests"]);
    mirror::run_download(
        &mut download,
        &format!(
            "pip download (the {} stack for Python {})",
            old.release, old.version
        ),
    )?;

    let pins: Vec<(String, String)> = old
        .otel_pins
        .iter()
        .map(|pin| mirror::split_pin(pin))
        .collect();
    let mut files = Vec::new();
    for entry in fs::read_dir(tmp).map_err(|e| format!("{}: {e}", tmp.display()))? {
        let file = entry
            .map_err(|e| e.to_string())?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some((name, version)) = mirror::wheel_name_version(&file) else {
            return Err(format!("pip download left {file}, which is not a wheel"));
        };
        if name.starts_with("opentelemetry-") && !pins.contains(&(name.clone(), version.clone())) {
            return Err(format!(
                "pip download brought {file}, an opentelemetry distribution that is not pinned \
                 in tests/support/mirror_old_python.rs: pin it (and bump the entry's suffix)"
            ));
        }
        files.push((name, version));
    }
    for pin in &pins {
        if !files.contains(pin) {
            return Err(format!("pip download did not bring {}=={}", pin.0, pin.1));
        }
    }
    let mut manifest = Command::new(&interpreter);
    manifest
        .args(["-I", "-c", mirror::WRITE_MANIFEST])
        .arg(tmp)
        .arg(old.mirror);
    mirror::run_download(&mut manifest, "writing MANIFEST.txt")
}
