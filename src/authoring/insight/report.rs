//! Aggregating a decision log into a [`Report`], one record at a time.

use std::collections::BTreeMap;
use std::io::BufRead;

use chrono::{DateTime, NaiveDate, Utc};

use super::bounded::{Counts, Histogram, pack, unpack};
use super::model::*;
use super::read::{Line, LogLine, for_each_line, parse_line};
use crate::document::Effect;
use crate::fastmap::HashMap;
use crate::grant::Decision;
use crate::pattern::Glob;
use crate::policy::IssuancePolicy;

/// Distinct keys kept per table (rules, friction keys, over-asking
/// identities, controls, revisions, days).
const TABLE: usize = 10_000;
/// Distinct scopes kept per rule.
const RULE_SCOPES: usize = 512;
/// Distinct audiences kept per rule.
const RULE_AUDIENCES: usize = 128;
/// Distinct subjects kept per rule.
const RULE_SUBJECTS: usize = 256;
/// Malformed lines itemized.
const ERRORS: usize = 10;
/// Rows of the ranked tables.
const TOP: usize = 25;

/// What to read of the log.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportOptions<'p> {
    /// Only decisions at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only decisions before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only decisions of this policy (by id); its rules are listed even when
    /// they never matched, and what they permit is compared with what was
    /// granted through them.
    pub policy: Option<&'p IssuancePolicy>,
}

/// A compiled pattern of a rule, or `None` when it does not compile as a
/// glob (then nothing is attributed to it).
struct Pattern {
    text: String,
    glob: Option<Glob>,
}

impl Pattern {
    fn new(text: &str) -> Pattern {
        Pattern {
            text: text.to_owned(),
            glob: Glob::new(text).ok(),
        }
    }
    fn matches(&self, s: &str) -> bool {
        self.glob.as_ref().is_some_and(|g| g.is_match(s))
    }
}

/// What the policy says of a rule.
struct RuleInfo {
    effect: Effect,
    scopes: Vec<Pattern>,
    audience: Vec<Pattern>,
    max_ttl: Option<u64>,
}

#[derive(Default)]
struct RuleAcc {
    matched: Outcomes,
    named: u64,
    scopes: Option<Counts<String>>,
    audience: Option<Counts<String>>,
    ttl: Histogram,
    subjects: Option<Counts<String>>,
}

#[derive(Default)]
struct OverAcc {
    requests: u64,
    denied: u64,
    scopes_requested: u64,
    scopes_cut: u64,
    ttl_requested: u64,
    ttl_cut: u64,
}

struct Span {
    count: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

impl Span {
    fn new(t: DateTime<Utc>) -> Span {
        Span {
            count: 0,
            first: t,
            last: t,
        }
    }
    fn add(&mut self, t: DateTime<Utc>) {
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

/// The running aggregate.
struct Acc<'p> {
    options: ReportOptions<'p>,
    rules_info: Vec<(String, RuleInfo)>,
    info_index: HashMap<String, usize>,
    report: Report,
    denials: Counts<String>,
    days: BTreeMap<NaiveDate, Outcomes>,
    days_overflow: u64,
    rules: HashMap<String, RuleAcc>,
    rules_overflow: u64,
    /// Packed (decision, kind, cause, rule, condition).
    friction: Counts<String>,
    narrowed: Counts<String>,
    /// Packed (kind, subject, purpose).
    over: HashMap<String, OverAcc>,
    over_overflow: OverAcc,
    ttl_pairs: Counts<(u64, u64)>,
    controls: HashMap<String, (Outcomes, Span)>,
    /// Packed (id, revision, digest).
    revisions: HashMap<String, Span>,
    /// The reused buffer for packed keys.
    key: String,
}

/// Read a decision log and aggregate it. Streaming: memory is bounded by
/// the report's tables (docs/insight.md), not by the log. `progress` is
/// called with the bytes read so far.
///
/// Malformed lines are counted and the first ten kept in
/// [`Report::errors`]; only a read error stops the report.
///
/// ```
/// use mintgate::authoring::insight::{ReportOptions, report};
///
/// let log = r#"{"record":1,"decision":"allow","subject":"a","scopes":["x"],"audience":["y"],"ttl":"5m","issued_at":"2026-11-28T12:00:00Z","reasons":[],"matched_rules":["r"],"controls":["OWASP NHI5:2025"],"policy":{"id":"p","revision":"1","digest":"sha256:0"},"request":{"identity":{"subject":"a","kind":"agent"},"scopes":["x"],"ttl":"5m"},"delegation_depth":0}
/// not json
/// "#;
/// let r = report(log.as_bytes(), &ReportOptions::default(), &mut |_| {})?;
/// assert_eq!((r.records, r.skipped.malformed), (1, 1));
/// assert_eq!(r.rules[0].rule, "r");
/// assert_eq!(r.rules[0].granted_scopes[0].name, "x");
/// assert_eq!(r.controls[0].decisions.allow, 1);
/// # Ok::<(), mintgate::authoring::insight::LogError>(())
/// ```
pub fn report(
    input: impl BufRead,
    options: &ReportOptions<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, LogError> {
    let mut acc = Acc::new(*options);
    for_each_line(input, progress, |number, text| {
        let parsed = text.and_then(|t| {
            parse_line(t).map_err(|e| LogError {
                line: number,
                column: e.column(),
                message: strip_position(&e),
            })
        });
        match parsed {
            Ok(Line::Record(line)) => acc.add(&line),
            Ok(Line::NotDecision) => acc.report.skipped.not_decision += 1,
            Ok(Line::Newer) => acc.report.skipped.newer_version += 1,
            Err(e) => {
                acc.report.skipped.malformed += 1;
                if acc.report.errors.len() < ERRORS {
                    acc.report.errors.push(e);
                }
            }
        }
    })?;
    Ok(acc.finish())
}

/// serde_json's message without its ` at line L column C` suffix.
fn strip_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    message.strip_suffix(&suffix).unwrap_or(&message).to_owned()
}

/// Whether `name` (a scope, or an audience) was granted through a matched
/// rule: without the policy (`known` false), anything granted while it
/// matched; with it, only through a permit whose patterns cover the name.
fn through(known: bool, info: Option<&RuleInfo>, name: &str, audience: bool) -> bool {
    if !known {
        return true;
    }
    info.is_some_and(|info| {
        let patterns = if audience {
            &info.audience
        } else {
            &info.scopes
        };
        info.effect == Effect::Permit && patterns.iter().any(|p| p.matches(name))
    })
}

fn secs(d: crate::duration::Duration) -> u64 {
    d.as_secs()
}

impl<'p> Acc<'p> {
    fn new(options: ReportOptions<'p>) -> Acc<'p> {
        let mut rules_info = Vec::new();
        if let Some(policy) = options.policy {
            let doc = policy.document();
            let policy_max = doc.policy.max_ttl.map(secs);
            for r in &doc.rules {
                let grant = r.grant.as_ref();
                let scopes = match r.effect {
                    Effect::Permit => grant.map(|g| g.scopes.clone()).unwrap_or_default(),
                    Effect::Forbid => r.scopes.clone().unwrap_or_default(),
                };
                rules_info.push((
                    r.id.clone(),
                    RuleInfo {
                        effect: r.effect,
                        scopes: scopes.iter().map(|s| Pattern::new(s)).collect(),
                        audience: grant
                            .map(|g| g.audience.iter().map(|s| Pattern::new(s)).collect())
                            .unwrap_or_default(),
                        max_ttl: grant.and_then(|g| g.max_ttl).map(secs).or(policy_max),
                    },
                ));
            }
        }
        let info_index = rules_info
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        Acc {
            report: Report {
                policy: options.policy.map(|p| p.policy_ref().id.to_string()),
                since: options.since,
                until: options.until,
                ..Report::default()
            },
            options,
            rules_info,
            info_index,
            denials: Counts::new(64),
            days: BTreeMap::new(),
            days_overflow: 0,
            rules: HashMap::default(),
            rules_overflow: 0,
            friction: Counts::new(TABLE),
            narrowed: Counts::new(TABLE),
            over: HashMap::default(),
            over_overflow: OverAcc::default(),
            ttl_pairs: Counts::new(2_000),
            controls: HashMap::default(),
            revisions: HashMap::default(),
            key: String::new(),
        }
    }

    fn info(&self, rule: &str) -> Option<&RuleInfo> {
        self.info_index
            .get(rule)
            .and_then(|&i| self.rules_info.get(i))
            .map(|(_, info)| info)
    }

    fn add(&mut self, line: &LogLine<'_>) {
        let (Some(decision), Some(at)) = (line.decision, line.issued_at) else {
            return;
        };
        if self.options.since.is_some_and(|s| at < s) || self.options.until.is_some_and(|u| at >= u)
        {
            self.report.skipped.outside_window += 1;
            return;
        }
        if let Some(p) = self.options.policy {
            if line.policy.as_ref().map(|v| v.id.as_ref()) != Some(&*p.policy_ref().id) {
                self.report.skipped.other_policy += 1;
                return;
            }
        }
        let r = &mut self.report;
        r.records += 1;
        r.outcomes.add(decision);
        r.first = Some(r.first.map_or(at, |f| f.min(at)));
        r.last = Some(r.last.map_or(at, |l| l.max(at)));
        if let Some(d) = line.denial {
            self.denials
                .add_with(d.to_string().as_str(), str::to_owned, 1);
        }
        self.add_day(at.date_naive(), decision);
        self.add_rules(line, decision);
        self.add_reasons(line, decision);
        self.add_over_asking(line, decision);
        self.add_evidence(line, decision, at);
    }

    fn add_day(&mut self, day: NaiveDate, decision: Decision) {
        if let Some(o) = self.days.get_mut(&day) {
            o.add(decision);
        } else if self.days.len() < TABLE {
            self.days.entry(day).or_default().add(decision);
        } else {
            self.days_overflow += 1;
        }
    }

    fn add_rules(&mut self, line: &LogLine<'_>, decision: Decision) {
        let known = self.options.policy.is_some();
        for rule in &line.matched_rules {
            let rule = rule.as_ref();
            let info = self
                .info_index
                .get(rule)
                .and_then(|&i| self.rules_info.get(i))
                .map(|(_, info)| info);
            if !self.rules.contains_key(rule) {
                if self.rules.len() >= TABLE {
                    self.rules_overflow += 1;
                    continue;
                }
                self.rules.insert(rule.to_owned(), RuleAcc::default());
            }
            let Some(acc) = self.rules.get_mut(rule) else {
                continue;
            };
            acc.matched.add(decision);
            acc.subjects
                .get_or_insert_with(|| Counts::new(RULE_SUBJECTS))
                .add_with(line.subject.as_ref(), str::to_owned, 1);
            if decision == Decision::Deny {
                continue;
            }
            let sc = acc.scopes.get_or_insert_with(|| Counts::new(RULE_SCOPES));
            let mut any = false;
            for s in &line.scopes {
                if through(known, info, s, false) {
                    sc.add_with(s.as_ref(), str::to_owned, 1);
                    any = true;
                }
            }
            let au = acc
                .audience
                .get_or_insert_with(|| Counts::new(RULE_AUDIENCES));
            for a in &line.audience {
                if through(known, info, a, true) {
                    au.add_with(a.as_ref(), str::to_owned, 1);
                }
            }
            if let (Some(ttl), true) = (line.ttl, any) {
                acc.ttl.add(ttl.as_secs());
            }
        }
    }

    fn add_reasons(&mut self, line: &LogLine<'_>, decision: Decision) {
        let label = match decision {
            Decision::Allow => return,
            Decision::Narrow => "narrow",
            Decision::Deny => "deny",
        };
        for reason in &line.reasons {
            if let Some(rule) = reason.rule() {
                if let Some(acc) = self.rules.get_mut(rule) {
                    acc.named += 1;
                } else if self.rules.len() < TABLE {
                    self.rules.entry(rule.to_owned()).or_default().named += 1;
                }
            }
            pack(
                &mut self.key,
                &[
                    Some(label),
                    Some(&reason.kind),
                    reason.cause(),
                    reason.rule(),
                    reason.condition(),
                ],
            );
            self.friction.add_with(self.key.as_str(), str::to_owned, 1);
            if let Some(scope) = reason.cut_scope() {
                self.narrowed.add_with(scope, str::to_owned, 1);
            }
        }
    }

    fn add_over_asking(&mut self, line: &LogLine<'_>, decision: Decision) {
        let Some(req) = &line.request else { return };
        let requested = req.scopes.len() as u64;
        let cut = if decision == Decision::Deny {
            requested
        } else {
            (line
                .reasons
                .iter()
                .filter(|r| r.cut_scope().is_some())
                .count() as u64)
                .min(requested)
        };
        let (ttl_req, ttl_cut) = match req.ttl.map(|t| t.as_secs()) {
            None => (0, 0),
            Some(asked) if decision == Decision::Deny => (asked, asked),
            Some(asked) => (
                asked,
                asked.saturating_sub(line.ttl.map_or(asked, |t| t.as_secs())),
            ),
        };
        if let (Some(a), Some(g)) = (req.ttl, line.ttl) {
            self.ttl_pairs
                .add_with(&(a.as_secs(), g.as_secs()), |k| *k, 1);
        }
        pack(
            &mut self.key,
            &[
                Some(req.identity.kind.as_str()),
                Some(&req.identity.subject),
                req.purpose.as_ref().map(|p| p.name.as_ref()),
            ],
        );
        let full = self.over.len() >= TABLE;
        let acc = match self.over.get_mut(self.key.as_str()) {
            Some(acc) => acc,
            None if full => &mut self.over_overflow,
            None => self.over.entry(self.key.clone()).or_default(),
        };
        acc.requests += 1;
        acc.denied += u64::from(decision == Decision::Deny);
        acc.scopes_requested += requested;
        acc.scopes_cut += cut;
        acc.ttl_requested += ttl_req;
        acc.ttl_cut += ttl_cut;
    }

    fn add_evidence(&mut self, line: &LogLine<'_>, decision: Decision, at: DateTime<Utc>) {
        for c in &line.controls {
            let full = self.controls.len() >= TABLE;
            if let Some((o, span)) = self.controls.get_mut(c.as_ref()) {
                o.add(decision);
                span.add(at);
            } else if !full {
                let (o, span) = self
                    .controls
                    .entry(c.to_string())
                    .or_insert_with(|| (Outcomes::default(), Span::new(at)));
                o.add(decision);
                span.add(at);
            }
        }
        if let Some(p) = &line.policy {
            pack(
                &mut self.key,
                &[Some(&p.id), Some(&p.revision), Some(&p.digest)],
            );
            let full = self.revisions.len() >= TABLE;
            if let Some(span) = self.revisions.get_mut(self.key.as_str()) {
                span.add(at);
            } else if !full {
                self.revisions
                    .entry(self.key.clone())
                    .or_insert_with(|| Span::new(at))
                    .add(at);
            }
        }
    }

    fn finish(mut self) -> Report {
        let mut capped = Vec::new();
        let mut cap = |name: &str, hit: bool| {
            if hit {
                capped.push(name.to_owned());
            }
        };
        cap("days", self.days_overflow > 0);
        cap("rules", self.rules_overflow > 0);
        cap("friction", self.friction.capped());
        cap("narrowed_scopes", self.narrowed.capped());
        cap("over_asking", self.over_overflow.requests > 0);
        cap("ttl_pairs", self.ttl_pairs.capped());
        cap("controls", self.controls.len() >= TABLE);
        cap("revisions", self.revisions.len() >= TABLE);
        let mut r = std::mem::take(&mut self.report);
        r.capped = capped;
        r.denials = named(self.denials.top(64));
        r.timeline = self
            .days
            .iter()
            .map(|(day, outcomes)| Day {
                day: *day,
                outcomes: *outcomes,
            })
            .collect();
        r.rules = self.rule_reports();
        r.friction = self
            .friction
            .top(TOP)
            .into_iter()
            .map(|(key, count)| {
                let mut p = unpack(&key, 5).into_iter();
                let mut next = || p.next().flatten();
                Friction {
                    decision: next().unwrap_or_default(),
                    kind: next().unwrap_or_default(),
                    cause: next(),
                    rule: next(),
                    condition: next(),
                    count,
                }
            })
            .collect();
        r.narrowed_scopes = named(self.narrowed.top(TOP));
        r.over_asking = self.over_asking();
        r.ttl_pairs = self
            .ttl_pairs
            .top(200)
            .into_iter()
            .map(|((requested_secs, granted_secs), count)| TtlPair {
                requested_secs,
                granted_secs,
                count,
            })
            .collect();
        let mut controls: Vec<ControlEvidence> = self
            .controls
            .drain()
            .map(|(control, (decisions, span))| ControlEvidence {
                control,
                decisions,
                first: span.first,
                last: span.last,
            })
            .collect();
        controls.sort_by(|a, b| a.control.cmp(&b.control));
        r.controls = controls;
        let mut revisions: Vec<RevisionSeen> = self
            .revisions
            .drain()
            .map(|(key, s)| {
                let mut p = unpack(&key, 3).into_iter();
                let mut next = || p.next().flatten().unwrap_or_default();
                RevisionSeen {
                    id: next(),
                    revision: next(),
                    digest: next(),
                    records: s.count,
                    first: s.first,
                    last: s.last,
                }
            })
            .collect();
        revisions.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.id.cmp(&b.id)));
        r.revisions = revisions;
        r
    }

    fn rule_reports(&mut self) -> Vec<RuleReport> {
        let mut out = Vec::new();
        // Policy rules first, in policy order, then rules only the log names.
        let mut order: Vec<String> = self.rules_info.iter().map(|(id, _)| id.clone()).collect();
        let mut extra: Vec<String> = self
            .rules
            .keys()
            .filter(|k| !self.info_index.contains_key(*k))
            .cloned()
            .collect();
        extra.sort();
        order.extend(extra);
        for id in order {
            let acc = self.rules.remove(&id).unwrap_or_default();
            let scopes_capped = acc.scopes.as_ref().is_some_and(Counts::capped);
            let info = self.info(&id);
            let scopes = acc.scopes.map(|c| c.sorted()).unwrap_or_default();
            let audience = acc.audience.map(|c| c.sorted()).unwrap_or_default();
            let never = |pats: &[Pattern], granted: &[(String, u64)]| -> Vec<String> {
                pats.iter()
                    .filter(|p| !granted.iter().any(|(s, _)| p.matches(s)))
                    .map(|p| p.text.clone())
                    .collect()
            };
            let subjects = acc.subjects.as_ref();
            out.push(RuleReport {
                rule: id.clone(),
                effect: info.map(|i| match i.effect {
                    Effect::Permit => "permit".to_owned(),
                    Effect::Forbid => "forbid".to_owned(),
                }),
                matched: acc.matched,
                named_in_reasons: acc.named,
                permitted_scopes: info
                    .map(|i| i.scopes.iter().map(|p| p.text.clone()).collect())
                    .unwrap_or_default(),
                granted_scopes_capped: scopes_capped,
                never_granted_scopes: info
                    .filter(|i| i.effect == Effect::Permit)
                    .map(|i| never(&i.scopes, &scopes))
                    .unwrap_or_default(),
                permitted_audience: info
                    .map(|i| i.audience.iter().map(|p| p.text.clone()).collect())
                    .unwrap_or_default(),
                never_granted_audience: info
                    .filter(|i| i.effect == Effect::Permit)
                    .map(|i| never(&i.audience, &audience))
                    .unwrap_or_default(),
                granted_scopes: named(scopes),
                granted_audience: named(audience),
                max_ttl_secs: info.and_then(|i| i.max_ttl),
                granted_ttl: acc.ttl.percentiles(),
                subjects: subjects.map_or(0, |s| s.len() as u64),
                subjects_capped: subjects.is_some_and(Counts::capped),
                top_subjects: named(subjects.map(|s| s.top(5)).unwrap_or_default()),
            });
        }
        out
    }

    fn over_asking(&mut self) -> Vec<OverAsking> {
        let mut rows: Vec<OverAsking> = self
            .over
            .drain()
            .map(|(key, a)| {
                let mut p = unpack(&key, 3).into_iter();
                let mut next = || p.next().flatten();
                let kind = next().unwrap_or_default();
                let subject = next().unwrap_or_default();
                over_row(kind, subject, next(), &a)
            })
            .collect();
        if self.over_overflow.requests > 0 {
            let a = std::mem::take(&mut self.over_overflow);
            rows.push(over_row(String::new(), "(other)".to_owned(), None, &a));
        }
        rows.sort_by(|a, b| {
            b.scopes_cut
                .cmp(&a.scopes_cut)
                .then_with(|| b.ttl_cut_secs.cmp(&a.ttl_cut_secs))
                .then_with(|| a.subject.cmp(&b.subject))
                .then_with(|| a.purpose.cmp(&b.purpose))
        });
        rows.truncate(TOP);
        rows
    }
}

fn over_row(kind: String, subject: String, purpose: Option<String>, a: &OverAcc) -> OverAsking {
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    OverAsking {
        kind,
        subject,
        purpose,
        requests: a.requests,
        denied: a.denied,
        scopes_requested: a.scopes_requested,
        scopes_cut: a.scopes_cut,
        scope_cut_share: share(a.scopes_cut, a.scopes_requested),
        ttl_requested_secs: a.ttl_requested,
        ttl_cut_secs: a.ttl_cut,
        ttl_cut_share: share(a.ttl_cut, a.ttl_requested),
    }
}

fn named(v: Vec<(String, u64)>) -> Vec<Named> {
    v.into_iter()
        .map(|(name, count)| Named { name, count })
        .collect()
}
