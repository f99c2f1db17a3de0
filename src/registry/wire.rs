//! Helpers for reading registry JSON leniently and cheaply: registries are untrusted input, a
//! field of an unexpected type must not make a whole answer unreadable, and no answer may make
//! decoding take much more memory than its body.
//!
//! - [`lenient`] reads a field through its borrowed raw text (no JSON tree is built) and turns a
//!   value of the wrong type into `None`; [`small`] does the same for fields kept as JSON trees,
//!   refusing any larger than [`FIELD_LIMIT`].
//! - [`entries`] reads a map or list with per-entry leniency (a bad entry is `None`, the others
//!   stay) and at most one entry per [`BYTES_PER_ENTRY`] bytes of the body being decoded (real
//!   entries are far larger), so a body of tiny entries cannot expand in memory.
//! - [`json`] decodes a body with that limit in place.
//! - [`weight`] estimates the memory a JSON tree holds, for the retained budget.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::http::Decoded;

/// Largest raw field kept as a JSON tree (signatures, trusted publisher, repository, …).
pub const FIELD_LIMIT: usize = 64 * 1024;

/// A map or list of `n` entries needs at least `n × BYTES_PER_ENTRY` bytes of body (plus a
/// little): the smallest real entries (a PyPI file, a crates.io version) take several hundred.
pub const BYTES_PER_ENTRY: usize = 128;

thread_local! {
    /// The entry limit of the body being decoded on this thread.
    static ENTRY_LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Run `f` with the entry limit for a body of `len` bytes.
pub fn with_entry_limit<R>(len: usize, f: impl FnOnce() -> R) -> R {
    let before = ENTRY_LIMIT.with(|l| l.replace(len / BYTES_PER_ENTRY + 16));
    let out = f();
    ENTRY_LIMIT.with(|l| l.set(before));
    out
}

fn entry_limit() -> usize {
    ENTRY_LIMIT.with(Cell::get)
}

/// Deserialize a field, turning a value of the wrong type into `None`. Reads the field's raw
/// text (borrowed from the body) and decodes it typed; needs a body decoded with
/// `serde_json::from_slice` or `from_str`.
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw: &'de RawValue = Deserialize::deserialize(d)?;
    Ok(serde_json::from_str(raw.get()).ok())
}

/// Like [`lenient`], for a field kept as a JSON tree: `None` also when its text is larger than
/// [`FIELD_LIMIT`].
pub fn small<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw: &'de RawValue = Deserialize::deserialize(d)?;
    if raw.get().len() > FIELD_LIMIT {
        return Ok(None);
    }
    Ok(serde_json::from_str(raw.get()).ok())
}

/// Deserialize a field so that `null` is `Some(Value::Null)` and only an absent key is `None`
/// (use with `#[serde(default)]`): "the registry says nothing" differs from "the registry does
/// not have the field". A value larger than [`FIELD_LIMIT`] is kept as `null`: present, and
/// saying nothing usable.
pub fn present<'de, D>(d: D) -> Result<Option<serde_json::Value>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: &'de RawValue = Deserialize::deserialize(d)?;
    if raw.get().len() > FIELD_LIMIT {
        return Ok(Some(serde_json::Value::Null));
    }
    Ok(Some(
        serde_json::from_str(raw.get()).unwrap_or(serde_json::Value::Null),
    ))
}

/// One entry of an [`entries`] collection: `None` when it does not decode as `T`.
#[derive(Debug)]
pub struct Lenient<T>(pub Option<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d).map(Lenient)
    }
}

/// Entries of a JSON map (`(key, value)`) or list (key `""`), as [`entries`] reads them.
pub type Entries<V> = Vec<(String, V)>;

/// Deserialize a map or list with per-entry leniency: a value of the wrong type for the whole
/// field is `None`; more entries than the body's entry limit is an error (the body is refused).
pub fn entries<'de, D, V>(d: D) -> Result<Option<Entries<V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    d.deserialize_any(EntriesVisitor(PhantomData))
}

struct EntriesVisitor<V>(PhantomData<V>);

fn too_many<E: de::Error>(limit: usize) -> E {
    E::custom(format!(
        "more than {limit} entries for a body of this size (one per {BYTES_PER_ENTRY} bytes); refused"
    ))
}

macro_rules! not_a_collection {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> Result<Self::Value, E> { Ok(None) }
    )*};
}

impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
    type Value = Option<Entries<V>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map or a list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let limit = entry_limit();
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.len() >= limit {
                return Err(too_many(limit));
            }
            out.push((key, map.next_value::<V>()?));
        }
        Ok(Some(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let limit = entry_limit();
        let mut out = Vec::new();
        while let Some(value) = seq.next_element::<V>()? {
            if out.len() >= limit {
                return Err(too_many(limit));
            }
            out.push((String::new(), value));
        }
        Ok(Some(out))
    }

    not_a_collection!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A value of a map read knowing its key (see [`keyed_entries`]).
pub trait Keyed<'de>: Sized {
    /// Read the value of `key` from `map` (exactly one value).
    fn read<A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Self, A::Error>;
}

/// Like [`entries`], for a map whose values are read knowing their key, in the same pass: a
/// list or a value of another type is `None`.
pub fn keyed_entries<'de, D, V>(d: D) -> Result<Option<Entries<V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Keyed<'de>,
{
    d.deserialize_any(KeyedVisitor(PhantomData))
}

struct KeyedVisitor<V>(PhantomData<V>);

impl<'de, V: Keyed<'de>> Visitor<'de> for KeyedVisitor<V> {
    type Value = Option<Entries<V>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let limit = entry_limit();
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.len() >= limit {
                return Err(too_many(limit));
            }
            let value = V::read(&key, &mut map)?;
            out.push((key, value));
        }
        Ok(Some(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    not_a_collection!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Decode a JSON body (with the entry limit for its size); malformed JSON is worth another
/// attempt.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Decoded<T> {
    with_entry_limit(bytes.len(), || match serde_json::from_slice(bytes) {
        Ok(v) => Decoded::Ok(v),
        Err(e) => Decoded::Malformed(e.to_string()),
    })
}

/// Decode a JSON body into a type that borrows from it (with the entry limit for its size).
pub fn borrowed<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    with_entry_limit(bytes.len(), || {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    })
}

/// The memory a JSON tree holds, roughly: each node's size plus its strings and containers.
pub fn weight(value: &serde_json::Value) -> usize {
    const NODE: usize = std::mem::size_of::<serde_json::Value>();
    NODE + match value {
        serde_json::Value::String(s) => s.capacity(),
        serde_json::Value::Array(items) => items.iter().map(weight).sum::<usize>(),
        // An ordered map entry: the key, the value, and the index (about 3 words).
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| k.capacity() + 48 + weight(v))
            .sum::<usize>(),
        _ => 0,
    }
}

/// A string field that may be absent or of the wrong type.
pub fn str_at<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default, deserialize_with = "lenient")]
        n: Option<u32>,
        #[serde(default, deserialize_with = "entries")]
        items: Option<Entries<Lenient<u32>>>,
        #[serde(default, deserialize_with = "present")]
        p: Option<serde_json::Value>,
    }

    fn doc(text: &str) -> Option<Doc> {
        match json::<Doc>(text.as_bytes()) {
            Decoded::Ok(d) => Some(d),
            Decoded::Malformed(_) => None,
        }
    }

    #[test]
    fn wrong_types_are_none_not_errors() {
        let d = doc(r#"{"n": "x", "items": 3, "p": null}"#).unwrap();
        assert_eq!(d.n, None);
        assert!(d.items.is_none());
        assert_eq!(d.p, Some(serde_json::Value::Null));
        let d = doc(r#"{"n": 7, "items": [1, "two", 3]}"#).unwrap();
        assert_eq!(d.n, Some(7));
        let items: Vec<Option<u32>> = d.items.unwrap().into_iter().map(|(_, v)| v.0).collect();
        assert_eq!(
            items,
            [Some(1), None, Some(3)],
            "one bad entry keeps the others"
        );
        assert_eq!(d.p, None);
    }

    #[test]
    fn a_body_of_tiny_entries_is_refused() {
        let tiny = format!(r#"{{"items": [{}]}}"#, vec!["1"; 10_000].join(","));
        assert!(
            doc(&tiny).is_none(),
            "20 KB cannot hold 10,000 real entries"
        );
        let padded = format!(
            r#"{{"items": [{}], "pad": "{}"}}"#,
            vec!["1"; 100].join(","),
            "x".repeat(100 * BYTES_PER_ENTRY)
        );
        assert_eq!(doc(&padded).unwrap().items.unwrap().len(), 100);
    }

    #[test]
    fn oversized_fields_are_dropped() {
        let big = format!(r#"{{"p": {{"k": "{}"}}}}"#, "x".repeat(FIELD_LIMIT));
        assert_eq!(doc(&big).unwrap().p, Some(serde_json::Value::Null));
    }

    #[test]
    fn weight_counts_strings_and_nodes() {
        let small = serde_json::json!({"a": 1});
        let big = serde_json::json!({"a": "x".repeat(10_000)});
        assert!(weight(&big) > 10_000 && weight(&small) < 200);
    }
}
