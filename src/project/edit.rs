//! Format-preserving edits of a project's `pyproject.toml` (Hatch has no `add` command):
//! requirements replaced where the project already lists them, else appended to one
//! dependency array, with every comment, blank line and indentation kept.

use toml_edit::{Array, DocumentMut, Item, Value};

use crate::requirement::{leading_name, normalize};

/// The dependency arrays a Hatch project installs from, in the order they are searched:
/// `[project].dependencies`, each extra, each dependency group, then each Hatch
/// environment's `dependencies` and `extra-dependencies`. Each is a key path.
pub(crate) fn dependency_arrays(text: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let Ok(document) = text.parse::<DocumentMut>() else {
        return Vec::new();
    };
    let mut paths: Vec<Vec<String>> = vec![path(&["project", "dependencies"])];
    let keys = |at: &[&str]| -> Vec<String> {
        let mut item: &Item = document.as_item();
        for key in at {
            match item.get(key) {
                Some(next) => item = next,
                None => return Vec::new(),
            }
        }
        item.as_table_like()
            .map(|table| table.iter().map(|(key, _)| key.to_owned()).collect())
            .unwrap_or_default()
    };
    for extra in keys(&["project", "optional-dependencies"]) {
        paths.push(path(&["project", "optional-dependencies", &extra]));
    }
    for group in keys(&["dependency-groups"]) {
        paths.push(path(&["dependency-groups", &group]));
    }
    for environment in keys(&["tool", "hatch", "envs"]) {
        for list in ["dependencies", "extra-dependencies"] {
            paths.push(path(&["tool", "hatch", "envs", &environment, list]));
        }
    }
    paths
        .into_iter()
        .filter_map(|path| {
            let entries: Vec<String> = array_at(&document, &path)?
                .iter()
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect();
            Some((path, entries))
        })
        .collect()
}

/// Where the Hatch environment `environment` takes its dependencies from when the project
/// lists nothing of the kind: its own `dependencies` when it skips installing the project
/// (`skip-install = true`, so `[project].dependencies` are not installed), else
/// `[project].dependencies`.
pub(crate) fn hatch_default_array(text: &str, environment: &str) -> Vec<String> {
    let skips = text.parse::<DocumentMut>().ok().is_some_and(|document| {
        document
            .get("tool")
            .and_then(|tool| tool.get("hatch"))
            .and_then(|hatch| hatch.get("envs"))
            .and_then(|envs| envs.get(environment))
            .and_then(|table| table.get("skip-install"))
            .and_then(Item::as_bool)
            == Some(true)
    });
    if skips {
        path(&["tool", "hatch", "envs", environment, "dependencies"])
    } else {
        path(&["project", "dependencies"])
    }
}

/// `text` with each of `requirements` recorded: an entry of the same name in any of the
/// [`dependency_arrays`] is replaced in place, any other is appended to the array at
/// `target` (created when its table exists but the array does not). `Err` names what
/// stands in the way (the file does not parse, the target is not an array).
pub(crate) fn record(
    text: &str,
    target: &[String],
    requirements: &[String],
) -> Result<String, String> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|error| format!("pyproject.toml does not parse: {error}"))?;
    let arrays: Vec<Vec<String>> = dependency_arrays(text)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    let mut append = Vec::new();
    for requirement in requirements {
        let name = normalize(leading_name(requirement));
        let mut replaced = false;
        for path in &arrays {
            let Some(array) = array_at_mut(&mut document, path) else {
                continue;
            };
            for value in array.iter_mut() {
                if value
                    .as_str()
                    .is_some_and(|entry| normalize(leading_name(entry)) == name)
                {
                    let decor = value.decor().clone();
                    *value = Value::from(requirement.as_str());
                    *value.decor_mut() = decor;
                    replaced = true;
                }
            }
        }
        if !replaced {
            append.push(requirement);
        }
    }
    if !append.is_empty() {
        let array = array_or_new(&mut document, target)?;
        // A multi-line array gets each new entry on its own line, indented as the last.
        let decor = array.iter().last().map(|last| last.decor().clone());
        let multiline = decor
            .as_ref()
            .and_then(|decor| decor.prefix())
            .and_then(|prefix| prefix.as_str())
            .is_some_and(|prefix| prefix.contains('\n'));
        // A comment after the last entry's comma is kept with that entry.
        let trailing = array.trailing().as_str().unwrap_or_default().to_owned();
        let mut moved_comment = None;
        if multiline {
            if let Some((head, rest)) = trailing.split_once('\n') {
                if head.contains('#') {
                    moved_comment = Some(head.to_owned());
                    array.set_trailing(format!("\n{rest}"));
                }
            }
        }
        for requirement in append {
            let mut value = Value::from(requirement.as_str());
            match &decor {
                Some(decor) if multiline => {
                    *value.decor_mut() = decor.clone();
                    if let Some(comment) = moved_comment.take() {
                        let prefix = decor
                            .prefix()
                            .and_then(|prefix| prefix.as_str())
                            .unwrap_or_default();
                        value.decor_mut().set_prefix(format!("{comment}{prefix}"));
                    }
                }
                Some(_) => value.decor_mut().set_prefix(" "),
                None => {}
            }
            array.push_formatted(value);
        }
    }
    Ok(document.to_string())
}

fn path(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|key| (*key).to_owned()).collect()
}

fn array_at<'a>(document: &'a DocumentMut, path: &[String]) -> Option<&'a Array> {
    let mut item: &Item = document.as_item();
    for key in path {
        item = item.get(key)?;
    }
    item.as_array()
}

fn array_at_mut<'a>(document: &'a mut DocumentMut, path: &[String]) -> Option<&'a mut Array> {
    let mut item: &mut Item = document.as_item_mut();
    for key in path {
        item = item.get_mut(key)?;
    }
    item.as_array_mut()
}

fn array_or_new<'a>(
    document: &'a mut DocumentMut,
    path: &[String],
) -> Result<&'a mut Array, String> {
    let dotted = path.join(".");
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| "internal: empty key path".to_owned())?;
    let mut item: &mut Item = document.as_item_mut();
    for key in parents {
        item = item
            .get_mut(key)
            .ok_or_else(|| format!("pyproject.toml has no `{dotted}` table to record into"))?;
    }
    let table = item
        .as_table_like_mut()
        .ok_or_else(|| format!("`{dotted}` in pyproject.toml is not inside a table"))?;
    if table.get(last).is_none() {
        table.insert(last, Item::Value(Value::Array(Array::new())));
    }
    table
        .get_mut(last)
        .and_then(Item::as_array_mut)
        .ok_or_else(|| format!("`{dotted}` in pyproject.toml is not an array"))
}

/// The requirements of a pip-tools input file (`requirements.in`), one per line, without
/// their comments; option lines (`-c`, `-r`, `--index-url`) are skipped.
pub(crate) fn requirement_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with(['#', '-']))
        .map(str::to_owned)
        .collect()
}

/// `text` (a `requirements.in`) with each of `requirements` recorded: a line of the same
/// name is replaced (its comment kept), any other appended; every other line is kept.
pub(crate) fn record_lines(text: &str, requirements: &[String]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for requirement in requirements {
        let name = normalize(leading_name(requirement));
        let mut replaced = false;
        for line in &mut lines {
            let body = match line.find(" #") {
                Some(at) => &line[..at],
                None => line.as_str(),
            };
            // The comment with the spaces before it, as written.
            let comment = &line[body.trim_end().len()..];
            let body = body.trim();
            if body.is_empty() || body.starts_with(['#', '-']) {
                continue;
            }
            if normalize(leading_name(body)) == name {
                *line = format!("{requirement}{comment}");
                replaced = true;
            }
        }
        if !replaced {
            lines.push(requirement.clone());
        }
    }
    let mut edited = lines.join("\n");
    edited.push('\n');
    edited
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYPROJECT: &str = r#"# the app
[project]
name = "app"
dependencies = [
    # the web framework
    "flask>=3",
    "opentelemetry-distro==0.60b0",  # pinned on purpose
]

[tool.hatch.envs.default]
skip-install = true
dependencies = ["pytest"]  # tests
"#;

    #[test]
    fn entries_are_replaced_in_place_and_new_ones_appended_with_comments_kept() {
        let target = hatch_default_array(PYPROJECT, "default");
        assert_eq!(
            target,
            path(&["tool", "hatch", "envs", "default", "dependencies"])
        );
        let edited = record(
            PYPROJECT,
            &path(&["project", "dependencies"]),
            &[
                "opentelemetry-distro>=0.66b1".to_owned(),
                "opentelemetry-instrumentation-flask==0.66b1".to_owned(),
            ],
        )
        .unwrap();
        assert_eq!(
            edited,
            r#"# the app
[project]
name = "app"
dependencies = [
    # the web framework
    "flask>=3",
    "opentelemetry-distro>=0.66b1",  # pinned on purpose
    "opentelemetry-instrumentation-flask==0.66b1",
]

[tool.hatch.envs.default]
skip-install = true
dependencies = ["pytest"]  # tests
"#
        );
        let inline = record(PYPROJECT, &target, &["requests".to_owned()]).unwrap();
        assert!(
            inline.contains("dependencies = [\"pytest\", \"requests\"]  # tests\n"),
            "{inline}"
        );
        assert_eq!(
            dependency_arrays(&inline)[1],
            (
                target.clone(),
                vec!["pytest".to_owned(), "requests".to_owned()]
            )
        );
    }

    #[test]
    fn a_missing_array_is_created_and_odd_files_are_refused() {
        let edited = record(
            "[project]\nname = \"app\"\n",
            &path(&["project", "dependencies"]),
            &["flask".to_owned()],
        )
        .unwrap();
        assert_eq!(
            edited,
            "[project]\nname = \"app\"\ndependencies = [\"flask\"]\n"
        );
        assert_eq!(
            hatch_default_array("[project]\n", "default"),
            path(&["project", "dependencies"])
        );
        assert!(record("[[[", &path(&["project", "dependencies"]), &[]).is_err());
        assert!(record(
            "[project]\ndependencies = 3\n",
            &path(&["project", "dependencies"]),
            &["flask".to_owned()]
        )
        .is_err());
        assert!(record(
            "",
            &path(&["project", "dependencies"]),
            &["flask".to_owned()]
        )
        .is_err());
    }

    #[test]
    fn requirements_in_lines_are_replaced_or_appended_with_comments_kept() {
        let text = "# the app\n-c constraints.txt\nflask>=3  # web\nopentelemetry-distro==0.60b0\n";
        assert_eq!(
            requirement_lines(text),
            ["flask>=3", "opentelemetry-distro==0.60b0"]
        );
        assert_eq!(
            record_lines(
                text,
                &[
                    "Flask>=3.1".to_owned(),
                    "opentelemetry-instrumentation-flask==0.66b1".to_owned()
                ]
            ),
            "# the app\n-c constraints.txt\nFlask>=3.1  # web\nopentelemetry-distro==0.60b0\nopentelemetry-instrumentation-flask==0.66b1\n"
        );
    }
}
