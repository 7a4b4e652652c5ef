//! The hash map used for lookups on the mint path.
//!
//! `foldhash` is several times faster than SipHash on short strings and is
//! seeded per map, so lookups of request-supplied keys cannot be steered
//! into collisions. The maps are built at compile time from the policy and
//! only read during evaluation.

/// A `HashMap` with a fast, randomly seeded hasher.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
