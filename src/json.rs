//! Strict JSON: the body as a `serde_json::Value`, refusing an object with a repeated key.
//!
//! Why: RFC 8259 leaves repeated keys to the parser (serde_json keeps the last, others keep the
//! first), so `{"report_id": "A", "report_id": "B"}` could mean one report to the gateway and
//! another to a member's software. Evidence must not be ambiguous: such a body is malformed.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `body`, refusing invalid JSON and repeated keys alike; the error says which.
pub fn parse_strict(body: &[u8]) -> Result<Value, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = StrictValue
        .deserialize(&mut deserializer)
        .map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// Builds a `Value` like serde_json's own, but fails on a key seen twice in one object.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that JSON cannot hold"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_strict;

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        for body in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 1, "b": {"c": 1, "c": 1}}"#,
            r#"[{"x": [], "x": []}]"#,
        ] {
            let error = parse_strict(body.as_bytes()).unwrap_err();
            assert!(error.contains("appears twice"), "{body}: {error}");
        }
    }

    #[test]
    fn everything_else_parses_as_serde_json_does() {
        for body in [
            r#"{"a": 1, "b": [1, 2.5, -3, true, null, "é\u00e9"], "c": {"a": 1}}"#,
            "[]",
            "\"x\"",
            "18446744073709551615",
            "-9223372036854775808",
        ] {
            let ours = parse_strict(body.as_bytes()).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(ours, theirs, "{body}");
        }
        for bad in ["", "{", "{} {}", "[1,]", "{\"a\" 1}", "nul"] {
            assert!(parse_strict(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
