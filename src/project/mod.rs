//! The project around a directory and the tool that manages it (uv, Poetry, PDM, pipenv,
//! Hatch, pip-tools), found from files alone: lock files first, then manifests.
//!
//! [`detect`] walks from a directory up to the first one holding evidence of a tool, in
//! this order within one directory: `uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock`
//! (a lock names its tool), then `[tool.poetry]`, `[tool.pdm]` (beyond its build
//! settings), `Pipfile`, `[tool.hatch.envs]` or `hatch.toml`, `requirements.in`. A build
//! backend alone (`hatchling`, `pdm-backend`) does not make a project of that tool. A
//! directory with a `pyproject.toml` but no evidence (a uv workspace member) is passed on
//! the way up and remembered as the member. Where each tool keeps its environment is
//! [`location`].

pub(crate) mod edit;
pub(crate) mod location;
pub(crate) mod manifest;

use std::path::{Path, PathBuf};

/// The tool that manages a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Tool {
    Uv,
    Poetry,
    Pdm,
    Pipenv,
    Hatch,
    PipTools,
}

impl Tool {
    /// The tool as people write it: `uv`, `Poetry`, `PDM`, `pipenv`, `Hatch`, `pip-tools`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Uv => "uv",
            Self::Poetry => "Poetry",
            Self::Pdm => "PDM",
            Self::Pipenv => "pipenv",
            Self::Hatch => "Hatch",
            Self::PipTools => "pip-tools",
        }
    }

    /// The lock file the tool writes, when it has one.
    pub(crate) fn lock_file(self) -> Option<&'static str> {
        match self {
            Self::Uv => Some("uv.lock"),
            Self::Poetry => Some("poetry.lock"),
            Self::Pdm => Some("pdm.lock"),
            Self::Pipenv => Some("Pipfile.lock"),
            Self::Hatch => None,
            Self::PipTools => Some("requirements.txt"),
        }
    }

    /// The command that creates (or completes) the project's environment, run in the
    /// project's root ([`Project::create_command_from`] says it from elsewhere).
    pub(crate) fn create_command(self) -> &'static str {
        match self {
            Self::Uv => "uv sync",
            Self::Poetry => "poetry install",
            Self::Pdm => "pdm install",
            Self::Pipenv => "pipenv install",
            Self::Hatch => "hatch env create",
            Self::PipTools => {
                "python3 -m venv .venv && .venv/bin/pip install pip-tools && .venv/bin/pip-sync"
            }
        }
    }

    /// The command that writes the project's lock from its manifest, run in the project's
    /// root: `uv lock`, `poetry lock`, ..., `pip-compile requirements.in` (which writes
    /// `requirements.txt`). Hatch has none.
    pub(crate) fn lock_command(self) -> Option<&'static str> {
        match self {
            Self::Uv => Some("uv lock"),
            Self::Poetry => Some("poetry lock"),
            Self::Pdm => Some("pdm lock"),
            Self::Pipenv => Some("pipenv lock"),
            Self::Hatch => None,
            Self::PipTools => Some("pip-compile requirements.in"),
        }
    }
}

/// `command` as it runs from `current_dir`: as it is when `root` is the current
/// directory, else after `cd '<root>' && ` (the tools find their project from the
/// directory they run in, and pip-tools' paths are relative to it).
pub(crate) fn in_directory(command: &str, root: &Path, current_dir: &Path) -> String {
    if root == current_dir || root.as_os_str().is_empty() || root == Path::new(".") {
        return command.to_owned();
    }
    format!(
        "cd {} && {command}",
        crate::redact::quote(&root.display().to_string())
    )
}

/// `path` as a shell argument that names it from `current_dir`: relative when the two
/// share a directory other than the file system's root (`uv.lock`, `../uv.lock`,
/// `../app/uv.lock`), else as it is; quoted when needed.
pub(crate) fn path_from(path: &Path, current_dir: &Path) -> String {
    let shown = relative_path(path, current_dir).unwrap_or_else(|| path.to_path_buf());
    crate::redact::quote(&shown.display().to_string()).into_owned()
}

/// `path` relative to `base` through their nearest common directory, when that is not the
/// file system's root (both absolute, without `.` or `..` components). `None` otherwise.
fn relative_path(path: &Path, base: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let plain = |path: &Path| {
        path.is_absolute()
            && path
                .components()
                .all(|component| !matches!(component, Component::CurDir | Component::ParentDir))
    };
    if !plain(path) || !plain(base) {
        return None;
    }
    for (ups, ancestor) in base.ancestors().enumerate() {
        // Up to the file system's root is no longer "near": the absolute path reads better.
        ancestor.parent()?;
        if let Ok(rest) = path.strip_prefix(ancestor) {
            let mut relative: PathBuf = std::iter::repeat_n(Component::ParentDir, ups).collect();
            relative.push(rest);
            if relative.as_os_str().is_empty() {
                relative.push(".");
            }
            return Some(relative);
        }
    }
    None
}

impl std::fmt::Display for Tool {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.label())
    }
}

/// A project and what showed its tool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Project {
    pub(crate) tool: Tool,
    /// The directory holding the lock or manifest.
    pub(crate) root: PathBuf,
    /// What showed the tool: a file name (`poetry.lock`) or a table (`[tool.poetry] in
    /// pyproject.toml`).
    pub(crate) found_by: String,
    /// The project's name (`[project].name`, else `[tool.poetry].name`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// A uv workspace member between the start directory and the root (its directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) member: Option<PathBuf>,
}

impl Project {
    /// `Poetry (poetry.lock in /app)`, for `-v`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} ({} in `{}`)",
            self.tool,
            self.found_by,
            self.root.display()
        )
    }

    /// The command that creates the project's environment, as it runs from `current_dir`
    /// (prefixed with `cd '<root>' && ` unless that is the root).
    pub(crate) fn create_command_from(&self, current_dir: &Path) -> String {
        in_directory(self.tool.create_command(), &self.root, current_dir)
    }

    /// `<root>/pyproject.toml`.
    pub(crate) fn pyproject(&self) -> PathBuf {
        self.root.join("pyproject.toml")
    }
}

/// The nearest project from `start` upward, or `None` when no directory has evidence.
pub(crate) fn detect(start: &Path) -> Option<Project> {
    let mut member: Option<PathBuf> = None;
    for directory in start.ancestors() {
        let pyproject = read_pyproject(directory);
        if let Some((tool, found_by)) = evidence(directory, pyproject.as_ref()) {
            let name = pyproject.as_ref().and_then(project_name);
            return Some(Project {
                tool,
                root: directory.to_path_buf(),
                found_by,
                name,
                member: member.filter(|_| tool == Tool::Uv),
            });
        }
        if member.is_none()
            && pyproject
                .as_ref()
                .is_some_and(|document| document.contains_key("project"))
        {
            member = Some(directory.to_path_buf());
        }
    }
    None
}

/// The normalized names of a uv workspace's members (`[tool.uv.workspace].members`, a
/// trailing `*` expanded), each read from its `pyproject.toml`.
pub(crate) fn workspace_members(root: &Path) -> Vec<String> {
    let Some(document) = read_pyproject(root) else {
        return Vec::new();
    };
    let patterns: Vec<String> = document
        .get("tool")
        .and_then(|tool| tool.get("uv"))
        .and_then(|uv| uv.get("workspace"))
        .and_then(|workspace| workspace.get("members"))
        .and_then(|members| members.as_array())
        .into_iter()
        .flatten()
        .filter_map(|member| member.as_str())
        .map(str::to_owned)
        .collect();
    let mut directories = Vec::new();
    for pattern in &patterns {
        match pattern.strip_suffix("/*") {
            Some(parent) => directories.extend(
                std::fs::read_dir(root.join(parent))
                    .into_iter()
                    .flatten()
                    .filter_map(Result::ok)
                    .map(|entry| entry.path()),
            ),
            None => directories.push(root.join(pattern)),
        }
    }
    let mut names: Vec<String> = directories
        .iter()
        .filter_map(|directory| read_pyproject(directory))
        .filter_map(|document| project_name(&document))
        .map(|name| crate::requirement::normalize(&name))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn read_pyproject(directory: &Path) -> Option<toml::Table> {
    let text = crate::untrusted::read_text(
        &directory.join("pyproject.toml"),
        crate::untrusted::FileKind::Pyproject,
    )
    .ok()?;
    text.parse().ok()
}

/// The tool one directory shows, and how.
fn evidence(directory: &Path, pyproject: Option<&toml::Table>) -> Option<(Tool, String)> {
    let is_file = |name: &str| directory.join(name).is_file();
    if is_file("uv.lock") && is_file("pyproject.toml") {
        return Some((Tool::Uv, "uv.lock".to_owned()));
    }
    for (tool, lock) in [
        (Tool::Poetry, "poetry.lock"),
        (Tool::Pdm, "pdm.lock"),
        (Tool::Pipenv, "Pipfile.lock"),
    ] {
        if is_file(lock) {
            return Some((tool, lock.to_owned()));
        }
    }
    let tool_table = |name: &str| {
        pyproject
            .and_then(|document| document.get("tool"))
            .and_then(|tool| tool.get(name))
            .and_then(|table| table.as_table())
    };
    if tool_table("poetry").is_some() {
        return Some((Tool::Poetry, "[tool.poetry] in pyproject.toml".to_owned()));
    }
    // `[tool.pdm.build]` alone configures pdm-backend, not a PDM-managed project.
    if tool_table("pdm").is_some_and(|table| table.keys().any(|key| key != "build")) {
        return Some((Tool::Pdm, "[tool.pdm] in pyproject.toml".to_owned()));
    }
    if is_file("Pipfile") {
        return Some((Tool::Pipenv, "Pipfile".to_owned()));
    }
    if tool_table("hatch").is_some_and(|table| table.contains_key("envs")) {
        return Some((
            Tool::Hatch,
            "[tool.hatch.envs] in pyproject.toml".to_owned(),
        ));
    }
    if is_file("hatch.toml") {
        return Some((Tool::Hatch, "hatch.toml".to_owned()));
    }
    if is_file("requirements.in") {
        return Some((Tool::PipTools, "requirements.in".to_owned()));
    }
    None
}

fn project_name(document: &toml::Table) -> Option<String> {
    let from = |table: Option<&toml::Value>| {
        table
            .and_then(|table| table.get("name"))
            .and_then(|name| name.as_str())
            .map(str::to_owned)
    };
    from(document.get("project"))
        .or_else(|| from(document.get("tool").and_then(|tool| tool.get("poetry"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn tool_of(directory: &Path) -> Option<(Tool, String)> {
        detect(directory).map(|project| (project.tool, project.found_by))
    }

    #[test]
    fn paths_and_commands_are_said_from_the_current_directory() {
        let root = Path::new("/work/app");
        assert_eq!(path_from(&root.join("uv.lock"), root), "uv.lock");
        assert_eq!(
            path_from(&root.join("uv.lock"), &root.join("src/pkg")),
            "../../uv.lock"
        );
        assert_eq!(
            path_from(&root.join("uv.lock"), Path::new("/work/other")),
            "../app/uv.lock"
        );
        assert_eq!(
            path_from(&root.join("uv.lock"), Path::new("/elsewhere")),
            "/work/app/uv.lock"
        );
        assert_eq!(
            path_from(
                Path::new("/work/my app/uv.lock"),
                Path::new("/work/my app/src")
            ),
            "../uv.lock"
        );
        assert_eq!(
            path_from(Path::new("/work/my app/uv.lock"), Path::new("/work")),
            "'my app/uv.lock'"
        );
        assert_eq!(in_directory("uv sync", root, root), "uv sync");
        assert_eq!(
            in_directory("poetry install", Path::new("/work/my app"), root),
            "cd '/work/my app' && poetry install"
        );
        assert_eq!(in_directory("pdm lock", Path::new(""), root), "pdm lock");
        let project = Project {
            tool: Tool::PipTools,
            root: root.to_owned(),
            found_by: "requirements.in".to_owned(),
            name: None,
            member: None,
        };
        assert_eq!(
            project.create_command_from(&root.join("src")),
            "cd /work/app && python3 -m venv .venv && .venv/bin/pip install pip-tools && .venv/bin/pip-sync"
        );
    }

    #[test]
    fn locks_before_manifests_and_the_first_directory_with_evidence_wins() {
        let temporary = tempfile::tempdir().unwrap();
        let root = temporary.path();
        write(
            &root.join("pyproject.toml"),
            "[project]\nname = \"App\"\n[tool.poetry]\npackage-mode = false\n",
        );
        assert_eq!(
            tool_of(root),
            Some((Tool::Poetry, "[tool.poetry] in pyproject.toml".to_owned()))
        );
        write(&root.join("pdm.lock"), "");
        assert_eq!(tool_of(root), Some((Tool::Pdm, "pdm.lock".to_owned())));
        write(&root.join("poetry.lock"), "");
        assert_eq!(
            tool_of(root),
            Some((Tool::Poetry, "poetry.lock".to_owned()))
        );
        write(&root.join("uv.lock"), "");
        let project = detect(&root.join("src/deep")).unwrap();
        assert_eq!(project.tool, Tool::Uv);
        assert_eq!(project.root, root);
        assert_eq!(project.name.as_deref(), Some("App"));
    }

    #[test]
    fn each_manifest_names_its_tool_and_a_build_backend_alone_does_not() {
        let temporary = tempfile::tempdir().unwrap();
        let root = temporary.path();
        write(
            &root.join("pyproject.toml"),
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\
             [tool.hatch.build]\ninclude = [\"x\"]\n[tool.pdm.build]\nincludes = []\n",
        );
        assert_eq!(tool_of(root), None);
        write(&root.join("requirements.in"), "flask\n");
        assert_eq!(tool_of(root).unwrap().0, Tool::PipTools);
        write(&root.join("hatch.toml"), "");
        assert_eq!(tool_of(root).unwrap().0, Tool::Hatch);
        write(
            &root.join("pyproject.toml"),
            "[tool.hatch.envs.default]\ndependencies = []\n",
        );
        assert_eq!(
            tool_of(root).unwrap().1,
            "[tool.hatch.envs] in pyproject.toml"
        );
        write(&root.join("Pipfile"), "[packages]\n");
        assert_eq!(tool_of(root).unwrap().0, Tool::Pipenv);
        write(
            &root.join("pyproject.toml"),
            "[tool.pdm]\ndistribution = false\n",
        );
        assert_eq!(tool_of(root).unwrap().0, Tool::Pdm);
        write(&root.join("Pipfile.lock"), "{}");
        assert_eq!(tool_of(root).unwrap().0, Tool::Pipenv);
    }

    #[test]
    fn a_uv_workspace_member_is_remembered() {
        let temporary = tempfile::tempdir().unwrap();
        let root = temporary.path();
        write(
            &root.join("pyproject.toml"),
            "[tool.uv.workspace]\nmembers = [\"packages/*\"]\n",
        );
        write(&root.join("uv.lock"), "");
        let member = root.join("packages/svc");
        write(
            &member.join("pyproject.toml"),
            "[project]\nname = \"svc\"\n",
        );
        let project = detect(&member.join("svc")).unwrap();
        assert_eq!(project.tool, Tool::Uv);
        assert_eq!(project.root, root);
        assert_eq!(project.member.as_deref(), Some(member.as_path()));
        assert_eq!(detect(root).unwrap().member, None);
    }

    #[test]
    fn unreadable_or_odd_manifests_are_no_evidence() {
        let temporary = tempfile::tempdir().unwrap();
        let root = temporary.path().join("odd");
        write(&root.join("pyproject.toml"), "tool = 3\n[[[\n");
        assert_eq!(detect(&root), None);
        write(&root.join("pyproject.toml"), "tool = 3\n");
        assert_eq!(detect(&root), None);
    }
}
