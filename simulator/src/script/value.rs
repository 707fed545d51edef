//! Script values with the router's types, their text forms and the typing of bare words.
//!
//! RouterOS scripting has the types `str`, `num`, `bool`, `ip`, `ip-prefix`, `ip6`, `ip6-prefix`,
//! `time`, `array`, `id`, `nil` and `nothing`; `:typeof` prints exactly these names (MikroTik
//! manual "Scripting", section "Data types"; the names are the ones scripts in the wild compare
//! against, e.g. `[:typeof [:find $s "x"]] = "nil"`, `[:typeof $v] = "ip-prefix"`).
//! `nothing` is what an unset variable or `:nothing` holds; `nil` is what `:find` returns when it
//! finds nothing and what a failed conversion (`:tonum "x"`) gives.
//!
//! A bare word in an argument or an expression is typed by its shape, as the router does:
//! `10` is a `num`, `1.2.3.4` an `ip`, `10.0.0.0/8` an `ip-prefix`, `1h30m` and `00:01:00` a
//! `time`, `*1A` an `id`, `true` a `bool`, anything else a `str`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// One script value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value at all: an unset variable, `:nothing`, a command that returns nothing.
    #[default]
    Nothing,
    /// The empty value `:find` and failed conversions return.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit signed integer (the router has no fractions).
    Num(i64),
    /// A string (RouterOS strings are bytes; the simulator keeps valid UTF-8).
    Str(String),
    /// An IPv4 address.
    Ip(Ipv4Addr),
    /// An IPv4 prefix as written (`10.0.0.1/8` keeps its host bits, as the literal does).
    IpPrefix(Ipv4Net),
    /// An IPv6 address.
    Ip6(Ipv6Addr),
    /// An IPv6 prefix.
    Ip6Prefix(Ipv6Net),
    /// A duration in nanoseconds.
    Time(i64),
    /// An internal item id such as `*1A`, as `find` and `add` return them.
    Id(String),
    /// An array: positional items and keyed items.
    Array(Array),
}

impl Value {
    /// The type name `:typeof` prints.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Nothing => "nothing",
            Self::Nil => "nil",
            Self::Bool(_) => "bool",
            Self::Num(_) => "num",
            Self::Str(_) => "str",
            Self::Ip(_) => "ip",
            Self::IpPrefix(_) => "ip-prefix",
            Self::Ip6(_) => "ip6",
            Self::Ip6Prefix(_) => "ip6-prefix",
            Self::Time(_) => "time",
            Self::Id(_) => "id",
            Self::Array(_) => "array",
        }
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// The text a command receives for this value: arrays become comma-separated lists (the
    /// form `numbers=*1,*2` takes), everything else its `:tostr` form.
    pub fn arg_text(&self) -> String {
        match self {
            Self::Array(a) => {
                let mut out = String::new();
                for (i, (_, v)) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&v.arg_text());
                }
                out
            }
            other => other.to_string(),
        }
    }

    /// A rough size in bytes, used to bound what a script may build.
    pub fn weight(&self) -> usize {
        match self {
            Self::Str(s) | Self::Id(s) => s.len() + 8,
            Self::Array(a) => a.weight,
            _ => 8,
        }
    }

    /// Whether this value counts as empty for `:len` and string conversion.
    pub fn is_empty_value(&self) -> bool {
        matches!(self, Self::Nothing | Self::Nil)
    }

    /// Types a bare word by its shape (see the module documentation).
    pub fn from_word(word: &str) -> Self {
        if word == "true" {
            return Self::Bool(true);
        }
        if word == "false" {
            return Self::Bool(false);
        }
        if let Some(hex) = word.strip_prefix('*')
            && !hex.is_empty()
            && hex.len() <= 16
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Self::Id(word.to_owned());
        }
        if let Some(n) = parse_num(word) {
            return Self::Num(n);
        }
        if let Ok(ip) = word.parse::<Ipv4Addr>() {
            return Self::Ip(ip);
        }
        if word.contains('/')
            && word.contains('.')
            && !word.contains(':')
            && let Ok(net) = word.parse::<Ipv4Net>()
        {
            return Self::IpPrefix(net);
        }
        if let Some(t) = parse_time(word) {
            return Self::Time(t);
        }
        if word.contains(':') {
            if let Ok(ip) = word.parse::<Ipv6Addr>() {
                return Self::Ip6(ip);
            }
            if let Ok(net) = word.parse::<Ipv6Net>() {
                return Self::Ip6Prefix(net);
            }
        }
        Self::Str(word.to_owned())
    }

    /// `:tobool`: booleans, `true`/`false`/`yes`/`no`, and numbers (non-zero is true).
    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Num(n) => Some(*n != 0),
            Self::Str(s) => match s.as_str() {
                "true" | "yes" => Some(true),
                "false" | "no" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// `:tonum`: numbers, numeric strings (decimal or `0x` hex), times in whole seconds,
    /// booleans as 1 and 0, IPv4 addresses as their 32-bit value.
    pub fn to_num(&self) -> Option<i64> {
        match self {
            Self::Num(n) => Some(*n),
            Self::Str(s) => parse_num(s.trim()),
            Self::Time(t) => Some(t / NANOS_PER_SEC),
            Self::Bool(b) => Some(i64::from(*b)),
            Self::Ip(ip) => Some(i64::from(u32::from(*ip))),
            _ => None,
        }
    }

    /// `:totime`: times, numbers as seconds, strings in any time form the router accepts.
    pub fn to_time(&self) -> Option<i64> {
        match self {
            Self::Time(t) => Some(*t),
            Self::Num(n) => n.checked_mul(NANOS_PER_SEC),
            Self::Str(s) => {
                let s = s.trim();
                parse_num(s)
                    .and_then(|n| n.checked_mul(NANOS_PER_SEC))
                    .or_else(|| parse_time(s))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// The `:tostr` / `:put` form: times as `1d02:00:00`, arrays joined with `;` (keyed items as
    /// `key=value`), nothing and nil as the empty string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nothing | Self::Nil => Ok(()),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Num(n) => write!(f, "{n}"),
            Self::Str(s) | Self::Id(s) => f.write_str(s),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::IpPrefix(n) => write!(f, "{}/{}", n.addr(), n.prefix_len()),
            Self::Ip6(ip) => write!(f, "{ip}"),
            Self::Ip6Prefix(n) => write!(f, "{}/{}", n.addr(), n.prefix_len()),
            Self::Time(t) => f.write_str(&format_time(*t)),
            Self::Array(a) => {
                for (i, (key, v)) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_char(';')?;
                    }
                    if let Key::Name(k) = key {
                        write!(f, "{k}=")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
        }
    }
}

/// Orders two values of the same kind (`<`, `>`): numbers, strings (bytewise), addresses,
/// times, booleans. Values of different kinds have no order.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value as V;
    match (a, b) {
        (V::Num(x), V::Num(y)) => Some(x.cmp(y)),
        (V::Str(x), V::Str(y)) | (V::Id(x), V::Id(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (V::Ip(x), V::Ip(y)) => Some(x.cmp(y)),
        (V::Ip6(x), V::Ip6(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::IpPrefix(x), V::IpPrefix(y)) => Some(x.cmp(y)),
        (V::Ip6Prefix(x), V::Ip6Prefix(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The key of an array item: its position, or its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A positional item.
    Index(usize),
    /// A keyed item.
    Name(String),
}

impl Key {
    /// The key as a script value (`:foreach k,v` binds it): a `num` or a `str`.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Index(i) => Value::Num(i64::try_from(*i).unwrap_or(i64::MAX)),
            Self::Name(n) => Value::Str(n.clone()),
        }
    }
}

/// An array: positional items in order, then keyed items sorted by key, which is the order the
/// router prints and iterates them in (`{"b"=1;"a"=2}` prints `a=2;b=1`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Array {
    items: Vec<Value>,
    keyed: BTreeMap<String, Value>,
    /// The sum of the items' weights, kept current so that size checks cost nothing.
    weight: usize,
}

impl Array {
    /// An empty array.
    pub fn new() -> Self {
        Self {
            items: Vec::new(),
            keyed: BTreeMap::new(),
            weight: 8,
        }
    }

    /// An array of positional items.
    pub fn from_values(values: Vec<Value>) -> Self {
        let weight = 8 + values.iter().map(Value::weight).sum::<usize>();
        Self {
            items: values,
            keyed: BTreeMap::new(),
            weight,
        }
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.items.len() + self.keyed.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a positional item.
    pub fn push(&mut self, v: Value) {
        self.weight += v.weight();
        self.items.push(v);
    }

    /// Sets a keyed item.
    pub fn insert(&mut self, key: String, v: Value) {
        self.weight += v.weight() + key.len();
        if let Some(old) = self.keyed.insert(key, v) {
            self.weight = self.weight.saturating_sub(old.weight());
        }
    }

    /// Looks an item up: a number is a position, a string a key (or, when no item has that
    /// key and the string is a number, a position).
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match key {
            Value::Num(n) => usize::try_from(*n).ok().and_then(|i| self.items.get(i)),
            other => {
                let k = other.to_string();
                self.keyed
                    .get(&k)
                    .or_else(|| k.parse::<usize>().ok().and_then(|i| self.items.get(i)))
            }
        }
    }

    /// A mutable slot for `:set ($a->key) value`, created when missing (a position one past the
    /// end appends; any other missing key becomes a keyed item).
    pub fn slot(&mut self, key: &Value) -> &mut Value {
        // The weight is recomputed by the caller after it wrote through the slot.
        if let Value::Num(n) = key
            && let Ok(i) = usize::try_from(*n)
            && i <= self.items.len()
        {
            if i == self.items.len() {
                self.items.push(Value::Nothing);
            }
            return &mut self.items[i];
        }
        let k = key.to_string();
        if !self.keyed.contains_key(&k)
            && let Ok(i) = k.parse::<usize>()
            && i < self.items.len()
        {
            return &mut self.items[i];
        }
        self.keyed.entry(k).or_default()
    }

    /// Recomputes the weight after writes through [`Array::slot`].
    /// Changes the item at `key` (made if missing) with `f`, keeping the array's weight current
    /// without walking every item: setting one element of a large array costs no more than the
    /// element (a script filling a keyed array of 10,000 addresses stays linear).
    pub fn update(&mut self, key: &Value, f: impl FnOnce(&mut Value)) {
        let (items, keyed) = (self.items.len(), self.keyed.len());
        let key_len = key.to_string().len();
        let slot = self.slot(key);
        let before = slot.weight();
        f(slot);
        let after = slot.weight();
        let created = if self.items.len() > items {
            8
        } else if self.keyed.len() > keyed {
            key_len + 8
        } else {
            0
        };
        self.weight = (self.weight + created + after).saturating_sub(before);
    }

    /// Recomputes the weight from every item.
    pub fn reweigh(&mut self) {
        self.weight = 8
            + self.items.iter().map(Value::weight).sum::<usize>()
            + self
                .keyed
                .iter()
                .map(|(k, v)| k.len() + v.weight())
                .sum::<usize>();
    }

    /// Items with their keys, positional first.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &Value)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, v)| (Key::Index(i), v))
            .chain(self.keyed.iter().map(|(k, v)| (Key::Name(k.clone()), v)))
    }

    /// The values in order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.items.iter().chain(self.keyed.values())
    }

    /// Appends every item of `other` (the `,` operator): positional items are appended, keyed
    /// items replace those with the same key.
    pub fn extend(&mut self, other: Array) {
        for v in other.items {
            self.push(v);
        }
        for (k, v) in other.keyed {
            self.insert(k, v);
        }
    }

    /// The positional items from `begin` up to (not including) `end`, as `:pick` takes them.
    pub fn slice(&self, begin: usize, end: usize) -> Array {
        let all: Vec<Value> = self.values().cloned().collect();
        let end = end.min(all.len());
        let begin = begin.min(end);
        Array::from_values(all[begin..end].to_vec())
    }
}

/// Nanoseconds in a second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Parses a decimal (optionally negative) or `0x` hexadecimal number.
pub fn parse_num(s: &str) -> Option<i64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok().map(|n| n as i64);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a RouterOS time: unit form (`1w2d3h4m5s`, `500ms`, `1.5s`), clock form
/// (`1w2d03:04:05.5`, `00:01:00`) or both. A bare number is not a time here (it is a `num`);
/// `:totime` handles that case itself.
pub fn parse_time(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = body;
    let mut any = false;
    // Unit-suffixed parts, stopping before a clock part `hh:mm:ss`.
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        let after = &rest[digits..];
        if after.starts_with(':') {
            break;
        }
        let value: i64 = rest[..digits].parse().ok()?;
        let (frac, after) = match after.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                (Some(&f[..n]), &f[n..])
            }
            None => (None, after),
        };
        let (unit, len) = if after.starts_with("ms") {
            (1_000_000, 2)
        } else if after.starts_with("us") {
            (1_000, 2)
        } else if after.starts_with("ns") {
            (1, 2)
        } else {
            match after.bytes().next()? {
                b'w' => (7 * 86_400 * NANOS_PER_SEC, 1),
                b'd' => (86_400 * NANOS_PER_SEC, 1),
                b'h' => (3_600 * NANOS_PER_SEC, 1),
                b'm' => (60 * NANOS_PER_SEC, 1),
                b's' => (NANOS_PER_SEC, 1),
                _ => return None,
            }
        };
        total = total.checked_add(value.checked_mul(unit)?)?;
        if let Some(frac) = frac {
            total = total.checked_add(fraction(frac, unit)?)?;
        }
        rest = &after[len..];
        any = true;
        if rest.is_empty() {
            break;
        }
    }
    if !rest.is_empty() {
        let (clock, frac) = match rest.split_once('.') {
            Some((c, f)) => (c, Some(f)),
            None => (rest, None),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let h: i64 = parts[0].parse().ok()?;
        let m: i64 = parts[1].parse().ok()?;
        let sec: i64 = parts[2].parse().ok()?;
        if parts[1].len() != 2 || parts[2].len() != 2 || m > 59 || sec > 59 {
            return None;
        }
        total =
            total.checked_add((h.checked_mul(3600)? + m * 60 + sec).checked_mul(NANOS_PER_SEC)?)?;
        if let Some(f) = frac {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            total = total.checked_add(fraction(f, NANOS_PER_SEC)?)?;
        }
        any = true;
    }
    if !any {
        return None;
    }
    Some(if neg { -total } else { total })
}

/// The value of the decimal fraction `digits` of one `unit`.
fn fraction(digits: &str, unit: i64) -> Option<i64> {
    let mut value: i64 = 0;
    let mut scale = unit;
    for b in digits.bytes().take(9) {
        scale /= 10;
        value = value.checked_add(i64::from(b - b'0').checked_mul(scale)?)?;
    }
    Some(value)
}

/// Formats a time as the router prints it: `00:00:00`, `01:30:00`, `1d00:00:00`,
/// `1w2d03:04:05`, with a fraction (`00:00:01.500`) only when there is one.
pub fn format_time(nanos: i64) -> String {
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let n = nanos.unsigned_abs();
    let secs = n / 1_000_000_000;
    let frac = n % 1_000_000_000;
    let weeks = secs / (7 * 86_400);
    let days = secs / 86_400 % 7;
    let h = secs / 3600 % 24;
    let m = secs / 60 % 60;
    let s = secs % 60;
    if weeks > 0 {
        let _ = write!(out, "{weeks}w");
    }
    if days > 0 {
        let _ = write!(out, "{days}d");
    }
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if frac > 0 {
        if frac.is_multiple_of(1_000_000) {
            let _ = write!(out, ".{:03}", frac / 1_000_000);
        } else if frac.is_multiple_of(1_000) {
            let _ = write!(out, ".{:06}", frac / 1_000);
        } else {
            let _ = write!(out, ".{frac:09}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_typed_by_shape() {
        let cases = [
            ("10", "num"),
            ("-3", "num"),
            ("0x1F", "num"),
            ("1.2.3.4", "ip"),
            ("10.0.0.0/8", "ip-prefix"),
            ("::1", "ip6"),
            ("2001:db8::/32", "ip6-prefix"),
            ("1h30m", "time"),
            ("00:01:00", "time"),
            ("1d02:00:00", "time"),
            ("500ms", "time"),
            ("*1A", "id"),
            ("true", "bool"),
            ("blocked", "str"),
            ("1.2.3", "str"),
            ("my-list", "str"),
        ];
        for (word, ty) in cases {
            assert_eq!(Value::from_word(word).type_name(), ty, "{word}");
        }
    }

    #[test]
    fn times_print_as_the_router_prints_them() {
        let s = NANOS_PER_SEC;
        let cases = [
            (0, "00:00:00"),
            (90 * s, "00:01:30"),
            (86_400 * s, "1d00:00:00"),
            (8 * 86_400 * s, "1w1d00:00:00"),
            (1_500_000_000, "00:00:01.500"),
            (-s, "-00:00:01"),
        ];
        for (t, text) in cases {
            assert_eq!(format_time(t), text);
        }
        assert_eq!(parse_time("1w1d"), Some(8 * 86_400 * s));
        assert_eq!(
            parse_time("1d02:03:04"),
            Some((86_400 + 2 * 3600 + 3 * 60 + 4) * s)
        );
        assert_eq!(parse_time("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_time("10"), None);
        assert_eq!(parse_time("1x"), None);
        assert_eq!(parse_time("1:2:3"), None);
    }

    #[test]
    fn keyed_arrays_print_sorted() {
        let mut a = Array::new();
        a.insert("b".into(), Value::Num(1));
        a.insert("a".into(), Value::Num(2));
        assert_eq!(Value::Array(a).to_string(), "a=2;b=1");
        let list = Value::Array(Array::from_values(vec![Value::Num(1), Value::str("x")]));
        assert_eq!(list.to_string(), "1;x");
        assert_eq!(list.arg_text(), "1,x");
    }
}
