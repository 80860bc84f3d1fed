//! The text report: a table that fits the terminal (80 columns when stdout is not one, or
//! `COLUMNS`), every cell wrapped inside its column, statuses colored through `anstream`
//! (so only on a terminal, as `--color` / `NO_COLOR` say), then the commands. Every cell
//! passes through [`crate::sanitize`] first (names and versions come from site-packages),
//! and widths are measured on what is printed.

use std::fmt::Write as _;

use super::{short, Explanation, Row, Status, Tone};

/// The width used when nothing says otherwise.
pub(crate) const DEFAULT_WIDTH: usize = 80;

/// The narrowest table we lay out; narrower requests get this.
const MIN_WIDTH: usize = 40;

/// The width to render at: `COLUMNS` when it is a number (clamped to 40..=250), else 80.
pub(crate) fn width_from_env() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .map_or(DEFAULT_WIDTH, |columns| columns.clamp(MIN_WIDTH, 250))
}

const HEADERS: [&str; 4] = ["LIBRARY", "VERSION", "INSTRUMENTATION", "STATUS"];
/// Below this status width, statuses go on their own lines.
const STACK_BELOW: usize = 24;
const STACK_INDENT: usize = 4;
const GAP: usize = 2;
/// The library cell of the default instrumentations' rows.
const STDLIB: &str = "(stdlib)";

/// One line of the table before styling: the cells' texts, and the status tone.
struct Line {
    cells: [String; 4],
    tone: Option<Tone>,
}

/// Renders the report. Styles are ANSI sequences; writing through `anstream` removes
/// them when color is off.
pub(crate) fn render(explanation: &Explanation, heading: &str, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let rows = grouped(&explanation.rows);
    let natural = |column: usize| {
        rows.iter()
            .filter(|(cells, _)| cells[0] != STDLIB)
            .map(|(cells, _)| width_of(&cells[column]))
            .chain(std::iter::once(HEADERS[column].len()))
            .max()
            .unwrap_or(0)
    };
    // The first three columns take what they need, up to a share of the width; the status
    // gets the rest.
    let mut widths = [
        natural(0).min(width * 3 / 10),
        natural(1).min(width / 8).max(HEADERS[1].len()),
        natural(2).min(width / 4),
        0,
    ];
    widths[0] = widths[0].max(HEADERS[0].len()).max(STDLIB.len());
    widths[2] = widths[2].max(HEADERS[2].len());
    widths[3] = width.saturating_sub(widths[0] + widths[1] + widths[2] + 3 * GAP);
    // Too narrow for a status column: the status goes under the row, indented.
    let stacked = widths[3] < STACK_BELOW;
    if stacked {
        widths[3] = width - STACK_INDENT;
    }

    let bold = anstyle::Style::new().bold();
    let mut text = String::new();
    for line in wrap(&explanation_heading(heading), width) {
        let _ = writeln!(text, "{bold}{line}{bold:#}");
    }
    text.push('\n');
    let header = Line {
        cells: HEADERS.map(str::to_owned),
        tone: None,
    };
    push_row(&mut text, &header, &widths, Some(bold), stacked);
    for (cells, tone) in rows {
        push_row(
            &mut text,
            &Line {
                cells,
                tone: Some(tone),
            },
            &widths,
            None,
            stacked,
        );
    }
    if explanation.rows.is_empty() {
        text.push_str("(nothing to instrument)\n");
    }

    let mut notes = Vec::new();
    for entry in &explanation.outdated {
        notes.push(clean(&format!("note: {entry}")));
    }
    let left_out = explanation
        .rows
        .iter()
        .filter(|row| {
            row.relevance
                .as_ref()
                .is_some_and(|relevance| !relevance.needed)
        })
        .count();
    if left_out > 0 && !explanation.only_needed {
        notes.push(format!(
            "note: {left_out} {} covered or serve only the telemetry stack; `--only-needed` leaves them out",
            if left_out == 1 { "row is" } else { "rows are" }
        ));
    }
    if !notes.is_empty() {
        text.push('\n');
        for note in notes {
            for line in wrap(&note, width) {
                text.push_str(&line);
                text.push('\n');
            }
        }
    }
    text.push('\n');
    match &explanation.install {
        Some(command) => {
            text.push_str("To install what is missing:\n");
            text.push_str(&fix_lines(command, explanation.fixes_are_commands, width));
        }
        None => text.push_str("Nothing is missing.\n"),
    }
    if let Some(command) = &explanation.remove {
        text.push_str("To remove the stale instrumentations:\n");
        text.push_str(&fix_lines(command, explanation.fixes_are_commands, width));
    }
    text
}

fn explanation_heading(heading: &str) -> String {
    clean(heading)
}

/// Text from outside, as printed: control characters escaped.
fn clean(text: &str) -> String {
    crate::sanitize::sanitize(text).into_owned()
}

/// The columns `text` takes as printed.
fn width_of(text: &str) -> usize {
    crate::sanitize::width(text)
}

/// The rows as cells; the default instrumentations (no library) that share a status are
/// one row, `(stdlib)`, naming them in the status.
fn grouped(rows: &[Row]) -> Vec<([String; 4], Tone)> {
    let mut lines: Vec<([String; 4], Tone)> = Vec::new();
    let mut stdlib: Vec<(String, Vec<String>, Tone)> = Vec::new();
    for row in rows {
        let status = clean(&status_text(row));
        let tone = row.status.tone();
        let default = row.library.is_none()
            && row
                .relevance
                .as_ref()
                .is_some_and(|relevance| relevance.need == super::Need::Default);
        if default {
            match stdlib.iter_mut().find(|(text, _, _)| *text == status) {
                Some((_, names, _)) => names.push(clean(short(&row.instrumentation))),
                None => stdlib.push((status, vec![clean(short(&row.instrumentation))], tone)),
            }
            continue;
        }
        lines.push((
            [
                row.library.as_deref().map_or_else(|| "-".to_owned(), clean),
                row.version.as_deref().map_or_else(|| "-".to_owned(), clean),
                clean(short(&row.instrumentation)),
                status,
            ],
            tone,
        ));
    }
    for (status, names, tone) in stdlib {
        let count = if names.len() == 1 {
            "1 default".to_owned()
        } else {
            format!("{} defaults", names.len())
        };
        lines.push((
            [
                STDLIB.to_owned(),
                "-".to_owned(),
                count,
                format!("{status}: {}", names.join(", ")),
            ],
            tone,
        ));
    }
    lines
}

fn status_text(row: &Row) -> String {
    let text = row.status.describe();
    match (&row.status, &row.installed) {
        (Status::Covered { .. } | Status::OnlyRequiredBy { .. }, Some(version)) => {
            format!("{text} ({version} installed)")
        }
        _ => text,
    }
}

fn style_of(tone: Tone) -> anstyle::Style {
    let color = match tone {
        Tone::Good => anstyle::AnsiColor::Green,
        Tone::Act => anstyle::AnsiColor::Yellow,
        Tone::Problem => anstyle::AnsiColor::Red,
        Tone::Quiet => return anstyle::Style::new().dimmed(),
    };
    anstyle::Style::new().fg_color(Some(color.into()))
}

/// Appends one table row: each cell wrapped in its column, padded, the last cell styled;
/// when `stacked`, the status goes below the other cells, indented.
fn push_row(
    text: &mut String,
    line: &Line,
    widths: &[usize; 4],
    all: Option<anstyle::Style>,
    stacked: bool,
) {
    let mut wrapped: Vec<Vec<String>> = line
        .cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| wrap(cell, *width))
        .collect();
    let below = if stacked { wrapped.pop() } else { None };
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    for index in 0..height {
        let mut out = String::new();
        for (column, lines) in wrapped.iter().enumerate() {
            let cell = lines.get(index).map(String::as_str).unwrap_or("");
            let last = column == wrapped.len() - 1;
            let style = match (all, line.tone) {
                (Some(style), _) => style,
                (None, Some(tone)) if last && !stacked => style_of(tone),
                _ => anstyle::Style::new(),
            };
            let padding = if last {
                0
            } else {
                widths[column].saturating_sub(width_of(cell)) + GAP
            };
            if !cell.is_empty() {
                let _ = write!(out, "{style}{cell}{style:#}");
            }
            out.push_str(&" ".repeat(padding));
        }
        text.push_str(out.trim_end());
        text.push('\n');
    }
    for status in below.into_iter().flatten() {
        let style = match (all, line.tone) {
            (Some(style), _) => style,
            (None, Some(tone)) => style_of(tone),
            _ => anstyle::Style::new(),
        };
        let _ = writeln!(text, "{}{style}{status}{style:#}", " ".repeat(STACK_INDENT));
    }
}

/// Wraps `text` into lines of at most `width` characters: at spaces, else after `-`, `,`
/// or `/`, else anywhere.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        let needed = width_of(&current) + usize::from(!current.is_empty()) + width_of(word);
        if needed <= width {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let mut rest: Vec<char> = word.chars().collect();
        while rest.len() > width {
            let cut = rest[..width]
                .iter()
                .rposition(|character| matches!(character, '-' | ',' | '/'))
                .map_or(width, |position| position + 1);
            lines.push(rest[..cut].iter().collect());
            rest.drain(..cut);
        }
        current = rest.into_iter().collect();
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// A fix, indented, each line within `width`: a shell command continued with ` \`, a
/// sentence (edit a file, then run its tool) word-wrapped, as a backslash would be part of
/// what is pasted.
fn fix_lines(fix: &str, is_command: bool, width: usize) -> String {
    if is_command {
        return command_lines(fix, width);
    }
    let mut text = String::new();
    for line in wrap(fix, width.saturating_sub(2)) {
        text.push_str("  ");
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// A shell command over several lines (` \` continuations), each within `width`.
fn command_lines(command: &str, width: usize) -> String {
    let indent = "  ";
    let continued = "      ";
    let mut text = String::new();
    let mut line = String::from(indent);
    let mut first_word = true;
    for word in command.split(' ') {
        let room = width.saturating_sub(2);
        if !first_word && line.chars().count() + 1 + word.chars().count() > room {
            text.push_str(&line);
            text.push_str(" \\\n");
            line = String::from(continued);
        } else if !first_word {
            line.push(' ');
        }
        line.push_str(word);
        first_word = false;
    }
    text.push_str(&line);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_never_exceeds_the_width() {
        assert_eq!(wrap("only required by a", 10), ["only", "required", "by a"]);
        assert_eq!(
            wrap("opentelemetry-exporter-otlp", 15),
            ["opentelemetry-", "exporter-otlp"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn only_commands_continue_with_a_backslash() {
        let prose =
            "add 'aaaa==1' 'bbbb==2' to `requirements.in`, then `pip-compile 'requirements.in'`";
        let text = fix_lines(prose, false, 30);
        assert!(!text.contains('\\'), "{text}");
        assert!(
            text.lines()
                .all(|line| line.starts_with("  ") && line.len() <= 30),
            "{text}"
        );
        assert_eq!(
            fix_lines("pip install aaaa bbbb cccc", true, 20),
            "  pip install aaaa \\\n      bbbb cccc\n"
        );
    }

    #[test]
    fn commands_continue_with_a_backslash() {
        let text = command_lines("pip install aaaa bbbb cccc", 20);
        assert_eq!(text, "  pip install aaaa \\\n      bbbb cccc\n");
        assert!(text.lines().all(|line| line.len() <= 20));
    }
}
