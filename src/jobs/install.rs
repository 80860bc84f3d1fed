//! `-a install`: plans as `-a requirements` does, moves the stack together, runs one
//! installer transaction and verifies the whole environment (see [`crate::install`]).

use std::collections::HashSet;

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::diagnostics::{Warning, WarningKind};
use crate::environment::Environment;
use crate::error::{ExitStatus, Failure};
use crate::graph::{self, Graph, StackMove, StackMoves, Target};
use crate::plan::Plan;
use crate::printer::{Label, Printer, Verbosity};
use crate::requirement::{normalize, Dependency, PlainRequirement};
use crate::settings::Settings;

use crate::install;
use crate::install::installer::{
    self, find_uv, find_uv_project, IndexSettings, InstallCommand, Installer, InstallerChoice,
    Place, Selection, SelectionInputs,
};
use crate::install::process::{self, Display, FailureKind};
use crate::install::verify;
use crate::project::manifest::{entry_name, Manifest, POETRY_BOUND};
use crate::project::Tool;
use crate::redact::redact;

/// Runs `-a install` (its conflicts with other flags were refused by
/// [`crate::settings`]).
pub(crate) fn run(args: &Settings, printer: Printer) -> Result<ExitStatus, Failure> {
    install_pass(args, printer, None)
}

/// At most this many follow-up transactions for libraries an install brought.
const FOLLOW_UPS: usize = 2;

/// What a follow-up pass starts from: the plan made after the last pass, what the passes
/// before it installed, and how many there were.
struct FollowUp {
    prepared: InstallInputs,
    earlier: Vec<PlainRequirement>,
    pass: usize,
}

/// One planning and installer transaction; `None` for the first. A follow-up pass installs
/// only what is not yet in place, says nothing the first pass said, and answers for the
/// loading of all that the passes installed.
fn install_pass(
    args: &Settings,
    printer: Printer,
    follow: Option<FollowUp>,
) -> Result<ExitStatus, Failure> {
    let follow_up = follow.is_some();
    let (prepared, earlier, pass) = match follow {
        Some(FollowUp {
            prepared,
            earlier,
            pass,
        }) => (prepared, earlier, pass),
        None => (prepare(args)?, Vec::new(), 0),
    };
    let InstallInputs {
        environment,
        listing,
        plan,
        discovery,
        warnings,
    } = prepared;
    if let Some(link) = dead_interpreter_link(&environment) {
        return Err(Failure {
            error: anyhow!(
                "the environment's interpreter `{}` is a link to `{}`, which does not exist (the Python it was made with was removed or moved)",
                link.display(),
                std::fs::read_link(&link).unwrap_or_default().display()
            ),
            hint: Some(match environment.prefix.as_deref() {
                Some(prefix) => format!(
                    "recreate the environment: `python3 -m venv --clear {0}` or `uv venv --clear {0}`, then install the application into it again",
                    crate::redact::quote(&prefix.display().to_string())
                ),
                None => "reinstall that Python, or name another environment with `--python`".to_owned(),
            }),
        });
    }
    let interpreter = environment.interpreter.clone().ok_or_else(|| Failure {
        error: anyhow!("`-a install` needs the environment's interpreter, and `--site-packages` names only directories"),
        hint: Some("name the environment with `--python <venv or interpreter>` instead".to_owned()),
    })?;
    // Said once, and only once the environment is usable; "there is no SDK" is not said
    // to the run that adds it.
    if !follow_up {
        for warning in &super::recommend::environment_warnings(warnings, &args.target) {
            if args.install.with_distro && warning.kind == WarningKind::NoTelemetry {
                continue;
            }
            printer.warn(warning);
        }
    }
    let where_text = environment
        .prefix
        .as_deref()
        .unwrap_or(&interpreter)
        .display()
        .to_string();
    printer.detail(&format!(
        "environment: {where_text} (interpreter {}, from {})",
        interpreter.display(),
        environment.source
    ));

    let targets = targets(&plan, args)?;
    if targets.is_empty() {
        printer.say(&format!(
            "Nothing to install: release `{}` recommends no instrumentation for this environment",
            plan.release
        ));
        return Ok(ExitStatus::Success);
    }

    // The whole environment as it is: what is already broken is not ours to answer for,
    // and what the request moves decides what else must move with it.
    let markers = match verify::marker_environment(&interpreter) {
        Ok(markers) => Some(markers),
        Err(reason) => {
            printer.detail(&format!("cannot read the marker environment ({reason}); requirements with environment markers are assumed to apply"));
            None
        }
    };
    let before = verify::graph_of(&listing, markers.as_ref());
    // A follow-up installs only what the earlier passes did not.
    let targets: Vec<PlainRequirement> = if follow_up {
        targets
            .into_iter()
            .filter(|target| !verify::unmet(std::slice::from_ref(target), &before).is_empty())
            .collect()
    } else {
        targets
    };
    let pre_existing = before.conflicts();
    let unmet = verify::unmet(&targets, &before);
    let stack = before.stack_moves(&targets);
    let path_variable = discovery.path.clone();
    let uv = find_uv(path_variable.as_deref(), environment.prefix.as_deref());
    let project = find_uv_project(
        &discovery.current_dir,
        discovery
            .uv_project_environment
            .as_deref()
            .map(Path::as_os_str),
    );
    let has_pip = before.get_str("pip").is_some();
    let inputs = SelectionInputs {
        choice: args.install.installer,
        no_project: args.install.no_project,
        prefix: environment.prefix.as_deref(),
        created_by_uv: environment.created_by_uv,
        has_pip,
        uv: uv.as_deref(),
        project: project.as_ref(),
    };
    // Hatch has no add command and no lock: the project's `pyproject.toml` is edited
    // (comments and layout kept) where its environment takes its dependencies from, and
    // the environment is installed into as usual, so the next `hatch run` after a prune
    // installs the same.
    let hatch = environment
        .project
        .as_ref()
        .filter(|project| {
            matches!(project.tool, Tool::Hatch | Tool::PipTools) && !args.install.no_project
        })
        .map(|project| HatchRecord::read(project, &plan, &stack));
    let selection = match recording_tool(&environment, args, path_variable.as_deref()) {
        Some(recording) => recording,
        None => installer::select(&inputs),
    };
    // In a uv workspace, a member records into its own `pyproject.toml` (`uv add
    // --project <member>`), and the workspace is synced afterwards as it was.
    let workspace = environment
        .project
        .as_ref()
        .filter(|project| project.tool == Tool::Uv)
        .and_then(|project| Some((project.root.clone(), project.member.clone()?)));
    let selection = match (selection, &workspace) {
        (
            Ok(Selection {
                installer: Installer::UvAdd { .. },
                reason,
            }),
            Some((_, member)),
        ) => Ok(Selection {
            installer: Installer::UvAdd {
                project: member.clone(),
            },
            reason: format!(
                "{reason}; recorded in the workspace member `{}`",
                member.display()
            ),
        }),
        (selection, _) => selection,
    };

    // What the installer is asked for. A project's lock is resolved whole, so `uv add`
    // (`poetry add`, `pdm add`, `pipenv install`) gets the instrumentations and only those
    // of the project's own requirements that forbid the move (re-added with the new lower
    // bound, as `uv add` records a package), wherever the project keeps them; pip and
    // `uv pip` resolve only what they are given, so they get every moving package.
    let project_file = match &selection {
        Ok(Selection { installer, .. }) if installer.records() => {
            installer.project_root().map(|root| {
                let pipfile = matches!(
                    installer,
                    Installer::Record {
                        tool: Tool::Pipenv,
                        ..
                    }
                );
                Manifest::read(root, pipfile)
            })
        }
        _ => None,
    };
    let project_rewrites = project_file
        .as_ref()
        .map(|file| project_rewrites(file, &plan, &stack))
        .unwrap_or_default();
    // The instrumentations go where the project keeps `opentelemetry-distro`, unless
    // `--group` says where.
    let place = match args.selection.groups.first() {
        Some(group) => Place::Group(group.clone()),
        None => project_file
            .as_ref()
            .and_then(|file| file.place_of(DISTRO_PROJECT))
            .unwrap_or(Place::Main),
    };
    let request: Vec<String> = if project_file.is_some() {
        targets
            .iter()
            .filter(|target| {
                !plan.is_core_move(target.name.as_ref())
                    && !project_rewrites
                        .iter()
                        .any(|rewrite| rewrite.name == target.name.as_ref())
            })
            .map(|target| target.raw.clone())
            .chain(
                project_rewrites
                    .iter()
                    .filter(|rewrite| rewrite.place == place)
                    .map(|rewrite| rewrite.requirement.clone()),
            )
            .collect()
    } else {
        targets
            .iter()
            .map(|target| target.raw.clone())
            .chain(stack.moves.iter().map(StackMove::requirement))
            .collect()
    };

    // An editable or URL install that the move breaks cannot move by name. The uv
    // project itself is the exception under `uv add`: its requirements are rewritten.
    let project_name = project_file.as_ref().and_then(|file| file.name.clone());
    let blockers: Vec<&graph::Blocker> = stack
        .blockers
        .iter()
        .filter(|blocker| project_name.as_deref() != Some(blocker.package.as_str()))
        .collect();
    if !blockers.is_empty() {
        for blocker in &blockers {
            printer.always(Label::Error, redact(&blocker.to_string()));
        }
        let fixes: Vec<String> = blockers
            .iter()
            .filter_map(|blocker| moved_to(&plan, &stack, &blocker.moving))
            .map(|(name, version)| format!("`{name}>={version}`"))
            .collect();
        let fix = if fixes.is_empty() {
            String::new()
        } else {
            format!(" (to {})", fixes.join(", "))
        };
        let mut owners: Vec<String> = blockers
            .iter()
            .map(|blocker| format!("`{}`", blocker.package))
            .collect();
        owners.dedup();
        let keep = match before.get_str("opentelemetry-instrumentation") {
            Some(installed) => format!(
                ", or keep the installed release: `{}`",
                args.target.command(&format!(
                    "-a install --otel-version {}",
                    installed.raw_version
                ))
            ),
            None => String::new(),
        };
        let no_project = if project.is_some() && args.install.no_project {
            "; in a uv project, run without `--no-project` so that `uv add` updates the project's requirements"
        } else {
            ""
        };
        printer.always(
            Label::Hint,
            format!(
                "nothing was changed: release `{}` needs those packages to move, and {} {} installed from a path and cannot move by name; relax {} requirement{fix} and reinstall {}{keep}{no_project}",
                plan.release,
                owners.join(", "),
                if owners.len() == 1 { "was" } else { "were" },
                if owners.len() == 1 { "its" } else { "their" },
                if owners.len() == 1 { "it" } else { "them" },
            ),
        );
        return Ok(ExitStatus::ProblemFound);
    }

    let recorded = hatch.as_ref().is_none_or(|hatch| {
        hatch.rewrites.is_empty()
            && hatch.file.lists(
                targets
                    .iter()
                    .filter(|target| !plan.is_core_move(target.name.as_ref())),
            )
    }) && project_file.as_ref().is_none_or(|file| {
        project_rewrites.is_empty()
            && file.lists(
                targets
                    .iter()
                    .filter(|target| !plan.is_core_move(target.name.as_ref())),
            )
    });
    if unmet.is_empty() && stack.moves.is_empty() && recorded {
        printer.say(&format!(
            "Nothing to install: the {} package{} planned for release `{}` {} installed and {} requirements are met",
            targets.len(),
            plural(targets.len()),
            plan.release,
            if targets.len() == 1 { "is" } else { "are" },
            if targets.len() == 1 { "its" } else { "their" },
        ));
        report_pre_existing(&pre_existing, printer);
        return Ok(ExitStatus::Success);
    }
    for conflict in &unmet {
        printer.detail(&format!("to do: {conflict}"));
    }

    let selection = selection.map_err(|error| Failure {
        hint: Some(error.hint()),
        error: error.into(),
    })?;
    printer.detail(&format!(
        "installer: {} ({})",
        selection.installer.label(),
        selection.reason
    ));
    if selection.installer == Installer::Pip {
        if let Some(project) = project.as_ref() {
            if args.install.installer == InstallerChoice::Pip
                && same_directory(environment.prefix.as_deref(), &project.environment)
            {
                printer.warn(format!(
                    "`{}` is the environment of the uv project `{}`: `uv sync` removes what pip installs there; `--installer uv` records the packages with `uv add`",
                    where_text,
                    project.root.display()
                ));
            }
        }
    }

    let flags = IndexSettings {
        index_url: args.install.index_url.clone(),
        extra_index_urls: args.install.extra_index_url.clone(),
        find_links: args.install.find_links.clone(),
        no_index: false,
    };
    let variable = |name: &str| std::env::var(name).ok();
    let index = IndexSettings::resolve(flags, &selection.installer, variable);
    for (pip, uv_variable) in IndexSettings::ignored_by_uv(&selection.installer, variable) {
        let flag = match pip {
            "PIP_INDEX_URL" => "`--index-url URL`",
            "PIP_EXTRA_INDEX_URL" => "`--extra-index-url URL`",
            "PIP_FIND_LINKS" => "`--find-links PATH`",
            _ => "`-- --no-index`",
        };
        let pip_instead = if selection.installer == Installer::Uv {
            ", or use `--installer pip`"
        } else {
            ""
        };
        printer.warn(format!(
            "`{pip}` is set, but uv does not read it and it is not passed on (set `{uv_variable}` or give {flag}{pip_instead})"
        ));
    }
    // A recording installer runs once per place: first the places where only the
    // project's own requirements are relaxed (each alone resolvable), then the place that
    // receives the instrumentations; pipenv then locks again (its install alone leaves an
    // inconsistent Pipfile.lock) and syncs the environment to that lock.
    let mut commands: Vec<InstallCommand> = Vec::new();
    if selection.installer.records() {
        let mut other_places: Vec<&Place> = project_rewrites
            .iter()
            .map(|rewrite| &rewrite.place)
            .filter(|other| **other != place)
            .collect();
        other_places.sort();
        other_places.dedup();
        for other in other_places {
            let relaxed: Vec<String> = project_rewrites
                .iter()
                .filter(|rewrite| rewrite.place == *other)
                .map(|rewrite| rewrite.requirement.clone())
                .collect();
            commands.extend(InstallCommand::record(
                &selection.installer,
                uv.as_deref(),
                &index,
                other,
                &args.install.installer_args,
                &relaxed,
            ));
        }
        commands.extend(InstallCommand::record(
            &selection.installer,
            uv.as_deref(),
            &index,
            &place,
            &args.install.installer_args,
            &request,
        ));
        if let Installer::Record {
            tool: Tool::Pipenv,
            program,
            root,
        } = &selection.installer
        {
            // `pipenv install` installs only the new packages; the lock it leaves is then
            // made whole, and `pipenv sync` moves the environment to it.
            for step in ["lock", "sync"] {
                commands.push(InstallCommand {
                    program: program.clone(),
                    args: vec![step.into()],
                    envs: vec![
                        (
                            "PIPENV_PIPFILE".into(),
                            root.join("Pipfile").into_os_string(),
                        ),
                        ("PIPENV_YES".into(), "1".into()),
                    ],
                    current_dir: Some(root.clone()),
                });
            }
        }
    } else {
        commands.extend(InstallCommand::build(
            &selection.installer,
            &interpreter,
            uv.as_deref(),
            &index,
            &args.install.installer_args,
            &request,
        ));
    }
    if commands.is_empty() {
        return Err(anyhow!("internal: uv was chosen but not found").into());
    }
    if let (Some((root, member)), Installer::UvAdd { .. }, Some(uv)) =
        (&workspace, &selection.installer, uv.as_deref())
    {
        for command in &mut commands {
            command.args.insert(1, "--no-sync".into());
        }
        let all_members = crate::project::workspace_members(root)
            .iter()
            .all(|name| before.get_str(name).is_some());
        commands.push(InstallCommand::uv_sync(uv, &index, member, all_members));
    }

    // The edited `pyproject.toml` of a Hatch project: the instrumentations where it keeps
    // `opentelemetry-distro` (else where its environment installs from), and each of its
    // requirements that forbids the move relaxed in place.
    let hatch_edit = match &hatch {
        Some(hatch) => {
            let recorded: Vec<String> = targets
                .iter()
                .filter(|target| {
                    !plan.is_core_move(target.name.as_ref())
                        && !hatch
                            .rewrites
                            .iter()
                            .any(|rewrite| rewrite.name == target.name.as_ref())
                })
                .map(|target| target.raw.clone())
                .chain(
                    hatch
                        .rewrites
                        .iter()
                        .map(|rewrite| rewrite.requirement.clone()),
                )
                .collect();
            let edited = if hatch.pip_tools {
                Ok(crate::project::edit::record_lines(&hatch.text, &recorded))
            } else {
                crate::project::edit::record(&hatch.text, &hatch.target, &recorded)
            }
            .map_err(|reason| Failure {
                error: anyhow!(
                    "cannot record the instrumentations in `{}`: {reason}",
                    hatch.path.display()
                ),
                hint: Some("fix the file, or install without recording: `--no-project`".to_owned()),
            })?;
            Some((edited, recorded.len()))
        }
        None => None,
    };

    if let Some(hatch) = hatch.as_ref().filter(|hatch| hatch.pip_tools) {
        let mut upgrade: Vec<String> = targets
            .iter()
            .map(|target| target.name.as_ref().to_owned())
            .chain(stack.moves.iter().map(|moved| moved.name.clone()))
            .chain(hatch.rewrites.iter().map(|rewrite| rewrite.name.clone()))
            .collect();
        upgrade.sort();
        upgrade.dedup();
        commands =
            hatch.pip_tools_commands(&interpreter, environment.prefix.as_deref(), &upgrade)?;
    }

    if !follow_up {
        report_pre_existing(&pre_existing, printer);
    }
    let edited = hatch.as_ref().map(|hatch| hatch.path.display().to_string());
    let (rewrites_said, recorder) = match (&hatch, &edited) {
        (Some(hatch), Some(path)) => (&hatch.rewrites, Recorder::Edit(path)),
        _ => (
            &project_rewrites,
            Recorder::Tool(selection.installer.label()),
        ),
    };
    announce_moves(&plan, &stack, rewrites_said, recorder, printer);
    if let (Some(hatch), Some((_, count))) = (&hatch, &hatch_edit) {
        if hatch.pip_tools {
            printer.say(&format!(
                "{} {count} requirement{} in `{}`, then `pip-compile` and `pip-sync` (so that `pip-sync` keeps them)",
                if args.install.dry_run { "Would record" } else { "Recording" },
                plural(*count),
                hatch.path.display()
            ));
        } else {
            printer.say(&format!(
            "{} {count} requirement{} in `{}` of `{}` (Hatch has no lock: its next environment install reads them)",
            if args.install.dry_run { "Would record" } else { "Recording" },
            plural(*count),
            hatch.target.join("."),
            hatch.path.display()
        ));
        }
    }
    // What runs, in messages: pip-tools' two steps in place of the installer.
    let label = if hatch.as_ref().is_some_and(|hatch| hatch.pip_tools) {
        "pip-compile and pip-sync"
    } else {
        selection.installer.label()
    };
    let verb = if args.install.dry_run {
        "Would install"
    } else {
        "Installing"
    };
    let into = match (&selection.installer, &place) {
        (Installer::Record { tool, root, .. }, _) => format!(
            "{} the {tool} project `{}` ({where_text})",
            if place == Place::Main {
                "into".to_owned()
            } else {
                format!("into {place} of")
            },
            root.display()
        ),
        (Installer::UvAdd { .. }, Place::Group(_) | Place::Extra(_)) => {
            format!("into {place} of the project ({where_text})")
        }
        _ => format!("into {where_text}"),
    };
    printer.say(&format!(
        "{verb} {} requirement{} (release `{}`) with {} {into}",
        request.len(),
        plural(request.len()),
        plan.release,
        label,
    ));
    for command in &commands {
        printer.detail(&format!("running: {command}"));
    }

    if args.install.dry_run {
        let text: String = commands
            .iter()
            .map(|command| format!("{command}\n"))
            .collect();
        crate::printer::write_stdout(text.as_bytes())?;
        return Ok(ExitStatus::Success);
    }

    let display = Display::choose(
        printer.verbosity() == Verbosity::Quiet,
        printer.is_verbose(),
    );
    // The project's files as they are: a failed or interrupted recording puts them back.
    let hatch_root = hatch
        .as_ref()
        .and_then(|hatch| hatch.path.parent().map(Path::to_path_buf));
    let snapshot = selection
        .installer
        .project_root()
        .or(hatch_root.as_deref())
        .map(|root| {
            let workspace_root = workspace
                .as_ref()
                .map(|(workspace_root, _)| workspace_root.as_path());
            install::snapshot::Snapshot::take(std::iter::once(root).chain(workspace_root))
        });
    if let (Some(hatch), Some((edited, _))) = (&hatch, &hatch_edit) {
        crate::untrusted::write_atomically(&hatch.path, edited.as_bytes()).map_err(|error| {
            Failure {
                error: anyhow!(error).context(format!("cannot write `{}`", hatch.path.display())),
                hint: None,
            }
        })?;
    }
    let restore = || {
        if let Some(snapshot) = &snapshot {
            for path in snapshot.restore() {
                printer.always(
                    Label::Error,
                    format!("could not restore `{}` as it was", path.display()),
                );
            }
        }
    };
    let mut ran = None;
    for command in &commands {
        let outcome = process::run(command, display, request.len()).map_err(|error| {
            restore();
            let program = command.program.display().to_string();
            Failure {
                error: anyhow!(error).context(format!("cannot run `{program}`")),
                hint: Some(format!(
                    "{}; check that `{program}` exists and is executable (a script's `#!` line naming a Python that was removed is a common cause), or choose another installer with `--installer`",
                    match (ran.is_some(), snapshot.is_some()) {
                        (false, false) => "nothing was installed",
                        (false, true) => "nothing was installed, and the project's files are as they were",
                        (true, false) => "the steps before it ran",
                        (true, true) => "the steps before it ran; the project's files were put back as they were",
                    }
                )),
            }
        })?;
        let stop = !outcome.status.success() || process::interrupted().is_some();
        ran = Some((command, outcome));
        if stop {
            break;
        }
    }
    let Some((command, outcome)) = ran else {
        return Err(anyhow!("internal: nothing ran").into());
    };
    if !outcome.status.success() || process::interrupted().is_some() {
        restore();
    }

    // Interrupted, but the installer finished its work anyway: check it as usual.
    let finished_anyway = process::interrupted().is_some() && outcome.status.success();
    if finished_anyway {
        printer.always(
            Label::Warning,
            format!(
                "interrupted, but `{}` finished (it ignored the request to stop); checking the environment",
                command.program.display()
            ),
        );
    }
    if let Some(signal) = process::interrupted().filter(|_| !finished_anyway) {
        let what = if process::forced() {
            "did not stop when asked, and a second interrupt killed it and its process group; the environment may be half-installed".to_owned()
        } else {
            format!(
                "was asked to stop and exited with {}; the environment is as it left it",
                outcome.status
            )
        };
        printer.always(
            Label::Error,
            format!("interrupted: `{}` {what}", command.program.display()),
        );
        printer.always(
            Label::Hint,
            "run the same command again to finish the installation",
        );
        return Ok(ExitStatus::Interrupted(128 + signal));
    }
    if !outcome.status.success() {
        if display != Display::Stream {
            for line in &outcome.lines {
                printer.line(line);
            }
        }
        let failing = command
            .program
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        let label = match failing.as_deref() {
            Some(name @ ("pip-compile" | "pip-sync")) => name,
            _ => label,
        };
        return failed(
            &selection.installer,
            label,
            &outcome,
            &stack,
            &project_rewrites,
            printer,
        );
    }
    if display != Display::Stream {
        for line in process::resolver_warnings(&outcome.lines) {
            printer.say(&line);
        }
    }

    // The whole environment again: every planned package in place, and nothing broken
    // that was not broken before.
    let after = verify::graph(&environment.site_packages, markers.as_ref());
    let unmet = verify::unmet(&targets, &after);
    let broken = verify::newly_broken(&pre_existing, &after.conflicts());
    if !unmet.is_empty() || !broken.is_empty() {
        for conflict in &unmet {
            printer.line(&format!("conflict: {conflict}"));
        }
        for conflict in &broken {
            printer.line(&format!("conflict: {conflict}"));
        }
        let packages: HashSet<&str> = unmet
            .iter()
            .map(verify::Conflict::package)
            .chain(broken.iter().map(|conflict| conflict.package.as_str()))
            .collect();
        let count = unmet.len() + broken.len();
        printer.always(
            Label::Error,
            format!(
                "{} ran, but {count} conflict{} remain{} (in {} package{}); see above",
                label,
                plural(count),
                if count == 1 { "s" } else { "" },
                packages.len(),
                plural(packages.len()),
            ),
        );
        return Ok(ExitStatus::ProblemFound);
    }
    let changes = version_changes(&before, &after);
    let seconds = outcome.elapsed.as_secs_f64();
    if changes.is_empty() {
        printer.say(&format!(
            "Done in {seconds:.2}s: {} changed nothing; every planned package is installed",
            label
        ));
    } else {
        // Distributions, counted by what happened to them (a requirement can bring
        // several, and a move is a change, not an addition).
        let count = |sign: char| {
            changes
                .iter()
                .filter(|change| change.starts_with(sign))
                .count()
        };
        let parts: Vec<String> = [('+', "added"), ('~', "changed"), ('-', "removed")]
            .into_iter()
            .filter(|(sign, _)| count(*sign) > 0)
            .map(|(sign, word)| format!("{} {word}", count(sign)))
            .collect();
        printer.say(&format!(
            "Done in {seconds:.2}s: {} distribution{} ({})",
            changes.len(),
            plural(changes.len()),
            parts.join(", "),
        ));
        for change in &changes {
            printer.say(&format!(" {change}"));
        }
    }
    // What was installed can bring libraries that have instrumentations of their own
    // (the exporter brings grpcio and requests): plan again on the environment as it is
    // now, as `--check` will, and install what that adds in one more transaction.
    let installed: Vec<PlainRequirement> = earlier.iter().chain(&targets).cloned().collect();
    if pass < FOLLOW_UPS {
        let again = prepare(args)?;
        let more: Vec<&crate::plan::Recommendation> = again
            .plan
            .recommendations
            .iter()
            .filter(|recommendation| {
                !verify::unmet(std::slice::from_ref(&recommendation.parsed), &after).is_empty()
            })
            .collect();
        if !more.is_empty() {
            let mut brought: Vec<String> = more
                .iter()
                .flat_map(|recommendation| match &recommendation.reason {
                    crate::plan::Reason::Libraries { satisfied_by }
                    | crate::plan::Reason::Included { satisfied_by } => satisfied_by.as_slice(),
                    crate::plan::Reason::Default => &[],
                })
                .filter(|library| before.get_str(&library.name).is_none())
                .map(|library| format!("{} {}", library.name, library.version))
                .collect();
            brought.sort();
            brought.dedup();
            let what = if more.len() == 1 {
                "its instrumentation".to_owned()
            } else {
                format!("their {} instrumentations", more.len())
            };
            printer.say(&if brought.is_empty() {
                format!(
                    "The environment as installed needs {} more instrumentation{}: installing in a second step",
                    more.len(),
                    plural(more.len())
                )
            } else {
                format!(
                    "The install brought {}: installing {what} in a second step",
                    brought.join(", "),
                )
            });
            return install_pass(
                args,
                printer,
                Some(FollowUp {
                    prepared: again,
                    earlier: installed,
                    pass: pass + 1,
                }),
            );
        }
    }
    if !args.no_load_check {
        let project = environment
            .project
            .as_ref()
            .filter(|_| !args.install.no_project);
        let fixer = crate::check::FixTool::for_environment(
            project,
            Some(&interpreter),
            after.get_str("pip").is_some(),
        );
        return Ok(check_loads(&interpreter, &installed, &fixer, args, printer));
    }
    Ok(ExitStatus::Success)
}

/// After installing: every installed instrumentor is loaded in the environment's
/// interpreter (as `opentelemetry-instrument` would import it, instrumenting nothing).
/// One this run installed that does not load is an error (exit 1); one that was there
/// before is a warning.
fn check_loads(
    interpreter: &Path,
    targets: &[PlainRequirement],
    fixer: &crate::check::FixTool,
    args: &Settings,
    printer: Printer,
) -> ExitStatus {
    let loads = match crate::install::load_check::load_instrumentors(interpreter) {
        Ok(loads) => loads,
        Err(reason) => {
            printer.warn(format!(
                "the installed instrumentors were not loaded to check them: {reason}"
            ));
            return ExitStatus::Success;
        }
    };
    let mut ours = 0;
    for failure in &loads.failures {
        let name = crate::requirement::normalize(&failure.distribution);
        let installed_now = targets.iter().any(|target| target.name.as_ref() == name);
        let message = format!(
            "{} {} is installed, but its instrumentor `{}` does not load: {}",
            failure.distribution, failure.version, failure.entry_point, failure.error
        );
        if installed_now {
            ours += 1;
            printer.always(Label::Error, redact(&message));
            let remove = fixer
                .remove_command(&[name.as_str()])
                .map(|command| {
                    if fixer.is_command() {
                        format!("remove it (`{command}`) and ")
                    } else {
                        format!("{command}, and ")
                    }
                })
                .unwrap_or_default();
            printer.always(
                Label::Hint,
                format!(
                    "{remove}leave it out from now on with `--exclude {}`, or install a version of it that loads with this environment; `opentelemetry-instrument` skips it",
                    crate::explain::short(&name)
                ),
            );
        } else {
            printer.warn(format!(
                "{message}; remove it, or run `{}` for a fix",
                args.target.command("--check")
            ));
        }
    }
    if ours > 0 {
        ExitStatus::ProblemFound
    } else {
        ExitStatus::Success
    }
}

/// The environment's interpreter when it is a symbolic link to nothing (a venv whose base
/// Python was removed): its path.
fn dead_interpreter_link(environment: &Environment) -> Option<PathBuf> {
    let dead = |path: &Path| {
        std::fs::symlink_metadata(path).is_ok_and(|status| status.is_symlink())
            && std::fs::metadata(path).is_err()
    };
    let candidates = environment.interpreter.iter().cloned().chain(
        environment
            .prefix
            .iter()
            .flat_map(|prefix| ["bin/python3", "bin/python"].map(|name| prefix.join(name))),
    );
    candidates.into_iter().find(|path| dead(path))
}

/// Says, once, which requirements were already broken before anything ran.
fn report_pre_existing(conflicts: &[graph::Conflict], printer: Printer) {
    if conflicts.is_empty() {
        return;
    }
    printer.warn(format!(
        "the environment already had {} broken requirement{} before this run (not caused by it):",
        conflicts.len(),
        plural(conflicts.len())
    ));
    for conflict in conflicts.iter().take(PRE_EXISTING_SHOWN) {
        printer.warn(format!(
            "  {}",
            crate::sanitize::sanitize(&conflict.to_string())
        ));
    }
    if conflicts.len() > PRE_EXISTING_SHOWN {
        printer.warn(format!(
            "  … and {} more",
            conflicts.len() - PRE_EXISTING_SHOWN
        ));
    }
}

/// At most this many pre-existing broken requirements are listed, then a count.
const PRE_EXISTING_SHOWN: usize = 10;

/// Names, before anything changes, every installed package whose version will change.
/// How a project's requirement that forbids the move is relaxed.
#[derive(Clone, Copy)]
enum Recorder<'a> {
    /// Re-added by the project's tool (`uv add`, `poetry add`, …) with the new lower bound.
    Tool(&'a str),
    /// Edited in place in this file (Hatch's `pyproject.toml`, pip-tools' `requirements.in`).
    Edit(&'a str),
}

fn announce_moves(
    plan: &Plan,
    stack: &StackMoves,
    rewrites: &[ProjectRewrite],
    recorder: Recorder<'_>,
    printer: Printer,
) {
    // One line each; the reasons are one `-v` away (the result list names every change).
    if let Some(alignment) = &plan.alignment {
        for line in alignment.details() {
            printer.detail(&line);
        }
    }
    if !stack.moves.is_empty() {
        printer.say(&format!(
            "{} more installed package{} move{} with the stack to keep the environment consistent{}",
            stack.moves.len(),
            plural(stack.moves.len()),
            if stack.moves.len() == 1 { "s" } else { "" },
            if printer.is_verbose() { ":" } else { " (`-v` says why)" },
        ));
        for moved in &stack.moves {
            printer.detail(&format!(
                "  {} (because {})",
                moved.describe(),
                moved.because
            ));
        }
    }
    for rewrite in rewrites {
        let place = match &rewrite.place {
            Place::Main => String::new(),
            other => format!(" in {other}"),
        };
        printer.say(&match recorder {
            Recorder::Tool(tool) => format!(
                "The project requires `{}`{place}, which forbids release `{}`: `{tool}` re-adds it as `{}`",
                rewrite.was, plan.release, rewrite.requirement
            ),
            Recorder::Edit(path) => format!(
                "The project requires `{}`{place}, which forbids release `{}`: relaxing it to `{}` in `{path}`",
                rewrite.was, plan.release, rewrite.requirement
            ),
        });
    }
}

/// `name old -> new` for each distribution whose version changed, `+ name version` for
/// each new one, `- name version` for each removed one, in name order.
fn version_changes(before: &Graph, after: &Graph) -> Vec<String> {
    let mut changes = Vec::new();
    for node in after.nodes() {
        match before.get(&node.name) {
            Some(old) if old.raw_version != node.raw_version => changes.push((
                node.name.to_string(),
                format!(
                    "~ {} {} -> {}",
                    node.name, old.raw_version, node.raw_version
                ),
            )),
            Some(_) => {}
            None => changes.push((
                node.name.to_string(),
                format!("+ {}=={}", node.name, node.raw_version),
            )),
        }
    }
    for node in before.nodes() {
        if after.get(&node.name).is_none() {
            changes.push((
                node.name.to_string(),
                format!("- {}=={}", node.name, node.raw_version),
            ));
        }
    }
    changes.sort();
    changes.into_iter().map(|(_, text)| text).collect()
}

/// A requirement of the uv project that forbids the move, and what replaces it.
#[derive(Debug, Clone)]
pub(crate) struct ProjectRewrite {
    /// The normalized project name.
    pub(crate) name: String,
    /// The requirement as the project has it.
    pub(crate) was: String,
    /// `name>=<new version>`.
    pub(crate) requirement: String,
    /// Where the project keeps it.
    pub(crate) place: Place,
}

/// The version a moving package goes to, when known: a core move or a pinned stack move.
fn moved_to(plan: &Plan, stack: &StackMoves, name: &str) -> Option<(String, String)> {
    let pinned = stack.moves.iter().filter_map(|moved| match &moved.target {
        Target::Known { requirement } => Some(requirement.as_str()),
        Target::Resolver { .. } => None,
    });
    if let Some(core) = plan.core_moves().find(|core| core.name == name) {
        return Some((core.name.clone(), core.version.clone()));
    }
    // A stack move's known target is a pin this walk wrote: `name==version`.
    pinned
        .filter_map(|requirement| requirement.split_once("=="))
        .find(|(moving, _)| *moving == name)
        .map(|(moving, version)| (moving.to_owned(), version.to_owned()))
}

/// A Hatch project's `pyproject.toml`, read once: every dependency array it installs
/// from, the one the instrumentations go to, and its requirements that forbid the move.
struct HatchRecord {
    path: PathBuf,
    text: String,
    /// The key path of the array that receives the instrumentations.
    target: Vec<String>,
    file: Manifest,
    rewrites: Vec<ProjectRewrite>,
    /// A pip-tools project: `path` is its `requirements.in`, edited line by line, then
    /// compiled and synced.
    pip_tools: bool,
}

impl HatchRecord {
    fn read(project: &crate::project::Project, plan: &Plan, stack: &StackMoves) -> Self {
        let pip_tools = project.tool == Tool::PipTools;
        let path = if pip_tools {
            project.root.join("requirements.in")
        } else {
            project.pyproject()
        };
        let text = crate::untrusted::read_text(&path, crate::untrusted::FileKind::Pyproject)
            .unwrap_or_default();
        let arrays = if pip_tools {
            vec![(Vec::new(), crate::project::edit::requirement_lines(&text))]
        } else {
            crate::project::edit::dependency_arrays(&text)
        };
        let target = arrays
            .iter()
            .find(|(_, entries)| {
                entries
                    .iter()
                    .any(|entry| entry_name(entry) == DISTRO_PROJECT)
            })
            .map(|(path, _)| path.clone())
            .unwrap_or_else(|| crate::project::edit::hatch_default_array(&text, "default"));
        let file = Manifest {
            name: None,
            entries: arrays
                .into_iter()
                .flat_map(|(_, entries)| entries)
                .map(|entry| (Place::Main, entry))
                .collect(),
        };
        let rewrites = project_rewrites(&file, plan, stack);
        Self {
            path,
            text,
            target,
            file,
            rewrites,
            pip_tools,
        }
    }

    /// pip-tools' two steps in the project directory: `pip-compile` with every moved
    /// package and every instrumentation let move (`--upgrade-package`), then `pip-sync`
    /// into the environment. `Err` names the program that is missing.
    fn pip_tools_commands(
        &self,
        interpreter: &Path,
        prefix: Option<&Path>,
        upgrade: &[String],
    ) -> Result<Vec<InstallCommand>, Failure> {
        let root = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let path_variable = std::env::var_os("PATH");
        let find = |name: &str| {
            installer::find_executable(name, path_variable.as_deref())
                .or_else(|| {
                    let candidate = prefix?.join("bin").join(name);
                    crate::environment::is_executable_file(&candidate).then_some(candidate)
                })
                .ok_or_else(|| Failure {
                    error: anyhow!(
                        "the pip-tools project `{}` is recorded with `{name}`, which is neither on PATH nor in the environment",
                        root.display()
                    ),
                    hint: Some(format!(
                        "install pip-tools into the environment (`{} -m pip install pip-tools`), or install without recording: `--no-project`",
                        crate::redact::quote(&interpreter.display().to_string())
                    )),
                })
        };
        let mut compile: Vec<std::ffi::OsString> = vec!["--quiet".into()];
        compile.extend(
            upgrade
                .iter()
                .map(|name| format!("--upgrade-package={name}").into()),
        );
        compile.extend([
            "--output-file=requirements.txt".into(),
            "requirements.in".into(),
        ]);
        let mut python_executable = std::ffi::OsString::from("--python-executable=");
        python_executable.push(interpreter.as_os_str());
        Ok(vec![
            InstallCommand {
                program: find("pip-compile")?,
                args: compile,
                envs: Vec::new(),
                current_dir: Some(root.clone()),
            },
            InstallCommand {
                program: find("pip-sync")?,
                args: vec![python_executable, "requirements.txt".into()],
                envs: Vec::new(),
                current_dir: Some(root),
            },
        ])
    }
}

/// The recording tool of the project the environment belongs to (Poetry, PDM, pipenv),
/// when `-a install` should record with it: `--installer auto`, no `--no-project`. `None`
/// for uv projects (chosen by [`installer::select`]) and environments of no project.
fn recording_tool(
    environment: &Environment,
    args: &Settings,
    path: Option<&std::ffi::OsStr>,
) -> Option<Result<Selection, installer::SelectionError>> {
    let project = environment.project.as_ref()?;
    if args.install.no_project || args.install.installer != InstallerChoice::Auto {
        return None;
    }
    let program = match project.tool {
        Tool::Poetry => "poetry",
        Tool::Pdm => "pdm",
        Tool::Pipenv => "pipenv",
        Tool::Uv | Tool::Hatch | Tool::PipTools => return None,
    };
    let Some(executable) = installer::find_executable(program, path) else {
        return Some(Err(installer::SelectionError::ToolMissing {
            tool: project.tool,
            program,
            root: project.root.clone(),
        }));
    };
    let installer = Installer::Record {
        tool: project.tool,
        program: executable,
        root: project.root.clone(),
    };
    let reason = format!(
        "the environment is the one of the {} project `{}`; `{}` records the packages so that its lock and sync keep them",
        project.tool,
        project.root.display(),
        installer.label()
    );
    Some(Ok(Selection { installer, reason }))
}

/// The project's own requirements (`[project].dependencies`) that exclude the version a
/// moving package goes to: they would make `uv add` fail.
fn project_rewrites(project: &Manifest, plan: &Plan, stack: &StackMoves) -> Vec<ProjectRewrite> {
    let mut rewrites = Vec::new();
    for (place, dependency) in &project.entries {
        // Poetry's `^` / `~` bounds are not PEP 440: re-added whenever their package moves.
        if let Some((name, _)) = dependency.split_once(POETRY_BOUND) {
            if let Some((name, version)) = moved_to(plan, stack, &normalize(name)) {
                if !rewrites
                    .iter()
                    .any(|rewrite: &ProjectRewrite| rewrite.name == name)
                {
                    rewrites.push(ProjectRewrite {
                        requirement: format!("{name}>={version}"),
                        name,
                        was: dependency.replace(POETRY_BOUND, " "),
                        place: place.clone(),
                    });
                }
            }
            continue;
        }
        let Some(parsed) = Dependency::parse(dependency) else {
            continue;
        };
        let Some((name, version)) = moved_to(plan, stack, parsed.name.as_ref()) else {
            continue;
        };
        let Some(target) = crate::requirement::parse_version(&version) else {
            continue;
        };
        if parsed.accepts(&target)
            || rewrites
                .iter()
                .any(|rewrite: &ProjectRewrite| rewrite.name == name)
        {
            continue;
        }
        let extras = if parsed.extras.is_empty() {
            String::new()
        } else {
            format!("[{}]", parsed.extras.join(","))
        };
        rewrites.push(ProjectRewrite {
            requirement: format!("{name}{extras}>={version}"),
            name,
            was: dependency.clone(),
            place: place.clone(),
        });
    }
    rewrites
}

/// What the planning needs and yields.
struct InstallInputs {
    environment: Environment,
    /// The plan's listing of site-packages, for the graph before installing.
    listing: crate::scan::Listing,
    plan: Plan,
    warnings: Vec<Warning>,
    /// What discovery read from the process once: the current directory, `PATH` and
    /// `UV_PROJECT_ENVIRONMENT`.
    discovery: crate::environment::DiscoveryOptions,
}

/// Builds the plan exactly as `-a requirements` does: the same pipeline.
fn prepare(args: &Settings) -> Result<InstallInputs, Failure> {
    let (mut registry, mut plan_options) = super::pipeline::plan_inputs(args)?;
    let planned = super::pipeline::plan_environment(args, &mut registry, &mut plan_options)?;
    Ok(InstallInputs {
        environment: planned.environment,
        listing: planned.listing,
        plan: planned.plan,
        warnings: planned.warnings,
        discovery: planned.discovery,
    })
}

/// The requirements to install: the recommendations, then the core packages that move,
/// then, with `--with-distro`, the distro at the release and the exporter.
fn targets(plan: &Plan, args: &Settings) -> Result<Vec<PlainRequirement>, Failure> {
    let distro = args.install.with_distro.then(|| {
        [
            format!("{DISTRO_PROJECT}=={}", plan.release),
            args.install.exporter.clone(),
        ]
    });
    // The recommendations come parsed from the registry; the core moves and the distro
    // are ours; only `--exporter` is the user's, and the only one that can be refused.
    let mut targets: Vec<PlainRequirement> = plan
        .recommendations
        .iter()
        .map(|recommendation| recommendation.parsed.clone())
        .collect();
    for text in plan
        .core_move_requirements()
        .map(str::to_owned)
        .chain(distro.into_iter().flatten())
    {
        let parsed = PlainRequirement::parse(&text).map_err(|error| Failure {
            error: anyhow!(error),
            hint: Some(
                "`--exporter` takes a package name such as `opentelemetry-exporter-otlp`"
                    .to_owned(),
            ),
        })?;
        targets.push(parsed);
    }
    let mut seen = HashSet::new();
    targets.retain(|target| seen.insert(target.raw.clone()));
    Ok(targets)
}

/// `--with-distro` adds this project at the release.
const DISTRO_PROJECT: &str = "opentelemetry-distro";

fn same_directory(left: Option<&Path>, right: &Path) -> bool {
    left.is_some_and(|left| crate::environment::same_path(left, right))
}

/// The installer exited non-zero: say what failed and why, in one line.
fn failed(
    installer: &Installer,
    label: &str,
    outcome: &process::Outcome,
    stack: &StackMoves,
    rewrites: &[ProjectRewrite],
    printer: Printer,
) -> Result<ExitStatus, Failure> {
    let (kind, reason) = process::diagnose(&outcome.lines);
    let code = outcome
        .status
        .code()
        .map(|code| format!("exit status {code}"))
        .unwrap_or_else(|| "killed by a signal".to_owned());
    let reason = reason.unwrap_or_else(|| format!("it ended with {code}"));
    match kind {
        FailureKind::ExternallyManaged => Err(Failure {
            error: anyhow!("{label} refused: the interpreter is externally managed (PEP 668): {reason}"),
            hint: Some("make a virtual environment (`python3 -m venv .venv` or `uv venv`), install the application into it, then run `otel-bootstrap -a install --python .venv`; or, if you mean it, pass `-- --break-system-packages` to the installer".to_owned()),
        }),
        FailureKind::DiskFull => Err(Failure {
            error: anyhow!("{label} failed: the disk is full ({reason})"),
            hint: Some("free some space, then run the same command again; if a later run warns about `.dist-info` folders without `METADATA`, it names the command that repairs them".to_owned()),
        }),
        FailureKind::Network => Err(Failure {
            error: anyhow!("{label} could not reach the package index: {reason}"),
            hint: Some(format!(
                "check the network and the index settings (`--index-url`, or {})",
                if installer.is_uv() {
                    "`UV_DEFAULT_INDEX` / `UV_INDEX_URL`: uv does not read `PIP_*` variables"
                } else {
                    "`PIP_INDEX_URL`"
                }
            )),
        }),
        FailureKind::Unsatisfiable => {
            printer.always(
                Label::Error,
                format!("{label} found no way to install the plan (nothing was changed): {reason}"),
            );
            let hint = if let Installer::UvAdd { project } | Installer::Record { root: project, .. } = installer {
                let manifest = if matches!(installer, Installer::Record { tool: Tool::Pipenv, .. }) { "Pipfile" } else { "pyproject.toml" };
                format!("the requirements in `{}` (its dependencies and groups) must allow the set above; the reason names the one that does not. Or install without recording: `--no-project`", project.join(manifest).display())
            } else if !stack.moves.is_empty() || !rewrites.is_empty() {
                "the packages listed as moving must be able to move together; the reason names the one that cannot. Check that the index has these versions (`--index-url`), or leave an instrumentation out with `--exclude`".to_owned()
            } else {
                "check that the index has these versions (`--index-url`), or leave an instrumentation out with `--exclude`".to_owned()
            };
            printer.always(Label::Hint, hint);
            Ok(ExitStatus::ProblemFound)
        }
        FailureKind::Other => Err(Failure {
            error: anyhow!("{label} failed ({code}): {reason}"),
            hint: None,
        }),
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
