//! Requirements files as `pip freeze`, `pip-compile` and `uv pip compile` write them.
//!
//! Lines are read the way pip reads them: a line ending in `\` continues on the next one
//! (a comment line ends the continuation), `#` starts a comment at the start of a line or
//! after whitespace, and a requirement's options (`--hash=…`) follow it after whitespace.
//! `-r`/`--requirement` includes another requirements file, `-c`/`--constraint` a
//! constraints file, both relative to the including file. Index options (`-i`,
//! `--extra-index-url`, `--find-links`, …) do not matter here and are ignored.
//!
//! Only `name==version` (or `===`) says what is installed: any other line (a range, a URL,
//! a path, `-e`) is reported with its line and why, and skipped, unless a constraints
//! file pins that name. Environment variables (`${VAR}`) are not expanded.
//!
//! Includes follow the policy for untrusted files ([`crate::untrusted`]): a regular file
//! of at most [`crate::untrusted::REQUIREMENTS_CAP`] bytes, inside the project directory
//! ([`crate::untrusted::project_root`]); a URL include is refused, never fetched nor read
//! as a path. A line that is not a requirement is never echoed: messages say what kind of
//! line it is and its number (an included `/etc/passwd` or `.env` shows nothing of
//! itself), and the URLs of requirements are shown with their credentials redacted.

use std::collections::{BTreeMap, HashMap, HashSet};

use std::path::{Path, PathBuf};

use crate::requirement::Operator;
use crate::requirement::{MarkerTree, PackageName, Requirement, VersionOrUrl};

use super::marker::MarkerTarget;
use super::{FileFormat, Location, LockedPackage, LockfileError, Note};

/// One requirement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) name: PackageName,
    pub(crate) pin: Pin,
    pub(crate) marker: MarkerTree,
    /// The (first) line of the requirement.
    pub(crate) line: usize,
    /// The requirement as written, without its options.
    pub(crate) text: String,
}

/// Whether a requirement names one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pin {
    /// `==version` or `===version`.
    Exact(String),
    /// Anything else, with why it is not one version.
    Unpinned(String),
}

/// `-r` or `-c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IncludeKind {
    Requirements,
    Constraints,
}

/// An include line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Include {
    pub(crate) kind: IncludeKind,
    /// The path as written (relative to the including file).
    pub(crate) target: String,
    pub(crate) line: usize,
}

/// One parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequirementsFile {
    pub(crate) entries: Vec<Entry>,
    pub(crate) includes: Vec<Include>,
    /// Lines skipped or options ignored, with why.
    pub(crate) notes: Vec<(usize, String)>,
}

/// Options that take a value and do not matter for what is installed.
const IGNORED_OPTIONS_WITH_VALUE: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--no-binary",
    "--only-binary",
    "--use-feature",
    "--config-settings",
    "--global-option",
    "--hash",
];

/// Flags that do not matter for what is installed.
const IGNORED_FLAGS: &[&str] = &[
    "--no-index",
    "--pre",
    "--prefer-binary",
    "--require-hashes",
    "--only-binary=:all:",
    "--no-binary=:all:",
];

/// Parses one requirements file. Pure: includes are returned, not followed.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<RequirementsFile, LockfileError> {
    let mut file = RequirementsFile::default();
    for (line, logical) in logical_lines(text) {
        let content = strip_comment(&logical).trim();
        if content.is_empty() {
            continue;
        }
        if content.starts_with('-') {
            parse_option_line(content, line, origin, &mut file)?;
            continue;
        }
        let (requirement, _options) = split_options(content);
        match parse_requirement(requirement) {
            Ok(parsed) => {
                let pin = pin_of(&parsed);
                file.entries.push(Entry {
                    name: parsed.name,
                    pin,
                    marker: parsed.marker,
                    line,
                    text: requirement.to_owned(),
                });
            }
            Err(RequirementProblem::Unnamed) => file.notes.push((
                line,
                "a path or URL that names no project (not a requirement); skipped".to_owned(),
            )),
            Err(RequirementProblem::Invalid(message)) => {
                return Err(LockfileError::malformed(origin, line, message))
            }
        }
    }
    Ok(file)
}

fn parse_option_line(
    content: &str,
    line: usize,
    origin: &Path,
    file: &mut RequirementsFile,
) -> Result<(), LockfileError> {
    let (option, value) = split_option(content);
    let include = |kind| -> Result<Include, LockfileError> {
        if value.is_empty() {
            return Err(LockfileError::malformed(
                origin,
                line,
                format!("`{option}` needs a file name"),
            ));
        }
        Ok(Include {
            kind,
            target: value.to_owned(),
            line,
        })
    };
    match option {
        "-r" | "--requirement" => file.includes.push(include(IncludeKind::Requirements)?),
        "-c" | "--constraint" => file.includes.push(include(IncludeKind::Constraints)?),
        "-e" | "--editable" => file.notes.push((
            line,
            "an editable install (`-e`), not a pinned version; skipped".to_owned(),
        )),
        _ if IGNORED_FLAGS.contains(&content) || IGNORED_OPTIONS_WITH_VALUE.contains(&option) => {}
        // An option's name is shown only when it looks like one (`--hashes`), never
        // whatever else a line starting with `-` holds.
        _ if looks_like_option(option) => file
            .notes
            .push((line, format!("unknown option `{option}`; ignored"))),
        _ => file
            .notes
            .push((line, "an unknown option; ignored".to_owned())),
    }
    Ok(())
}

/// `-x` or `--name-with-dashes`, short enough to be an option name.
fn looks_like_option(option: &str) -> bool {
    let name = option.trim_start_matches('-');
    (1..=40).contains(&name.len())
        && option.len() - name.len() <= 2
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '-')
}

/// `-r file`, `-rfile`, `--requirement=file`, `--requirement file`.
fn split_option(content: &str) -> (&str, &str) {
    if let Some(rest) = content.strip_prefix("--") {
        let end = rest
            .find(|character: char| character == '=' || character.is_whitespace())
            .unwrap_or(rest.len());
        let option = &content[..end + 2];
        let value = rest[end..].trim_start_matches('=').trim();
        return (option, value);
    }
    // A short option: `-r` then the value, with or without a space.
    let mut characters = content.char_indices().skip(1);
    match characters.next() {
        Some((index, character)) => {
            let end = index + character.len_utf8();
            (&content[..end], content[end..].trim())
        }
        None => (content, ""),
    }
}

/// The requirement and the options after it (`--hash=…`), split at the first
/// whitespace-separated token that starts with `-`, as pip does.
fn split_options(content: &str) -> (&str, &str) {
    let mut offset = 0;
    for token in content.split_whitespace() {
        let start = content[offset..]
            .find(token)
            .map_or(offset, |index| index + offset);
        if token.starts_with('-') && start > 0 {
            return (content[..start].trim(), content[start..].trim());
        }
        offset = start + token.len();
    }
    (content, "")
}

enum RequirementProblem {
    /// A bare path or URL.
    Unnamed,
    Invalid(String),
}

/// Parses a PEP 508 requirement, checking the name first (`pep508_rs` panics on some).
fn parse_requirement(text: &str) -> Result<Requirement, RequirementProblem> {
    let name = crate::requirement::leading_name(text);
    let rest = text[name.len()..].trim_start();
    let looks_like_path = name.is_empty()
        || rest.starts_with('/')
        || rest.starts_with(':')
        || name.ends_with(".whl")
        || name.ends_with(".tar.gz")
        || name.ends_with(".zip")
        || name == "."
        || name == "..";
    if looks_like_path && !rest.starts_with('@') {
        return Err(RequirementProblem::Unnamed);
    }
    if crate::requirement::parse_name(name).is_none() {
        return Err(RequirementProblem::Invalid(
            "not a requirement: it does not start with a valid project name".to_owned(),
        ));
    }
    if let Some(extras) = rest.strip_prefix('[') {
        let close = extras.find(']').unwrap_or(extras.len());
        for extra in extras[..close].split(',') {
            if !extra.trim().is_empty() && crate::requirement::parse_name(extra).is_none() {
                return Err(RequirementProblem::Invalid(
                    "not a valid requirement: an extra name is not valid".to_owned(),
                ));
            }
        }
    }
    // pep508_rs's messages quote the input: only the column of the problem is shown.
    crate::requirement::parse_requirement(text).map_err(|error| match error {
        crate::requirement::SyntaxError {
            reason: Some(reason),
            ..
        } => RequirementProblem::Invalid(format!("not a valid requirement: {reason}")),
        crate::requirement::SyntaxError {
            column: Some(column),
            ..
        } => RequirementProblem::Invalid(format!(
            "not a valid PEP 508 requirement (the problem is at column {column})"
        )),
        _ => RequirementProblem::Invalid("not a valid PEP 508 requirement".to_owned()),
    })
}

fn pin_of(requirement: &Requirement) -> Pin {
    match &requirement.version_or_url {
        None => Pin::Unpinned("it names no version".to_owned()),
        Some(VersionOrUrl::Url(url)) => {
            match version_from_url(&url.to_string(), requirement.name.as_ref()) {
                Some(version) => Pin::Exact(version),
                None => Pin::Unpinned(
                    "it is a URL or path whose file name gives no version (a VCS or directory reference)"
                        .to_owned(),
                ),
            }
        }
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
            let pins: Vec<_> = specifiers
                .iter()
                .filter(|specifier| {
                    matches!(specifier.operator(), Operator::Equal | Operator::ExactEqual)
                })
                .collect();
            match pins.as_slice() {
                [pin] => Pin::Exact(pin.version().to_string()),
                _ => Pin::Unpinned(format!(
                    "`{specifiers}` is not pinned to one version with `==`"
                )),
            }
        }
    }
}

/// The version in the file name of a direct reference to a wheel
/// (`name-1.2.3-py3-none-any.whl`) or a source archive (`name-1.2.3.tar.gz`) of `project`
/// (normalized): what pip would install, without fetching anything.
fn version_from_url(url: &str, project: &str) -> Option<String> {
    if url.starts_with("git+")
        || url.starts_with("hg+")
        || url.starts_with("svn+")
        || url.starts_with("bzr+")
    {
        return None;
    }
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or_default();
    let candidate = if let Some(stem) = file.strip_suffix(".whl") {
        // name-version(-build)?-python-abi-platform
        if !(5..=6).contains(&stem.split('-').count()) {
            return None;
        }
        let mut parts = stem.split('-');
        let name = parts.next()?;
        if crate::requirement::normalize(name) != project {
            return None;
        }
        parts.next()?.to_owned()
    } else {
        let stem = [".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tgz"]
            .iter()
            .find_map(|suffix| file.strip_suffix(suffix))?;
        // The name may hold dashes itself: the version follows the prefix that names it.
        let (_, version) = stem
            .match_indices('-')
            .map(|(index, _)| (&stem[..index], &stem[index + 1..]))
            .find(|(name, _)| crate::requirement::normalize(name) == project)?;
        version.to_owned()
    };
    crate::requirement::parse_version(&candidate).map(|_| candidate)
}

/// Joins `\` continuations (a comment line ends one), numbering each logical line by its
/// first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let is_comment = raw.trim_start().starts_with('#');
        match raw.strip_suffix('\\') {
            Some(head) if !is_comment => {
                let (start, mut joined) = pending.take().unwrap_or((number, String::new()));
                joined.push_str(head);
                pending = Some((start, joined));
            }
            _ => match pending.take() {
                Some((start, mut joined)) => {
                    if !is_comment {
                        joined.push_str(raw);
                    }
                    lines.push((start, joined));
                }
                None => lines.push((number, raw.to_owned())),
            },
        }
    }
    if let Some(last) = pending {
        lines.push(last);
    }
    lines
}

/// Drops a `#` comment that starts the line or follows whitespace.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (index, character) in line.char_indices() {
        if character == '#' && previous_is_space {
            return &line[..index];
        }
        previous_is_space = character.is_whitespace();
    }
    line
}

/// Whether a requirements file's text shows it pins a whole environment rather than only
/// the application's direct dependencies: a locking tool wrote it (`pip-compile` and
/// `uv pip compile` / `uv export` leave an "autogenerated" header or `# via` comments,
/// and hashes), or it has the shape of `pip freeze` output (only `name==version` lines,
/// sorted by name, no comments, at least [`FREEZE_MINIMUM`] of them). A hand-written
/// file of pins is not told apart from `pip freeze` below that size, so a short sorted
/// file counts as hand-written.
pub(crate) fn looks_complete(text: &str) -> bool {
    let mut names: Vec<String> = Vec::new();
    let mut freeze_shape = true;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim().to_ascii_lowercase();
            if comment.contains("autogenerated") || comment.starts_with("via ") || comment == "via"
            {
                return true;
            }
            freeze_shape = false;
            continue;
        }
        if line.contains("--hash") {
            return true;
        }
        match line.split_once("==") {
            Some((name, version))
                if !name.is_empty()
                    && !version.is_empty()
                    && !line.contains([' ', ';', '@', '[', '\\'])
                    && !line.starts_with('-') =>
            {
                // `pip freeze` sorts by the lowercased name as the metadata spells it.
                names.push(name.trim().to_ascii_lowercase());
            }
            _ => freeze_shape = false,
        }
    }
    freeze_shape && names.len() >= FREEZE_MINIMUM && names.windows(2).all(|pair| pair[0] <= pair[1])
}

/// The fewest lines a file must have to pass for `pip freeze` output (see
/// [`looks_complete`]).
const FREEZE_MINIMUM: usize = 12;

/// Reads `path` (already read as `text`) and its includes, evaluating markers against
/// `target`. Cycles, missing includes, URL includes and includes outside the project
/// directory are errors naming the including line.
pub(crate) fn load(
    path: &Path,
    text: &str,
    target: &MarkerTarget,
    files: &mut Vec<(PathBuf, FileFormat)>,
    notes: &mut Vec<Note>,
) -> Result<Vec<LockedPackage>, LockfileError> {
    let current_dir = std::env::current_dir().ok();
    let mut reader = Reader {
        target,
        root: crate::untrusted::project_root(path, current_dir.as_deref()),
        files,
        notes,
        requirements: Vec::new(),
        constraints: HashMap::new(),
        read: HashSet::new(),
    };
    reader.read(
        path,
        text.to_owned(),
        IncludeKind::Requirements,
        &mut Vec::new(),
    )?;

    let mut packages: Vec<LockedPackage> = Vec::new();
    let mut seen: BTreeMap<PackageName, String> = BTreeMap::new();
    for (location, entry) in reader.requirements {
        let version = match &entry.pin {
            Pin::Exact(version) => version.clone(),
            Pin::Unpinned(why) => match reader.constraints.get(&entry.name) {
                Some(version) => version.clone(),
                None => {
                    reader.notes.push(Note::new(
                        location,
                        format!("`{}`: {why}; skipped", entry.text),
                    ));
                    continue;
                }
            },
        };
        if let Some(first) = seen.get(&entry.name) {
            if *first != version {
                reader.notes.push(Note::new(
                    location,
                    format!(
                        "`{}` is pinned again (first at {first}); the first pin is used",
                        entry.text
                    ),
                ));
            }
            continue;
        }
        seen.insert(entry.name.clone(), version.clone());
        packages.push(LockedPackage::new(entry.name, &version, location));
    }
    Ok(packages)
}

struct Reader<'a> {
    target: &'a MarkerTarget,
    /// The directory includes must stay in (resolved).
    root: PathBuf,
    files: &'a mut Vec<(PathBuf, FileFormat)>,
    notes: &'a mut Vec<Note>,
    requirements: Vec<(Location, Entry)>,
    /// Name → version pinned by a constraints file (the first pin wins).
    constraints: HashMap<PackageName, String>,
    /// Files already read (canonical paths), so a file included twice is read once.
    read: HashSet<(PathBuf, IncludeKind)>,
}

/// Whether an include's target is a URL (`https://…`, `file:…`): refused, never fetched
/// and never read as a local path.
fn is_url(target: &str) -> bool {
    if target.contains("://") {
        return true;
    }
    let scheme_end = target.find(':').unwrap_or(0);
    // `file:relative` and the like; a one-letter "scheme" is a Windows drive.
    scheme_end > 1
        && target[..scheme_end]
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character))
}

impl Reader<'_> {
    fn read(
        &mut self,
        path: &Path,
        text: String,
        kind: IncludeKind,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), LockfileError> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        if !self.read.insert((canonical.clone(), kind)) {
            return Ok(());
        }
        self.files.push((path.to_owned(), FileFormat::Requirements));
        stack.push(canonical);

        let parsed = parse(&text, path)?;
        drop(text);
        let location = |line| Location {
            file: path.to_owned(),
            line,
        };
        for (line, message) in parsed.notes {
            self.notes.push(Note::new(location(line), message));
        }
        for entry in parsed.entries {
            if !self.target.evaluate(&entry.marker, &[]) {
                continue;
            }
            match kind {
                IncludeKind::Requirements => self.requirements.push((location(entry.line), entry)),
                IncludeKind::Constraints => {
                    if let Pin::Exact(version) = &entry.pin {
                        self.constraints
                            .entry(entry.name.clone())
                            .or_insert_with(|| version.clone());
                    }
                }
            }
        }
        for include in parsed.includes {
            let option = match include.kind {
                IncludeKind::Requirements => "-r",
                IncludeKind::Constraints => "-c",
            };
            if is_url(&include.target) {
                return Err(LockfileError::malformed_with_hint(
                    path,
                    include.line,
                    format!(
                        "URL include `{option} {}` refused: includes are read from local files only, URLs are never fetched",
                        crate::index::redact_url(&include.target)
                    ),
                    "download the file and include it by its path",
                ));
            }
            let included = path
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join(&include.target);
            if let Err(error) = crate::untrusted::refuse_system_path(&included) {
                return Err(LockfileError::malformed_with_hint(
                    path,
                    include.line,
                    format!("cannot read the included `{}`: {error}", included.display()),
                    "include only requirements files of the project",
                ));
            }
            if !crate::untrusted::inside(&self.root, &included) {
                return Err(LockfileError::malformed_with_hint(
                    path,
                    include.line,
                    format!(
                        "`{option} {}` points outside the project directory `{}`; refused",
                        include.target,
                        self.root.display()
                    ),
                    "includes may not leave the directory otel-bootstrap runs in (or the --from file's directory, when that is not inside it): run it from a directory holding both files",
                ));
            }
            let canonical_included =
                std::fs::canonicalize(&included).unwrap_or_else(|_| included.clone());
            if let Some(position) = stack.iter().position(|open| *open == canonical_included) {
                let chain: Vec<String> = stack[position..]
                    .iter()
                    .chain(std::iter::once(&canonical_included))
                    .map(|file| file.display().to_string())
                    .collect();
                return Err(LockfileError::malformed(
                    path,
                    include.line,
                    format!(
                        "including `{}` makes a cycle: {}",
                        include.target,
                        chain.join(" -> ")
                    ),
                ));
            }
            let text =
                crate::untrusted::read_text(&included, crate::untrusted::FileKind::Requirements)
                    .map_err(|error| {
                        LockfileError::malformed(
                            path,
                            include.line,
                            format!("cannot read the included `{}`: {error}", included.display()),
                        )
                    })?;
            // What a constraints file includes constrains too.
            let included_kind = match (kind, include.kind) {
                (IncludeKind::Requirements, IncludeKind::Requirements) => IncludeKind::Requirements,
                _ => IncludeKind::Constraints,
            };
            self.read(&included, text, included_kind, stack)?;
        }
        stack.pop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_a_whole_environment_from_direct_dependencies() {
        let compiled = "# This file was autogenerated by uv via the following command:\n#    uv pip compile requirements.in\nasgiref==3.8.1\n    # via django\ndjango==5.1\n";
        assert!(looks_complete(compiled));
        assert!(looks_complete("django==5.1 \\\n    --hash=sha256:abc\n"));
        let freeze: String = (b'a'..=b'm')
            .map(|letter| format!("{}pkg==1.0\n", letter as char))
            .collect();
        assert!(looks_complete(&freeze));
        // Hand-written: a comment, a range, or unsorted pins.
        assert!(!looks_complete("# web\ndjango==5.1\ngunicorn==23.0\n"));
        assert!(!looks_complete("django>=5\n"));
        let unsorted: String = (b'a'..=b'm')
            .rev()
            .map(|letter| format!("{}pkg==1.0\n", letter as char))
            .collect();
        assert!(!looks_complete(&unsorted));
        // Too short to tell from `pip freeze`.
        assert!(!looks_complete("django==5.1\ngunicorn==23.0\n"));
    }

    fn parse_ok(text: &str) -> RequirementsFile {
        parse(text, Path::new("requirements.txt")).unwrap()
    }

    fn pins(file: &RequirementsFile) -> Vec<(String, Pin, usize)> {
        file.entries
            .iter()
            .map(|entry| (entry.name.to_string(), entry.pin.clone(), entry.line))
            .collect()
    }

    #[test]
    fn reads_pip_compile_output_with_hashes_and_comments() {
        let text = "\
# This file is autogenerated by pip-compile
#    pip-compile --generate-hashes
#
--index-url https://pypi.org/simple

blinker==1.7.0 \\
    --hash=sha256:aaa \\
    --hash=sha256:bbb
    # via flask
Flask==3.0.0 ; python_version >= \"3.8\" \\
    --hash=sha256:ccc
    # via -r requirements.in
zope.interface==6.1  # a trailing comment
";
        let file = parse_ok(text);
        assert_eq!(
            pins(&file),
            [
                ("blinker".to_owned(), Pin::Exact("1.7.0".to_owned()), 6),
                ("flask".to_owned(), Pin::Exact("3.0.0".to_owned()), 10),
                (
                    "zope-interface".to_owned(),
                    Pin::Exact("6.1".to_owned()),
                    13
                ),
            ]
        );
        assert!(!file.entries[1].marker.is_true());
        assert!(file.notes.is_empty(), "{:?}", file.notes);
    }

    #[test]
    fn unpinned_lines_say_why() {
        let file = parse_ok(
            "flask>=2\nrequests\nsix==1.*\ndjango==4.2,<5\n./local/pkg\n-e ./other\nhttps://x/y-1.0-py3-none-any.whl\nfoo @ https://x/foo.whl\nbar===1.0\n",
        );
        let reasons: Vec<_> = pins(&file)
            .into_iter()
            .map(|(name, pin, _)| (name, pin))
            .collect();
        assert!(matches!(&reasons[0].1, Pin::Unpinned(why) if why.contains(">=2")));
        assert!(matches!(&reasons[1].1, Pin::Unpinned(why) if why.contains("no version")));
        assert!(
            matches!(&reasons[2].1, Pin::Unpinned(_)),
            "wildcards are ranges"
        );
        assert_eq!(reasons[3].1, Pin::Exact("4.2".to_owned()));
        assert!(matches!(&reasons[4].1, Pin::Unpinned(why) if why.contains("URL")));
        assert_eq!(reasons[5], ("bar".to_owned(), Pin::Exact("1.0".to_owned())));
        let lines: Vec<usize> = file.notes.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [5, 6, 7]);
    }

    #[test]
    fn includes_in_every_spelling() {
        let file = parse_ok("-r base.txt\n-rdev.txt\n--requirement=a.txt\n--requirement b.txt\n-c constraints.txt\n--constraint=c.txt\n");
        let includes: Vec<_> = file
            .includes
            .iter()
            .map(|include| (include.kind, include.target.as_str()))
            .collect();
        assert_eq!(
            includes,
            [
                (IncludeKind::Requirements, "base.txt"),
                (IncludeKind::Requirements, "dev.txt"),
                (IncludeKind::Requirements, "a.txt"),
                (IncludeKind::Requirements, "b.txt"),
                (IncludeKind::Constraints, "constraints.txt"),
                (IncludeKind::Constraints, "c.txt"),
            ]
        );
        assert!(parse("-r\n", Path::new("r.txt")).is_err());
    }

    #[test]
    fn malformed_lines_are_errors_with_the_line() {
        for (text, line) in [
            ("flask==1\nfoo. >= 1\n", 2),
            ("flask==1\n\nfoo[bar.]==1\n", 3),
            ("flask===\n", 1),
            ("flask==1 ; python_version >\n", 1),
            ("flask (==1\n", 1),
            ("fl\u{e9}sk==1\n", 1),
        ] {
            match parse(text, Path::new("r.txt")) {
                Err(LockfileError::Malformed { line: found, .. }) => {
                    assert_eq!(found, line, "{text:?}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "\\",
            "\\\n\\\n",
            "-",
            "--",
            "--=",
            "#",
            "a==1 \\\n# c\n",
            "\u{feff}",
            "-r\u{e9}",
            "a==1 --hash",
            "[x]",
            "@",
            ";",
            "a;",
            "a @",
            "a[",
            "a[]==1",
        ] {
            let _ = parse(text, Path::new("r.txt"));
        }
    }

    #[test]
    fn lines_that_are_not_requirements_are_never_echoed() {
        for text in [
            "root:x:0:0:root:/root:/bin/bash\n",
            "API_TOKEN=s3cr3t-value\n",
            "machine example.com login me password s3cr3t-value\n",
            "foo @ https://u:s3cr3t-value@h/x.whl ; python_version >>> \"3\"\n",
            "-e git+https://u:s3cr3t-value@h/x.git#egg=x\n",
            "https://u:s3cr3t-value@h/x.whl#egg=foo\n",
            "--s3cr3t-value-that-is-a-very-long-option-name-indeed=1\n",
            "s3cr3t-value (\n",
        ] {
            let shown = match parse(text, Path::new("r.txt")) {
                Ok(file) => format!("{:?}", file.notes),
                Err(error) => error.to_string(),
            };
            assert!(!shown.contains("s3cr3t"), "{text:?} -> {shown}");
            assert!(
                !shown.contains("root:x") && !shown.contains("API_TOKEN"),
                "{shown}"
            );
        }
    }

    #[test]
    fn direct_references_take_the_version_of_their_file_name() {
        for (url, project, version) in [
            (
                "https://h/x/flask-3.0.0-py3-none-any.whl",
                "flask",
                Some("3.0.0"),
            ),
            (
                "https://u:p@h/Flask-3.0.0-py3-none-any.whl#sha256=00",
                "flask",
                Some("3.0.0"),
            ),
            (
                "https://h/zope.interface-6.1.tar.gz",
                "zope-interface",
                Some("6.1"),
            ),
            (
                "file:///w/my-pkg-2.0.post1.zip",
                "my-pkg",
                Some("2.0.post1"),
            ),
            ("https://h/other-1.0-py3-none-any.whl", "flask", None),
            ("https://h/flask.whl", "flask", None),
            ("https://h/flask-3.0.0.whl", "flask", None),
            ("git+https://h/flask.git@3.0.0", "flask", None),
            ("https://h/flask-main.tar.gz", "flask", None),
        ] {
            assert_eq!(version_from_url(url, project).as_deref(), version, "{url}");
        }
    }

    #[test]
    fn url_includes_are_recognised() {
        for url in [
            "https://u:t@host/r.txt",
            "http://host/r.txt",
            "file:///etc/passwd",
            "file:r.txt",
            "git+ssh://x/y",
        ] {
            assert!(is_url(url), "{url}");
        }
        for path in [
            "r.txt",
            "../base.txt",
            "C:\\reqs\\r.txt",
            "dir/with:colon.txt",
        ] {
            assert!(!is_url(path), "{path}");
        }
    }

    #[test]
    fn splits_requirements_from_their_options() {
        assert_eq!(
            split_options("flask==1 --hash=sha256:abc"),
            ("flask==1", "--hash=sha256:abc")
        );
        assert_eq!(
            split_options("flask==1; python_version>'3' --hash x"),
            ("flask==1; python_version>'3'", "--hash x")
        );
        assert_eq!(split_option("-rfile.txt"), ("-r", "file.txt"));
        assert_eq!(split_option("--hash=sha256:x"), ("--hash", "sha256:x"));
    }
}
