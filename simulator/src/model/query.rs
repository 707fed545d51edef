//! Row filters: the query string of a GET and the `.query` stack of a `print` command.
//!
//! A query string `?list=x&dynamic=true` keeps rows where every key equals its value exactly. The
//! `.query` of `POST .../print` is the RouterOS API query stack: each word pushes a truth value
//! (`key=value`, `key<value`, `key>value`, `key` for "has the key", `-key` for "lacks it") and `#`
//! words combine the stack (`|` or, `&` and, `!` not, `.` duplicate, a digit copies that entry); at
//! the end every value left on the stack must be true. The words are checked when parsed, so a
//! malformed stack is refused before any row is read.

use super::args::parse_bool;
use super::failure::Failure;
use super::row::Row;

/// One word of a `.query`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    Eq(String, String),
    Lt(String, String),
    Gt(String, String),
    Has(String),
    Lacks(String),
    Ops(Vec<Op>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Or,
    And,
    Not,
    Dup,
    Copy(usize),
}

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<Word>,
}

fn invalid() -> Failure {
    Failure::bad_request("invalid query")
}

impl Query {
    /// Exact matches from a query string (already split into pairs).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let words: Vec<Word> = pairs.into_iter().map(|(k, v)| Word::Eq(k, v)).collect();
        Self { words }
    }

    /// A `.query` word list.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Self, Failure> {
        let mut out = Vec::new();
        let mut depth: usize = 0;
        for raw in words {
            let w = raw.strip_prefix('?').unwrap_or(raw);
            let word = if let Some(ops) = w.strip_prefix('#') {
                let mut parsed = Vec::new();
                for c in ops.chars() {
                    let op = match c {
                        '|' => Op::Or,
                        '&' => Op::And,
                        '!' => Op::Not,
                        '.' => Op::Dup,
                        d if d.is_ascii_digit() => Op::Copy(d as usize - '0' as usize),
                        _ => return Err(invalid()),
                    };
                    depth = match op {
                        Op::Or | Op::And if depth >= 2 => depth - 1,
                        Op::Not if depth >= 1 => depth,
                        Op::Dup if depth >= 1 => depth + 1,
                        Op::Copy(i) if i < depth => depth + 1,
                        _ => return Err(invalid()),
                    };
                    parsed.push(op);
                }
                Word::Ops(parsed)
            } else {
                depth += 1;
                if let Some(key) = w.strip_prefix('-') {
                    Word::Lacks(key.to_owned())
                } else if let Some((k, v)) = w.split_once('=') {
                    Word::Eq(k.to_owned(), v.to_owned())
                } else if let Some((k, v)) = w.split_once('<') {
                    Word::Lt(k.to_owned(), v.to_owned())
                } else if let Some((k, v)) = w.split_once('>') {
                    Word::Gt(k.to_owned(), v.to_owned())
                } else if w.is_empty() {
                    return Err(invalid());
                } else {
                    Word::Has(w.to_owned())
                }
            };
            out.push(word);
        }
        Ok(Self { words: out })
    }

    /// Also requires `key` to equal `value` (the words left on the stack are and-ed).
    pub fn and_eq(&mut self, key: &str, value: &str) {
        self.words.push(Word::Eq(key.to_owned(), value.to_owned()));
    }

    /// Whether the filter is empty (keeps every row).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether `row` passes.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let mut stack: Vec<bool> = Vec::with_capacity(self.words.len());
        for w in &self.words {
            match w {
                Word::Eq(k, v) => stack.push(row.get(k).is_some_and(|x| equal(x, v))),
                Word::Lt(k, v) => stack.push(row.get(k).is_some_and(|x| compare(x, v).is_lt())),
                Word::Gt(k, v) => stack.push(row.get(k).is_some_and(|x| compare(x, v).is_gt())),
                Word::Has(k) => stack.push(row.get(k).is_some()),
                Word::Lacks(k) => stack.push(row.get(k).is_none()),
                Word::Ops(ops) => {
                    for op in ops {
                        // Depths were checked in `parse`, so the pops cannot fail.
                        match op {
                            Op::Or | Op::And => {
                                let b = stack.pop().unwrap_or(false);
                                let a = stack.pop().unwrap_or(false);
                                stack.push(if *op == Op::Or { a || b } else { a && b });
                            }
                            Op::Not => {
                                if let Some(top) = stack.last_mut() {
                                    *top = !*top;
                                }
                            }
                            Op::Dup => stack.push(stack.last().copied().unwrap_or(false)),
                            Op::Copy(i) => stack.push(stack.get(*i).copied().unwrap_or(false)),
                        }
                    }
                }
            }
        }
        stack.into_iter().all(|b| b)
    }
}

/// Numbers compare as numbers, everything else as text.
/// Whether a row's value equals a filter's: exactly, or as the same boolean, since a router reads a
/// query value with the property's type and so takes `yes`/`no` for `true`/`false` (it prints
/// `true`/`false`, and its own completion for boolean arguments is `no, yes`: restraml
/// `docs/7.22.3/deep-inspect.json`).
fn equal(value: &str, wanted: &str) -> bool {
    value == wanted
        || matches!(
            (parse_bool(value), parse_bool(wanted)),
            (Some(a), Some(b)) if a == b
        )
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(list: &str, dynamic: &str, comment: Option<&str>, n: &str) -> Row<'static> {
        let mut r = Row::with_capacity(4);
        r.push("comment", comment.map(str::to_owned).unwrap_or_default());
        r.push("dynamic", dynamic.to_owned());
        r.push("list", list.to_owned());
        r.push("n", n.to_owned());
        if comment.is_none() {
            // Rebuild without the comment so `-comment` can be tested.
            let mut r2 = Row::with_capacity(3);
            r2.push("dynamic", dynamic.to_owned());
            r2.push("list", list.to_owned());
            r2.push("n", n.to_owned());
            return r2;
        }
        r
    }

    fn check(words: &[&str], expected: [bool; 4]) {
        let rows = [
            row("a", "true", Some("x"), "5"),
            row("a", "false", None, "10"),
            row("b", "true", None, "20"),
            row("c", "false", Some("y"), "3"),
        ];
        let q = Query::parse(words.iter().copied()).unwrap();
        let got: Vec<bool> = rows.iter().map(|r| q.matches(r)).collect();
        assert_eq!(got, expected, "{words:?}");
    }

    #[test]
    fn stack_semantics() {
        check(&[], [true; 4]);
        check(&["list=a"], [true, true, false, false]);
        check(&["list=a", "dynamic=true"], [true, false, false, false]);
        check(&["list=a", "list=b", "#|"], [true, true, true, false]);
        check(&["list=a", "#!"], [false, false, true, true]);
        check(
            &["list=a", "dynamic=true", "#&"],
            [true, false, false, false],
        );
        check(&["comment"], [true, false, false, true]);
        check(&["-comment"], [false, true, true, false]);
        check(&["n<10"], [true, false, false, true]);
        check(&["n>5"], [false, true, true, false]);
        check(&["?list=c"], [false, false, false, true]);
        check(&["list=a", "list=b", "list=c", "#||"], [true; 4]);
        check(&["list=a", "#.!&"], [false; 4]);
        check(
            &["list=b", "dynamic=true", "#0|"],
            [false, false, true, false],
        );
    }

    #[test]
    fn booleans_match_as_yes_or_no() {
        let r = row("a", "true", None, "1");
        for (word, keeps) in [
            ("dynamic=yes", true),
            ("dynamic=true", true),
            ("dynamic=no", false),
            ("dynamic=false", false),
            ("list=a", true),
            ("list=yes", false),
        ] {
            let q = Query::parse([word]).unwrap();
            assert_eq!(q.matches(&r), keeps, "{word}");
        }
        let q = Query::from_pairs([("dynamic".to_owned(), "yes".to_owned())]);
        assert!(q.matches(&r));
    }

    #[test]
    fn malformed_stacks_are_refused() {
        for bad in [
            vec!["#|"],
            vec!["list=a", "#&"],
            vec!["#!"],
            vec!["list=a", "#x"],
            vec![""],
            vec!["a", "#5"],
        ] {
            assert_eq!(Query::parse(bad.iter().copied()), Err(invalid()), "{bad:?}");
        }
    }
}
