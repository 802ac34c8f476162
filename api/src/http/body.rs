//! A POSTed GraphQL body, parsed with every list and object of its variables and
//! extensions bounded by `NEXO_MAX_INPUT_LIST`: an oversized one stops the parse where it
//! crosses the limit, so a body of a million list items costs what its first thousand do.
//! (`BatchRequest`'s own parsing builds every value first, and buffers the whole body as
//! generic values to try its two shapes.)

use std::{cell::RefCell, collections::HashMap, fmt};

use async_graphql::{
    BatchRequest, Extensions, Name, Number, Request, Value, Variables, indexmap::IndexMap,
};

use serde::{
    Deserialize,
    de::{DeserializeSeed, MapAccess, SeqAccess, Visitor},
};
use serde_json::value::RawValue;

use crate::error::AppError;

/// Why a body is not a request to run.
pub enum BodyError {
    /// Not JSON, or not shaped as a GraphQL request.
    Malformed(String),
    /// A list or object over the limit (`BAD_USER_INPUT`).
    TooLarge(AppError),
}

/// An operation (a JSON object) or a batch of them (a JSON array).
pub fn parse(bytes: &[u8], max_items: usize) -> Result<BatchRequest, BodyError> {
    let malformed = |e: serde_json::Error| BodyError::Malformed(e.to_string());
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            let raw: Vec<RawRequest> = serde_json::from_slice(bytes).map_err(malformed)?;
            let requests = raw
                .into_iter()
                .map(|r| r.into_request(max_items))
                .collect::<Result<Vec<_>, _>>()?;
            if requests.is_empty() {
                return Err(BodyError::Malformed("the batch is empty".into()));
            }
            Ok(BatchRequest::Batch(requests))
        }
        _ => {
            let raw: RawRequest = serde_json::from_slice(bytes).map_err(malformed)?;
            Ok(BatchRequest::Single(raw.into_request(max_items)?))
        }
    }
}

/// A request whose values are still JSON text: checked as JSON, not yet built.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest<'a> {
    #[serde(default)]
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default, borrow)]
    variables: Option<&'a RawValue>,
    #[serde(default, borrow)]
    extensions: Option<&'a RawValue>,
}

impl RawRequest<'_> {
    fn into_request(self, max_items: usize) -> Result<Request, BodyError> {
        let mut request = Request::new(self.query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(raw) = self.variables {
            request = request.variables(Variables::from_value(bounded(raw, max_items, "$")?));
        }
        if let Some(raw) = self.extensions
            && let Value::Object(fields) = bounded(raw, max_items, "extensions.")?
        {
            request.extensions = Extensions(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect::<HashMap<_, _>>(),
            );
        }
        Ok(request)
    }
}

/// Builds one value of the body; `prefix` starts the path named in a refusal.
fn bounded(raw: &RawValue, max_items: usize, prefix: &str) -> Result<Value, BodyError> {
    let overflow = RefCell::new(None);
    let seed = BoundedValue {
        max_items,
        overflow: &overflow,
    };
    let mut deserializer = serde_json::Deserializer::from_str(raw.get());
    match seed.deserialize(&mut deserializer) {
        Ok(value) => Ok(value),
        Err(error) => Err(match overflow.into_inner() {
            Some(Overflow { mut path, what }) => {
                path.reverse();
                let field = format!("{prefix}{}", path.join("."));
                BodyError::TooLarge(AppError::BadUserInput {
                    message: format!(
                        "{field} is {what} of more than {max_items} items; at most {max_items} are allowed"
                    ),
                    field,
                })
            }
            None => BodyError::Malformed(error.to_string()),
        }),
    }
}

/// Where the limit was crossed: keys from the innermost outwards.
struct Overflow {
    path: Vec<String>,
    what: &'static str,
}

#[derive(Clone, Copy)]
struct BoundedValue<'o> {
    max_items: usize,
    overflow: &'o RefCell<Option<Overflow>>,
}

impl BoundedValue<'_> {
    fn refuse<E: serde::de::Error>(&self, what: &'static str) -> E {
        *self.overflow.borrow_mut() = Some(Overflow {
            path: Vec::new(),
            what,
        });
        E::custom("input over the list limit")
    }
}

impl<'de> DeserializeSeed<'de> for BoundedValue<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BoundedValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number out of range"))
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

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            if items.len() == self.max_items {
                return Err(self.refuse("a list"));
            }
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.len() == self.max_items {
                return Err(self.refuse("an object"));
            }
            match map.next_value_seed(self) {
                Ok(value) => {
                    fields.insert(Name::new(key), value);
                }
                Err(error) => {
                    if let Some(overflow) = self.overflow.borrow_mut().as_mut() {
                        overflow.path.push(key);
                    }
                    return Err(error);
                }
            }
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> AppError {
        match parse(body.as_bytes(), 3) {
            Err(BodyError::TooLarge(error)) => error,
            Err(BodyError::Malformed(m)) => panic!("malformed: {m}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn lists_and_objects_up_to_the_limit_parse_as_sent() {
        let body = r#"{"query":"q","operationName":"Op","variables":{"a":[1,2.5,"x"],"b":{"c":null,"d":true}},"extensions":{"e":[1]}}"#;
        let BatchRequest::Single(request) = parse(body.as_bytes(), 3).ok().expect("parsed") else {
            panic!("a single request")
        };
        assert_eq!(request.query, "q");
        assert_eq!(request.operation_name.as_deref(), Some("Op"));
        let expected: Variables =
            serde_json::from_str(r#"{"a":[1,2.5,"x"],"b":{"c":null,"d":true}}"#).expect("json");
        assert_eq!(request.variables, expected);
        assert_eq!(
            request.extensions.0.get("e"),
            Some(&Value::List(vec![Value::Number(1.into())]))
        );
    }

    #[test]
    fn the_first_item_over_the_limit_stops_the_parse_and_names_its_place() {
        let error = refusal(r#"{"query":"q","variables":{"i":{"tags":[1,2,3,4,5]}}}"#);
        assert!(matches!(&error, AppError::BadUserInput { field, .. } if field == "$i.tags"));
        let error = refusal(r#"{"query":"q","variables":{"o":{"a":1,"b":2,"c":3,"d":4}}}"#);
        assert!(matches!(&error, AppError::BadUserInput { field, .. } if field == "$o"));
        let error = refusal(r#"[{"query":"q"},{"query":"q","extensions":{"x":[[1,2,3,4]]}}]"#);
        assert!(matches!(&error, AppError::BadUserInput { field, .. } if field == "extensions.x"));
    }

    #[test]
    fn bodies_that_are_not_requests_are_malformed() {
        for body in ["", "nope", "[]", r#"{"query": 1}"#, r#"{"variables": [1,}"#] {
            assert!(
                matches!(parse(body.as_bytes(), 3), Err(BodyError::Malformed(_))),
                "{body}"
            );
        }
    }
}
