//! Serde adapters for the protocol's quirks: JSON inside strings, numbers sent as strings.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A value carried as a JSON-encoded string (`"labels": "{\"k\":\"v\"}"`).
///
/// Encodes compactly; decodes a string holding JSON, and tolerates the already-decoded value.
pub(crate) mod json_string {
    use super::*;

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }

    pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
        match value {
            Value::String(text) => serde_json::from_str(&text),
            other => serde_json::from_value(other),
        }
    }
}

/// [`json_string`] for a field with a default: `null` and `""` decode as the default.
pub(crate) mod json_string_or_default {
    use super::*;

    pub(crate) use super::json_string::serialize;

    pub(crate) fn deserialize<'de, T: DeserializeOwned + Default, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(T::default()),
            Value::String(text) if text.trim().is_empty() => Ok(T::default()),
            other => json_string::from_value(other).map_err(D::Error::custom),
        }
    }
}

/// [`json_string`] for an optional field; `null` and `""` decode as `None`.
pub(crate) mod json_string_opt {
    use super::*;

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => json_string::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(None),
            Value::String(text) if text.trim().is_empty() => Ok(None),
            other => json_string::from_value(other)
                .map(Some)
                .map_err(D::Error::custom),
        }
    }
}

/// [`json_string_opt`] that drops a value it cannot decode instead of failing (for
/// informational fields such as `toolList`, which the SDK parses best-effort).
pub(crate) mod json_string_best_effort {
    use super::*;

    pub(crate) use super::json_string_opt::serialize;

    pub(crate) fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(None),
            other => Ok(json_string::from_value(other).ok()),
        }
    }
}

/// A number or boolean that may arrive as a string (query values are always strings).
pub(crate) mod lenient {
    use std::fmt::Display;
    use std::str::FromStr;

    use super::*;

    pub(crate) fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr + DeserializeOwned,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }

    pub(crate) fn from_value<T>(value: Value) -> Result<T, String>
    where
        T: FromStr + DeserializeOwned,
        T::Err: Display,
    {
        match value {
            Value::String(text) => text
                .trim()
                .parse::<T>()
                .map_err(|err| format!("{err}: {text:?}")),
            other => serde_json::from_value(other).map_err(|err| err.to_string()),
        }
    }
}

/// [`lenient`] for a field with a default: `null` and `""` decode as the default.
pub(crate) fn lenient_or_default<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: std::str::FromStr + DeserializeOwned + Default,
    T::Err: std::fmt::Display,
    D: Deserializer<'de>,
{
    Ok(lenient_opt::deserialize(deserializer)?.unwrap_or_default())
}

/// [`lenient`] for an optional field; `null` and `""` decode as `None`.
pub(crate) mod lenient_opt {
    use std::fmt::Display;
    use std::str::FromStr;

    use super::*;

    pub(crate) fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr + DeserializeOwned,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(None),
            Value::String(text) if text.trim().is_empty() => Ok(None),
            other => lenient::from_value(other)
                .map(Some)
                .map_err(D::Error::custom),
        }
    }
}

/// `true` only for the JSON literal `true` (Python's `success is True`); anything else is false.
pub(crate) fn exactly_true<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(matches!(
        Value::deserialize(deserializer)?,
        Value::Bool(true)
    ))
}

/// A string field that tolerates `null` (decoded as empty).
pub(crate) fn string_or_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// An integer kept only when the JSON value is an integer; anything else is `None`.
pub(crate) fn integer_or_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_i64())
}

/// A number, or `0.0` for anything else (`null`, a string...).
pub(crate) fn number_or_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_f64().unwrap_or(0.0))
}
