//! Size limits on everything compiled from policy text and everything a
//! request can carry.
//!
//! Policies and requests are both untrusted input. The limits keep compile
//! time and memory linear in the document, and evaluation cost bounded by a
//! constant per request, whatever the input.

use crate::request::MintRequest;

/// Size limits, checked at compile time (policy) and at evaluation time
/// (request). The defaults suit production issuers; raise them only with
/// intent.
///
/// ```
/// use mintgate::Limits;
///
/// let mut limits = Limits::default();
/// limits.max_rules = 500;
/// assert_eq!(limits.max_request_scopes, 64);
///
/// let doc = mintgate::PolicyDocument::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n")?;
/// let policy = mintgate::IssuancePolicy::compile_with_limits(&doc, &limits)?;
/// assert_eq!(policy.limits().max_rules, 500);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest policy source text, in bytes.
    pub max_document_bytes: usize,
    /// Most rules in one policy.
    pub max_rules: usize,
    /// Most purposes in the catalogue.
    pub max_purposes: usize,
    /// Most entries in the downgrade table.
    pub max_downgrades: usize,
    /// Most condition leaves in one rule or purpose requirement.
    pub max_conditions_per_rule: usize,
    /// Deepest nesting of `all` / `any` / `not` groups.
    pub max_condition_depth: usize,
    /// Most values in one list (one-of, globs, scopes, audiences, controls).
    pub max_list_len: usize,
    /// Longest identifier (rule id, scope, audience, control), in bytes.
    pub max_name_len: usize,
    /// Most scopes one request may ask for.
    pub max_request_scopes: usize,
    /// Most audiences one request may ask for.
    pub max_request_audiences: usize,
    /// Most extra claims, claims, posture or purpose attributes in a request.
    pub max_request_attributes: usize,
    /// Deepest delegation chain a request may carry.
    pub max_delegation_depth: usize,
    /// Longest string anywhere in a request, in bytes.
    pub max_request_string_len: usize,
    /// Longest glob, regex or CIDR source in a policy, in bytes.
    pub max_pattern_len: usize,
    /// Compiled-size limit handed to the regex crate for each regex and
    /// each glob that needs one, in bytes.
    pub max_regex_size: usize,
    /// Deepest nesting the regex parser accepts.
    pub max_regex_nesting: u32,
    /// Glob tests compile time may spend, in all, resolving policy globs
    /// against the names the policy mentions (beyond it, globs are matched
    /// at evaluation: slower, same decisions).
    pub max_glob_resolve_work: usize,
    /// Glob tests compile time may spend resolving one glob.
    pub max_glob_resolve_work_per_glob: usize,
    /// Most scopes one grant may hold (after wildcard expansion and
    /// downgrades); scopes beyond it are removed with a reason.
    pub max_granted_scopes: usize,
    /// Most asked-for scopes (requested, their downgrades and the exact
    /// names a requested wildcard covers) that audience selection weighs.
    pub max_asked_scopes: usize,
    /// Most rules, beyond the candidates, that explaining a removal or a
    /// denial looks at to name the nearest rule.
    pub max_explained_rules: usize,
    /// Longest request string a grant, reason or explanation repeats, in
    /// characters; longer ones are cut, with an ellipsis and the length.
    pub max_echo_len: usize,
    /// Longest piece of policy text an error message quotes (a value, a
    /// pattern, a field path), in characters; a parser's whole message is
    /// cut to four times this.
    pub max_error_excerpt_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 32 * 1024 * 1024,
            max_rules: 100_000,
            max_purposes: 10_000,
            max_downgrades: 10_000,
            max_conditions_per_rule: 64,
            max_condition_depth: 8,
            max_list_len: 1024,
            max_name_len: 512,
            max_request_scopes: 64,
            max_request_audiences: 16,
            max_request_attributes: 128,
            max_delegation_depth: 16,
            max_request_string_len: 4096,
            max_pattern_len: 1024,
            max_regex_size: 256 * 1024,
            max_regex_nesting: 32,
            max_glob_resolve_work: 2_000_000,
            max_glob_resolve_work_per_glob: 100_000,
            max_granted_scopes: 256,
            max_asked_scopes: 256,
            max_explained_rules: 64,
            max_echo_len: 256,
            max_error_excerpt_len: 120,
        }
    }
}

impl Limits {
    /// Check a request against the request limits; the error says which.
    #[inline]
    pub(crate) fn check_request(&self, req: &MintRequest) -> Result<(), String> {
        let count = |what: &str, n: usize, limit: usize| {
            if n > limit {
                Err(format!("{what}: {n} exceeds the limit of {limit}"))
            } else {
                Ok(())
            }
        };
        count(
            "requested scopes",
            req.scopes.len(),
            self.max_request_scopes,
        )?;
        count(
            "requested audiences",
            req.audience.len(),
            self.max_request_audiences,
        )?;
        count(
            "extra claims",
            req.claims.len(),
            self.max_request_attributes,
        )?;
        count(
            "posture attributes",
            req.posture.len(),
            self.max_request_attributes,
        )?;
        count(
            "identity claims",
            req.identity.claims.len(),
            self.max_request_attributes,
        )?;
        if let Some(p) = &req.purpose {
            count(
                "purpose attributes",
                p.attributes.len(),
                self.max_request_attributes,
            )?;
        }
        if let Some(d) = &req.delegation {
            count("delegation depth", d.depth(), self.max_delegation_depth)?;
            if let Some(parent) = &d.parent {
                count("parent scopes", parent.scopes.len(), self.max_list_len)?;
            }
        }
        let max = self.max_request_string_len;
        let long = |what: &str, s: &str| {
            if s.len() > max {
                Err(format!(
                    "{what}: {} bytes exceeds the limit of {max}",
                    s.len()
                ))
            } else {
                Ok(())
            }
        };
        long("identity.subject", &req.identity.subject)?;
        for s in &req.scopes {
            long("scope", s)?;
        }
        for a in &req.audience {
            long("audience", a)?;
        }
        Ok(())
    }
}
