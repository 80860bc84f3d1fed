//! Settings: the command line resolved once into what each job needs, as ripgrep turns
//! its low-level arguments into high-level ones and uv resolves its `*Settings`. The jobs
//! (`crate::jobs`) take these and never a clap type; the flag conflicts clap cannot
//! declare (`-a install` with `--from`, `--check` or `--format json`; `--only-needed` with
//! `-a install`) are decided here, once.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::cli::{self, Cli, Command, RegistryCommand};
use crate::error::Failure;
use crate::install::installer::InstallerChoice;
use crate::lockfile::marker::Platform;
use crate::lockfile::GroupSelection;
use crate::output::Format;
use crate::printer::Verbosity;

/// What the main job does with the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Print the requirements (or check them with `--check`).
    Requirements,
    /// Install them.
    Install,
}

/// Which environment, which release and which instrumentations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub site_packages: Vec<PathBuf>,
    pub python: Option<PathBuf>,
    pub project: Option<PathBuf>,
    pub otel_version: Option<String>,
    pub registry: Option<PathBuf>,
    pub exclude: Vec<String>,
    pub include: Vec<String>,
}

impl Target {
    fn from_args(args: cli::TargetArgs) -> Self {
        Self {
            site_packages: args.site_packages,
            python: args.python,
            project: args.project,
            otel_version: args.otel_version,
            registry: args.registry,
            exclude: args.exclude,
            include: args.include,
        }
    }

    /// The flags that chose the environment and shaped the plan, as a suggested
    /// `otel-bootstrap …` command repeats them (` --python '/x/venv' --exclude flask`,
    /// each with a leading space, shell-quoted), so that the command looks at the same
    /// environment and plans the same way. `--otel-version` is left to the suggestion.
    ///
    /// For an `-a install` command (`install`), which needs an interpreter, the venv that
    /// `--site-packages DIR` belongs to (`DIR` is `<venv>/lib/pythonX.Y/site-packages`) is
    /// named with `--python` instead, when it has one.
    pub fn repeated(&self, install: bool) -> String {
        let mut flags: Vec<(&str, String)> = Vec::new();
        let venv = |directory: &Path| {
            crate::environment::site_packages_owner(directory).map(|(prefix, _)| prefix)
        };
        for directory in &self.site_packages {
            match venv(directory).filter(|_| install && self.site_packages.len() == 1) {
                Some(prefix) => flags.push(("--python", prefix.display().to_string())),
                None => flags.push(("--site-packages", directory.display().to_string())),
            }
        }
        if let Some(python) = &self.python {
            flags.push(("--python", python.display().to_string()));
        }
        if let Some(project) = &self.project {
            flags.push(("--project", project.display().to_string()));
        }
        if let Some(registry) = &self.registry {
            flags.push(("--registry", registry.display().to_string()));
        }
        flags.extend(self.exclude.iter().map(|name| ("--exclude", name.clone())));
        flags.extend(self.include.iter().map(|name| ("--include", name.clone())));
        flags
            .iter()
            .map(|(flag, value)| format!(" {flag} {}", crate::redact::quote(value)))
            .collect()
    }

    /// `otel-bootstrap <leading> <the target flags>`: a command to suggest.
    pub fn command(&self, leading: &str) -> String {
        let leading = if leading.is_empty() {
            String::new()
        } else {
            format!(" {leading}")
        };
        let install = leading.contains("-a install");
        format!("otel-bootstrap{leading}{}", self.repeated(install))
    }
}

/// How `-a install` installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub installer: InstallerChoice,
    pub no_project: bool,
    pub index_url: Option<String>,
    pub extra_index_url: Vec<String>,
    pub find_links: Vec<String>,
    pub dry_run: bool,
    pub with_distro: bool,
    pub exporter: String,
    pub installer_args: Vec<OsString>,
}

/// The main job: plan for an environment or lock files, then print, check or install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub action: Action,
    pub target: Target,
    pub format: Format,
    /// `--from`: the lock and requirements files to read instead of an environment.
    pub from: Vec<PathBuf>,
    pub python_version: Option<String>,
    pub platform: Option<Platform>,
    /// What to read from the lock files (`--group`, `--extra`, `--no-dev`, …); `--group`
    /// also says where `-a install` records.
    pub selection: GroupSelection,
    pub offline: bool,
    pub refresh: bool,
    pub check: bool,
    pub no_load_check: bool,
    pub only_needed: bool,
    pub install: Install,
}

impl Settings {
    /// The main job's settings, with the conflicts of `-a install` refused here.
    fn resolve(args: cli::BootstrapArgs) -> Result<Self, Failure> {
        let settings = Self {
            action: match args.action {
                cli::Action::Requirements => Action::Requirements,
                cli::Action::Install => Action::Install,
            },
            target: Target::from_args(args.target),
            format: args.format,
            from: args.from,
            python_version: args.python_version,
            platform: args.platform,
            selection: GroupSelection {
                no_dev: args.no_dev,
                dev: args.dev,
                groups: args.group,
                with: args.with_groups,
                without: args.without_groups,
                only: args.only_groups,
                extras: args.extra,
                all_extras: args.all_extras,
                package: args.package,
                all_packages: args.all_packages,
            },
            offline: args.offline,
            refresh: args.refresh,
            check: args.check,
            no_load_check: args.no_load_check,
            only_needed: args.only_needed,
            install: Install {
                installer: args.install.installer,
                no_project: args.install.no_project,
                index_url: args.install.index_url,
                extra_index_url: args.install.extra_index_url,
                find_links: args.install.find_links,
                dry_run: args.install.dry_run,
                with_distro: args.install.with_distro,
                exporter: args.install.exporter,
                installer_args: args.install.installer_args,
            },
        };
        if settings.action == Action::Install {
            settings.refuse_with_install()?;
        }
        Ok(settings)
    }

    /// What `explain` plans: its target, every other flag at its default.
    pub fn for_explain(explain: &Explain) -> Self {
        Self {
            action: Action::Requirements,
            target: explain.target.clone(),
            format: explain.format,
            from: Vec::new(),
            python_version: None,
            platform: None,
            selection: GroupSelection::default(),
            offline: false,
            refresh: false,
            check: false,
            no_load_check: false,
            only_needed: explain.only_needed,
            install: Install {
                installer: InstallerChoice::Auto,
                no_project: false,
                index_url: None,
                extra_index_url: Vec::new(),
                find_links: Vec::new(),
                dry_run: false,
                with_distro: false,
                exporter: DEFAULT_EXPORTER.to_owned(),
                installer_args: Vec::new(),
            },
        }
    }

    /// `-a install` goes with none of these; each refusal suggests what does.
    fn refuse_with_install(&self) -> Result<(), Failure> {
        let refuse = |what: &str, hint: String| {
            Err(Failure {
                error: anyhow!("`-a install` cannot be combined with {what}"),
                hint: Some(hint),
            })
        };
        if self.only_needed {
            return Err(Failure::with_hint(
                anyhow!("`--only-needed` works with `-a requirements`, not `-a install`"),
                format!(
                    "pipe the needed ones to the installer: `{} | uv add -r -` in a uv project, else `{} | pip install -r /dev/stdin` with the environment's pip",
                    self.target.command("--only-needed"),
                    self.target.command("--only-needed"),
                ),
            ));
        }
        if let Some(file) = self.from.first() {
            return refuse(
                "`--from`: it installs into an environment, not a lock file",
                format!(
                    "to install into the project's environment (and record the packages with its tool), run `{}` in the project; to see what the lock needs, `otel-bootstrap --from {}`",
                    self.target.command("-a install"),
                    crate::redact::quote(&file.display().to_string())
                ),
            );
        }
        if self.check {
            return refuse(
                "`--check`",
                format!("run `{}` after installing", self.target.command("--check")),
            );
        }
        if self.format == Format::Json {
            return refuse(
                "`--format json`: installing prints no data",
                format!(
                    "leave out `--format json` (with `--dry-run` it prints the commands), or see the plan as JSON: `{}`",
                    self.target.command("--format json")
                ),
            );
        }
        Ok(())
    }
}

/// The exporter `--with-distro` adds unless `--exporter` names another.
pub const DEFAULT_EXPORTER: &str = "opentelemetry-exporter-otlp";

/// `otel-bootstrap explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explain {
    pub target: Target,
    pub only_needed: bool,
    pub format: Format,
}

/// `otel-bootstrap registry …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    List {
        registry: Option<PathBuf>,
    },
    Show {
        release: Option<String>,
        registry: Option<PathBuf>,
        format: Format,
    },
    UpdateGenai {
        index_url: Option<String>,
        output: Option<PathBuf>,
        cache_dir: Option<PathBuf>,
    },
    Update {
        index_url: Option<String>,
        output: Option<PathBuf>,
        release: Option<String>,
        from_release: String,
        cache_dir: Option<PathBuf>,
    },
}

impl Registry {
    fn from_command(command: RegistryCommand) -> Self {
        match command {
            RegistryCommand::List { registry } => Self::List { registry },
            RegistryCommand::Show {
                release,
                registry,
                format,
            } => Self::Show {
                release,
                registry,
                format,
            },
            RegistryCommand::UpdateGenai {
                index_url,
                output,
                cache_dir,
            } => Self::UpdateGenai {
                index_url,
                output,
                cache_dir,
            },
            RegistryCommand::Update {
                index_url,
                output,
                release,
                from_release,
                cache_dir,
            } => Self::Update {
                index_url,
                output,
                release,
                from_release,
                cache_dir,
            },
        }
    }
}

/// Which job runs.
#[derive(Debug)]
pub enum Job {
    /// `-V`: the version and the bundled registry's range.
    Version,
    Main(Box<Settings>),
    Explain(Explain),
    Registry(Registry),
    Completions(clap_complete::Shell),
    Man,
}

/// A run: what to do, and how much to say.
#[derive(Debug)]
pub struct Run {
    pub verbosity: Verbosity,
    pub job: Job,
}

/// The command line, resolved. An `Err` is a refused combination of flags (exit 2).
pub fn resolve(cli: Cli) -> Result<Run, Failure> {
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let job = if cli.version {
        Job::Version
    } else {
        match cli.command {
            Some(Command::Registry(command)) => Job::Registry(Registry::from_command(command)),
            Some(Command::Completions { shell }) => Job::Completions(shell),
            Some(Command::Man) => Job::Man,
            Some(Command::Explain(args)) => Job::Explain(Explain {
                target: Target::from_args(args.target),
                only_needed: args.only_needed,
                format: args.format,
            }),
            None => Job::Main(Box::new(Settings::resolve(cli.bootstrap)?)),
        }
    };
    Ok(Run { verbosity, job })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn resolved(args: &[&str]) -> Result<Run, Failure> {
        let cli =
            Cli::try_parse_from(std::iter::once("otel-bootstrap").chain(args.iter().copied()))
                .expect("parses");
        resolve(cli)
    }

    #[test]
    fn install_conflicts_are_refused_in_one_place() {
        for args in [
            &["-a", "install", "--from", "uv.lock"][..],
            &["-a", "install", "--check"],
            &["-a", "install", "--format", "json"],
            &["-a", "install", "--only-needed"],
        ] {
            let failure = resolved(args).expect_err("refused");
            assert!(failure.hint.is_some(), "{args:?}");
        }
        assert!(resolved(&["-a", "install", "--dry-run"]).is_ok());
    }

    #[test]
    fn explain_plans_with_every_other_flag_at_its_default() {
        let Job::Explain(explain) = resolved(&["explain", "--exclude", "flask"]).unwrap().job
        else {
            panic!("not explain");
        };
        let settings = Settings::for_explain(&explain);
        assert_eq!(settings.target.exclude, ["flask"]);
        assert_eq!(settings.action, Action::Requirements);
        let Job::Main(defaults) = resolved(&["--exclude", "flask"]).unwrap().job else {
            panic!("not the main job");
        };
        assert_eq!(*defaults, settings);
    }
}
