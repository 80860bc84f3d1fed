//! Finding the target Python environment and its site-packages directories.
//!
//! Sources are tried in a fixed order (first that applies wins): `--site-packages`,
//! `--python` (a path, or a request such as `3.12` found as uv finds it: [`requested`]),
//! `VIRTUAL_ENV`, `CONDA_PREFIX`, the nearest `.venv`, the environment this
//! executable is installed in (`pip install` into a venv; never a uv or pipx *tool*
//! environment, see [`is_tool_environment`]), then `python3` / `python` on `PATH`. A
//! venv's `pyvenv.cfg` is usually enough to find its site-packages without starting
//! Python; the interpreter is asked (once, JSON out, never through a shell) only when the
//! layout does not tell.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::project::location::Location;
use crate::project::{Project, Tool};

mod pyvenv;
mod requested;

use pyvenv::{
    base_interpreter, conda_python_version, locate_site_packages, unique_directories,
    version_of_site_packages, SystemSitePackages, VenvConfig,
};
pub(crate) use pyvenv::{site_packages_owner, venv_interpreter};

/// Where the environment came from, in the order the sources are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Source {
    /// `--site-packages DIR` (one or more).
    SitePackagesFlag,
    /// `--python PATH` (an interpreter or an environment directory).
    PythonFlag,
    /// The `VIRTUAL_ENV` variable (an activated venv).
    VirtualEnv,
    /// The `CONDA_PREFIX` variable (an activated conda environment).
    CondaPrefix,
    /// The nearest `.venv` in the current directory or one of its parents.
    DotVenv,
    /// The venv (or conda environment) whose `bin/` (`Scripts\` on Windows) holds the
    /// running `otel-bootstrap`, as after `pip install otel-bootstrap-rs`.
    InstalledVenv,
    /// `python3` or `python` found on `PATH`.
    PathInterpreter,
    /// The environment of the project around the current directory (or `--project`), as
    /// its tool (Poetry, PDM, pipenv, Hatch, pip-tools) finds it.
    Project,
}

impl Source {
    /// The flag or variable as a user would write it, e.g. `--python` or `VIRTUAL_ENV`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Source::SitePackagesFlag => "--site-packages",
            Source::PythonFlag => "--python",
            Source::VirtualEnv => "VIRTUAL_ENV",
            Source::CondaPrefix => "CONDA_PREFIX",
            Source::DotVenv => ".venv",
            Source::InstalledVenv => "the environment otel-bootstrap is installed in",
            Source::PathInterpreter => "PATH",
            Source::Project => "the project's tool",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// Inputs to discovery. The process environment is passed in explicitly so that
/// discovery is testable without touching global state.
#[derive(Debug, Clone, Default)]
pub(crate) struct DiscoveryOptions {
    /// `--site-packages` directories, in the order given.
    pub(crate) site_packages: Vec<PathBuf>,
    /// `--python`.
    pub(crate) python: Option<PathBuf>,
    /// The current directory (start of the `.venv` search; relative paths are
    /// resolved against it).
    pub(crate) current_dir: PathBuf,
    /// `VIRTUAL_ENV`, if set and non-empty.
    pub(crate) virtual_env: Option<PathBuf>,
    /// `CONDA_PREFIX`, if set and non-empty.
    pub(crate) conda_prefix: Option<PathBuf>,
    /// `PATH`, if set.
    pub(crate) path: Option<OsString>,
    /// The running executable (`std::env::current_exe`), for [`Source::InstalledVenv`].
    pub(crate) current_exe: Option<PathBuf>,
    /// `UV_PROJECT_ENVIRONMENT`, if set and non-empty: a uv project's environment lives
    /// there rather than in `.venv`.
    pub(crate) uv_project_environment: Option<PathBuf>,
    /// The project around the current directory (or `--project`) and where its tool keeps
    /// its environment.
    pub(crate) project: Option<(Project, Location)>,
    /// Whether the run needs the environment's interpreter (`-a install`): its errors then
    /// offer no `--site-packages`, which such a run refuses.
    pub(crate) needs_interpreter: bool,
}

impl DiscoveryOptions {
    /// Options from the command-line values plus this process's current directory,
    /// `VIRTUAL_ENV`, `CONDA_PREFIX`, `PATH` (empty values count as unset) and executable.
    pub(crate) fn from_process(
        site_packages: Vec<PathBuf>,
        python: Option<PathBuf>,
    ) -> io::Result<Self> {
        let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let current_dir = match std::env::current_dir() {
            Ok(directory) => directory,
            // A deleted working directory: absolute `--python` / `--site-packages`
            // still name the environment, and nothing is searched from here.
            Err(error) => python
                .iter()
                .chain(&site_packages)
                .find(|path| path.is_absolute())
                .map(|path| path.parent().unwrap_or(path).to_path_buf())
                .ok_or(io::Error::new(
                    error.kind(),
                    format!("the current directory no longer exists (was it deleted?): {error}; change to another one, or name the environment with an absolute `--python`"),
                ))?,
        };
        Ok(Self {
            site_packages,
            python,
            current_dir,
            virtual_env: non_empty("VIRTUAL_ENV").map(PathBuf::from),
            conda_prefix: non_empty("CONDA_PREFIX").map(PathBuf::from),
            path: non_empty("PATH"),
            // Not canonicalized: Linux already resolves symlinks here, and elsewhere a
            // symlink on PATH (`~/.local/bin/otel-bootstrap`) is not in a venv anyway.
            current_exe: std::env::current_exe().ok(),
            uv_project_environment: non_empty("UV_PROJECT_ENVIRONMENT").map(PathBuf::from),
            project: None,
            needs_interpreter: false,
        })
    }

    /// Marks a run that needs the environment's interpreter (`-a install`), so that no
    /// hint offers `--site-packages`.
    pub(crate) fn needing_interpreter(mut self, needed: bool) -> Self {
        self.needs_interpreter = needed;
        self
    }

    /// Detects the project from `directory` (the current directory unless `--project`)
    /// and where its environment is. The tool is asked (`poetry env info -p`, ...) only
    /// when no flag or variable names the environment already.
    pub(crate) fn with_project(mut self, directory: Option<&Path>) -> Self {
        let start = match directory {
            Some(directory) => self.absolute(directory),
            None => self.current_dir.clone(),
        };
        let Some(project) = crate::project::detect(&start) else {
            return self;
        };
        let variable = |name: &str| std::env::var_os(name);
        let named = !self.site_packages.is_empty()
            || self.python.is_some()
            || self.virtual_env.is_some()
            || self.conda_prefix.is_some();
        let location = if named {
            crate::project::location::locate(&project, &variable)
        } else {
            crate::project::location::locate_and_confirm(&project, &variable, self.path.as_deref())
        };
        self.project = Some((project, location));
        self
    }

    /// `path` resolved against `current_dir`, without `.` components.
    fn absolute(&self, path: &Path) -> PathBuf {
        self.current_dir
            .join(path)
            .components()
            .filter(|component| *component != Component::CurDir)
            .collect()
    }
}

/// A found environment.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Environment {
    pub(crate) source: Source,
    /// The environment's prefix (venv or conda directory), when there is one.
    pub(crate) prefix: Option<PathBuf>,
    /// The interpreter, when known (not for `--site-packages`).
    pub(crate) interpreter: Option<PathBuf>,
    /// `major.minor`, when known.
    pub(crate) python_version: Option<String>,
    /// Whether the environment was created by uv (`uv = ...` in `pyvenv.cfg`).
    pub(crate) created_by_uv: bool,
    /// Directories to scan, in `sys.path` order (the first occurrence of a project wins).
    pub(crate) site_packages: Vec<PathBuf>,
    /// The project this environment belongs to (its tool found it), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) project: Option<Project>,
}

/// Why no environment could be used. Every variant names the path involved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EnvironmentError {
    /// The current directory is in a uv project that has no environment yet.
    #[error(
        "`{}` is a uv project without its environment (no `.venv` yet)",
        root.display()
    )]
    UnsyncedUvProject {
        root: PathBuf,
        /// Where the run started, for commands that work from there.
        current_dir: PathBuf,
    },
    /// The current directory is in a project whose tool has not created its environment.
    #[error(
        "`{}` is a {tool} project ({found_by}) without its environment{}",
        root.display(),
        expected.as_ref().map(|path| format!(" (expected at `{}`)", path.display())).unwrap_or_default()
    )]
    ProjectWithoutEnvironment {
        tool: crate::project::Tool,
        root: PathBuf,
        found_by: String,
        expected: Option<PathBuf>,
        /// The project's lock file, when it has one.
        lock: Option<PathBuf>,
        /// Where the run started, for commands that work from there.
        current_dir: PathBuf,
    },
    /// No source applied.
    #[error(
        "no Python environment found (tried --site-packages, --python, VIRTUAL_ENV, \
         CONDA_PREFIX, .venv in `{}` and its parents, python3/python on PATH)",
        current_dir.display()
    )]
    NoEnvironment { current_dir: PathBuf },
    /// `--python REQUEST` (`3.12`, `>=3.11`): no interpreter satisfies it.
    #[error(
        "no Python interpreter satisfies `--python {}` (tried: {})",
        crate::redact::quote(request),
        .tried.join("; ")
    )]
    NoInterpreterForRequest { request: String, tried: Vec<String> },
    /// A path given by a flag or variable does not exist.
    #[error("`{}` does not exist (from `{given_by}`)", path.display())]
    DoesNotExist { path: PathBuf, given_by: Source },
    /// A `--site-packages` path is not a directory.
    #[error("`{}` is not a directory (from `{given_by}`)", path.display())]
    NotADirectory { path: PathBuf, given_by: Source },
    /// The path exists but is neither an interpreter nor an environment directory.
    #[error("`{}` is not a Python interpreter or environment (from `{given_by}`)", path.display())]
    NotAnEnvironment { path: PathBuf, given_by: Source },
    /// A file that had to be read (such as `pyvenv.cfg`) could not be.
    #[error("could not read `{}`: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        error: io::Error,
    },
    /// The interpreter could not be started, exited with an error, or timed out.
    #[error("`{}` failed: {reason}", interpreter.display())]
    InterpreterFailed {
        interpreter: PathBuf,
        reason: String,
    },
    /// The interpreter ran but did not print the expected JSON.
    #[error("`{}` printed unexpected output: {reason}", interpreter.display())]
    InterpreterOutput {
        interpreter: PathBuf,
        reason: String,
    },
    /// The environment's site-packages could not be located.
    #[error("could not locate site-packages in `{}`", prefix.display())]
    SitePackagesNotFound { prefix: PathBuf },
    /// `include-system-site-packages = true`, but the base interpreter is missing.
    #[error(
        "could not find the base interpreter of `{}` (needed for include-system-site-packages)",
        prefix.display()
    )]
    BaseInterpreterNotFound { prefix: PathBuf },
    /// Any of the above in a run that needs the interpreter (`-a install`): the same
    /// message, and hints without `--site-packages`.
    #[error(transparent)]
    NeedsInterpreter(Box<EnvironmentError>),
}

impl EnvironmentError {
    /// A suggestion for the user, shown after the error message. Every command in it runs
    /// as printed from the directory the run started in.
    pub(crate) fn hint(&self) -> Option<String> {
        Some(self.hint_where(true))
    }

    /// The hint; `site_packages` says whether the run accepts `--site-packages` instead.
    fn hint_where(&self, site_packages: bool) -> String {
        // What else the user can name: `--site-packages` only where the run accepts it.
        let or_site_packages = |alternative: &str| {
            if site_packages {
                format!("{alternative}, or pass `--site-packages DIR` to point at site-packages directly")
            } else {
                format!("{alternative}, or name another environment with `--python`")
            }
        };
        match self {
            Self::NeedsInterpreter(error) => error.hint_where(false),
            Self::UnsyncedUvProject { root, current_dir } => format!(
                "run `{}` first (it creates `.venv`), or see the plan without an environment: `otel-bootstrap --from {}`; `--python PATH` names another environment on purpose",
                crate::project::in_directory("uv sync", root, current_dir),
                crate::project::path_from(&root.join("uv.lock"), current_dir)
            ),
            Self::NoInterpreterForRequest { request, .. } => format!(
                "install one with `uv python install {}` if uv offers it (`uv python list` shows what it offers) or with your system's package manager, or pass the interpreter's path: `--python /path/to/python`",
                crate::redact::quote(request)
            ),
            Self::ProjectWithoutEnvironment {
                tool,
                root,
                lock,
                current_dir,
                ..
            } => {
                let lock = lock
                    .as_ref()
                    .map(|lock| {
                        format!(
                            ", or see the plan without an environment: `otel-bootstrap --from {}`",
                            crate::project::path_from(lock, current_dir)
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "run `{}` first (it creates the environment){lock}; `--python PATH` names another environment on purpose",
                    crate::project::in_directory(tool.create_command(), root, current_dir)
                )
            }
            Self::NoEnvironment { .. } if site_packages => {
                "pass `--python PATH` or `--site-packages DIR`, or activate a virtual environment"
                    .to_owned()
            }
            Self::NoEnvironment { .. } => {
                "pass `--python PATH`, or activate a virtual environment".to_owned()
            }
            Self::DoesNotExist {
                given_by: Source::VirtualEnv,
                ..
            } => "the activated virtual environment is gone: run `deactivate` or recreate it"
                .to_owned(),
            Self::DoesNotExist {
                given_by: Source::CondaPrefix,
                ..
            } => "the activated conda environment is gone: run `conda deactivate`".to_owned(),
            Self::DoesNotExist {
                given_by: Source::SitePackagesFlag,
                ..
            }
            | Self::NotADirectory { .. } => {
                "`--site-packages` takes a directory, e.g. `.venv/lib/python3.12/site-packages`"
                    .to_owned()
            }
            Self::DoesNotExist { .. } | Self::NotAnEnvironment { .. } => {
                "expected an interpreter (e.g. `.venv/bin/python`), a virtual environment \
                 (with `pyvenv.cfg`) or a conda environment (with `conda-meta/`)"
                    .to_owned()
            }
            Self::InterpreterFailed { interpreter, .. }
            | Self::InterpreterOutput { interpreter, .. } => or_site_packages(&format!(
                "check that `{}` is a working Python 3 interpreter",
                interpreter.display()
            )),
            Self::BaseInterpreterNotFound { prefix } => {
                let recreate = format!(
                    "recreate the virtual environment (`python3 -m venv --clear {}`, then install the application into it again)",
                    crate::redact::quote(&prefix.display().to_string())
                );
                if site_packages {
                    format!("{recreate}, or pass `--site-packages DIR` (repeatable) to point at site-packages directly")
                } else {
                    or_site_packages(&recreate)
                }
            }
            Self::Unreadable { path, .. } => {
                or_site_packages(&format!("check that `{}` can be read", path.display()))
            }
            Self::SitePackagesNotFound { .. } => {
                or_site_packages("check that the environment is complete (recreate it if not)")
            }
        }
    }

    fn interpreter_failed(interpreter: &Path, reason: impl Into<String>) -> Self {
        Self::InterpreterFailed {
            interpreter: interpreter.to_owned(),
            reason: reason.into(),
        }
    }

    fn interpreter_output(interpreter: &Path, reason: impl Into<String>) -> Self {
        Self::InterpreterOutput {
            interpreter: interpreter.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Finds the environment to scan, trying the sources in order, and says which project it
/// belongs to.
pub(crate) fn find(options: &DiscoveryOptions) -> Result<Environment, EnvironmentError> {
    let mut environment = find_source(options).map_err(|error| {
        if options.needs_interpreter {
            EnvironmentError::NeedsInterpreter(Box::new(error))
        } else {
            error
        }
    })?;
    if let Some((project, location)) = &options.project {
        let is_the_projects = match (location, &environment.prefix) {
            (Location::Found { prefix, .. }, Some(found)) => same_path(prefix, found),
            _ => false,
        };
        if is_the_projects {
            environment.project = Some(project.clone());
        }
    }
    Ok(environment)
}

/// Whether two paths name the same file or directory (as given, or once resolved).
pub(crate) fn same_path(left: &Path, right: &Path) -> bool {
    left == right
        || matches!(
            (std::fs::canonicalize(left), std::fs::canonicalize(right)),
            (Ok(left), Ok(right)) if left == right
        )
}

fn find_source(options: &DiscoveryOptions) -> Result<Environment, EnvironmentError> {
    if !options.site_packages.is_empty() {
        return from_site_packages_flag(options);
    }
    if let Some(python) = &options.python {
        return from_python_flag(options, python);
    }
    if let Some(virtual_env) = &options.virtual_env {
        return from_environment_directory(&options.absolute(virtual_env), Source::VirtualEnv);
    }
    if let Some(conda_prefix) = &options.conda_prefix {
        return from_environment_directory(&options.absolute(conda_prefix), Source::CondaPrefix);
    }
    // A project's environment is where its tool keeps it (Poetry's and pipenv's live
    // outside the project); one that does not exist yet is refused, never replaced.
    if let Some((project, location)) = &options.project {
        match location {
            Location::Found { prefix, .. } if project.tool != Tool::Uv => {
                return from_environment_directory(prefix, Source::Project);
            }
            Location::Missing { expected }
                if !matches!(project.tool, Tool::Uv | Tool::PipTools) =>
            {
                return Err(EnvironmentError::ProjectWithoutEnvironment {
                    tool: project.tool,
                    root: project.root.clone(),
                    found_by: project.found_by.clone(),
                    expected: expected.clone(),
                    lock: project
                        .tool
                        .lock_file()
                        .map(|lock| project.root.join(lock))
                        .filter(|lock| lock.is_file()),
                    current_dir: options.current_dir.clone(),
                });
            }
            _ => {}
        }
    }
    if let Some(prefix) = nearest_dot_venv(&options.current_dir) {
        return from_venv(&prefix, Source::DotVenv, None);
    }
    // A uv project whose environment was not created yet is still that project: planning
    // from (or installing into) another interpreter would be about something else.
    if options.uv_project_environment.is_none() {
        if let Some(project) = find_uv_project(&options.current_dir, None) {
            return Err(EnvironmentError::UnsyncedUvProject {
                root: project.root,
                current_dir: options.current_dir.clone(),
            });
        }
    }
    if let Some(prefix) = options
        .current_exe
        .as_deref()
        .and_then(installed_environment)
    {
        return from_environment_directory(prefix, Source::InstalledVenv);
    }
    // `uvx` puts its tool environment's `bin/` first on PATH: look past it.
    let on_path = options.path.as_ref().and_then(|path| {
        find_on_path_where(path, &["python3", "python"], |interpreter| {
            !enclosing_venv(interpreter).is_some_and(is_tool_environment)
        })
    });
    if let Some(interpreter) = on_path {
        return from_interpreter(&interpreter, Source::PathInterpreter);
    }
    Err(EnvironmentError::NoEnvironment {
        current_dir: options.current_dir.clone(),
    })
}

fn from_site_packages_flag(options: &DiscoveryOptions) -> Result<Environment, EnvironmentError> {
    let given_by = Source::SitePackagesFlag;
    let mut directories = Vec::new();
    for directory in &options.site_packages {
        let path = options.absolute(directory);
        if !path.exists() {
            return Err(EnvironmentError::DoesNotExist { path, given_by });
        }
        if !path.is_dir() {
            return Err(EnvironmentError::NotADirectory { path, given_by });
        }
        directories.push(path);
    }
    let site_packages = unique_directories(directories);
    Ok(Environment {
        source: given_by,
        prefix: None,
        interpreter: None,
        python_version: site_packages
            .first()
            .and_then(|directory| version_of_site_packages(directory)),
        created_by_uv: false,
        site_packages,
        project: None,
    })
}

fn from_python_flag(
    options: &DiscoveryOptions,
    python: &Path,
) -> Result<Environment, EnvironmentError> {
    let given_by = Source::PythonFlag;
    if let Some(found) = requested::find(options, python) {
        return found;
    }
    let path = options.absolute(python);
    let is_bare_name = python.components().count() == 1
        && matches!(python.components().next(), Some(Component::Normal(_)));
    let path = if !path.exists() && is_bare_name {
        // `--python python3.12`: look the name up on PATH like a shell would.
        let name = python.to_string_lossy();
        options
            .path
            .as_ref()
            .and_then(|search_path| find_on_path(search_path, &[&name]))
            .unwrap_or(path)
    } else {
        path
    };
    // `symlink_metadata`: a venv's `bin/python` whose base interpreter is gone is a
    // dangling symlink, yet the venv can still be read without running it.
    if path.symlink_metadata().is_err() {
        Err(EnvironmentError::DoesNotExist { path, given_by })
    } else if path.is_dir() {
        from_environment_directory(&path, given_by)
    } else if is_executable_file(&path) || enclosing_venv(&path).is_some() {
        from_interpreter(&path, given_by)
    } else {
        Err(EnvironmentError::NotAnEnvironment { path, given_by })
    }
}

/// A venv (with `pyvenv.cfg`) or conda prefix (with `conda-meta/`).
fn from_environment_directory(
    prefix: &Path,
    given_by: Source,
) -> Result<Environment, EnvironmentError> {
    let path = prefix.to_owned();
    if !prefix.exists() {
        Err(EnvironmentError::DoesNotExist { path, given_by })
    } else if prefix.join("pyvenv.cfg").is_file() {
        from_venv(prefix, given_by, None)
    } else if prefix.join("conda-meta").is_dir() {
        from_conda(prefix, given_by)
    } else {
        Err(EnvironmentError::NotAnEnvironment { path, given_by })
    }
}

/// An interpreter: resolved as its venv when it lives in one, otherwise asked.
/// The venv an interpreter path sits in (`<prefix>/bin/python` with `<prefix>/pyvenv.cfg`).
fn enclosing_venv(interpreter: &Path) -> Option<&Path> {
    interpreter
        .parent()
        .and_then(Path::parent)
        .filter(|prefix| prefix.join("pyvenv.cfg").is_file())
}

fn from_interpreter(interpreter: &Path, source: Source) -> Result<Environment, EnvironmentError> {
    // Deliberately not canonicalized: a venv's `bin/python` is a symlink to the base
    // interpreter, and following it would lose the venv.
    if let Some(prefix) = enclosing_venv(interpreter) {
        return from_venv(prefix, source, Some(interpreter.to_owned()));
    }
    let info = query_interpreter(interpreter)?;
    if info.site_packages.is_empty() {
        return Err(EnvironmentError::SitePackagesNotFound {
            prefix: info.prefix,
        });
    }
    // An interpreter inside an unusual venv layout still has a pyvenv.cfg at its prefix.
    let created_by_uv = info.prefix != info.base_prefix
        && VenvConfig::read(&info.prefix.join("pyvenv.cfg"))
            .is_ok_and(|config| config.created_by_uv);
    Ok(Environment {
        source,
        prefix: Some(info.prefix),
        interpreter: Some(interpreter.to_owned()),
        python_version: Some(info.version),
        created_by_uv,
        site_packages: unique_directories(info.site_packages),
        project: None,
    })
}

fn from_venv(
    prefix: &Path,
    source: Source,
    interpreter: Option<PathBuf>,
) -> Result<Environment, EnvironmentError> {
    let config = VenvConfig::read(&prefix.join("pyvenv.cfg"))?;
    let interpreter = interpreter.or_else(|| venv_interpreter(prefix));
    let prefer_pypy = config
        .implementation
        .as_deref()
        .is_some_and(|name| name.eq_ignore_ascii_case("pypy"));
    let located = locate_site_packages(prefix, config.version.as_deref(), prefer_pypy);
    // An interpreter that was asked has already reported the system directories.
    let add_system_site_packages =
        located.is_some() && config.system_site_packages == SystemSitePackages::Included;
    let (mut site_packages, python_version) =
        located_or_asked(prefix, located, interpreter.as_deref())?;
    if add_system_site_packages {
        match (
            base_interpreter(&config, python_version.as_deref()),
            &interpreter,
        ) {
            (Some(base), _) => site_packages.extend(query_interpreter(&base)?.site_packages),
            // The venv's own interpreter reports the venv and system directories itself.
            (None, Some(own)) => site_packages = query_interpreter(own)?.site_packages,
            (None, None) => {
                return Err(EnvironmentError::BaseInterpreterNotFound {
                    prefix: prefix.to_owned(),
                })
            }
        }
    }
    Ok(Environment {
        source,
        prefix: Some(prefix.to_owned()),
        interpreter,
        python_version,
        created_by_uv: config.created_by_uv,
        site_packages: unique_directories(site_packages),
        project: None,
    })
}

fn from_conda(prefix: &Path, source: Source) -> Result<Environment, EnvironmentError> {
    let interpreter = [prefix.join("bin").join("python"), prefix.join("python.exe")]
        .into_iter()
        .find(|candidate| candidate.is_file());
    let recorded_version = conda_python_version(prefix);
    let located = locate_site_packages(prefix, recorded_version.as_deref(), false);
    let (site_packages, python_version) =
        located_or_asked(prefix, located, interpreter.as_deref())?;
    Ok(Environment {
        source,
        prefix: Some(prefix.to_owned()),
        interpreter,
        python_version,
        created_by_uv: false,
        site_packages: unique_directories(site_packages),
        project: None,
    })
}

/// Site-packages (and version) found from the layout, or else reported by the
/// environment's own interpreter; an error when neither yields a directory.
fn located_or_asked(
    prefix: &Path,
    located: Option<(Vec<PathBuf>, Option<String>)>,
    interpreter: Option<&Path>,
) -> Result<(Vec<PathBuf>, Option<String>), EnvironmentError> {
    let (site_packages, python_version) = match (located, interpreter) {
        (Some(found), _) => found,
        (None, Some(own)) => {
            let info = query_interpreter(own)?;
            (info.site_packages, Some(info.version))
        }
        (None, None) => (Vec::new(), None),
    };
    if site_packages.is_empty() {
        return Err(EnvironmentError::SitePackagesNotFound {
            prefix: prefix.to_owned(),
        });
    }
    Ok((site_packages, python_version))
}

/// A uv project: a `pyproject.toml` with a `uv.lock` beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UvProject {
    /// The directory holding `pyproject.toml` and `uv.lock`.
    pub(crate) root: PathBuf,
    /// The project's environment: `$UV_PROJECT_ENVIRONMENT` (relative to `root`) or
    /// `<root>/.venv`.
    pub(crate) environment: PathBuf,
}

/// The nearest uv project from `start` upward. `project_environment` is the value of
/// `UV_PROJECT_ENVIRONMENT`, if set.
pub(crate) fn find_uv_project(
    start: &Path,
    project_environment: Option<&OsStr>,
) -> Option<UvProject> {
    let root = start
        .ancestors()
        .find(|directory| {
            directory.join("pyproject.toml").is_file() && directory.join("uv.lock").is_file()
        })?
        .to_path_buf();
    let environment = match project_environment.filter(|value| !value.is_empty()) {
        Some(value) => root.join(value),
        None => root.join(".venv"),
    };
    Some(UvProject { root, environment })
}

/// The `.venv` (containing `pyvenv.cfg`) in `start` or its nearest parent.
fn nearest_dot_venv(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|directory| directory.join(".venv"))
        .find(|candidate| candidate.join("pyvenv.cfg").is_file())
}

/// The environment the executable `exe` is installed in: `<prefix>/bin/<exe>` (or
/// `<prefix>\Scripts\<exe>`) where `<prefix>` is a venv (`pyvenv.cfg`) or a conda
/// environment (`conda-meta/`), and not a tool environment.
fn installed_environment(exe: &Path) -> Option<&Path> {
    let scripts = exe.parent()?;
    let is_scripts_dir = scripts.file_name().is_some_and(|name| {
        name == "bin"
            || name
                .to_str()
                .is_some_and(|name| name.eq_ignore_ascii_case("Scripts"))
    });
    let prefix = scripts.parent().filter(|_| is_scripts_dir)?;
    let is_environment = prefix.join("pyvenv.cfg").is_file() || prefix.join("conda-meta").is_dir();
    (is_environment && !is_tool_environment(prefix)).then_some(prefix)
}

/// Whether the venv at `prefix` is a tool environment: one that a tool runner made to run
/// a command-line tool, not a project's environment. Such an environment holds the tool
/// and nothing of the user's, so scanning it would be wrong (upstream
/// `opentelemetry-bootstrap` does, under `uvx` and `pipx`). Detected by the markers the
/// runners leave, wherever their directories are configured to be:
///
/// * `uv-receipt.toml` in the prefix: `uv tool install` (`$UV_TOOL_DIR/<name>`);
/// * `pipx_metadata.json` in the prefix: `pipx install` and `pipx run`;
/// * a `CACHEDIR.TAG` in a directory *above* the prefix: the environment lives in a cache,
///   as `uvx` / `uv tool run` environments do (`$UV_CACHE_DIR/archive-v0/<id>`, the
///   cache root is tagged) and `pipx run` ones (`$PIPX_HOME/.cache/<id>`). The prefix's
///   own tag does not count: uv tags every venv it creates.
pub(crate) fn is_tool_environment(prefix: &Path) -> bool {
    prefix.join("uv-receipt.toml").is_file()
        || prefix.join("pipx_metadata.json").is_file()
        || prefix
            .ancestors()
            .skip(1)
            .any(|directory| directory.join("CACHEDIR.TAG").is_file())
}

/// The first executable named one of `names` on `search_path`, trying each name
/// across the whole path before the next (`python3` anywhere beats `python`).
pub(crate) fn find_on_path(search_path: &OsString, names: &[&str]) -> Option<PathBuf> {
    find_on_path_where(search_path, names, |_| true)
}

/// [`find_on_path`], skipping the executables `accept` rejects.
fn find_on_path_where(
    search_path: &OsString,
    names: &[&str],
    accept: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let suffixes: &[&str] = if cfg!(windows) { &["", ".exe"] } else { &[""] };
    names.iter().find_map(|name| {
        // Relative entries (`.`, an empty one, `bin`) would run whatever the current
        // directory holds: skipped, as uv does.
        std::env::split_paths(search_path)
            .filter(|directory| directory.is_absolute())
            .flat_map(|directory| {
                suffixes
                    .iter()
                    .map(move |suffix| directory.join(format!("{name}{suffix}")))
            })
            .find(|candidate| is_executable_file(candidate) && accept(candidate))
    })
}

pub(crate) fn is_executable_file(path: &Path) -> bool {
    let Ok(metadata) = path.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// Asks `interpreter` about itself through the one probe ([`crate::interpreter::probe`]:
/// at most once per run, remembered across runs), with discovery's errors.
fn query_interpreter(interpreter: &Path) -> Result<crate::interpreter::Probe, EnvironmentError> {
    crate::interpreter::probe(interpreter).map_err(|error| match error {
        crate::interpreter::ProbeError::Failed(reason) => {
            EnvironmentError::interpreter_failed(interpreter, reason)
        }
        crate::interpreter::ProbeError::Output(reason) => {
            EnvironmentError::interpreter_output(interpreter, reason)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::major_minor;
    use crate::interpreter::run::run_script;
    use std::fs;
    use std::process::Command;

    fn options(current_dir: &Path) -> DiscoveryOptions {
        DiscoveryOptions {
            current_dir: current_dir.to_owned(),
            ..DiscoveryOptions::default()
        }
    }

    #[test]
    fn a_uv_project_without_its_environment_is_refused_not_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let project = temp.path().join("app");
        fs::create_dir_all(project.join("src")).unwrap();
        fs::write(
            project.join("pyproject.toml"),
            "[project]\nname = \"app\"\n",
        )
        .unwrap();
        fs::write(project.join("uv.lock"), "version = 1\n").unwrap();
        let error = find(&options(&project.join("src"))).unwrap_err();
        assert!(
            matches!(&error, EnvironmentError::UnsyncedUvProject { root, .. } if *root == project)
        );
        // From `app/src`, both commands name the project: `cd` to its root, the lock by
        // its path from here.
        assert_eq!(
            error.hint().unwrap(),
            format!(
                "run `cd {} && uv sync` first (it creates `.venv`), or see the plan without an environment: `otel-bootstrap --from ../uv.lock`; `--python PATH` names another environment on purpose",
                project.display()
            )
        );
        let error = find(&options(&project)).unwrap_err();
        assert!(error
            .hint()
            .unwrap()
            .starts_with("run `uv sync` first (it creates `.venv`), or see the plan without an environment: `otel-bootstrap --from uv.lock`;"));
        // `UV_PROJECT_ENVIRONMENT` puts the environment elsewhere: the rule stands aside.
        let elsewhere = DiscoveryOptions {
            uv_project_environment: Some(temp.path().join("env")),
            ..options(&project)
        };
        assert!(!matches!(
            find(&elsewhere),
            Err(EnvironmentError::UnsyncedUvProject { .. })
        ));
    }

    /// Writes `pyvenv.cfg` and creates the given site-packages directories (relative
    /// to the prefix); returns the prefix.
    #[test]
    fn a_project_without_its_environment_is_refused_and_an_activated_one_wins() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().join("app");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("poetry.lock"), "").unwrap();
        fs::write(
            root.join("poetry.toml"),
            "[virtualenvs]\nin-project = true\n",
        )
        .unwrap();
        let mut options = options(&root).with_project(None);
        let error = error_of(&options);
        assert!(
            matches!(&error, EnvironmentError::ProjectWithoutEnvironment { tool: Tool::Poetry, expected: Some(expected), .. } if *expected == root.join(".venv")),
            "{error:?}"
        );
        assert!(error
            .hint()
            .unwrap()
            .starts_with("run `poetry install` first (it creates the environment), or see the plan without an environment: `otel-bootstrap --from poetry.lock`;"));
        // From a subdirectory: `cd` to the root, and the lock's path from there.
        let below = root.join("src");
        fs::create_dir_all(&below).unwrap();
        let error = error_of(&self::options(&below).with_project(None));
        assert_eq!(
            error.hint().unwrap(),
            format!(
                "run `cd {} && poetry install` first (it creates the environment), or see the plan without an environment: `otel-bootstrap --from ../poetry.lock`; `--python PATH` names another environment on purpose",
                root.display()
            )
        );
        make_venv(
            &root.join(".venv"),
            "version = 3.11.7\n",
            &["lib/python3.11/site-packages"],
        );
        let options_found = self::options(&root).with_project(None);
        let environment = find(&options_found).unwrap();
        assert_eq!(environment.source, Source::Project);
        assert_eq!(environment.project.unwrap().tool, Tool::Poetry);
        let other = directory.path().join("other");
        make_venv(
            &other,
            "version = 3.11.7\n",
            &["lib/python3.11/site-packages"],
        );
        options.virtual_env = Some(other);
        let environment = find(&options).unwrap();
        assert_eq!(environment.source, Source::VirtualEnv);
        assert!(environment.project.is_none());
    }

    fn make_venv(prefix: &Path, config: &str, site_packages: &[&str]) -> PathBuf {
        fs::create_dir_all(prefix).unwrap();
        fs::write(prefix.join("pyvenv.cfg"), config).unwrap();
        for directory in site_packages {
            fs::create_dir_all(prefix.join(directory)).unwrap();
        }
        prefix.to_owned()
    }

    fn make_conda(prefix: &Path, site_packages: &[&str]) -> PathBuf {
        fs::create_dir_all(prefix.join("conda-meta")).unwrap();
        for directory in site_packages {
            fs::create_dir_all(prefix.join(directory)).unwrap();
        }
        prefix.to_owned()
    }

    const VENV_CFG: &str =
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n";

    /// A `#!/bin/sh` "interpreter" that prints `output` (or runs `body` verbatim).
    #[cfg(unix)]
    fn make_script(path: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
        path.to_owned()
    }

    #[cfg(unix)]
    fn make_fake_python(path: &Path, prefix: &Path, site_packages: &[&Path]) -> PathBuf {
        let json = serde_json::json!({
            "version": "3.11",
            "prefix": prefix,
            "base_prefix": prefix,
            "executable": path,
            "site_packages": site_packages,
        });
        make_script(path, &format!("cat <<'EOF'\n{json}\nEOF"))
    }

    fn error_of(options: &DiscoveryOptions) -> EnvironmentError {
        find(options).expect_err("discovery should fail")
    }

    #[test]
    fn venv_layout_is_read_without_python() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = make_venv(
            &temp.path().join("env"),
            VENV_CFG,
            &["lib/python3.11/site-packages"],
        );
        let environment = find(&DiscoveryOptions {
            virtual_env: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(environment.source, Source::VirtualEnv);
        assert_eq!(environment.prefix, Some(prefix.clone()));
        assert_eq!(environment.python_version.as_deref(), Some("3.11"));
        assert!(!environment.created_by_uv);
        assert_eq!(environment.interpreter, None);
        assert_eq!(
            environment.site_packages,
            [prefix.join("lib/python3.11/site-packages")]
        );
    }

    #[test]
    fn uv_venv_with_version_info_and_interpreter() {
        let temp = tempfile::tempdir().unwrap();
        let config =
            "home = /opt/python/bin\nimplementation = CPython\nuv = 0.5.1\nversion_info = 3.12.7\n\
                      include-system-site-packages = false\n";
        let prefix = make_venv(
            temp.path(),
            config,
            &["lib/python3.12/site-packages", "bin"],
        );
        fs::write(prefix.join("bin/python"), "").unwrap();
        let environment = find(&DiscoveryOptions {
            python: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(environment.source, Source::PythonFlag);
        assert!(environment.created_by_uv);
        assert_eq!(environment.python_version.as_deref(), Some("3.12"));
        assert_eq!(environment.interpreter, Some(prefix.join("bin/python")));
        assert_eq!(
            environment.site_packages,
            [prefix.join("lib/python3.12/site-packages")]
        );
    }

    #[cfg(unix)]
    #[test]
    fn lib64_symlink_is_deduplicated_and_real_lib64_is_found() {
        let temp = tempfile::tempdir().unwrap();
        let linked = make_venv(
            &temp.path().join("linked"),
            VENV_CFG,
            &["lib/python3.11/site-packages"],
        );
        std::os::unix::fs::symlink("lib", linked.join("lib64")).unwrap();
        let environment = find(&DiscoveryOptions {
            python: Some(linked.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [linked.join("lib/python3.11/site-packages")]
        );

        let only_lib64 = make_venv(
            &temp.path().join("lib64"),
            VENV_CFG,
            &["lib64/python3.11/site-packages"],
        );
        let environment = find(&DiscoveryOptions {
            python: Some(only_lib64.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [only_lib64.join("lib64/python3.11/site-packages")]
        );
    }

    #[test]
    fn free_threaded_windows_and_pypy_layouts() {
        let temp = tempfile::tempdir().unwrap();
        let cases = [
            (
                "version = 3.13.1\n",
                "lib/python3.13t/site-packages",
                "3.13",
            ),
            ("version = 3.12.1\n", "Lib/site-packages", "3.12"),
            (
                "implementation = PyPy\nversion_info = 3.10.14.final.0\n",
                "lib/pypy3.10/site-packages",
                "3.10",
            ),
        ];
        for (index, (config, site_packages, version)) in cases.into_iter().enumerate() {
            let prefix = make_venv(
                &temp.path().join(index.to_string()),
                config,
                &[site_packages],
            );
            let environment = find(&DiscoveryOptions {
                python: Some(prefix.clone()),
                ..options(temp.path())
            })
            .unwrap();
            assert_eq!(
                environment.site_packages,
                [prefix.join(site_packages)],
                "{config}"
            );
            assert_eq!(environment.python_version.as_deref(), Some(version));
        }
    }

    #[test]
    fn missing_version_globs_a_single_candidate() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = make_venv(
            &temp.path().join("one"),
            "home = /usr/bin\n",
            &["lib/python3.9/site-packages"],
        );
        let environment = find(&DiscoveryOptions {
            python: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [prefix.join("lib/python3.9/site-packages")]
        );
        assert_eq!(environment.python_version.as_deref(), Some("3.9"));

        // Two candidates and no interpreter to ask: ambiguous.
        let layouts = [
            "lib/python3.9/site-packages",
            "lib/python3.10/site-packages",
        ];
        let prefix = make_venv(&temp.path().join("two"), "home = /usr/bin\n", &layouts);
        let error = error_of(&DiscoveryOptions {
            python: Some(prefix.clone()),
            ..options(temp.path())
        });
        assert!(
            matches!(&error, EnvironmentError::SitePackagesNotFound { prefix: found } if *found == prefix)
        );
    }

    #[test]
    fn conda_prefix_layout_and_recorded_version() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = make_conda(
            &temp.path().join("conda"),
            &["lib/python3.10/site-packages"],
        );
        let environment = find(&DiscoveryOptions {
            conda_prefix: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(environment.source, Source::CondaPrefix);
        assert_eq!(
            environment.site_packages,
            [prefix.join("lib/python3.10/site-packages")]
        );
        assert_eq!(environment.python_version.as_deref(), Some("3.10"));

        // Leftovers of an old Python: conda-meta tells which one is current.
        let prefix = make_conda(
            &temp.path().join("upgraded"),
            &[
                "lib/python3.10/site-packages",
                "lib/python3.11/site-packages",
            ],
        );
        for record in [
            "python-dateutil-2.9.0-pyhd8ed1ab_0.json",
            "python-3.11.9-hb806964_0.json",
        ] {
            fs::write(prefix.join("conda-meta").join(record), "{}").unwrap();
        }
        let environment = find(&DiscoveryOptions {
            conda_prefix: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [prefix.join("lib/python3.11/site-packages")]
        );

        let windows = make_conda(&temp.path().join("windows"), &["Lib/site-packages"]);
        let environment = find(&DiscoveryOptions {
            python: Some(windows.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [windows.join("Lib/site-packages")]
        );
    }

    #[test]
    fn nearest_dot_venv_in_parents() {
        let temp = tempfile::tempdir().unwrap();
        make_venv(
            &temp.path().join(".venv"),
            VENV_CFG,
            &["lib/python3.11/site-packages"],
        );
        let project = temp.path().join("project");
        let nearest = make_venv(
            &project.join(".venv"),
            VENV_CFG,
            &["lib/python3.11/site-packages"],
        );
        // A `.venv` without pyvenv.cfg is not a venv and is skipped.
        let deep = project.join("src/deep");
        fs::create_dir_all(deep.join(".venv")).unwrap();
        let environment = find(&options(&deep)).unwrap();
        assert_eq!(environment.source, Source::DotVenv);
        assert_eq!(environment.prefix, Some(nearest));
    }

    #[cfg(unix)]
    #[test]
    fn sources_are_tried_in_order() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let flag_site_packages = root.join("flag-site-packages");
        fs::create_dir_all(&flag_site_packages).unwrap();
        let layout = ["lib/python3.11/site-packages"];
        let python_flag = make_venv(&root.join("python-flag"), VENV_CFG, &layout);
        let virtual_env = make_venv(&root.join("virtual-env"), VENV_CFG, &layout);
        let conda_prefix = make_conda(&root.join("conda"), &layout);
        let dot_venv = make_venv(&root.join(".venv"), VENV_CFG, &layout);
        let installed_venv = make_venv(&root.join("installed"), VENV_CFG, &layout);
        let path_prefix = root.join("path-python");
        let path_site_packages = path_prefix.join("lib/python3.11/site-packages");
        fs::create_dir_all(&path_site_packages).unwrap();
        make_fake_python(
            &root.join("bin/python3"),
            &path_prefix,
            &[&path_site_packages],
        );

        let mut options = DiscoveryOptions {
            site_packages: vec![flag_site_packages.clone()],
            python: Some(python_flag.clone()),
            current_dir: root.to_owned(),
            virtual_env: Some(virtual_env.clone()),
            conda_prefix: Some(conda_prefix.clone()),
            path: Some(root.join("bin").into_os_string()),
            current_exe: Some(installed_venv.join("bin/otel-bootstrap")),
            uv_project_environment: None,
            project: None,
            needs_interpreter: false,
        };
        let environment = find(&options).unwrap();
        assert_eq!(environment.source, Source::SitePackagesFlag);
        assert_eq!(environment.site_packages, [flag_site_packages]);
        options.site_packages.clear();
        let expectations = [
            (Source::PythonFlag, python_flag),
            (Source::VirtualEnv, virtual_env),
            (Source::CondaPrefix, conda_prefix),
            (Source::DotVenv, dot_venv.clone()),
            (Source::InstalledVenv, installed_venv),
        ];
        for (source, prefix) in expectations {
            let environment = find(&options).unwrap();
            assert_eq!(
                (environment.source, environment.prefix),
                (source, Some(prefix))
            );
            match source {
                Source::PythonFlag => options.python = None,
                Source::VirtualEnv => options.virtual_env = None,
                Source::CondaPrefix => options.conda_prefix = None,
                Source::DotVenv => fs::remove_file(dot_venv.join("pyvenv.cfg")).unwrap(),
                _ => options.current_exe = None,
            }
        }
        let environment = find(&options).unwrap();
        assert_eq!(environment.source, Source::PathInterpreter);
        assert_eq!(environment.prefix, Some(path_prefix));
        assert_eq!(environment.interpreter, Some(root.join("bin/python3")));
        assert_eq!(environment.python_version.as_deref(), Some("3.11"));
        assert_eq!(environment.site_packages, [path_site_packages]);
    }

    /// An executable at `<prefix>/bin/otel-bootstrap` of a fresh venv; returns its path.
    fn installed_in(prefix: &Path) -> PathBuf {
        make_venv(prefix, VENV_CFG, &["lib/python3.11/site-packages"]);
        let exe = prefix.join("bin").join("otel-bootstrap");
        fs::create_dir_all(prefix.join("bin")).unwrap();
        fs::write(&exe, "").unwrap();
        exe
    }

    #[test]
    fn the_venv_holding_the_executable_is_scanned() {
        let temp = tempfile::tempdir().unwrap();
        let project = temp.path().join("project");
        fs::create_dir_all(&project).unwrap();
        let empty_path = std::env::join_paths([temp.path().join("nothing")]).unwrap();
        for (prefix, scripts) in [("venv", "bin"), ("win-venv", "Scripts")] {
            let prefix = temp.path().join(prefix);
            installed_in(&prefix);
            let options = DiscoveryOptions {
                current_exe: Some(prefix.join(scripts).join("otel-bootstrap")),
                path: Some(empty_path.clone()),
                ..options(&project)
            };
            let environment = find(&options).unwrap();
            assert_eq!(environment.source, Source::InstalledVenv);
            assert_eq!(environment.prefix.as_deref(), Some(prefix.as_path()));
            assert_eq!(
                environment.site_packages,
                [prefix.join("lib/python3.11/site-packages")]
            );
        }

        // A conda environment counts too; a `bin/` that is not in an environment does not,
        // nor does an executable outside `bin/` (`target/debug/otel-bootstrap`).
        let conda = make_conda(
            &temp.path().join("conda"),
            &["lib/python3.11/site-packages"],
        );
        let in_conda = DiscoveryOptions {
            current_exe: Some(conda.join("bin/otel-bootstrap")),
            ..options(&project)
        };
        assert_eq!(find(&in_conda).unwrap().source, Source::InstalledVenv);
        let misplaced = installed_in(&temp.path().join("misplaced"));
        let outside = misplaced
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("otel-bootstrap");
        for exe in [temp.path().join("bin/otel-bootstrap"), outside] {
            let options = DiscoveryOptions {
                current_exe: Some(exe),
                path: Some(empty_path.clone()),
                ..options(&project)
            };
            assert!(
                matches!(error_of(&options), EnvironmentError::NoEnvironment { .. }),
                "{options:?}"
            );
        }
    }

    #[test]
    fn tool_environments_are_never_scanned() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let project = root.join("project");
        fs::create_dir_all(&project).unwrap();

        // `uv tool install`: a receipt in the prefix.
        let uv_tool = installed_in(&root.join("uv-tools/otel-bootstrap-rs"));
        fs::write(
            root.join("uv-tools/otel-bootstrap-rs/uv-receipt.toml"),
            "[tool]\n",
        )
        .unwrap();
        // `pipx install` / `pipx run`: pipx's metadata in the prefix.
        let pipx = installed_in(&root.join("pipx/venvs/otel-bootstrap-rs"));
        fs::write(
            root.join("pipx/venvs/otel-bootstrap-rs/pipx_metadata.json"),
            "{}",
        )
        .unwrap();
        // `uvx`: an environment inside uv's (tagged) cache.
        fs::create_dir_all(root.join("uv-cache")).unwrap();
        fs::write(
            root.join("uv-cache/CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        let uvx = installed_in(&root.join("uv-cache/archive-v0/abc123"));

        // uv tags every venv it creates: a tag in the prefix itself is not a cache.
        let uv_venv = installed_in(&root.join("uv-venv"));
        fs::write(
            root.join("uv-venv/CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();

        let empty_path = std::env::join_paths([root.join("nothing")]).unwrap();
        for exe in [&uv_tool, &pipx, &uvx] {
            let prefix = exe.parent().unwrap().parent().unwrap();
            assert!(is_tool_environment(prefix), "{}", prefix.display());
            // Alone, nothing is found: the tool environment is not a fallback.
            let alone = DiscoveryOptions {
                current_exe: Some(exe.clone()),
                path: Some(empty_path.clone()),
                ..options(&project)
            };
            assert!(
                matches!(error_of(&alone), EnvironmentError::NoEnvironment { .. }),
                "{}",
                exe.display()
            );
            // In a project, its `.venv` is scanned (it comes first anyway).
            let dot_venv = make_venv(
                &project.join(".venv"),
                VENV_CFG,
                &["lib/python3.11/site-packages"],
            );
            let in_project = DiscoveryOptions {
                current_exe: Some(exe.clone()),
                ..options(&project)
            };
            let found = find(&in_project).unwrap();
            assert_eq!(
                (found.source, found.prefix),
                (Source::DotVenv, Some(dot_venv.clone()))
            );
            fs::remove_dir_all(&dot_venv).unwrap();
        }
        assert!(!is_tool_environment(&root.join("uv-venv")));
        let options = DiscoveryOptions {
            current_exe: Some(uv_venv),
            ..options(&project)
        };
        assert_eq!(find(&options).unwrap().source, Source::InstalledVenv);
    }

    /// `uvx` puts the tool environment's `bin/` first on PATH; its `python3` is skipped.
    #[cfg(unix)]
    #[test]
    fn path_interpreters_in_tool_environments_are_skipped() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let tool = installed_in(&root.join("tools/otel-bootstrap-rs"));
        let tool_bin = tool.parent().unwrap().to_owned();
        fs::write(root.join("tools/otel-bootstrap-rs/uv-receipt.toml"), "").unwrap();
        make_script(&tool_bin.join("python3"), "exit 1");
        let system_prefix = root.join("system");
        let system_site_packages = system_prefix.join("lib/python3.11/site-packages");
        fs::create_dir_all(&system_site_packages).unwrap();
        let system_python = make_fake_python(
            &root.join("usr-bin/python3"),
            &system_prefix,
            &[&system_site_packages],
        );
        let options = DiscoveryOptions {
            current_exe: Some(tool),
            path: Some(std::env::join_paths([tool_bin, root.join("usr-bin")]).unwrap()),
            ..options(root)
        };
        let environment = find(&options).unwrap();
        assert_eq!(environment.source, Source::PathInterpreter);
        assert_eq!(environment.interpreter, Some(system_python));
        assert_eq!(environment.site_packages, [system_site_packages]);
    }

    #[cfg(unix)]
    #[test]
    fn path_lookup_prefers_python3_and_skips_non_executables() {
        use std::os::unix::fs::PermissionsExt;
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let site_packages = root.join("site-packages");
        fs::create_dir_all(&site_packages).unwrap();
        // `first/python3` is not executable; `first/python` is, but `python3` anywhere wins.
        fs::create_dir_all(root.join("first")).unwrap();
        fs::write(root.join("first/python3"), "").unwrap();
        fs::set_permissions(
            root.join("first/python3"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        make_fake_python(&root.join("first/python"), root, &[&site_packages]);
        make_fake_python(&root.join("second/python3"), root, &[&site_packages]);
        let search_path =
            std::env::join_paths([root.join("empty"), root.join("first"), root.join("second")])
                .unwrap();
        let environment = find(&DiscoveryOptions {
            path: Some(search_path),
            ..options(root)
        })
        .unwrap();
        assert_eq!(environment.interpreter, Some(root.join("second/python3")));

        let only_python = std::env::join_paths([root.join("first")]).unwrap();
        let environment = find(&DiscoveryOptions {
            path: Some(only_python.clone()),
            ..options(root)
        })
        .unwrap();
        assert_eq!(environment.interpreter, Some(root.join("first/python")));

        // `--python NAME` is looked up on PATH too.
        let environment = find(&DiscoveryOptions {
            python: Some(PathBuf::from("python")),
            path: Some(only_python),
            ..options(root)
        })
        .unwrap();
        assert_eq!(environment.interpreter, Some(root.join("first/python")));
    }

    #[cfg(unix)]
    #[test]
    fn include_system_site_packages_asks_the_base_interpreter() {
        let temp = tempfile::tempdir().unwrap();
        let base_prefix = temp.path().join("base");
        let base_site_packages = base_prefix.join("lib/python3.11/site-packages");
        fs::create_dir_all(&base_site_packages).unwrap();
        make_fake_python(
            &base_prefix.join("bin/python3"),
            &base_prefix,
            &[&base_site_packages],
        );
        let config = format!(
            "home = {}\ninclude-system-site-packages = true\nversion = 3.11.7\n",
            base_prefix.join("bin").display()
        );
        let prefix = make_venv(
            &temp.path().join("venv"),
            &config,
            &["lib/python3.11/site-packages"],
        );
        let environment = find(&DiscoveryOptions {
            virtual_env: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [
                prefix.join("lib/python3.11/site-packages"),
                base_site_packages
            ]
        );

        // No base interpreter and no venv interpreter to fall back on.
        let config =
            "home = /nonexistent/bin\ninclude-system-site-packages = TRUE\nversion = 3.11.7\n";
        let prefix = make_venv(
            &temp.path().join("orphan"),
            config,
            &["lib/python3.11/site-packages"],
        );
        let error = error_of(&DiscoveryOptions {
            virtual_env: Some(prefix.clone()),
            ..options(temp.path())
        });
        assert!(
            matches!(error, EnvironmentError::BaseInterpreterNotFound { .. }),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn interpreter_inside_a_venv_is_not_run() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = make_venv(
            &temp.path().join(".venv"),
            VENV_CFG,
            &["lib/python3.11/site-packages"],
        );
        // Running this would fail the test.
        let interpreter = make_script(&prefix.join("bin/python3.11"), "exit 3");
        let environment = find(&DiscoveryOptions {
            python: Some(interpreter.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(environment.prefix, Some(prefix.clone()));
        assert_eq!(environment.interpreter, Some(interpreter));
        assert_eq!(
            environment.site_packages,
            [prefix.join("lib/python3.11/site-packages")]
        );
    }

    #[cfg(unix)]
    #[test]
    fn unusual_venv_layout_asks_the_venv_interpreter() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = make_venv(temp.path(), VENV_CFG, &["custom/site-packages"]);
        make_fake_python(
            &prefix.join("bin/python"),
            &prefix,
            &[&prefix.join("custom/site-packages")],
        );
        let environment = find(&DiscoveryOptions {
            python: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(
            environment.site_packages,
            [prefix.join("custom/site-packages")]
        );
    }

    #[cfg(unix)]
    #[test]
    fn interpreter_failures() {
        let temp = tempfile::tempdir().unwrap();
        let with_python = |name: &str, body: &str| DiscoveryOptions {
            python: Some(make_script(&temp.path().join(name).join("python"), body)),
            ..options(temp.path())
        };
        let error = error_of(&with_python(
            "fails",
            "echo 'SyntaxError: oops' >&2\nexit 1",
        ));
        assert!(
            matches!(error, EnvironmentError::InterpreterFailed { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .ends_with("failed: exit status: 1: SyntaxError: oops"),
            "{error}"
        );

        let error = error_of(&with_python("garbage", "echo 'Hello, world'"));
        assert!(
            matches!(error, EnvironmentError::InterpreterOutput { .. }),
            "{error}"
        );
        let error = error_of(&with_python("silent", "true"));
        assert!(
            matches!(error, EnvironmentError::InterpreterOutput { .. }),
            "{error}"
        );
        let bad_version =
            r#"echo '{"version": "x", "prefix": "/", "base_prefix": "/", "site_packages": []}'"#;
        let error = error_of(&with_python("bad-version", bad_version));
        assert!(
            matches!(error, EnvironmentError::InterpreterOutput { .. }),
            "{error}"
        );
        let no_site_packages = r#"echo '{"version": "3.11", "prefix": "/p", "base_prefix": "/p", "site_packages": []}'"#;
        let error = error_of(&with_python("empty", no_site_packages));
        assert!(
            matches!(error, EnvironmentError::SitePackagesNotFound { .. }),
            "{error}"
        );
    }

    #[test]
    fn path_errors() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let missing = root.join("nope");
        let file = root.join("file.txt");
        fs::write(&file, "not python").unwrap();

        let error = error_of(&DiscoveryOptions {
            site_packages: vec![missing.clone()],
            ..options(root)
        });
        assert_eq!(
            error.to_string(),
            format!(
                "`{}` does not exist (from `--site-packages`)",
                missing.display()
            )
        );
        let error = error_of(&DiscoveryOptions {
            site_packages: vec![file.clone()],
            ..options(root)
        });
        assert!(
            matches!(error, EnvironmentError::NotADirectory { .. }),
            "{error}"
        );

        let error = error_of(&DiscoveryOptions {
            python: Some(missing.clone()),
            ..options(root)
        });
        assert!(matches!(
            error,
            EnvironmentError::DoesNotExist {
                given_by: Source::PythonFlag,
                ..
            }
        ));
        let error = error_of(&DiscoveryOptions {
            python: Some(root.to_owned()),
            ..options(root)
        });
        assert!(
            matches!(error, EnvironmentError::NotAnEnvironment { .. }),
            "{error}"
        );
        #[cfg(unix)]
        {
            // A relative, non-executable file.
            let error = error_of(&DiscoveryOptions {
                python: Some(PathBuf::from("./file.txt")),
                ..options(root)
            });
            let expected = format!(
                "`{}` is not a Python interpreter or environment (from `--python`)",
                file.display()
            );
            assert_eq!(error.to_string(), expected);
            assert!(error.hint().unwrap().contains("pyvenv.cfg"));
        }

        // A stale VIRTUAL_ENV is reported even though a `.venv` exists.
        make_venv(
            &root.join(".venv"),
            VENV_CFG,
            &["lib/python3.11/site-packages"],
        );
        let error = error_of(&DiscoveryOptions {
            virtual_env: Some(missing.clone()),
            ..options(root)
        });
        assert!(
            matches!(&error, EnvironmentError::DoesNotExist { path, given_by: Source::VirtualEnv } if *path == missing)
        );
        assert!(error.hint().unwrap().contains("deactivate"));
        let error = error_of(&DiscoveryOptions {
            conda_prefix: Some(root.join("empty-dir")),
            ..options(root)
        });
        assert!(matches!(
            error,
            EnvironmentError::DoesNotExist {
                given_by: Source::CondaPrefix,
                ..
            }
        ));

        let no_site_packages = make_venv(&root.join("bare"), VENV_CFG, &[]);
        let error = error_of(&DiscoveryOptions {
            virtual_env: Some(no_site_packages),
            ..options(root)
        });
        assert!(
            matches!(error, EnvironmentError::SitePackagesNotFound { .. }),
            "{error}"
        );
    }

    #[test]
    fn nothing_found_names_every_source() {
        let temp = tempfile::tempdir().unwrap();
        let empty_path = std::env::join_paths([temp.path()]).unwrap();
        let error = error_of(&DiscoveryOptions {
            path: Some(empty_path),
            ..options(temp.path())
        });
        assert_eq!(
            error.to_string(),
            format!(
                "no Python environment found (tried --site-packages, --python, VIRTUAL_ENV, CONDA_PREFIX, \
                 .venv in `{}` and its parents, python3/python on PATH)",
                temp.path().display()
            )
        );
        assert_eq!(
            error.hint().as_deref(),
            Some(
                "pass `--python PATH` or `--site-packages DIR`, or activate a virtual environment"
            )
        );
        // `-a install` refuses `--site-packages`: its hints do not offer it.
        let error = error_of(
            &DiscoveryOptions {
                path: Some(std::env::join_paths([temp.path()]).unwrap()),
                ..options(temp.path())
            }
            .needing_interpreter(true),
        );
        assert!(
            matches!(&error, EnvironmentError::NeedsInterpreter(inner) if matches!(**inner, EnvironmentError::NoEnvironment { .. }))
        );
        assert!(error.to_string().starts_with("no Python environment found"));
        assert_eq!(
            error.hint().as_deref(),
            Some("pass `--python PATH`, or activate a virtual environment")
        );
    }

    #[test]
    fn no_hint_offers_site_packages_to_a_run_that_needs_the_interpreter() {
        let prefix = PathBuf::from("/envs/my venv");
        let errors = [
            EnvironmentError::interpreter_failed(&prefix.join("bin/python"), "exit status 1"),
            EnvironmentError::interpreter_output(&prefix.join("bin/python"), "not JSON"),
            EnvironmentError::BaseInterpreterNotFound {
                prefix: prefix.clone(),
            },
            EnvironmentError::SitePackagesNotFound {
                prefix: prefix.clone(),
            },
            EnvironmentError::Unreadable {
                path: prefix.join("pyvenv.cfg"),
                error: io::Error::from(io::ErrorKind::PermissionDenied),
            },
            EnvironmentError::NoEnvironment {
                current_dir: prefix.clone(),
            },
        ];
        for error in errors {
            let plain = error.hint().unwrap();
            assert!(plain.contains("--site-packages DIR"), "{plain}");
            let message = error.to_string();
            let install = EnvironmentError::NeedsInterpreter(Box::new(error));
            assert_eq!(install.to_string(), message);
            let hint = install.hint().unwrap();
            assert!(!hint.contains("--site-packages"), "{hint}");
            assert!(hint.contains("--python"), "{hint}");
        }
        assert_eq!(
            EnvironmentError::BaseInterpreterNotFound { prefix }.hint().unwrap(),
            "recreate the virtual environment (`python3 -m venv --clear '/envs/my venv'`, then install the application into it again), or pass `--site-packages DIR` (repeatable) to point at site-packages directly"
        );
    }

    #[test]
    fn an_interpreter_request_is_quoted_for_the_shell() {
        let error = EnvironmentError::NoInterpreterForRequest {
            request: ">=3.11,<3.13".to_owned(),
            tried: Vec::new(),
        };
        assert!(error
            .hint()
            .unwrap()
            .starts_with("install one with `uv python install '>=3.11,<3.13'` if uv offers it"));
    }

    #[test]
    fn odd_pyvenv_cfg_does_not_panic() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = temp.path().join("odd");
        make_venv(&prefix, "", &["lib/python3.11/site-packages"]);
        fs::write(
            prefix.join("pyvenv.cfg"),
            b"\xff\xfe=\x00\nversion = \xe2\x82\n=\n version=3\nVERSION = 3.11.0\n",
        )
        .unwrap();
        let environment = find(&DiscoveryOptions {
            virtual_env: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(environment.python_version.as_deref(), Some("3.11"));

        let config = VenvConfig::parse("version = 3\nversion_info = 3.x\nhome =\nuv = \n");
        assert_eq!(
            (config.version, config.home, config.created_by_uv),
            (None, None, true)
        );
        assert_eq!(major_minor("3.13t").as_deref(), Some("3.13"));
        assert_eq!(major_minor("3.11.7.final.0").as_deref(), Some("3.11"));
        assert_eq!(major_minor(".11"), None);
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_pyvenv_cfg_is_an_error() {
        let temp = tempfile::tempdir().unwrap();
        // A directory where pyvenv.cfg should be: exists, cannot be read as a file.
        let prefix = temp.path().join("venv");
        fs::create_dir_all(prefix.join("pyvenv.cfg")).unwrap();
        fs::create_dir_all(prefix.join("bin")).unwrap();
        let interpreter = make_script(&prefix.join("bin/python"), "exit 3");
        let error = VenvConfig::read(&prefix.join("pyvenv.cfg")).unwrap_err();
        assert!(
            matches!(error, EnvironmentError::Unreadable { .. }),
            "{error}"
        );
        // Not recognized as a venv, so the interpreter itself is asked (and fails).
        let error = error_of(&DiscoveryOptions {
            python: Some(interpreter),
            ..options(temp.path())
        });
        assert!(
            matches!(error, EnvironmentError::InterpreterFailed { .. }),
            "{error}"
        );
    }

    /// Against the machine's real `python3`: a real venv resolves to the same
    /// site-packages from its layout and from asking its interpreter.
    #[cfg(unix)]
    #[test]
    fn real_python_venv() {
        let temp = tempfile::tempdir().unwrap();
        let prefix = temp.path().join("venv");
        let created = Command::new("python3")
            .args(["-m", "venv", "--without-pip"])
            .arg(&prefix)
            .status();
        if !created.is_ok_and(|status| status.success()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs `python3 -m venv`"
            );
            eprintln!("skipping: `python3 -m venv` is not available");
            return;
        }
        let from_layout = find(&DiscoveryOptions {
            virtual_env: Some(prefix.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(from_layout.interpreter, Some(prefix.join("bin/python")));
        assert_eq!(from_layout.site_packages.len(), 1, "{from_layout:?}");
        assert!(from_layout.site_packages[0].starts_with(&prefix));

        let interpreter = prefix.join("bin/python");
        let from_flag = find(&DiscoveryOptions {
            python: Some(interpreter.clone()),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(from_flag.site_packages, from_layout.site_packages);

        let asked = query_interpreter(&interpreter).unwrap();
        let canonical = |paths: &[PathBuf]| -> Vec<PathBuf> {
            paths
                .iter()
                .map(|path| path.canonicalize().unwrap())
                .collect()
        };
        assert_eq!(
            canonical(&asked.site_packages),
            canonical(&from_layout.site_packages)
        );
        assert_eq!(Some(asked.version), from_layout.python_version);

        // A bare interpreter found on PATH is asked.
        let search_path = std::env::var_os("PATH").unwrap_or_default();
        let from_path = find(&DiscoveryOptions {
            path: Some(search_path),
            ..options(temp.path())
        })
        .unwrap();
        assert_eq!(from_path.source, Source::PathInterpreter);
        assert!(!from_path.site_packages.is_empty());
    }

    /// An executable shell script standing in for an interpreter (it ignores the
    /// arguments).
    #[cfg(unix)]
    fn fake_interpreter(directory: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = directory.join("python");
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[cfg(unix)]
    #[test]
    fn an_interpreter_that_prints_forever_is_stopped_at_the_cap() {
        let temp = tempfile::tempdir().unwrap();
        let python = fake_interpreter(temp.path(), "yes 'x'");
        let error = run_script(&python, &[]).unwrap_err();
        assert!(error.contains("printed more than 1 MiB"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_background_child_holding_the_pipe_does_not_hang_the_query() {
        let temp = tempfile::tempdir().unwrap();
        // The "interpreter" answers, then leaves a child behind with stdout open.
        let python = fake_interpreter(temp.path(), "echo answer\n(sleep 60) &\nexit 0");
        let output = run_script(&python, &[]).unwrap();
        assert!(output.status.success());
        assert_eq!(output.stdout.trim(), "answer");
    }
}
