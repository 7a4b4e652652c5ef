//! Open, typed attribute values: claims, posture and purpose attributes.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The value of an open-ended attribute (an identity claim, a posture
/// attribute, a purpose attribute or an extra token claim).
///
/// In JSON a string that parses as an IPv4 or IPv6 address becomes
/// [`AttrValue::Ip`]; every other string stays a [`AttrValue::String`].
/// Equality against a string literal in a policy compares addresses by value,
/// so `"10.0.0.1"` in a policy matches an `Ip` attribute of `10.0.0.1`.
///
/// ```
/// use mintgate::AttrValue;
///
/// let v: AttrValue = serde_json::from_str("\"10.1.2.3\"").unwrap();
/// assert!(matches!(v, AttrValue::Ip(_)));
/// assert_eq!(AttrValue::from("prod"), AttrValue::String("prod".into()));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// `true` or `false`.
    Bool(bool),
    /// A number. Integers up to 2^53 are exact.
    Number(f64),
    /// A string.
    String(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A list of values, such as a `groups` claim. Conditions on a list match
    /// when any element matches.
    List(Vec<AttrValue>),
}

impl AttrValue {
    /// The string, when this is a string.
    pub fn as_string(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of this value's type, as error messages use it.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::Bool(_) => "bool",
            AttrValue::Number(_) => "number",
            AttrValue::String(_) => "string",
            AttrValue::Ip(_) => "ip address",
            AttrValue::List(_) => "list",
        }
    }
}

impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}
impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        AttrValue::Number(v)
    }
}
impl From<i64> for AttrValue {
    fn from(v: i64) -> Self {
        // i64 beyond 2^53 loses precision, as it would in JSON.
        #[allow(clippy::cast_precision_loss)]
        AttrValue::Number(v as f64)
    }
}
impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        AttrValue::String(v.to_owned())
    }
}
impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        AttrValue::String(v)
    }
}
impl From<IpAddr> for AttrValue {
    fn from(v: IpAddr) -> Self {
        AttrValue::Ip(v)
    }
}
impl From<u64> for AttrValue {
    fn from(v: u64) -> Self {
        // u64 beyond 2^53 loses precision, as it would in JSON.
        #[allow(clippy::cast_precision_loss)]
        AttrValue::Number(v as f64)
    }
}
impl From<i32> for AttrValue {
    fn from(v: i32) -> Self {
        AttrValue::Number(f64::from(v))
    }
}
impl From<u32> for AttrValue {
    fn from(v: u32) -> Self {
        AttrValue::Number(f64::from(v))
    }
}
/// A list of strings, such as a `groups` claim.
impl From<Vec<String>> for AttrValue {
    fn from(v: Vec<String>) -> Self {
        AttrValue::List(v.into_iter().map(AttrValue::String).collect())
    }
}
/// A list of strings, such as a `groups` claim.
impl From<Vec<&str>> for AttrValue {
    fn from(v: Vec<&str>) -> Self {
        AttrValue::List(v.into_iter().map(AttrValue::from).collect())
    }
}

/// A JSON value as the request's JSON form would read it: strings that
/// parse as IP addresses become [`AttrValue::Ip`]. `null`, objects, nested
/// lists and non-finite numbers have no attribute value and are an error.
///
/// ```
/// use mintgate::AttrValue;
///
/// let v = AttrValue::try_from(serde_json::json!(["admins", "dev"])).unwrap();
/// assert_eq!(v, AttrValue::from(vec!["admins", "dev"]));
/// assert_eq!(AttrValue::try_from(serde_json::json!(3)).unwrap(), 3u64.into());
/// assert!(AttrValue::try_from(serde_json::json!({ "nested": true })).is_err());
/// ```
impl TryFrom<serde_json::Value> for AttrValue {
    type Error = serde_json::Error;
    fn try_from(v: serde_json::Value) -> Result<Self, Self::Error> {
        serde_json::from_value(v)
    }
}

/// Like `TryFrom<serde_json::Value>`, without taking the value.
impl TryFrom<&serde_json::Value> for AttrValue {
    type Error = serde_json::Error;
    fn try_from(v: &serde_json::Value) -> Result<Self, Self::Error> {
        AttrValue::deserialize(v)
    }
}

/// The JSON form of the value, as it goes into a token's claims: whole
/// numbers as integers, addresses as strings.
///
/// ```
/// use mintgate::AttrValue;
///
/// let v: serde_json::Value = AttrValue::from(3u64).into();
/// assert_eq!(v, serde_json::json!(3));
/// ```
impl From<&AttrValue> for serde_json::Value {
    fn from(v: &AttrValue) -> Self {
        serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
    }
}

/// See `From<&AttrValue>`.
impl From<AttrValue> for serde_json::Value {
    fn from(v: AttrValue) -> Self {
        serde_json::Value::from(&v)
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Number(n) => write!(f, "{n}"),
            AttrValue::String(s) => write!(f, "{s:?}"),
            AttrValue::Ip(ip) => write!(f, "{ip}"),
            AttrValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Bool(b) => serializer.serialize_bool(*b),
            AttrValue::Number(n) => {
                // Whole numbers serialize as integers so claims round-trip as written.
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    serializer.serialize_i64(*n as i64)
                } else {
                    serializer.serialize_f64(*n)
                }
            }
            AttrValue::String(s) => serializer.serialize_str(s),
            AttrValue::Ip(ip) => serializer.collect_str(ip),
            AttrValue::List(items) => items.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AttrValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bool, number, string or list")
            }
            fn visit_bool<E>(self, v: bool) -> Result<AttrValue, E> {
                Ok(AttrValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<AttrValue, E> {
                Ok(AttrValue::from(v))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E>(self, v: u64) -> Result<AttrValue, E> {
                Ok(AttrValue::Number(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<AttrValue, E> {
                if v.is_finite() {
                    Ok(AttrValue::Number(v))
                } else {
                    Err(E::custom("numbers must be finite"))
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<AttrValue, E> {
                Ok(match v.parse::<IpAddr>() {
                    Ok(ip) => AttrValue::Ip(ip),
                    Err(_) => AttrValue::String(v.to_owned()),
                })
            }
            fn visit_string<E>(self, v: String) -> Result<AttrValue, E> {
                Ok(match v.parse::<IpAddr>() {
                    Ok(ip) => AttrValue::Ip(ip),
                    Err(_) => AttrValue::String(v),
                })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<AttrValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<AttrValue>()? {
                    if matches!(item, AttrValue::List(_)) {
                        return Err(serde::de::Error::custom(
                            "nested lists are not supported as attribute values",
                        ));
                    }
                    items.push(item);
                }
                Ok(AttrValue::List(items))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::AttrValue;

    #[test]
    fn each_type_has_the_name_error_messages_use() {
        let names: Vec<&str> = [
            AttrValue::Bool(true),
            AttrValue::from(1.5),
            AttrValue::from("x"),
            AttrValue::Ip(std::net::Ipv4Addr::LOCALHOST.into()),
            AttrValue::List(vec![]),
        ]
        .iter()
        .map(AttrValue::type_name)
        .collect();
        assert_eq!(names, ["bool", "number", "string", "ip address", "list"]);
    }

    /// Whole numbers below 9e15 are written as integers, so claims round-trip
    /// as written; fractions and larger numbers as floats.
    #[test]
    fn numbers_serialize_as_integers_only_when_whole_and_below_9e15() {
        let json = |n: f64| serde_json::to_string(&AttrValue::from(n)).unwrap_or_default();
        assert_eq!(json(2.0), "2");
        assert_eq!(json(-7.0), "-7");
        assert_eq!(json(1.5), "1.5");
        assert_eq!(json(8_999_999_999_999_999.0), "8999999999999999");
        assert_eq!(json(9.0e15), "9000000000000000.0");
    }

    #[test]
    fn a_value_of_another_type_is_refused_saying_what_is_expected() {
        let err = serde_json::from_str::<AttrValue>("null")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("expected a bool, number, string or list"),
            "{err}"
        );
    }
}
