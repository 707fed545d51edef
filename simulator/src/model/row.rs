//! [`Row`]: one item as the router shows it, and [`Proplist`]: the keys a print asks for.
//!
//! Every value a real router prints is a string and keys come out sorted with `.id` first
//! (ROUTEROS-REST.md section 3). A [`Row`] keeps its fields in key order by construction (checked
//! in debug builds), so whoever renders it, JSON for REST or a value for a script, only walks it.
//! Rows are plain data: rendering them as JSON is `rest/json.rs`'s business.

use std::borrow::Cow;

/// One field of a row: a key and its string value.
pub type Field<'a> = (&'static str, Cow<'a, str>);

/// A row as the router shows it: fields sorted by key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    fields: Vec<Field<'a>>,
}

impl<'a> Row<'a> {
    /// An empty row with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    /// Adds a field. Callers add fields in sorted key order; debug builds check it.
    pub fn push(&mut self, key: &'static str, value: impl Into<Cow<'a, str>>) {
        debug_assert!(
            self.fields.last().is_none_or(|(k, _)| *k < key),
            "row keys out of order at {key}"
        );
        self.fields.push((key, value.into()));
    }

    /// Adds a field only when it has a value.
    pub fn push_opt(&mut self, key: &'static str, value: Option<impl Into<Cow<'a, str>>>) {
        if let Some(v) = value {
            self.push(key, v);
        }
    }

    /// The value of `key`, if the row has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// The fields in key order.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    /// The same row owning its values, so that it outlives the router's lock.
    pub fn into_owned(self) -> Row<'static> {
        Row {
            fields: self
                .fields
                .into_iter()
                .map(|(k, v)| (k, Cow::Owned(v.into_owned())))
                .collect(),
        }
    }
}

/// A `.proplist`: the keys a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proplist {
    keys: Vec<String>,
    /// Whether `.id` comes back even when not asked for (RouterOS 7.x does this for a GET's
    /// `.proplist`; 7.1-era did not, and a `print` command's never does).
    keep_id: bool,
}

impl Proplist {
    /// A proplist from a comma-separated list or several words.
    pub fn new<'s>(words: impl IntoIterator<Item = &'s str>, keep_id: bool) -> Self {
        let keys = words
            .into_iter()
            .flat_map(|w| w.split(','))
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        Self { keys, keep_id }
    }

    /// Whether a row's `key` is kept.
    pub fn keeps(&self, key: &str) -> bool {
        (self.keep_id && key == ".id") || self.keys.iter().any(|k| k == key)
    }
}

/// RouterOS's boolean text.
pub fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}
