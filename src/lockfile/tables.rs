//! Reading a TOML lock file one `[[package]]` table at a time.
//!
//! Deserializing a 40 MB `uv.lock` as one document builds the whole document tree first
//! (about 30 bytes of tree per byte of text, most of it for the `wheels` lists nobody
//! reads). Lock files are a short head followed by thousands of `[[package]]` tables, so
//! the text is cut at its table headers and each table is deserialized on its own (in
//! parallel), its tree freed at once; the head and any other top-level tables are read as
//! one small document.
//!
//! The cut is only trusted when it cannot change the meaning: a file with a multi-line
//! string (`"""`, `'''`), a quoted table header, a sub-table before the first array
//! table, a top level that mentions the array's key, or any piece that fails to parse is
//! read as one document instead, whose result (and error, with its line) is the
//! authority.

use std::path::Path;

use rayon::prelude::*;
use serde::de::DeserializeOwned;

use super::{toml_error, LineIndex, LockfileError};

/// The text cut at its table headers.
struct Sections<'a> {
    /// Everything outside the array's tables.
    top: String,
    /// Each `[[array]]` table with its sub-tables: its offset in the text, and the text.
    tables: Vec<(usize, &'a str)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Top,
    Table,
}

/// Cuts `text` at its table headers; `None` when the cut might change the meaning.
fn split<'a>(text: &'a str, array: &str) -> Option<Sections<'a>> {
    if text.contains("\"\"\"") || text.contains("'''") {
        return None;
    }
    let mut sections = Sections {
        top: String::new(),
        tables: Vec::new(),
    };
    let mut mode = Mode::Top;
    let mut start = 0;
    let mut offset = 0;
    let close = |sections: &mut Sections<'a>, mode: Mode, start: usize, end: usize| {
        if start == end {
            return;
        }
        match mode {
            Mode::Top => {
                sections.top.push_str(&text[start..end]);
                if !sections.top.ends_with('\n') {
                    sections.top.push('\n');
                }
            }
            Mode::Table => sections.tables.push((start, &text[start..end])),
        }
    };
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(header) = trimmed.strip_prefix('[') {
            let is_array = header.starts_with('[');
            let end = header.find(']')?;
            let key = header[usize::from(is_array)..end].trim();
            if key.contains(['"', '\'']) {
                return None;
            }
            let key: String = key.split('.').map(str::trim).collect::<Vec<_>>().join(".");
            let next = if is_array && key == array {
                Mode::Table
            } else if key
                .strip_prefix(array)
                .is_some_and(|rest| rest.starts_with('.'))
            {
                if mode != Mode::Table {
                    return None;
                }
                Mode::Table
            } else {
                Mode::Top
            };
            // A new array table always starts a new piece; a sub-table continues one.
            if next != mode || (next == Mode::Table && is_array && key == array) {
                close(&mut sections, mode, start, offset);
                start = offset;
                mode = next;
            }
        }
        offset += line.len();
    }
    close(&mut sections, mode, start, text.len());
    Some(sections)
}

/// Deserializes `text`'s top level as `Top` and its `[[array]]` tables with `items`
/// (which deserializes a document into its list of tables), each table with the offset
/// its spans are relative to. Errors name the line.
pub(crate) fn parse<Top, Item>(
    text: &str,
    origin: &Path,
    lines: &LineIndex,
    array: &str,
    items: fn(&str) -> Result<Vec<Item>, toml::de::Error>,
) -> Result<(Top, Vec<(usize, Item)>), LockfileError>
where
    Top: DeserializeOwned,
    Item: Send,
{
    if let Some(found) = split(text, array).and_then(|sections| by_table(&sections, array, items)) {
        return Ok(found);
    }
    let top: Top = toml::from_str(text).map_err(|error| toml_error(origin, lines, &error))?;
    let all = items(text).map_err(|error| toml_error(origin, lines, &error))?;
    Ok((top, all.into_iter().map(|item| (0, item)).collect()))
}

/// The cut reading; `None` when any piece does not parse on its own (the whole-document
/// reading then decides, and reports the error).
fn by_table<Top, Item>(
    sections: &Sections<'_>,
    array: &str,
    items: fn(&str) -> Result<Vec<Item>, toml::de::Error>,
) -> Option<(Top, Vec<(usize, Item)>)>
where
    Top: DeserializeOwned,
    Item: Send,
{
    let table: toml::Table = toml::from_str(&sections.top).ok()?;
    if table.contains_key(array) {
        return None;
    }
    let top: Top = toml::from_str(&sections.top).ok()?;
    let parsed: Vec<Option<Vec<Item>>> = sections
        .tables
        .par_iter()
        .map(|(_, table)| items(table).ok())
        .collect();
    let mut all = Vec::with_capacity(parsed.len());
    for ((offset, _), found) in sections.tables.iter().zip(parsed) {
        all.extend(found?.into_iter().map(|item| (*offset, item)));
    }
    Some((top, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Top {
        version: Option<i64>,
        #[serde(default)]
        manifest: toml::Table,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Item {
        name: toml::Spanned<String>,
        #[serde(default)]
        extra: toml::Table,
    }

    #[derive(serde::Deserialize)]
    struct Items {
        #[serde(default)]
        package: Vec<Item>,
    }

    fn items(text: &str) -> Result<Vec<Item>, toml::de::Error> {
        toml::from_str::<Items>(text).map(|items| items.package)
    }

    /// The top-level `version`, and each name with its line.
    type Read = (Option<i64>, Vec<(String, usize)>);

    /// The names with the line each is on, read both ways.
    fn read(text: &str) -> Result<Read, String> {
        let lines = LineIndex::new(text);
        let (top, found): (Top, _) = parse(text, Path::new("x.lock"), &lines, "package", items)
            .map_err(|error| error.to_string())?;
        Ok((
            top.version,
            found
                .into_iter()
                .map(|(offset, item)| {
                    (
                        item.name.get_ref().clone(),
                        lines.line(offset + item.name.span().start),
                    )
                })
                .collect(),
        ))
    }

    #[test]
    fn cut_and_whole_readings_agree() {
        let text = "version = 1\n\n[[package]]\nname = \"a\"\n[package.extra]\nx = 1\n\n[manifest]\nmembers = []\n\n[[package]]\nname = \"b\"\n  [[package]]\nname = \"c\"\n";
        let sections = split(text, "package").unwrap();
        assert_eq!(sections.tables.len(), 3);
        assert!(sections.top.contains("[manifest]"));
        assert_eq!(
            read(text).unwrap(),
            (
                Some(1),
                vec![("a".into(), 4), ("b".into(), 12), ("c".into(), 14)]
            )
        );
        // Readings the cut must not be trusted with fall back to the whole document.
        for odd in [
            "version = 1\n[[package]]\nname = \"\"\"a\"\"\"\n",
            "version = 1\n[package.extra]\nx = 1\n[[package]]\nname = \"a\"\n",
            "version = 1\n[[\"package\"]]\nname = \"a\"\n",
            "version = 1\nx = [\n[1]]\n[[package]]\nname = \"a\"\n",
        ] {
            let whole_top: Result<Top, _> = toml::from_str(odd);
            let whole = whole_top.is_ok() && items(odd).is_ok();
            assert_eq!(read(odd).is_ok(), whole, "{odd}");
        }
    }

    #[test]
    fn errors_name_the_original_line() {
        let text = "version = 1\n[[package]]\nname = \"a\"\n[[package]]\nname = \n";
        assert!(
            read(text).unwrap_err().contains("line 5"),
            "{:?}",
            read(text)
        );
        let text = "version = 1\n[[package]]\nname = \"a\"\n[manifest]\nmembers = [\n";
        assert!(
            read(text).unwrap_err().contains("line 5"),
            "{:?}",
            read(text)
        );
    }
}
