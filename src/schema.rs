//! Feature `schema`: JSON Schemas of the data the crate reads and writes.
//!
//! Policy documents ([`PolicyDocument`]), requests ([`MintRequest`]),
//! grants — the decision records — ([`Grant`]) and, with `authoring`, case
//! files (`mintgate::authoring::CaseFile`) implement
//! `schemars::JsonSchema` (derived, next to their serde derives). This
//! module adds the schemas of the types that serialize by hand (durations
//! and attribute values) and of the two "a string or a table" shorthands of
//! case files. The generated schemas are committed under `schemas/` and
//! checked by `tests/schemas.rs`; `docs/schemas.md` shows how editors use
//! them.
//!
//! ```
//! let schema = schemars::schema_for!(mintgate::MintRequest);
//! let text = serde_json::to_string(&schema).unwrap();
//! assert!(text.contains("\"identity\""));
//! ```
//!
//! [`PolicyDocument`]: crate::PolicyDocument
//! [`MintRequest`]: crate::MintRequest
//! [`Grant`]: crate::Grant

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::duration::Duration;
use crate::value::AttrValue;

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: numbers with units `d`, `h`, `m`, `s` (`15m`, `1h30m`, `90s`), or a number of seconds; at most 100 years.",
            "oneOf": [
                { "type": "string", "pattern": "^\\s*([0-9]+[dhms])+\\s*$", "maxLength": 32 },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

impl JsonSchema for AttrValue {
    fn schema_name() -> Cow<'static, str> {
        "AttrValue".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<AttrValue>();
        json_schema!({
            "description": "An attribute value: a bool, a number, a string (an IPv4 or IPv6 address in a string is an address), or a list of those.",
            "anyOf": [
                { "type": "boolean" },
                { "type": "number" },
                { "type": "string" },
                { "type": "array", "items": item }
            ]
        })
    }
}

/// A case file's reason matcher: a reason kind, or a table of fields.
#[cfg(feature = "authoring")]
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only its schema is used
pub(crate) enum KindOrReasonMatch {
    /// A reason kind, such as `ttl_clamped`.
    Kind(String),
    /// Reason fields to compare.
    Match(Box<crate::authoring::ReasonMatch>),
}

/// A case file's condition matcher: an attribute path, or a table.
#[cfg(feature = "authoring")]
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only its schema is used
pub(crate) enum PathOrConditionMatch {
    /// The condition's attribute path.
    Path(String),
    /// Condition fields to compare.
    Match(crate::authoring::ConditionMatch),
}
