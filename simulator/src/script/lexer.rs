//! Character-level reading of a script: positions, blanks, line continuation, words and
//! double-quoted strings.
//!
//! RouterOS tokens depend on where they stand (`list=my-list` is one word in an argument,
//! `($a-1)` is a subtraction in an expression), so the parser drives this cursor directly instead
//! of consuming a token stream. Line structure follows the manual ("Scripting", sections "Line
//! structure" and "Line joining"): `;` and newlines end a command, a backslash at the end of a
//! line joins it with the next, `#` starts a comment that runs to the end of the line.

use super::error::{Pos, ScriptError};

/// A cursor over the source's characters.
#[derive(Debug)]
pub struct Cursor {
    chars: Vec<char>,
    /// The index of each line's first character, for turning indexes into positions.
    line_starts: Vec<usize>,
    /// The index of the next character.
    pub i: usize,
}

impl Cursor {
    /// A cursor at the start of `source`.
    pub fn new(source: &str) -> Self {
        let chars: Vec<char> = source.chars().collect();
        let mut line_starts = vec![0];
        line_starts.extend(
            chars
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i + 1),
        );
        Self {
            chars,
            line_starts,
            i: 0,
        }
    }

    /// The next character, if any.
    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    /// The character `n` places ahead.
    pub fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    /// Whether the next characters are `s`.
    pub fn looking_at(&self, s: &str) -> bool {
        (self.i..)
            .zip(s.chars())
            .all(|(j, c)| self.chars.get(j) == Some(&c))
    }

    /// Consumes one character.
    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    /// Consumes `c` if it is next.
    pub fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Whether the input is used up.
    pub fn at_end(&self) -> bool {
        self.i >= self.chars.len()
    }

    /// The line and column of character index `at`.
    pub fn pos_of(&self, at: usize) -> Pos {
        let line = self.line_starts.partition_point(|&s| s <= at);
        let start = self.line_starts[line - 1];
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(at - start + 1).unwrap_or(u32::MAX),
        }
    }

    /// A syntax error at character index `at`.
    pub fn error_at(&self, message: impl Into<String>, at: usize) -> ScriptError {
        ScriptError::syntax(message, self.pos_of(at))
    }

    /// Skips spaces, tabs and backslash-newline continuations, not newlines.
    pub fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => self.i += 1,
                Some('\\') if self.peek_at(1) == Some('\n') => self.i += 2,
                Some('\\') if self.peek_at(1) == Some('\r') && self.peek_at(2) == Some('\n') => {
                    self.i += 3
                }
                // A lone carriage return (Windows line ends) counts as a blank; the newline
                // after it ends the line.
                Some('\r') if self.peek_at(1) == Some('\n') => self.i += 1,
                _ => return,
            }
        }
    }

    /// Skips blanks and newlines too (inside parentheses and array literals).
    pub fn skip_space(&mut self) {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('\n' | '\r') => self.i += 1,
                _ => return,
            }
        }
    }

    /// Skips a `#` comment up to (not including) the end of the line.
    pub fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.i += 1;
        }
    }

    /// Reads characters while `accept` holds.
    pub fn take_while(&mut self, accept: impl Fn(char) -> bool) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if !accept(c) {
                break;
            }
            self.i += 1;
        }
        self.chars[start..self.i].iter().collect()
    }

    /// The characters from `start` to the cursor.
    pub fn text_from(&self, start: usize) -> String {
        self.chars[start..self.i].iter().collect()
    }

    /// Whether the next characters, read with `accept`, would be `word` followed by something
    /// `accept` refuses.
    pub fn next_word_is(&self, word: &str, accept: impl Fn(char) -> bool) -> bool {
        self.looking_at(word)
            && self
                .chars
                .get(self.i + word.chars().count())
                .is_none_or(|c| !accept(*c))
    }
}

/// Characters of a command or menu word (`address-list`, `add`).
pub fn is_command_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Characters of an argument name (`list`, `.id`, `value-name`).
pub fn is_arg_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// Characters of a variable name. The router allows letters and digits only; any other name must
/// be quoted (`$"my-var"`). An underscore ends the name, which is why `:local MAX_ACTIONS 200`
/// fails with `expected end of command` at the underscore on a real router (reported for a
/// hAP ax2 running RouterOS 7).
pub fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Characters that end an unquoted argument value.
pub fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, ';' | '=' | ']' | '}' | ')' | '"' | '{' | '[' | '(' | '$')
}

/// Decodes one escape after a backslash inside a string (the backslash already consumed), per
/// the manual's table: `\"` `\\` `\n` `\r` `\t` `\$` `\?` `\_` (space) `\a` `\b` `\f` `\v` and
/// two hexadecimal digits for any byte. Returns the bytes, or `None` for an unknown escape.
pub fn decode_escape(cur: &mut Cursor) -> Option<Vec<u8>> {
    let c = cur.bump()?;
    let simple = match c {
        '"' => b'"',
        '\\' => b'\\',
        'n' => b'\n',
        'r' => b'\r',
        't' => b'\t',
        '$' => b'$',
        '?' => b'?',
        '_' => b' ',
        'a' => 0x07,
        'b' => 0x08,
        'f' => 0x0c,
        'v' => 0x0b,
        '\n' => return Some(Vec::new()),
        '\r' if cur.peek() == Some('\n') => {
            cur.bump();
            return Some(Vec::new());
        }
        // Hexadecimal escapes use capital letters (the manual says so, and `\a`, `\b`, `\f` are
        // control characters).
        h if is_upper_hex(h) => {
            let l = cur.peek().filter(|c| is_upper_hex(*c))?;
            cur.bump();
            let byte = (h.to_digit(16)? * 16 + l.to_digit(16)?) as u8;
            return Some(vec![byte]);
        }
        _ => return None,
    };
    Some(vec![simple])
}

/// A digit or a capital hexadecimal letter.
fn is_upper_hex(c: char) -> bool {
    c.is_ascii_digit() || ('A'..='F').contains(&c)
}
