//! The target environment of `--from`: the PEP 508 marker values that lock and
//! requirements files are evaluated against.
//!
//! In order: the interpreter of the discovered environment (asked once, `-I -c`, JSON
//! out), else the Python on `PATH`; `--python-version` and `--platform` override what the
//! interpreter says. With no interpreter and neither flag, every environment marker is
//! true (extras and dependency groups still count) and the caller says so in a note.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::requirement::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree};

/// `--platform`: the operating system (and machine) to evaluate markers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// Linux on x86_64.
    Linux,
    /// Linux on aarch64.
    LinuxAarch64,
    /// macOS on arm64.
    Macos,
    /// macOS on x86_64.
    #[value(name = "macos-x86_64")]
    MacosX86_64,
    /// Windows on AMD64.
    Windows,
}

impl Platform {
    /// `(sys_platform, platform_system, os_name, platform_machine)`.
    fn values(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Linux => ("linux", "Linux", "posix", "x86_64"),
            Self::LinuxAarch64 => ("linux", "Linux", "posix", "aarch64"),
            Self::Macos => ("darwin", "Darwin", "posix", "arm64"),
            Self::MacosX86_64 => ("darwin", "Darwin", "posix", "x86_64"),
            Self::Windows => ("win32", "Windows", "nt", "AMD64"),
        }
    }

    /// The platform this program runs on, for `--python-version` without `--platform`.
    fn host() -> Self {
        if cfg!(target_os = "windows") {
            Self::Windows
        } else if cfg!(target_os = "macos") {
            if cfg!(target_arch = "x86_64") {
                Self::MacosX86_64
            } else {
                Self::Macos
            }
        } else if cfg!(target_arch = "aarch64") {
            Self::LinuxAarch64
        } else {
            Self::Linux
        }
    }
}

/// The marker values, as an interpreter reports them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub(crate) struct MarkerValues {
    pub(crate) implementation_name: String,
    pub(crate) implementation_version: String,
    pub(crate) os_name: String,
    pub(crate) platform_machine: String,
    pub(crate) platform_python_implementation: String,
    pub(crate) platform_release: String,
    pub(crate) platform_system: String,
    pub(crate) platform_version: String,
    pub(crate) python_full_version: String,
    pub(crate) python_version: String,
    pub(crate) sys_platform: String,
}

impl MarkerValues {
    /// Values for a CPython of `python_version` (`3.12` or `3.12.4`) on `platform`.
    pub(crate) fn synthetic(python_version: &str, platform: Platform) -> Result<Self, String> {
        let mut values = Self {
            implementation_name: "cpython".to_owned(),
            implementation_version: String::new(),
            os_name: String::new(),
            platform_machine: String::new(),
            platform_python_implementation: "CPython".to_owned(),
            platform_release: String::new(),
            platform_system: String::new(),
            platform_version: String::new(),
            python_full_version: String::new(),
            python_version: String::new(),
            sys_platform: String::new(),
        };
        values.set_python_version(python_version)?;
        values.set_platform(platform);
        Ok(values)
    }

    /// Overrides the Python version (`3.12` means `3.12.0` for `python_full_version`).
    pub(crate) fn set_python_version(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        let parts: Vec<&str> = text.split('.').collect();
        let numeric = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(numeric) {
            return Err(format!(
                "`--python-version {text}` is not a Python version such as `3.12` or `3.12.4`"
            ));
        }
        self.python_version = format!("{}.{}", parts[0], parts[1]);
        self.python_full_version = if parts.len() == 3 {
            text.to_owned()
        } else {
            format!("{text}.0")
        };
        self.implementation_version = self.python_full_version.clone();
        Ok(())
    }

    /// Overrides the operating system and machine.
    pub(crate) fn set_platform(&mut self, platform: Platform) {
        let (sys_platform, platform_system, os_name, machine) = platform.values();
        self.sys_platform = sys_platform.to_owned();
        self.platform_system = platform_system.to_owned();
        self.os_name = os_name.to_owned();
        self.platform_machine = machine.to_owned();
        self.platform_release = String::new();
        self.platform_version = String::new();
    }

    /// The `pep508_rs` environment.
    pub(crate) fn to_environment(&self) -> Result<MarkerEnvironment, String> {
        let builder = MarkerEnvironmentBuilder {
            implementation_name: &self.implementation_name,
            implementation_version: &self.implementation_version,
            os_name: &self.os_name,
            platform_machine: &self.platform_machine,
            platform_python_implementation: &self.platform_python_implementation,
            platform_release: &self.platform_release,
            platform_system: &self.platform_system,
            platform_version: &self.platform_version,
            python_full_version: &self.python_full_version,
            python_version: &self.python_version,
            sys_platform: &self.sys_platform,
        };
        catch_unwind(AssertUnwindSafe(|| MarkerEnvironment::try_from(builder)))
            .map_err(|_| "the Python version could not be parsed".to_owned())?
            .map_err(|error| format!("the Python version is not a PEP 440 version: {error}"))
    }
}

/// Where the marker values came from, for notes and `-v`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum TargetSource {
    /// Asked the interpreter of the discovered environment (or the one on `PATH`).
    Interpreter { path: PathBuf },
    /// `--python-version` / `--platform`, over an interpreter's values when there was one.
    Flags,
    /// No interpreter and no flags: every environment marker is true.
    Everything,
}

/// What markers are evaluated against: an environment, or nothing (every environment
/// marker true). Extras and dependency groups are always evaluated.
#[derive(Debug, Clone)]
pub(crate) struct MarkerTarget {
    environment: Option<MarkerEnvironment>,
    pub(crate) values: Option<MarkerValues>,
    pub(crate) source: TargetSource,
}

impl MarkerTarget {
    /// Every environment marker is true.
    pub(crate) fn everything() -> Self {
        Self {
            environment: None,
            values: None,
            source: TargetSource::Everything,
        }
    }

    /// Markers evaluated against `values`.
    pub(crate) fn from_values(values: MarkerValues, source: TargetSource) -> Result<Self, String> {
        Ok(Self {
            environment: Some(values.to_environment()?),
            values: Some(values),
            source,
        })
    }

    /// Whether `marker` holds, with `extras` active.
    pub(crate) fn evaluate(&self, marker: &MarkerTree, extras: &[ExtraName]) -> bool {
        catch_unwind(AssertUnwindSafe(|| {
            marker.evaluate_optional_environment(self.environment.as_ref(), extras)
        }))
        .unwrap_or(true)
    }

    /// A short description for notes (`Python 3.12 on linux`, `every environment marker`).
    pub(crate) fn describe(&self) -> String {
        match &self.values {
            Some(values) => format!(
                "Python {} on {} ({})",
                values.python_full_version, values.sys_platform, values.platform_machine
            ),
            None => "no particular Python: every environment marker is true".to_owned(),
        }
    }
}

/// Parses a PEP 508 marker expression without ever panicking (through the one door).
pub(crate) use crate::requirement::parse_marker;

/// Chooses the target: the interpreter's values (if any) with the flags applied over them.
/// `interpreter` is asked only when given; its failure is a note, not an error.
pub(crate) fn choose_target(
    interpreter: Option<&Path>,
    python_version: Option<&str>,
    platform: Option<Platform>,
    notes: &mut Vec<String>,
) -> Result<MarkerTarget, String> {
    let asked = interpreter.and_then(|path| match query_interpreter(path) {
        Ok(values) => Some((values, path.to_owned())),
        Err(error) => {
            notes.push(format!(
                "cannot ask `{}` for its environment markers: {error}",
                path.display()
            ));
            None
        }
    });
    let flags_given = python_version.is_some() || platform.is_some();
    match asked {
        Some((mut values, path)) => {
            if let Some(version) = python_version {
                values.set_python_version(version)?;
            }
            if let Some(platform) = platform {
                values.set_platform(platform);
            }
            let source = if flags_given {
                TargetSource::Flags
            } else {
                TargetSource::Interpreter { path }
            };
            MarkerTarget::from_values(values, source)
        }
        None if flags_given => {
            let version = match python_version {
                Some(version) => version,
                None => {
                    notes.push(
                        "no interpreter to ask for the Python version: assuming 3.13 (pass `--python-version`)"
                            .to_owned(),
                    );
                    "3.13"
                }
            };
            let values = MarkerValues::synthetic(version, platform.unwrap_or_else(Platform::host))?;
            MarkerTarget::from_values(values, TargetSource::Flags)
        }
        None => Ok(MarkerTarget::everything()),
    }
}

/// The Python whose release choice a `--from` plan follows (see `plan::PlanOptions::python`):
/// the target's `major.minor` (any `3.9.x`, as `pyvenv.cfg` says it) when an interpreter or
/// `--python-version` chose it;
/// with no Python at all, the oldest `3.x` a lock's `requires-python` admits (the pins must
/// install on every Python the project supports); else none.
pub(crate) fn plan_python(target: &MarkerTarget, requires_python: Option<&str>) -> Option<String> {
    if let Some(values) = &target.values {
        return Some(values.python_version.clone());
    }
    lowest_python(requires_python?)
}

/// The oldest `3.x` (`x` up to 30) a `requires-python` range admits: `>=3.9` gives `3.9`,
/// `>=3.8.1,<4` gives `3.8` (a late 3.8 is admitted). `None` when it admits none or is not
/// a range.
pub(crate) fn lowest_python(requires_python: &str) -> Option<String> {
    let range = crate::registry::PythonRange::parse(requires_python)?;
    (0..=30)
        .map(|minor| format!("3.{minor}"))
        .find(|candidate| {
            crate::registry::python_version(candidate).is_some_and(|version| range.admits(&version))
        })
}

/// `python3`, else `python`, on `PATH`.
pub(crate) fn python_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    crate::environment::find_on_path(&path, &["python3", "python"])
}

/// The marker values `python` reports, through the one probe
/// ([`crate::interpreter::probe`]: at most once per run, remembered across runs).
pub(crate) fn query_interpreter(python: &Path) -> Result<MarkerValues, String> {
    let probe = crate::interpreter::probe(python).map_err(|error| match error {
        crate::interpreter::ProbeError::Failed(reason) => reason,
        crate::interpreter::ProbeError::Output(reason) => format!("unexpected output: {reason}"),
    })?;
    probe
        .markers
        .ok_or_else(|| "unexpected output: no marker values".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_requires_python_names_its_oldest_python() {
        assert_eq!(lowest_python(">=3.9").as_deref(), Some("3.9"));
        assert_eq!(lowest_python(">=3.8.1, <4").as_deref(), Some("3.8"));
        assert_eq!(lowest_python("~=3.10").as_deref(), Some("3.10"));
        assert_eq!(lowest_python(">=4"), None);
        assert_eq!(lowest_python("not a range"), None);
        assert_eq!(
            plan_python(&MarkerTarget::everything(), Some(">=3.9")).as_deref(),
            Some("3.9")
        );
        assert_eq!(plan_python(&MarkerTarget::everything(), None), None);
        let flags = choose_target(None, Some("3.9"), Some(Platform::Linux), &mut Vec::new())
            .expect("a target");
        assert_eq!(plan_python(&flags, Some(">=3.8")).as_deref(), Some("3.9"));
    }

    #[test]
    fn synthetic_targets_evaluate_markers() {
        let values = MarkerValues::synthetic("3.9", Platform::Windows).unwrap();
        let target = MarkerTarget::from_values(values, TargetSource::Flags).unwrap();
        let holds = |text: &str| target.evaluate(&parse_marker(text).unwrap(), &[]);
        assert!(holds("python_version < '3.10'"));
        assert!(holds("sys_platform == 'win32' and os_name == 'nt'"));
        assert!(!holds("python_full_version >= '3.9.1'"));
        assert!(!holds("extra == 'async'"));
    }

    #[test]
    fn everything_keeps_extras_meaningful() {
        let target = MarkerTarget::everything();
        let marker = parse_marker("sys_platform == 'win32' and extra == 'async'").unwrap();
        assert!(!target.evaluate(&marker, &[]));
        let extra = ExtraName::new("async".to_owned()).unwrap();
        assert!(target.evaluate(&marker, &[extra]));
    }

    #[test]
    fn bad_versions_and_markers_are_errors() {
        for text in ["3", "3.x", "", "3.12.1.1", "py3"] {
            assert!(
                MarkerValues::synthetic(text, Platform::Linux).is_err(),
                "{text}"
            );
        }
        for text in ["python_version >", "foo == 'x'", "(", "'a' in", "\u{0}"] {
            assert!(parse_marker(text).is_err(), "{text:?}");
        }
    }

    /// Against the machine's real Python: the fast script reports what `platform` (PEP
    /// 508's reference implementation) does. Without Python the test is skipped, except
    /// under CI, where it fails.
    #[test]
    fn asks_a_real_interpreter() {
        let Some(python) = python_on_path() else {
            assert!(std::env::var_os("CI").is_none(), "CI needs python3 on PATH");
            return;
        };
        let values = query_interpreter(&python).unwrap();
        assert!(values.python_version.starts_with('3'));
        assert!(values.to_environment().is_ok());
        let reference = std::process::Command::new(&python)
            .args(["-I", "-c", "import json, os, platform, sys\nprint(json.dumps([os.name, platform.machine(), platform.python_implementation(), platform.release(), platform.system(), platform.version(), platform.python_version(), sys.platform]))"])
            .output()
            .unwrap();
        let reference: Vec<String> = serde_json::from_slice(&reference.stdout).unwrap();
        assert_eq!(
            [
                &values.os_name,
                &values.platform_machine,
                &values.platform_python_implementation,
                &values.platform_release,
                &values.platform_system,
                &values.platform_version,
                &values.python_full_version,
                &values.sys_platform,
            ]
            .map(String::as_str),
            reference.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
    }
}
