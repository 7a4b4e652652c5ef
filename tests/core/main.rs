//! The decision core's tests, in one test binary: exact grants, each
//! behaviour of the policy language, request errors, limits, the
//! properties and the differential run against the reference model
//! (`tests/reference/`). One binary instead of one per file: each test file
//! is a module here, and a change to the library relinks one test binary,
//! not twenty. That is most of the cost of building the tests, which
//! mutation testing pays once per mutant (docs/testing.md).
//!
//! Run one file's tests with its module name as the filter:
//! `cargo test --test core engine::`.

// Shared by `invariants` and `properties`: the generators, and the
// reference model the differential run compares the engine with.
#[path = "../common/gen.rs"]
mod generate;
#[path = "../reference/mod.rs"]
mod reference;

mod fixtures;

mod address_conditions;
mod audience_choice;
mod compile_errors;
mod docs_examples;
mod embedding;
mod engine;
mod explanation_text;
mod fail_closed;
mod forbid_missing_attributes;
mod glob_grants;
mod group_explanations;
mod invariants;
mod lifecycle_conditions;
mod lifetime_ties;
mod limits;
mod list_conditions;
mod many_permits;
mod nearest_rule;
mod numeric_claims;
mod permits_on_optional_attributes;
mod properties;
mod reason_accessors;
mod regressions;
mod request_errors;
mod shared_conditions;
mod time_windows;
