//! One rule for text that came from outside (package names and versions read from
//! site-packages, registry and `bootstrap_gen.py` strings, index pages, paths) before it
//! reaches a terminal, a log or a table: control characters are shown escaped, never
//! written raw.
//!
//! `anstream` strips colour sequences only when stdout is not a terminal, and it leaves a
//! bare carriage return, a BEL, an OSC title sequence or a bidirectional override alone;
//! a hostile `Name:` header could otherwise rewrite the user's terminal line, its title or
//! the order of what a table shows. [`sanitize`] escapes every C0 and C1 control
//! character, DEL, and the Unicode bidirectional and zero-width formatting characters, as
//! `\x1b`, `\r`, `\u{202e}`; [`width`] is the number of terminal columns the text takes as
//! printed (wide characters count two), for laying out tables.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `character` is written escaped.
fn hostile(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `text` with every control and formatting character escaped (see the module
/// documentation); borrowed when there is none, which is the common case.
pub(crate) fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if !hostile(character) {
            escaped.push(character);
            continue;
        }
        match character {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            character if u32::from(character) <= 0xff => {
                let _ = write!(escaped, "\\x{:02x}", u32::from(character));
            }
            character => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(character));
            }
        }
    }
    Cow::Owned(escaped)
}

/// [`sanitize`] for text that may span lines on purpose (a message whose own line breaks
/// are kept): only `\n` is left as it is.
pub(crate) fn sanitize_lines(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|character| character != '\n' && hostile(character))
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(|line| sanitize(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The columns `text` takes on a terminal once sanitized: what a table pads and wraps by.
pub(crate) fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(sanitize(text).as_ref())
}

/// For the fuzz target: sanitizing any text leaves no control character, and keeps the
/// text when there was none.
pub fn fuzz(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let clean = sanitize(&text);
    assert!(!clean.chars().any(hostile), "{clean:?}");
    if !text.chars().any(hostile) {
        assert_eq!(clean, text);
    }
    let _ = width(&text);
    let lines = sanitize_lines(&text);
    assert!(!lines.chars().any(|c| c != '\n' && hostile(c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(sanitize("flask"), "flask");
        assert!(matches!(sanitize("flask"), Cow::Borrowed(_)));
        assert_eq!(
            sanitize("evil\x1b]0;pwned\x07\r\u{9b}31m"),
            "evil\\x1b]0;pwned\\x07\\r\\x9b31m"
        );
        assert_eq!(sanitize("a\u{202e}b\n\t\x7f"), "a\\u{202e}b\\n\\t\\x7f");
        assert_eq!(sanitize_lines("a\nb\rc"), "a\nb\\rc");
        assert_eq!(width("ab\x1b"), 6);
        assert_eq!(width("日本"), 4);
        fuzz("\u{1b}[2J\u{85}é".as_bytes());
    }
}
