//! Property tests for the pattern module.
