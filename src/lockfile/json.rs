//! A small JSON reader that keeps the line of every value, for `Pipfile.lock`.
//!
//! `serde_json` says where a syntax error is but not where a valid value was, and a
//! lock's messages name the line of the package they are about. This reader is one
//! linear pass over the text (RFC 8259: objects, arrays, strings with escapes, numbers,
//! literals), nests at most [`MAX_DEPTH`] deep, and reports the first error with its line;
//! it never panics, whatever the input.

/// How deep arrays and objects may nest: a lock nests four levels.
pub(crate) const MAX_DEPTH: usize = 64;

/// A value and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) line: usize,
    pub(crate) value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// The number as written (never interpreted by the lock readers).
    Number(String),
    String(String),
    Array(Vec<Node>),
    /// Members in file order: key, the key's line, value.
    Object(Vec<(String, usize, Node)>),
}

impl Node {
    /// The member `key` of an object (the last one, as JSON readers do).
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members
                .iter()
                .rev()
                .find(|(name, _, _)| name == key)
                .map(|(_, _, node)| node),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// What the value is, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// A syntax error: the line and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// Parses `text` as one JSON document (surrounding whitespace allowed).
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        position: 0,
        line: 1,
    };
    reader.skip_whitespace();
    let node = reader.value(0)?;
    reader.skip_whitespace();
    if reader.position < reader.bytes.len() {
        return Err(reader.error("unexpected text after the JSON document"));
    }
    Ok(node)
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    line: usize,
}

impl Reader<'_> {
    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.position += 1;
        }
    }

    fn expect(&mut self, wanted: u8) -> Result<(), SyntaxError> {
        if self.peek() == Some(wanted) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{}`", wanted as char)))
        }
    }

    fn unexpected(&self, wanted: &str) -> SyntaxError {
        match self.peek() {
            None => self.error(format!("expected {wanted}, found the end of the file")),
            Some(byte) if byte.is_ascii_graphic() => {
                self.error(format!("expected {wanted}, found `{}`", byte as char))
            }
            Some(byte) => self.error(format!("expected {wanted}, found byte 0x{byte:02x}")),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let line = self.line;
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.unexpected("a JSON value")),
        };
        Ok(Node { line, value })
    }

    fn nested(&self, depth: usize) -> Result<usize, SyntaxError> {
        if depth >= MAX_DEPTH {
            Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")))
        } else {
            Ok(depth + 1)
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let depth = self.nested(depth)?;
        self.position += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.position += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a key in double quotes"));
            }
            let key_line = self.line;
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            let node = self.value(depth)?;
            members.push((key, key_line, node));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b'}') => {
                    self.position += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let depth = self.nested(depth)?;
        self.position += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.position += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b']') => {
                    self.position += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected("`,` or `]`")),
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, SyntaxError> {
        if self.bytes[self.position..].starts_with(word.as_bytes()) {
            self.position += word.len();
            Ok(value)
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.position;
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        let digits = |reader: &mut Self| {
            let from = reader.position;
            while reader.peek().is_some_and(|byte| byte.is_ascii_digit()) {
                reader.position += 1;
            }
            reader.position > from
        };
        if !digits(self) {
            return Err(self.unexpected("a digit"));
        }
        if self.peek() == Some(b'.') {
            self.position += 1;
            if !digits(self) {
                return Err(self.unexpected("a digit"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.position += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.position += 1;
            }
            if !digits(self) {
                return Err(self.unexpected("a digit"));
            }
        }
        // Only ASCII was consumed, so the slice is on character boundaries.
        let text = String::from_utf8_lossy(&self.bytes[start..self.position]).into_owned();
        Ok(Value::Number(text))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.position += 1;
        let mut bytes = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("a string is not closed"));
            };
            self.position += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(escape) = self.peek() else {
                        return Err(self.error("a string is not closed"));
                    };
                    self.position += 1;
                    let decoded = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error("an invalid escape in a string")),
                    };
                    let mut buffer = [0; 4];
                    bytes.extend_from_slice(decoded.encode_utf8(&mut buffer).as_bytes());
                }
                0x00..=0x1f => {
                    return Err(self.error("a control character in a string (escape it)"))
                }
                _ => bytes.push(byte),
            }
        }
        // The text was UTF-8 and escapes add whole characters.
        String::from_utf8(bytes).map_err(|_| self.error("a string is not UTF-8"))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .bytes
            .get(self.position..self.position + 4)
            .ok_or_else(|| self.error("an incomplete `\\u` escape"))?;
        let mut value = 0;
        for digit in digits {
            let nibble = (*digit as char)
                .to_digit(16)
                .ok_or_else(|| self.error("an invalid `\\u` escape"))?;
            value = value * 16 + nibble;
        }
        self.position += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&first) {
            if !self.bytes[self.position..].starts_with(b"\\u") {
                return Err(self.error("a lone surrogate in a `\\u` escape"));
            }
            self.position += 2;
            let second = self.hex4()?;
            if !(0xdc00..0xe000).contains(&second) {
                return Err(self.error("a lone surrogate in a `\\u` escape"));
            }
            0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("a lone surrogate in a `\\u` escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_lines() {
        let node = parse("{\n  \"a\": [1, -2.5e3, true],\n  \"b\": {\"c\": \"x\\u00e9\\ud83d\\ude00\\n\"},\n  \"d\": null\n}\n").unwrap();
        assert_eq!(node.line, 1);
        let Value::Object(members) = &node.value else {
            panic!("{node:?}")
        };
        let lines: Vec<(&str, usize)> = members
            .iter()
            .map(|(key, line, _)| (key.as_str(), *line))
            .collect();
        assert_eq!(lines, [("a", 2), ("b", 3), ("d", 4)]);
        assert_eq!(
            node.get("b")
                .and_then(|b| b.get("c"))
                .and_then(Node::as_str),
            Some("xé😀\n")
        );
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, message) in [
            (
                "{\n\"a\": 1,\n}",
                3,
                "expected a key in double quotes, found `}`",
            ),
            ("{\"a\": tru}", 1, "expected a JSON value, found `t`"),
            ("[1]\n x", 2, "unexpected text after the JSON document"),
            ("\"\\ud800\"", 1, "a lone surrogate in a `\\u` escape"),
            (
                "{\"a\": \"\n\"}",
                1,
                "a control character in a string (escape it)",
            ),
            ("", 1, "expected a JSON value, found the end of the file"),
            ("-", 1, "expected a digit, found the end of the file"),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(
                (error.line, error.message.as_str()),
                (line, message),
                "{text:?}"
            );
        }
    }

    #[test]
    fn nesting_is_capped() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nested deeper"));
        let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&fine).is_ok());
    }
}
