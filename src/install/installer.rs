//! Choosing the installer and building its command line.
//!
//! The choice ([`select`]) is a pure function of what was found: the `--installer` flag,
//! the target environment, whether it has pip, where uv is, and the uv project around the
//! current directory. The command ([`InstallCommand`]) is an argument vector run with
//! [`std::process::Command`], never through a shell: every value is passed as
//! `--option=value` and the requirements follow `--`, so nothing that starts with `-` can
//! become an option.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::redact::{quote, redact};

/// Which program installs with `-a install`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InstallerChoice {
    /// `uv add` in a uv project, `uv pip install` in an environment without pip or when uv
    /// is on PATH, else `python -m pip install`.
    Auto,
    /// uv (`uv add` in a uv project, else `uv pip install`).
    Uv,
    /// `python -m pip install`.
    Pip,
}

/// How the requirements are installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Installer {
    /// `uv pip install --python <interpreter>`.
    Uv,
    /// `<interpreter> -m pip install -U --upgrade-strategy only-if-needed`.
    Pip,
    /// `uv add --project <root>`: recorded in `pyproject.toml` and `uv.lock`.
    UvAdd { project: PathBuf },
    /// The project's own tool records the packages where its lock and sync keep them:
    /// `poetry add`, `pdm add`, `pipenv install` (then `pipenv lock`).
    Record {
        tool: Tool,
        /// The tool's executable.
        program: PathBuf,
        /// The project directory.
        root: PathBuf,
    },
}

pub(crate) use crate::project::manifest::Place;

impl Installer {
    /// How the installer is named in messages (`uv pip install`).
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Uv => "uv pip install",
            Self::Pip => "pip install",
            Self::UvAdd { .. } => "uv add",
            Self::Record { tool, .. } => match tool {
                Tool::Poetry => "poetry add",
                Tool::Pdm => "pdm add",
                Tool::Pipenv => "pipenv install",
                Tool::Uv => "uv add",
                Tool::Hatch => "hatch",
                Tool::PipTools => "pip-compile",
            },
        }
    }

    /// Whether the packages are recorded in the project (and its lock), not only installed.
    pub(crate) fn records(&self) -> bool {
        matches!(self, Self::UvAdd { .. } | Self::Record { .. })
    }

    /// The project directory a recording installer writes to.
    pub(crate) fn project_root(&self) -> Option<&Path> {
        match self {
            Self::UvAdd { project } => Some(project),
            Self::Record { root, .. } => Some(root),
            Self::Uv | Self::Pip => None,
        }
    }

    /// Whether the program that runs is uv.
    pub(crate) fn is_uv(&self) -> bool {
        matches!(self, Self::Uv | Self::UvAdd { .. })
    }
}

pub(crate) use crate::environment::{find_uv_project, UvProject};
use crate::project::Tool;

/// What the choice depends on.
#[derive(Debug, Clone)]
pub(crate) struct SelectionInputs<'a> {
    pub(crate) choice: InstallerChoice,
    /// `--no-project`.
    pub(crate) no_project: bool,
    /// The target environment's prefix (a venv or conda directory), if any.
    pub(crate) prefix: Option<&'a Path>,
    /// Whether `pyvenv.cfg` says uv created the environment.
    pub(crate) created_by_uv: bool,
    /// Whether pip is installed in the environment.
    pub(crate) has_pip: bool,
    /// The uv executable, when found.
    pub(crate) uv: Option<&'a Path>,
    /// The uv project around the current directory, if any.
    pub(crate) project: Option<&'a UvProject>,
}

/// The installer chosen, with why (for `-v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    pub(crate) installer: Installer,
    pub(crate) reason: String,
}

/// The installer that is needed is not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(clippy::enum_variant_names)] // each names what is missing: uv, pip, the tool
pub(crate) enum SelectionError {
    #[error("uv is needed ({why}), but it is not on PATH")]
    UvMissing { why: String },
    #[error("pip is not installed in the environment{}", prefix_text(.prefix))]
    PipMissing { prefix: Option<PathBuf> },
    #[error("`{program}` is not on PATH, and it records the packages of the {tool} project `{}` so that its lock and sync keep them", root.display())]
    ToolMissing {
        tool: Tool,
        program: &'static str,
        root: PathBuf,
    },
}

fn prefix_text(prefix: &Option<PathBuf>) -> String {
    prefix
        .as_ref()
        .map(|prefix| format!(" `{}`", prefix.display()))
        .unwrap_or_default()
}

impl SelectionError {
    /// What to do about it.
    pub(crate) fn hint(&self) -> String {
        match self {
            Self::UvMissing { .. } => {
                let standalone = if cfg!(windows) {
                    "its standalone installer"
                } else {
                    "`curl -LsSf https://astral.sh/uv/install.sh | sh`"
                };
                format!("install uv (`pipx install uv`, or {standalone}; see https://docs.astral.sh/uv/getting-started/installation/), or use `--installer pip` in an environment that has pip")
            }
            Self::PipMissing { prefix } => {
                let ensurepip = match prefix {
                    Some(prefix) => format!(
                        "add pip to the environment with `{} -m ensurepip`",
                        crate::redact::quote(&interpreter_of(prefix).display().to_string())
                    ),
                    None => "add pip to that Python with its `-m ensurepip`".to_owned(),
                };
                format!("use `--installer uv` (or leave `--installer auto`), or {ensurepip}")
            }
            Self::ToolMissing { program, .. } => format!("put `{program}` on PATH and run again, or install without recording: `--no-project` (the tool's next sync removes what is installed that way)"),
        }
    }
}

/// The interpreter of the environment at `prefix`: the one there, else where a venv keeps
/// it on this platform.
fn interpreter_of(prefix: &Path) -> PathBuf {
    crate::environment::venv_interpreter(prefix).unwrap_or_else(|| {
        if cfg!(windows) {
            prefix.join("Scripts").join("python.exe")
        } else {
            prefix.join("bin").join("python")
        }
    })
}

/// Chooses the installer (see the module documentation of [`super`] for the rules).
pub(crate) fn select(inputs: &SelectionInputs<'_>) -> Result<Selection, SelectionError> {
    let project = inputs
        .project
        .filter(|project| is_project_environment(project, inputs.prefix));
    let uv = |installer: Installer, reason: String| -> Result<Selection, SelectionError> {
        if inputs.uv.is_some() {
            Ok(Selection { installer, reason })
        } else {
            Err(SelectionError::UvMissing { why: reason })
        }
    };
    let uv_pip_or_add = |reason: &str| -> Result<Selection, SelectionError> {
        match project {
            Some(project) if !inputs.no_project => uv(
                Installer::UvAdd {
                    project: project.root.clone(),
                },
                format!(
                    "the environment is the one of the uv project `{}`; `uv add` records the packages so that `uv sync` keeps them",
                    project.root.display()
                ),
            ),
            _ => uv(Installer::Uv, reason.to_owned()),
        }
    };
    match inputs.choice {
        InstallerChoice::Uv => uv_pip_or_add("`--installer uv`"),
        InstallerChoice::Pip => {
            if inputs.has_pip {
                Ok(Selection {
                    installer: Installer::Pip,
                    reason: "`--installer pip`".to_owned(),
                })
            } else {
                Err(SelectionError::PipMissing {
                    prefix: inputs.prefix.map(Path::to_path_buf),
                })
            }
        }
        InstallerChoice::Auto => {
            if project.is_some() && !inputs.no_project {
                return uv_pip_or_add("");
            }
            if inputs.created_by_uv {
                return uv(
                    Installer::Uv,
                    "the environment was created by uv".to_owned(),
                );
            }
            if !inputs.has_pip {
                return uv(Installer::Uv, "the environment has no pip".to_owned());
            }
            if inputs.uv.is_some() {
                return Ok(Selection {
                    installer: Installer::Uv,
                    reason: "uv is on PATH".to_owned(),
                });
            }
            Ok(Selection {
                installer: Installer::Pip,
                reason: "uv is not on PATH".to_owned(),
            })
        }
    }
}

/// Whether `prefix` is the project's environment (compared canonically).
fn is_project_environment(project: &UvProject, prefix: Option<&Path>) -> bool {
    let Some(prefix) = prefix else {
        return false;
    };
    match (
        std::fs::canonicalize(prefix),
        std::fs::canonicalize(&project.environment),
    ) {
        (Ok(left), Ok(right)) => left == right,
        _ => false,
    }
}

/// Index settings, from the flags and from the other installer's variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IndexSettings {
    pub(crate) index_url: Option<String>,
    pub(crate) extra_index_urls: Vec<String>,
    pub(crate) find_links: Vec<String>,
    pub(crate) no_index: bool,
}

impl IndexSettings {
    /// The flags, completed for pip from uv's variables (`UV_INDEX_URL`, `UV_DEFAULT_INDEX`,
    /// `UV_INDEX`, `UV_EXTRA_INDEX_URL`, `UV_FIND_LINKS`, `UV_NO_INDEX`) when neither the
    /// flag nor pip's own variable is set, so a uv user keeps their index when pip runs.
    /// uv gets the flags only: it ignores `PIP_*` variables itself, and a user's pip
    /// settings must not change what uv resolves or what `uv add` writes into a lock
    /// ([`Self::ignored_by_uv`] names them for a note).
    pub(crate) fn resolve(
        flags: IndexSettings,
        installer: &Installer,
        variable: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let set = |name: &str| variable(name).filter(|value| !value.trim().is_empty());
        let any_set = |names: &[&str]| names.iter().any(|name| set(name).is_some());
        let words = |value: String, separators: &[char]| -> Vec<String> {
            value
                .split(|character: char| {
                    character.is_whitespace() || separators.contains(&character)
                })
                .filter(|word| !word.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut settings = flags;
        if installer.is_uv() {
            return settings;
        } else {
            if settings.index_url.is_none() && !any_set(&["PIP_INDEX_URL", "PIP_NO_INDEX"]) {
                settings.index_url = set("UV_DEFAULT_INDEX")
                    .or_else(|| set("UV_INDEX_URL"))
                    .map(|value| value.trim().to_owned());
            }
            if settings.extra_index_urls.is_empty()
                && !any_set(&["PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"])
            {
                let mut extra = set("UV_EXTRA_INDEX_URL")
                    .map(|value| words(value, &[]))
                    .unwrap_or_default();
                // `UV_INDEX` entries may be `name=url`.
                extra.extend(
                    set("UV_INDEX")
                        .map(|value| words(value, &[]))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|entry| match entry.split_once('=') {
                            Some((name, url)) if !name.contains(':') => url.to_owned(),
                            _ => entry,
                        }),
                );
                settings.extra_index_urls = extra;
            }
            if settings.find_links.is_empty() && !any_set(&["PIP_FIND_LINKS"]) {
                settings.find_links = set("UV_FIND_LINKS")
                    .map(|value| words(value, &[',']))
                    .unwrap_or_default();
            }
            if !any_set(&["PIP_NO_INDEX"]) && set("UV_NO_INDEX").is_some_and(|value| truthy(&value))
            {
                settings.no_index = true;
            }
        }
        settings
    }

    /// The `PIP_*` index variables that are set while uv runs without uv's own
    /// counterpart: uv does not read them and they are not passed on (for a warning naming
    /// each and the variable uv reads instead).
    pub(crate) fn ignored_by_uv(
        installer: &Installer,
        variable: impl Fn(&str) -> Option<String>,
    ) -> Vec<(&'static str, &'static str)> {
        if !installer.is_uv() {
            return Vec::new();
        }
        let set = |name: &str| variable(name).is_some_and(|value| !value.trim().is_empty());
        [
            ("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"),
            ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX"),
            ("PIP_FIND_LINKS", "UV_FIND_LINKS", "UV_FIND_LINKS"),
            ("PIP_NO_INDEX", "UV_NO_INDEX", "UV_NO_INDEX"),
        ]
        .into_iter()
        .filter(|(pip, uv, uv_also)| set(pip) && !set(uv) && !set(uv_also))
        .map(|(pip, uv, _)| (pip, uv))
        .collect()
    }

    fn push_args(&self, args: &mut Vec<OsString>) {
        if self.no_index {
            args.push("--no-index".into());
        }
        if let Some(url) = &self.index_url {
            args.push(format!("--index-url={url}").into());
        }
        for url in &self.extra_index_urls {
            args.push(format!("--extra-index-url={url}").into());
        }
        for location in &self.find_links {
            args.push(format!("--find-links={location}").into());
        }
    }
}

fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// One installer run: a program and its arguments, never a shell line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstallCommand {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    /// Variables set for it (pipenv's `PIPENV_PIPFILE`).
    pub(crate) envs: Vec<(OsString, OsString)>,
    /// The directory it runs in, when it matters.
    pub(crate) current_dir: Option<PathBuf>,
}

impl InstallCommand {
    /// The command for `installer`: `interpreter` is the environment's Python, `uv` the uv
    /// executable (required for the uv installers), `passthrough` what followed `--`.
    pub(crate) fn build(
        installer: &Installer,
        interpreter: &Path,
        uv: Option<&Path>,
        index: &IndexSettings,
        passthrough: &[OsString],
        requirements: &[String],
    ) -> Option<Self> {
        let mut args: Vec<OsString> = Vec::new();
        let program = match installer {
            Installer::Pip => {
                args.extend(
                    [
                        "-m",
                        "pip",
                        "install",
                        "-U",
                        "--upgrade-strategy",
                        "only-if-needed",
                    ]
                    .map(OsString::from),
                );
                interpreter.to_path_buf()
            }
            Installer::Uv => {
                args.extend(["pip", "install"].map(OsString::from));
                args.push(prefixed("--python=", interpreter.as_os_str()));
                uv?.to_path_buf()
            }
            Installer::UvAdd { .. } | Installer::Record { .. } => {
                return Self::record(
                    installer,
                    uv,
                    index,
                    &Place::Main,
                    passthrough,
                    requirements,
                )
            }
        };
        index.push_args(&mut args);
        Some(Self::finish(
            program,
            args,
            passthrough,
            requirements,
            (Vec::new(), None),
        ))
    }

    /// The command that records `requirements` at `place` with a recording installer
    /// (`uv add`, `poetry add`, `pdm add`, `pipenv install`): the index is the project's
    /// own (its sources), so no index option is passed except to uv. `None` for pip and
    /// `uv pip`, or uv when it was not found.
    pub(crate) fn record(
        installer: &Installer,
        uv: Option<&Path>,
        index: &IndexSettings,
        place: &Place,
        passthrough: &[OsString],
        requirements: &[String],
    ) -> Option<Self> {
        let mut args: Vec<OsString> = Vec::new();
        let mut envs = Vec::new();
        let mut current_dir = None;
        let words = |args: &mut Vec<OsString>, list: &[&str]| {
            args.extend(list.iter().map(OsString::from));
        };
        let program = match installer {
            Installer::UvAdd { project } => {
                args.push("add".into());
                args.push(prefixed("--project=", project.as_os_str()));
                match place {
                    Place::Main => {}
                    Place::Group(name) => args.push(format!("--group={name}").into()),
                    Place::Extra(name) => args.push(format!("--optional={name}").into()),
                }
                index.push_args(&mut args);
                uv?.to_path_buf()
            }
            Installer::Record {
                tool,
                program,
                root,
            } => {
                match tool {
                    Tool::Poetry => {
                        words(&mut args, &["add", "--no-interaction"]);
                        args.push(prefixed("--directory=", root.as_os_str()));
                        match place {
                            Place::Main => {}
                            Place::Group(name) => args.push(format!("--group={name}").into()),
                            Place::Extra(name) => args.push(format!("--optional={name}").into()),
                        }
                    }
                    Tool::Pdm => {
                        args.push("add".into());
                        args.push(prefixed("--project=", root.as_os_str()));
                        match place {
                            Place::Main => {}
                            Place::Group(name) => {
                                args.push("--dev".into());
                                args.push(format!("--group={name}").into());
                            }
                            Place::Extra(name) => args.push(format!("--group={name}").into()),
                        }
                    }
                    _ => {
                        args.push("install".into());
                        match place {
                            Place::Group(name) if name == "dev-packages" => {
                                args.push("--dev".into())
                            }
                            Place::Group(name) | Place::Extra(name) => {
                                args.push(format!("--categories={name}").into())
                            }
                            Place::Main => {}
                        }
                        envs.push((
                            OsString::from("PIPENV_PIPFILE"),
                            root.join("Pipfile").into_os_string(),
                        ));
                        envs.push((OsString::from("PIPENV_YES"), OsString::from("1")));
                        current_dir = Some(root.clone());
                    }
                }
                program.clone()
            }
            Installer::Uv | Installer::Pip => return None,
        };
        Some(Self::finish(
            program,
            args,
            passthrough,
            requirements,
            (envs, current_dir),
        ))
    }

    /// `args`, then what followed `--` on our command line, then `--` and the
    /// requirements.
    fn finish(
        program: PathBuf,
        mut args: Vec<OsString>,
        passthrough: &[OsString],
        requirements: &[String],
        (envs, current_dir): (Vec<(OsString, OsString)>, Option<PathBuf>),
    ) -> Self {
        args.extend(passthrough.iter().cloned());
        args.push("--".into());
        args.extend(requirements.iter().map(OsString::from));
        Self {
            program,
            args,
            envs,
            current_dir,
        }
    }

    /// `uv sync --project=<member>` after a workspace member's `uv add --no-sync`: every
    /// member (`--all-packages`) when the environment held them all, else without removing
    /// anything (`--inexact`).
    pub(crate) fn uv_sync(
        uv: &Path,
        index: &IndexSettings,
        member: &Path,
        all_members: bool,
    ) -> Self {
        let mut args: Vec<OsString> =
            vec!["sync".into(), prefixed("--project=", member.as_os_str())];
        args.push(
            if all_members {
                "--all-packages"
            } else {
                "--inexact"
            }
            .into(),
        );
        index.push_args(&mut args);
        Self {
            program: uv.to_path_buf(),
            args,
            envs: Vec::new(),
            current_dir: None,
        }
    }

    /// The command as a shell would read it (quoted), with credentials redacted.
    pub(crate) fn display(&self) -> String {
        let mut words = vec![quote(&self.program.to_string_lossy()).into_owned()];
        words.extend(
            self.args
                .iter()
                .map(|arg| quote(&arg.to_string_lossy()).into_owned()),
        );
        redact(&words.join(" ")).into_owned()
    }

    /// The [`std::process::Command`] to spawn (the caller sets up the streams).
    pub(crate) fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.envs.iter().map(|(name, value)| (name, value)));
        if let Some(directory) = &self.current_dir {
            command.current_dir(directory);
        }
        command
    }
}

impl fmt::Display for InstallCommand {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.display())
    }
}

fn prefixed(prefix: &str, value: &OsStr) -> OsString {
    let mut argument = OsString::from(prefix);
    argument.push(value);
    argument
}

/// The first executable `name` in the directories of `path` (the one PATH lookup,
/// [`crate::environment::find_on_path`]).
pub(crate) fn find_executable(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    crate::environment::find_on_path(&path?.to_os_string(), &[name])
}

/// uv: on `PATH`, else installed in the environment itself (`pip install uv`).
pub(crate) fn find_uv(path: Option<&OsStr>, prefix: Option<&Path>) -> Option<PathBuf> {
    find_executable("uv", path).or_else(|| {
        let prefix = prefix?;
        [
            prefix.join("bin").join("uv"),
            prefix.join("Scripts").join("uv.exe"),
        ]
        .into_iter()
        .find(|candidate| crate::environment::is_executable_file(candidate))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(choice: InstallerChoice) -> SelectionInputs<'a> {
        SelectionInputs {
            choice,
            no_project: false,
            prefix: None,
            created_by_uv: false,
            has_pip: true,
            uv: None,
            project: None,
        }
    }

    #[test]
    fn auto_prefers_uv_when_on_path_and_pip_otherwise() {
        let uv = PathBuf::from("/bin/uv");
        let mut with_uv = inputs(InstallerChoice::Auto);
        with_uv.uv = Some(&uv);
        assert_eq!(select(&with_uv).unwrap().installer, Installer::Uv);
        assert_eq!(
            select(&inputs(InstallerChoice::Auto)).unwrap().installer,
            Installer::Pip
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_hints_name_commands_that_work_where_they_are_needed() {
        let uv = SelectionError::UvMissing { why: String::new() }.hint();
        assert!(uv.contains("`pipx install uv`"), "{uv}");
        assert!(!uv.contains("--user"), "{uv}");
        let directory = tempfile::tempdir().unwrap();
        let prefix = directory.path().join("my venv");
        let pip = SelectionError::PipMissing {
            prefix: Some(prefix.clone()),
        }
        .hint();
        assert_eq!(
            pip,
            format!(
                "use `--installer uv` (or leave `--installer auto`), or add pip to the environment with `'{}/bin/python' -m ensurepip`",
                prefix.display()
            )
        );
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        std::fs::write(prefix.join("bin/python3"), "").unwrap();
        let pip = SelectionError::PipMissing {
            prefix: Some(prefix.clone()),
        }
        .hint();
        assert!(
            pip.ends_with("/my venv/bin/python3' -m ensurepip`"),
            "{pip}"
        );
    }

    #[test]
    fn an_environment_without_pip_needs_uv() {
        let mut no_pip = inputs(InstallerChoice::Auto);
        no_pip.has_pip = false;
        assert!(matches!(
            select(&no_pip),
            Err(SelectionError::UvMissing { .. })
        ));
        let mut by_uv = inputs(InstallerChoice::Auto);
        by_uv.created_by_uv = true;
        assert!(matches!(
            select(&by_uv),
            Err(SelectionError::UvMissing { .. })
        ));
        let mut pip = inputs(InstallerChoice::Pip);
        pip.has_pip = false;
        assert!(matches!(
            select(&pip),
            Err(SelectionError::PipMissing { .. })
        ));
    }

    #[test]
    fn the_project_environment_gets_uv_add_unless_no_project() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        std::fs::create_dir(root.join(".venv")).unwrap();
        std::fs::write(root.join("pyproject.toml"), "").unwrap();
        std::fs::write(root.join("uv.lock"), "").unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        let project = find_uv_project(&root.join("src"), None).unwrap();
        assert_eq!(project.root, root);
        let uv = PathBuf::from("/bin/uv");
        let prefix = root.join(".venv");
        let mut target = inputs(InstallerChoice::Auto);
        target.uv = Some(&uv);
        target.prefix = Some(&prefix);
        target.project = Some(&project);
        assert_eq!(
            select(&target).unwrap().installer,
            Installer::UvAdd {
                project: root.to_path_buf()
            }
        );
        target.no_project = true;
        assert_eq!(select(&target).unwrap().installer, Installer::Uv);
        // Another environment than the project's: not recorded.
        let other = root.join("src");
        target.no_project = false;
        target.prefix = Some(&other);
        assert_eq!(select(&target).unwrap().installer, Installer::Uv);
    }

    #[test]
    fn commands_are_argument_vectors_ending_options_before_requirements() {
        let index = IndexSettings {
            index_url: Some("https://user:secret@example.com/simple".to_owned()),
            ..IndexSettings::default()
        };
        let command = InstallCommand::build(
            &Installer::Pip,
            Path::new("/venv/bin/python"),
            None,
            &index,
            &["--no-deps".into()],
            &["a>=1".to_owned(), "b==2".to_owned()],
        )
        .unwrap();
        assert_eq!(
            command.display(),
            "/venv/bin/python -m pip install -U --upgrade-strategy only-if-needed \
             --index-url=https://user:****@example.com/simple --no-deps -- 'a>=1' b==2"
        );
        let uv = InstallCommand::build(
            &Installer::Uv,
            Path::new("/venv/bin/python"),
            Some(Path::new("/bin/uv")),
            &IndexSettings::default(),
            &[],
            &["-a".to_owned()],
        )
        .unwrap();
        assert_eq!(
            uv.args,
            ["pip", "install", "--python=/venv/bin/python", "--", "-a"].map(OsString::from)
        );
    }

    #[test]
    fn the_other_installers_variables_are_translated() {
        let variables = |name: &str| match name {
            "PIP_INDEX_URL" => Some("https://mirror/simple".to_owned()),
            "PIP_FIND_LINKS" => Some("/a /b".to_owned()),
            "UV_INDEX_URL" => Some("https://uv-mirror/simple".to_owned()),
            _ => None,
        };
        let for_uv = IndexSettings::resolve(IndexSettings::default(), &Installer::Uv, variables);
        // uv reads its own variables and never pip's: nothing is passed over them.
        assert_eq!(for_uv, IndexSettings::default());
        assert_eq!(
            IndexSettings::ignored_by_uv(&Installer::Uv, variables),
            // `UV_INDEX_URL` is set: uv's own index is in force, nothing to say about pip's.
            [("PIP_FIND_LINKS", "UV_FIND_LINKS")]
        );
        assert!(IndexSettings::ignored_by_uv(&Installer::Pip, variables).is_empty());
        let for_pip = IndexSettings::resolve(IndexSettings::default(), &Installer::Pip, variables);
        // pip reads its own PIP_INDEX_URL.
        assert_eq!(for_pip.index_url, None);
        let only_uv = |name: &str| (name == "UV_INDEX_URL").then(|| "https://u/simple".to_owned());
        let for_pip = IndexSettings::resolve(IndexSettings::default(), &Installer::Pip, only_uv);
        assert_eq!(for_pip.index_url.as_deref(), Some("https://u/simple"));
        let flags = IndexSettings {
            index_url: Some("https://flag/simple".to_owned()),
            ..IndexSettings::default()
        };
        let for_pip = IndexSettings::resolve(flags, &Installer::Pip, only_uv);
        assert_eq!(for_pip.index_url.as_deref(), Some("https://flag/simple"));
    }
}
