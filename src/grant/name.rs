//! Names a grant repeats from the policy (rule ids, controls): shared with
//! the compiled policy, so recording them allocates nothing, yet comparable
//! with plain strings.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A name from the policy in a grant: a rule id in
/// [`Grant::matched_rules`](crate::Grant::matched_rules) or a control in
/// [`Grant::controls`](crate::Grant::controls).
///
/// Shares its text with the compiled policy (cloning it copies no text) and
/// compares with `&str` and `String`, so a list of names compares with a
/// list of string literals. Serializes as a plain string.
///
/// ```
/// use mintgate::Name;
///
/// let rules = vec![Name::from("ci-deploys"), Name::from("readers")];
/// assert_eq!(rules, ["ci-deploys", "readers"]);
/// assert_eq!(rules[0].as_str(), "ci-deploys");
/// assert!(rules[1].starts_with("read")); // derefs to `str`
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(Arc<str>);

impl Name {
    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Arc<str>> for Name {
    fn from(s: Arc<str>) -> Self {
        Name(s)
    }
}

impl From<&Arc<str>> for Name {
    fn from(s: &Arc<str>) -> Self {
        Name(Arc::clone(s))
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Arc::from(s))
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Arc<str>> for Name {
    fn eq(&self, other: &Arc<str>) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

#[cfg(test)]
mod tests {
    //! Every conversion and comparison an embedder may use on the names in
    //! a grant, each both ways: the doctest shows them, these pin them.

    use std::borrow::Borrow;
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::Name;

    #[test]
    fn a_name_reads_as_its_text_through_every_accessor() {
        let name = Name::from("ci-deploys");
        assert_eq!(name.as_str(), "ci-deploys");
        assert_eq!(&*name, "ci-deploys");
        assert_eq!(AsRef::<str>::as_ref(&name), "ci-deploys");
        assert_eq!(Borrow::<str>::borrow(&name), "ci-deploys");
        assert_eq!(name.to_string(), "ci-deploys");
        // `Borrow` is what lets a map keyed by names be read with a `&str`.
        let counts: HashMap<Name, u32> = HashMap::from([(name.clone(), 3)]);
        assert_eq!(counts.get("ci-deploys"), Some(&3));
        assert_eq!(counts.get("readers"), None);
    }

    #[test]
    fn a_name_is_built_from_every_string_type_with_the_same_text() {
        let shared: Arc<str> = Arc::from("readers");
        let built = [
            Name::from(Arc::clone(&shared)),
            Name::from(&shared),
            Name::from("readers"),
            Name::from(String::from("readers")),
        ];
        for name in &built {
            assert_eq!(name.as_str(), "readers");
        }
        // Built from an `Arc`, it shares the text instead of copying it.
        assert!(std::ptr::eq(built[1].as_str(), &*shared));
    }

    #[test]
    fn a_name_equals_exactly_the_strings_with_its_text_in_either_order() {
        let name = Name::from("readers");
        let (same, other) = ("readers", "writers");
        // Owned in advance: each comparison below is of a different impl.
        let (same_string, other_string) = (String::from(same), String::from(other));
        let (same_arc, other_arc) = (Arc::<str>::from(same), Arc::<str>::from(other));
        assert!(name == *same && name != *other);
        assert!(name == same && name != other);
        assert!(name == same_string && name != other_string);
        assert!(name == same_arc && name != other_arc);
        assert!(same == name && other != name);
        assert!(*same == name && *other != name);
        assert!(same_string == name && other_string != name);
    }
}
