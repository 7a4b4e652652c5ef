//! The compiled policy: validated, indexed, immutable.

use crate::fastmap::HashMap;
use std::sync::Arc;

use crate::condition::{CondList, CondParser, Conditions, ConditionsBuilder, Conds, Field};
use crate::document::{Effect, OnExcess, PolicyDocument, RuleSpec};
use crate::duration::Duration;
use crate::error::SourceFormat;
use crate::error::{CompileError, Location, Section, excerpt};
use crate::grant::PolicyRef;
use crate::ids::{AudienceId, Id, IdGroups, RuleId, ScopeId};
use crate::index::PrefixMap;
use crate::index::RuleIndex;
use crate::limits::Limits;
use crate::pattern::Glob;
use crate::scopes::{Interner, Name, NameSet, ResolveBudget};

mod digest;
use digest::digest;

/// A compiled issuance policy. Immutable, `Send + Sync`: compile once, share
/// it behind an [`Arc`], and swap the `Arc` to reload.
///
/// ```
/// use mintgate::{Decision, Identity, IdentityKind, IssuancePolicy, MintRequest};
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "demo"
///     revision = "1"
///     max_ttl = "1h"
///
///     [[rule]]
///     id = "agents-read-reports"
///     when = { "identity.kind" = "agent" }
///     grant = { scopes = ["reports:read"], audience = ["https://reports.example.org"] }
/// "#)?;
/// let request = MintRequest {
///     identity: Identity::new("agent-7", IdentityKind::Agent),
///     scopes: vec!["reports:read".into(), "reports:write".into()],
///     audience: vec!["https://reports.example.org".into()],
///     ..MintRequest::default()
/// };
/// let grant = policy.evaluate(&request, "2026-11-28T12:00:00Z".parse().unwrap());
/// assert_eq!(grant.decision, Decision::Narrow);
/// assert_eq!(grant.scopes, ["reports:read"]);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
#[derive(Debug)]
pub struct IssuancePolicy {
    /// Shared with every grant: one reference count per decision.
    pub(crate) meta: Arc<PolicyRef>,
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) min_ttl: Option<Duration>,
    pub(crate) max_ttl: Option<Duration>,
    pub(crate) on_excess: OnExcess,
    pub(crate) enforce_lifecycle: bool,
    pub(crate) enforce_credential_expiry: bool,
    pub(crate) rules: Vec<Rule>,
    pub(crate) purposes: HashMap<Arc<str>, Purpose>,
    /// The conditions of every rule and purpose, in one array.
    pub(crate) conditions: Conditions,
    pub(crate) downgrade: HashMap<Box<str>, Box<str>>,
    pub(crate) index: RuleIndex,
    /// Every concrete scope the policy mentions, interned.
    pub(crate) scope_ids: Interner<ScopeId>,
    /// Every concrete audience the policy mentions, interned.
    pub(crate) audience_ids: Interner<AudienceId>,
    /// Permits by an exact scope they grant, for explaining removals.
    pub(crate) scope_rules: IdGroups<ScopeId, RuleId>,
    /// Permits granting scopes by glob, by the glob's literal prefix.
    pub(crate) glob_scope_rules: PrefixMap,
    pub(crate) limits: Limits,
    pub(crate) document: Arc<PolicyDocument>,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: Arc<str>,
    pub(crate) effect: Effect,
    pub(crate) controls: Vec<Arc<str>>,
    pub(crate) when: CondList,
    /// Permit: the scopes granted. Forbid: the scopes removed (`None`: all).
    pub(crate) scopes: Option<NameSet<ScopeId>>,
    pub(crate) audience: NameSet<AudienceId>,
    pub(crate) max_ttl: Option<Duration>,
    pub(crate) claims: Vec<Box<str>>,
    pub(crate) on_excess: Option<OnExcess>,
}

#[derive(Debug)]
pub(crate) struct Purpose {
    /// Its name in the catalogue, shared with the reasons that name it.
    pub(crate) name: Arc<str>,
    pub(crate) scopes: NameSet<ScopeId>,
    pub(crate) max_ttl: Option<Duration>,
    pub(crate) requires: CondList,
}

impl Rule {
    /// For a permit: does it grant this scope? For a forbid: does it remove it?
    pub(crate) fn covers(&self, scope: Name<'_, ScopeId>) -> bool {
        self.scopes.as_ref().is_some_and(|s| s.matches(scope))
    }
}

struct Compiler<'a> {
    limits: &'a Limits,
    scopes: Interner<ScopeId>,
    audiences: Interner<AudienceId>,
    /// Control references, shared: policies repeat the same few.
    controls: HashMap<Box<str>, Arc<str>>,
    /// Every rule's and purpose's conditions.
    conditions: ConditionsBuilder,
}

impl Compiler<'_> {
    fn limit(
        &self,
        base: &Location,
        field: &str,
        what: &'static str,
        limit: usize,
        found: usize,
    ) -> Result<(), CompileError> {
        if found > limit {
            return Err(CompileError::limit_exceeded(
                at(base, field),
                what,
                limit,
                found,
            ));
        }
        Ok(())
    }

    fn name(&self, base: &Location, field: &str, value: &str) -> Result<(), CompileError> {
        self.name_at(base, field, None, value)
    }

    /// Check an identifier; `index` is its position in a list, named in
    /// the error's field path. Nothing is allocated unless it is bad.
    fn name_at(
        &self,
        base: &Location,
        field: &str,
        index: Option<usize>,
        value: &str,
    ) -> Result<(), CompileError> {
        let invalid = |reason: &str| {
            let field = match index {
                Some(i) => format!("{field}[{i}]"),
                None => field.to_owned(),
            };
            // Bounded here: a too-long value must not be copied whole.
            let value = excerpt(value, self.limits.max_error_excerpt_len);
            CompileError::invalid_value(at(base, &field), &value, reason)
        };
        match name_problem(value, self.limits.max_name_len) {
            Some(reason) => Err(invalid(reason)),
            None => Ok(()),
        }
    }

    /// A list of scope or audience patterns: non-empty, valid names, valid
    /// globs, interned in `interner`.
    fn names<I: Id>(
        &self,
        section: &Location,
        field: &str,
        values: &[String],
        interner: &mut Interner<I>,
    ) -> Result<NameSet<I>, CompileError> {
        self.limit(
            section,
            field,
            "values in one list",
            self.limits.max_list_len,
            values.len(),
        )?;
        if values.is_empty() {
            return Err(CompileError::invalid_value(
                at(section, field),
                "[]",
                "must list at least one entry",
            ));
        }
        for (i, v) in values.iter().enumerate() {
            self.name_at(section, field, Some(i), v)?;
        }
        NameSet::new(values, interner, self.limits).map_err(|(pattern, reason)| {
            CompileError::invalid_pattern(at(section, field), "glob", &pattern, reason)
        })
    }

    /// A list of scope patterns, interned among the policy's scopes.
    fn scope_names(
        &mut self,
        section: &Location,
        field: &str,
        values: &[String],
    ) -> Result<NameSet<ScopeId>, CompileError> {
        let mut interner = std::mem::take(&mut self.scopes);
        let set = self.names(section, field, values, &mut interner);
        self.scopes = interner;
        set
    }

    /// A list of audience patterns, interned among the policy's audiences.
    fn audience_names(
        &mut self,
        section: &Location,
        field: &str,
        values: &[String],
    ) -> Result<NameSet<AudienceId>, CompileError> {
        let mut interner = std::mem::take(&mut self.audiences);
        let set = self.names(section, field, values, &mut interner);
        self.audiences = interner;
        set
    }

    fn control(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.controls.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.controls.insert(Box::from(text), Arc::clone(&shared));
        shared
    }

    fn ttl(
        &self,
        base: &Location,
        field: &str,
        d: Option<Duration>,
    ) -> Result<Option<Duration>, CompileError> {
        if d.is_some_and(|d| d.as_secs() == 0) {
            return Err(CompileError::invalid_value(
                at(base, field),
                "0s",
                "a zero lifetime can never be granted",
            ));
        }
        Ok(d)
    }

    fn rule(&mut self, section: &Location, spec: &RuleSpec) -> Result<Rule, CompileError> {
        let loc = |field: &str| at(section, field);
        let mut parser = CondParser::new(section, self.limits, &mut self.conditions);
        let when = parser.parse_table(&spec.when, Field::root("when"), 0)?;
        self.limit(
            section,
            "controls",
            "values in one list",
            self.limits.max_list_len,
            spec.controls.len(),
        )?;
        for (i, c) in spec.controls.iter().enumerate() {
            self.name_at(section, "controls", Some(i), c)?;
        }
        let controls = spec.controls.iter().map(|c| self.control(c)).collect();
        let id: Arc<str> = Arc::from(spec.id.as_str());
        match spec.effect {
            Effect::Permit => {
                if spec.scopes.is_some() {
                    return Err(CompileError::contradiction(
                        loc("scopes"),
                        "a permit lists its scopes under `grant.scopes`; top-level `scopes` is for forbids",
                    ));
                }
                let Some(grant) = &spec.grant else {
                    return Err(CompileError::invalid_value(
                        loc("grant"),
                        "(missing)",
                        "a permit rule needs `grant = { scopes = [...], audience = [...] }`",
                    ));
                };
                let scopes = self.scope_names(section, "grant.scopes", &grant.scopes)?;
                let audience = self.audience_names(section, "grant.audience", &grant.audience)?;
                let max_ttl = self.ttl(section, "grant.max_ttl", grant.max_ttl)?;
                self.limit(
                    section,
                    "grant.claims",
                    "values in one list",
                    self.limits.max_list_len,
                    grant.claims.len(),
                )?;
                for (i, c) in grant.claims.iter().enumerate() {
                    self.name_at(section, "grant.claims", Some(i), c)?;
                }
                Ok(Rule {
                    id,
                    effect: Effect::Permit,
                    controls,
                    when,
                    scopes: Some(scopes),
                    audience,
                    max_ttl,
                    claims: grant.claims.iter().map(|c| c.as_str().into()).collect(),
                    on_excess: spec.on_excess,
                })
            }
            Effect::Forbid => {
                if spec.grant.is_some() {
                    return Err(CompileError::contradiction(
                        loc("grant"),
                        "a forbid grants nothing; remove `grant` or make the rule a permit",
                    ));
                }
                if spec.on_excess.is_some() {
                    return Err(CompileError::contradiction(
                        loc("on_excess"),
                        "`on_excess` applies to permits only",
                    ));
                }
                let scopes = match &spec.scopes {
                    Some(list) => Some(self.scope_names(section, "scopes", list)?),
                    None => None,
                };
                Ok(Rule {
                    id,
                    effect: Effect::Forbid,
                    controls,
                    when,
                    scopes,
                    audience: NameSet::default(),
                    max_ttl: None,
                    claims: Vec::new(),
                    on_excess: None,
                })
            }
        }
    }
}

/// What is wrong with an identifier, checked in this order: blank, longer
/// than `max_len` bytes, a control character.
fn name_problem(value: &str, max_len: usize) -> Option<&'static str> {
    if is_plain_ascii(value) {
        return (value.len() > max_len).then_some("too long");
    }
    name_problem_by_chars(value, max_len)
}

/// [`name_problem`] character by character: for names that are not plain
/// ASCII, and the reference its fast path is tested against.
fn name_problem_by_chars(value: &str, max_len: usize) -> Option<&'static str> {
    if value.trim().is_empty() {
        Some("must not be empty")
    } else if value.len() > max_len {
        Some("too long")
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    }
}

/// Nearly every identifier, told apart eight bytes at a time without
/// decoding characters: ASCII, without control characters, and starting
/// with a character that is not whitespace (so not blank once trimmed).
fn is_plain_ascii(value: &str) -> bool {
    use crate::swar::{has_below, has_byte, has_high, words};
    let bytes = value.as_bytes();
    // A space (0x20) or below is whitespace or a control character.
    let starts_plain = bytes.first().is_some_and(|b| *b > b' ' && *b < 0x7f);
    let odd = words(bytes).fold(false, |any, w| {
        any | has_below(w, 0x20) | has_byte(w, 0x7f) | has_high(w)
    });
    starts_plain && !odd
}

/// `base` (a section, in a rule at a known position) at `field`.
fn at(base: &Location, field: &str) -> Location {
    Location {
        field: field.to_owned(),
        ..base.clone()
    }
}

impl IssuancePolicy {
    /// Compile a document with the default [`Limits`].
    ///
    /// The policy keeps a copy of the document (see [`IssuancePolicy::document`]);
    /// [`IssuancePolicy::try_from`] a `PolicyDocument` avoids the copy.
    pub fn compile(doc: &PolicyDocument) -> Result<IssuancePolicy, CompileError> {
        IssuancePolicy::compile_with_limits(doc, &Limits::default())
    }

    /// Compile a document, validating everything: paths, types, patterns,
    /// durations, ids, contradictions and size limits.
    pub fn compile_with_limits(
        doc: &PolicyDocument,
        limits: &Limits,
    ) -> Result<IssuancePolicy, CompileError> {
        IssuancePolicy::compile_owned(Arc::new(doc.clone()), limits)
            .map_err(|e| e.bounded(limits.max_error_excerpt_len))
    }

    /// Compile, with errors not yet located nor bounded: the entry points
    /// locate them in the source text (which needs the whole field path and
    /// value), then bound them.
    fn compile_owned(
        document: Arc<PolicyDocument>,
        limits: &Limits,
    ) -> Result<IssuancePolicy, CompileError> {
        let doc = &*document;
        // Room for every name the document writes (an upper bound, cheap to
        // count, and no larger than the document already is): no rehashing
        // while 10,000s of names are interned.
        let (scope_names, audience_names) =
            doc.rules
                .iter()
                .fold((2 * doc.downgrade.len(), 0), |(s, a), r| {
                    match (&r.grant, &r.scopes) {
                        (Some(g), _) => (s + g.scopes.len(), a + g.audience.len()),
                        (None, Some(list)) => (s + list.len(), a),
                        (None, None) => (s, a),
                    }
                });
        let scope_names = doc
            .purposes
            .values()
            .fold(scope_names, |s, p| s + p.scopes.len());
        let mut c = Compiler {
            limits,
            scopes: Interner::with_capacity(scope_names),
            audiences: Interner::with_capacity(audience_names),
            controls: HashMap::default(),
            conditions: ConditionsBuilder::default(),
        };
        // One node per top-level condition at least (operator tables and
        // groups add more; the vector grows for those).
        c.conditions
            .reserve(doc.rules.iter().map(|r| r.when.len()).sum::<usize>());
        let settings = &doc.policy;
        let whole = Location::new(Section::Document, "");
        let downgrades = Location::new(Section::Downgrade, "");
        let policy = Location::new(Section::Policy, "");
        c.name(&policy, "id", &settings.id)?;
        c.name(&policy, "revision", &settings.revision)?;
        let default_ttl = c.ttl(&policy, "default_ttl", settings.default_ttl)?;
        let min_ttl = c.ttl(&policy, "min_ttl", settings.min_ttl)?;
        let max_ttl = c.ttl(&policy, "max_ttl", settings.max_ttl)?;
        let contradiction =
            |field: &str, message: String| CompileError::contradiction(at(&policy, field), message);
        if let (Some(min), Some(max)) = (min_ttl, max_ttl) {
            if min > max {
                return Err(contradiction(
                    "min_ttl",
                    format!("`min_ttl` `{min}` is above `max_ttl` `{max}`"),
                ));
            }
        }
        if let (Some(def), Some(max)) = (default_ttl, max_ttl) {
            if def > max {
                return Err(contradiction(
                    "default_ttl",
                    format!("`default_ttl` `{def}` is above `max_ttl` `{max}`"),
                ));
            }
        }
        if let (Some(min), Some(def)) = (min_ttl, default_ttl) {
            if min > def {
                return Err(contradiction(
                    "min_ttl",
                    format!("`min_ttl` `{min}` is above `default_ttl` `{def}`"),
                ));
            }
        }
        if default_ttl.is_none() && max_ttl.is_none() {
            return Err(contradiction(
                "max_ttl",
                "set `max_ttl` or `default_ttl`: without either a request without a ttl has no lifetime".into(),
            ));
        }

        c.limit(&whole, "rule", "rules", limits.max_rules, doc.rules.len())?;
        c.limit(
            &whole,
            "purposes",
            "purposes",
            limits.max_purposes,
            doc.purposes.len(),
        )?;
        c.limit(
            &downgrades,
            "",
            "downgrades",
            limits.max_downgrades,
            doc.downgrade.len(),
        )?;

        let mut seen: HashMap<&str, usize> =
            HashMap::with_capacity_and_hasher(doc.rules.len(), Default::default());
        let mut rules = Vec::with_capacity(doc.rules.len());
        let mut glob_scope_rules = PrefixMap::default();
        for (i, spec) in doc.rules.iter().enumerate() {
            let section = Location::rule(&spec.id, i, "");
            c.name(&section, "id", &spec.id)?;
            if let Some(first) = seen.insert(spec.id.as_str(), i + 1) {
                return Err(CompileError::duplicate_rule_id(
                    at(&section, "id"),
                    &spec.id,
                    first,
                ));
            }
            let rule = c.rule(&section, spec)?;
            let n = RuleId::from_index(i).ok_or_else(|| {
                CompileError::limit_exceeded(
                    at(&whole, "rule"),
                    "rules",
                    u32::MAX as usize,
                    doc.rules.len(),
                )
            })?;
            if let (Effect::Permit, Some(scopes)) = (rule.effect, &rule.scopes) {
                for glob in scopes.globs() {
                    glob_scope_rules.insert(glob.literal_prefix(), n);
                }
            }
            rules.push(rule);
        }
        // Filed once the rules are compiled, when the names are counted.
        let exact_grants = rules
            .iter()
            .zip((0..).map_while(RuleId::from_index))
            .filter(|(rule, _)| rule.effect == Effect::Permit)
            .filter_map(|(rule, n)| Some((rule.scopes.as_ref()?, n)))
            .flat_map(|(scopes, n)| scopes.exact_ids().iter().map(move |&id| (id, n)));
        let scope_rules = IdGroups::build(c.scopes.len(), exact_grants);

        let mut purposes =
            HashMap::with_capacity_and_hasher(doc.purposes.len(), Default::default());
        for (name, spec) in &doc.purposes {
            let section = Location::new(Section::Purpose(name.clone()), "");
            c.name(&section, "", name)?;
            let scopes = c.scope_names(&section, "scopes", &spec.scopes)?;
            let max_ttl = c.ttl(&section, "max_ttl", spec.max_ttl)?;
            let requires = CondParser::new(&section, limits, &mut c.conditions).parse_table(
                &spec.requires,
                Field::root("requires"),
                0,
            )?;
            let name: Arc<str> = name.as_str().into();
            purposes.insert(
                Arc::clone(&name),
                Purpose {
                    name,
                    scopes,
                    max_ttl,
                    requires,
                },
            );
        }

        let mut downgrade: HashMap<Box<str>, Box<str>> =
            HashMap::with_capacity_and_hasher(doc.downgrade.len(), Default::default());
        for (from, to) in &doc.downgrade {
            for (field, v) in [(from.as_str(), from), (from.as_str(), to)] {
                c.name(&downgrades, field, v)?;
                if crate::scopes::is_wildcard_request(v) || v.contains('[') {
                    return Err(CompileError::invalid_value(
                        at(&downgrades, field),
                        v,
                        "downgrades map concrete scopes, not patterns",
                    ));
                }
            }
            // Past `u32::MAX` names a downgrade is simply not interned: it
            // is then matched by text, like any name the policy never lists.
            let _ = (c.scopes.intern(from), c.scopes.intern(to));
            downgrade.insert(from.as_str().into(), to.as_str().into());
        }
        for start in doc.downgrade.keys() {
            let mut cur = start.as_str();
            for _ in 0..=downgrade.len() {
                match downgrade.get(cur) {
                    Some(next) if **next == *start => {
                        return Err(CompileError::contradiction(
                            at(&downgrades, start),
                            format!(
                                "downgrade cycle: `{}` leads back to itself",
                                excerpt(start, limits.max_error_excerpt_len)
                            ),
                        ));
                    }
                    Some(next) => cur = next,
                    None => break,
                }
            }
        }

        let conditions = std::mem::take(&mut c.conditions).finish();
        let index = RuleIndex::build(rules.iter().map(|r| (conditions.list(r.when), r.effect)));

        // Resolve globs against every name the policy mentions, so that
        // evaluation decides known names with integer comparisons.
        let mut budget = ResolveBudget {
            left: limits.max_glob_resolve_work,
            per_glob: limits.max_glob_resolve_work_per_glob,
        };
        // The scope globs' literal prefixes, known before any is resolved:
        // only the names with one are sorted for them.
        let permits = rules.iter().filter(|r| r.effect == Effect::Permit);
        let scope_sets = permits.filter_map(|r| r.scopes.as_ref());
        let scope_sets = scope_sets.chain(purposes.values().map(|p| &p.scopes));
        let prefixes = scope_sets
            .flat_map(NameSet::globs)
            .map(Glob::literal_prefix)
            .collect();
        let scope_names = c.scopes.sorted().with_prefixes(prefixes);
        let audience_names = c.audiences.sorted();
        // Forbids are only consulted when they match, so their globs stay
        // globs; permits and purposes are consulted for every scope.
        for rule in rules.iter_mut().filter(|r| r.effect == Effect::Permit) {
            if let Some(scopes) = &mut rule.scopes {
                scopes.resolve(&scope_names, &mut budget);
            }
            rule.audience.resolve(&audience_names, &mut budget);
        }
        for purpose in purposes.values_mut() {
            purpose.scopes.resolve(&scope_names, &mut budget);
        }
        drop((scope_names, audience_names));

        Ok(IssuancePolicy {
            meta: Arc::new(PolicyRef {
                id: settings.id.as_str().into(),
                revision: settings.revision.as_str().into(),
                digest: digest(doc).into(),
            }),
            default_ttl,
            min_ttl,
            max_ttl,
            on_excess: settings.on_excess,
            enforce_lifecycle: settings.enforce_lifecycle,
            enforce_credential_expiry: settings.enforce_credential_expiry,
            rules,
            purposes,
            conditions,
            downgrade,
            index,
            scope_ids: c.scopes,
            audience_ids: c.audiences,
            scope_rules,
            glob_scope_rules,
            limits: limits.clone(),
            document: Arc::clone(&document),
        })
    }

    /// Parse TOML and compile it with the default [`Limits`]; errors carry
    /// line and column.
    pub fn from_toml_str(text: &str) -> Result<IssuancePolicy, CompileError> {
        IssuancePolicy::from_toml_str_with_limits(text, &Limits::default())
    }

    /// Parse TOML and compile it within `limits`, the document's size
    /// included; errors carry line and column.
    ///
    /// ```
    /// use mintgate::{ErrorKind, IssuancePolicy, Limits};
    ///
    /// let text = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n";
    /// let mut limits = Limits::default();
    /// limits.max_document_bytes = 32;
    /// let err = IssuancePolicy::from_toml_str_with_limits(text, &limits).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    /// assert_eq!((err.limit(), err.found()), (Some(32), Some(48)));
    /// ```
    pub fn from_toml_str_with_limits(
        text: &str,
        limits: &Limits,
    ) -> Result<IssuancePolicy, CompileError> {
        let doc = PolicyDocument::from_toml_str_with_limits(text, limits)?;
        IssuancePolicy::compile_text(doc, text, SourceFormat::Toml, limits)
    }

    /// Parse JSON and compile it with the default [`Limits`]; errors carry
    /// line and column.
    pub fn from_json_str(text: &str) -> Result<IssuancePolicy, CompileError> {
        IssuancePolicy::from_json_str_with_limits(text, &Limits::default())
    }

    /// Parse JSON and compile it within `limits`, the document's size
    /// included; errors carry line and column.
    pub fn from_json_str_with_limits(
        text: &str,
        limits: &Limits,
    ) -> Result<IssuancePolicy, CompileError> {
        let doc = PolicyDocument::from_json_str_with_limits(text, limits)?;
        IssuancePolicy::compile_text(doc, text, SourceFormat::Json, limits)
    }

    fn compile_text(
        doc: PolicyDocument,
        text: &str,
        format: SourceFormat,
        limits: &Limits,
    ) -> Result<IssuancePolicy, CompileError> {
        IssuancePolicy::compile_owned(Arc::new(doc), limits).map_err(|e| {
            crate::source::locate_error(e, text, format).bounded(limits.max_error_excerpt_len)
        })
    }

    /// The document this policy was compiled from, shared.
    pub fn document_arc(&self) -> Arc<PolicyDocument> {
        Arc::clone(&self.document)
    }

    /// The conditions `list` (a rule's `when`, a purpose's `requires`).
    pub(crate) fn conds(&self, list: CondList) -> Conds<'_> {
        self.conditions.list(list)
    }

    /// The policy's id, revision and digest, as recorded on grants.
    pub fn policy_ref(&self) -> &PolicyRef {
        &self.meta
    }

    /// The document this policy was compiled from.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    /// The limits it was compiled with (and checks requests against).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

impl TryFrom<PolicyDocument> for IssuancePolicy {
    type Error = CompileError;

    /// Compile a document with the default [`Limits`], keeping it without a
    /// copy.
    ///
    /// ```
    /// use mintgate::{IssuancePolicy, PolicyDocument};
    ///
    /// let doc = PolicyDocument::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n")?;
    /// let policy = IssuancePolicy::try_from(doc)?;
    /// assert_eq!(&*policy.policy_ref().id, "p");
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    fn try_from(doc: PolicyDocument) -> Result<Self, Self::Error> {
        let limits = Limits::default();
        IssuancePolicy::compile_owned(Arc::new(doc), &limits)
            .map_err(|e| e.bounded(limits.max_error_excerpt_len))
    }
}

#[cfg(test)]
mod tests {
    use super::name_problem;

    /// The word-at-a-time checks agree with `trim` and `char::is_control`,
    /// whatever the characters and wherever they are.
    #[test]
    fn name_problems_agree_with_the_character_checks() {
        let reference = super::name_problem_by_chars;
        let mut values = vec![
            String::new(),
            "é".into(),
            "a\u{85}".into(),
            "\u{3000}".into(),
        ];
        for c in (0u8..0x80).map(char::from).chain(['\u{85}', '\u{a0}', 'é']) {
            values.extend([
                c.to_string(),
                format!("a{c}"),
                format!("{c} "),
                format!("{c}\u{b}"),
            ]);
            // At every position of names of up to 17 bytes.
            for len in 1..=17 {
                for at in 0..len {
                    values.push(format!("{}{c}{}", "x".repeat(at), "y".repeat(len - at - 1)));
                }
            }
        }
        for v in &values {
            for max_len in [1, 2, 512] {
                assert_eq!(name_problem(v, max_len), reference(v, max_len), "{v:?}");
            }
        }
    }
}
