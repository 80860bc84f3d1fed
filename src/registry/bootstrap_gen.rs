//! Reading upstream's `opentelemetry/instrumentation/bootstrap_gen.py` without Python.
//!
//! The file is a generated Python module holding two literals: `libraries` (a list of
//! `{"library": …, "instrumentation": …}` dicts, or in releases before 0.4xb0 a dict of
//! them keyed by library) and `default_instrumentations` (a list of strings). It is read
//! from wheels on an index (`registry update`) and from the target environment (a release
//! newer than every registry), so it is untrusted input: the text is capped at
//! [`MAXIMUM_BYTES`], literals at [`MAXIMUM_DEPTH`] levels of nesting and
//! [`MAXIMUM_ITEMS`] items in all, the parser is iterative over items and recursive only
//! per nesting level, and every failure is an error message with a line number, never a
//! panic.

/// The largest `bootstrap_gen.py` read (upstream's is about 6 KB).
pub(crate) const MAXIMUM_BYTES: usize = 1024 * 1024;
/// The deepest nesting of brackets accepted (upstream's files need 3).
pub(crate) const MAXIMUM_DEPTH: usize = 8;
/// The most strings, lists and dicts one literal may hold (upstream's: about 250).
pub(crate) const MAXIMUM_ITEMS: usize = 100_000;

/// The two lists of `bootstrap_gen.py`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Bootstrap {
    /// `(library, instrumentation)` in upstream order.
    pub(crate) libraries: Vec<(String, String)>,
    pub(crate) default_instrumentations: Vec<String>,
}

/// A Python literal as found in `bootstrap_gen.py`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Literal {
    String(String),
    List(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

/// Parses `libraries = …` and `default_instrumentations = […]` from `bootstrap_gen.py`.
pub(crate) fn parse_bootstrap_gen(source: &str) -> Result<Bootstrap, String> {
    if source.len() > MAXIMUM_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAXIMUM_BYTES} bytes such a file may have",
            source.len()
        ));
    }
    let libraries = assigned_literal(source, "libraries")?;
    let defaults = assigned_literal(source, "default_instrumentations")?;

    let entry = |value: &Literal| -> Result<(String, String), String> {
        let Literal::Dict(pairs) = value else {
            return Err("a `libraries` entry is not a dict".to_owned());
        };
        let field = |key: &str| {
            pairs
                .iter()
                .rev()
                .find_map(|(name, value)| match (name, value) {
                    (Literal::String(name), Literal::String(value)) if name == key => {
                        Some(value.clone())
                    }
                    _ => None,
                })
        };
        match (field("library"), field("instrumentation")) {
            (Some(library), Some(instrumentation)) => Ok((library, instrumentation)),
            _ => Err("a `libraries` entry lacks `library` or `instrumentation`".to_owned()),
        }
    };
    let libraries = match libraries {
        Literal::List(items) => items.iter().map(entry).collect::<Result<Vec<_>, _>>()?,
        // The old layout: `{"flask": {"library": …, "instrumentation": …}, …}`. Like a
        // Python dict, a repeated key keeps its first position and takes its last value.
        Literal::Dict(pairs) => {
            let mut keyed: Vec<(&Literal, &Literal)> = Vec::new();
            let mut positions: std::collections::HashMap<&Literal, usize> =
                std::collections::HashMap::new();
            for (key, value) in &pairs {
                match positions.get(key) {
                    Some(&position) => keyed[position].1 = value,
                    None => {
                        positions.insert(key, keyed.len());
                        keyed.push((key, value));
                    }
                }
            }
            keyed
                .into_iter()
                .map(|(_, value)| entry(value))
                .collect::<Result<Vec<_>, _>>()?
        }
        Literal::String(_) => return Err("`libraries` is a string".to_owned()),
    };
    let Literal::List(defaults) = defaults else {
        return Err("`default_instrumentations` is not a list".to_owned());
    };
    let default_instrumentations = defaults
        .into_iter()
        .map(|value| match value {
            Literal::String(text) => Ok(text),
            _ => Err("a `default_instrumentations` entry is not a string".to_owned()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Bootstrap {
        libraries,
        default_instrumentations,
    })
}

/// The literal assigned to `name` at the start of a line (`name = …`).
fn assigned_literal(source: &str, name: &str) -> Result<Literal, String> {
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(name) {
            let rest = rest.trim_start_matches([' ', '\t']);
            if let Some(after) = rest
                .strip_prefix('=')
                .filter(|after| !after.starts_with('='))
            {
                let offset = line_start + (line.len() - after.len());
                let mut parser = LiteralParser {
                    source,
                    position: offset,
                    items: 0,
                };
                return parser.value(0);
            }
        }
        line_start += line.len();
    }
    Err(format!("no `{name} = …` assignment"))
}

/// A parser for the Python literals of `bootstrap_gen.py`: strings (with escapes and
/// implicit concatenation), lists, tuples and dicts, with comments and trailing commas.
struct LiteralParser<'a> {
    source: &'a str,
    position: usize,
    /// Values parsed so far (capped at [`MAXIMUM_ITEMS`]).
    items: usize,
}

impl LiteralParser<'_> {
    fn rest(&self) -> &str {
        &self.source[self.position..]
    }

    fn error(&self, message: &str) -> String {
        let line = self.source[..self.position].matches('\n').count() + 1;
        format!("line {line}: {message}")
    }

    /// Skips whitespace (newlines included: literals here are always bracketed),
    /// comments and line continuations.
    fn skip_blank(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n', '\\']);
            self.position += rest.len() - trimmed.len();
            if self.rest().starts_with('#') {
                let end = self.rest().find('\n').unwrap_or(self.rest().len());
                self.position += end;
            } else {
                return;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Literal, String> {
        self.items += 1;
        if self.items > MAXIMUM_ITEMS {
            return Err(self.error(&format!("more than {MAXIMUM_ITEMS} values")));
        }
        self.skip_blank();
        let opens_bracket = self.rest().starts_with(['[', '(', '{']);
        if opens_bracket && depth >= MAXIMUM_DEPTH {
            return Err(self.error(&format!("nested more than {MAXIMUM_DEPTH} levels deep")));
        }
        match self.rest().chars().next() {
            Some('[') => self.sequence('[', ']', depth).map(Literal::List),
            Some('(') => self.sequence('(', ')', depth).map(Literal::List),
            Some('{') => self.dict(depth),
            Some('"' | '\'') => {
                let mut text = self.string()?;
                // Implicit concatenation: "a" "b".
                loop {
                    self.skip_blank();
                    if !self.rest().starts_with(['"', '\'']) {
                        break;
                    }
                    text.push_str(&self.string()?);
                }
                Ok(Literal::String(text))
            }
            _ => Err(self.error("expected a string, list or dict")),
        }
    }

    fn sequence(&mut self, open: char, close: char, depth: usize) -> Result<Vec<Literal>, String> {
        self.position += open.len_utf8();
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.rest().starts_with(close) {
                self.position += close.len_utf8();
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            self.skip_blank();
            if self.rest().starts_with(',') {
                self.position += 1;
            } else if !self.rest().starts_with(close) {
                return Err(self.error(&format!("expected `,` or `{close}`")));
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Literal, String> {
        self.position += 1;
        let mut pairs = Vec::new();
        loop {
            self.skip_blank();
            if self.rest().starts_with('}') {
                self.position += 1;
                return Ok(Literal::Dict(pairs));
            }
            let key = self.value(depth + 1)?;
            self.skip_blank();
            if !self.rest().starts_with(':') {
                return Err(self.error("expected `:`"));
            }
            self.position += 1;
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
            self.skip_blank();
            if self.rest().starts_with(',') {
                self.position += 1;
            } else if !self.rest().starts_with('}') {
                return Err(self.error("expected `,` or `}`"));
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let rest = self.rest();
        let quote = rest
            .chars()
            .next()
            .ok_or_else(|| self.error("expected a string"))?;
        if rest.starts_with(&format!("{quote}{quote}{quote}")) {
            return Err(self.error("triple-quoted strings are not supported"));
        }
        let mut text = String::new();
        let mut characters = rest.char_indices().skip(1);
        while let Some((index, character)) = characters.next() {
            match character {
                '\\' => {
                    let Some((_, escaped)) = characters.next() else {
                        break;
                    };
                    match escaped {
                        'n' => text.push('\n'),
                        't' => text.push('\t'),
                        '\n' => {}
                        '\\' | '\'' | '"' => text.push(escaped),
                        other => {
                            text.push('\\');
                            text.push(other);
                        }
                    }
                }
                '\n' => break,
                _ if character == quote => {
                    self.position += index + 1;
                    return Ok(text);
                }
                _ => text.push(character),
            }
        }
        Err(self.error("unterminated string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_hostile_files_with_a_message() {
        let deep = format!(
            "libraries = {}{}\ndefault_instrumentations = []\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let error = parse_bootstrap_gen(&deep).expect_err("too deep");
        assert!(error.contains("nested"), "{error}");

        let huge = format!(
            "libraries = []\ndefault_instrumentations = []\n#{}\n",
            "x".repeat(MAXIMUM_BYTES)
        );
        assert!(parse_bootstrap_gen(&huge)
            .expect_err("too big")
            .contains("bytes"));

        let many = format!(
            "libraries = [{}]\ndefault_instrumentations = []\n",
            "'a',".repeat(MAXIMUM_ITEMS + 1)
        );
        assert!(parse_bootstrap_gen(&many)
            .expect_err("too many")
            .contains("values"));

        for truncated in [
            "libraries = [{\"library\": \"flask\", \"instrumentation\": \"x\"",
            "libraries = [\ndefault_instrumentations = [",
            "libraries = []\ndefault_instrumentations = [\"a\\",
            "libraries = []\ndefault_instrumentations = [\"é",
            "",
            "libraries = ",
        ] {
            assert!(parse_bootstrap_gen(truncated).is_err(), "{truncated:?}");
        }
    }

    const SEED: &str = "# c\nlibraries = [\n    {\"library\": \"flask >= 1.0\", \"instrumentation\": \"opentelemetry-instrumentation-flask==0.67b0\"},  # x\n    {\n        'library': 'pydantic >= 1.10.2',\n        \"instrumentation\": \"opentelemetry-instrumentation-tortoiseorm==0.67b0\",\n    },\n]\ndefault_instrumentations = (\n    \"opentelemetry-instrumentation-asyncio\" \"==0.67b0\",\n    'opentelemetry-instrumentation-dbapi==0.67b0\\\n',\n)\n";

    #[test]
    fn every_prefix_of_a_valid_file_is_handled() {
        assert!(
            parse_bootstrap_gen(SEED).is_ok(),
            "{:?}",
            parse_bootstrap_gen(SEED)
        );
        for (index, _) in SEED.char_indices() {
            let _ = parse_bootstrap_gen(&SEED[..index]);
            crate::registry::derive::fuzz(&SEED.as_bytes()[..index]);
            crate::registry::derive::fuzz(&SEED.as_bytes()[index..]);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn arbitrary_text_never_panics(text in "(libraries = |default_instrumentations = |[\\[\\](){},:'\"#\\\\\n =a-z0-9.<>])*") {
            let _ = parse_bootstrap_gen(&text);
            crate::registry::derive::fuzz(text.as_bytes());
        }

        #[test]
        fn arbitrary_unicode_inside_a_list_never_panics(inner in "\\PC{0,200}", quote in "[\"']") {
            let text = format!("libraries = [{quote}{inner}\ndefault_instrumentations = [{quote}{inner}{quote}]\n");
            let _ = parse_bootstrap_gen(&text);
            crate::registry::derive::fuzz(text.as_bytes());
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_first_position() {
        let bootstrap = parse_bootstrap_gen(
            "libraries = {'a': {'library': 'a', 'instrumentation': 'x'}, 'b': {'library': 'b', 'instrumentation': 'y'}, 'a': {'library': 'a2', 'instrumentation': 'x'}}\ndefault_instrumentations = ()\n",
        )
        .expect("parses");
        assert_eq!(
            bootstrap.libraries,
            [
                ("a2".to_owned(), "x".to_owned()),
                ("b".to_owned(), "y".to_owned())
            ]
        );
    }
}
