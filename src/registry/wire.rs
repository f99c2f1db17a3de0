//! Helpers for reading registry JSON leniently: registries are untrusted input, and a field of
//! an unexpected type must not make a whole answer unreadable.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};

use super::http::Decoded;

/// Deserialize a field, turning a value of the wrong type into `None`.
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// Deserialize a field so that `null` is `Some(Value::Null)` and only an absent key is `None`
/// (use with `#[serde(default)]`): "the registry says nothing" differs from "the registry does
/// not have the field".
pub fn present<'de, D>(d: D) -> Result<Option<serde_json::Value>, D::Error>
where
    D: Deserializer<'de>,
{
    serde_json::Value::deserialize(d).map(Some)
}

/// Decode a JSON body; malformed JSON is worth another attempt.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Decoded<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Decoded::Ok(v),
        Err(e) => Decoded::Malformed(e.to_string()),
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
