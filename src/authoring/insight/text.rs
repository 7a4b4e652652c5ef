//! The report as text: one screenful per section, every log string cut to a
//! bounded length (log lines are untrusted text).

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::model::{Named, Outcomes, Report, RuleReport};
use crate::duration::Duration;
use crate::echo::echo;

/// Longest log string the text repeats, in characters.
const ITEM: usize = 120;
/// Most items of one list on a line.
const LIST: usize = 8;

pub(crate) fn show(s: &str) -> String {
    echo(s, ITEM)
}

pub(crate) fn dur(secs: u64) -> String {
    Duration::from_secs(secs).to_string()
}

pub(crate) fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub(crate) fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0 %".to_owned()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

fn outcomes(o: &Outcomes) -> String {
    format!("{} allow, {} narrow, {} deny", o.allow, o.narrow, o.deny)
}

fn list(items: &[Named]) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    let mut s = items
        .iter()
        .take(LIST)
        .map(|n| format!("{} ×{}", show(&n.name), n.count))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > LIST {
        let _ = write!(s, " … and {} more", items.len() - LIST);
    }
    s
}

fn plain(items: &[String]) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    items.iter().map(|s| show(s)).collect::<Vec<_>>().join(" ")
}

impl Report {
    /// The report as text, for a terminal (`mintgate report`).
    ///
    /// ```
    /// use mintgate::authoring::insight::{ReportOptions, report};
    ///
    /// let r = report("".as_bytes(), &ReportOptions::default(), &mut |_| {}).unwrap();
    /// assert!(r.to_text().starts_with("decision log: 0 records"));
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.summary(&mut out);
        self.rules_text(&mut out);
        self.friction_text(&mut out);
        self.over_asking_text(&mut out);
        self.evidence_text(&mut out);
        out
    }

    fn summary(&self, out: &mut String) {
        let o = &self.outcomes;
        let n = o.total();
        let _ = write!(out, "decision log: {} records", self.records);
        if let (Some(a), Some(b)) = (self.first, self.last) {
            let days = (b - a).num_hours() as f64 / 24.0;
            let _ = write!(out, ", {} → {} UTC ({days:.1} days)", day(a), day(b));
        }
        out.push('\n');
        if let Some(p) = &self.policy {
            let _ = writeln!(out, "  policy   {}", show(p));
        }
        if self.since.is_some() || self.until.is_some() {
            let w = |t: Option<DateTime<Utc>>| t.map_or("…".to_owned(), day);
            let _ = writeln!(out, "  window   {} → {}", w(self.since), w(self.until));
        }
        let _ = writeln!(
            out,
            "  allow {} ({})  narrow {} ({})  deny {} ({})",
            o.allow,
            pct(o.allow, n),
            o.narrow,
            pct(o.narrow, n),
            o.deny,
            pct(o.deny, n)
        );
        if !self.denials.is_empty() {
            let _ = writeln!(out, "  denials  {}", list(&self.denials));
        }
        let s = &self.skipped;
        let skipped = [
            (s.not_decision, "not decisions"),
            (s.malformed, "malformed"),
            (s.newer_version, "of a newer record version"),
            (s.outside_window, "outside the window"),
            (s.other_policy, "of other policies"),
        ];
        let parts: Vec<String> = skipped
            .iter()
            .filter(|(c, _)| *c > 0)
            .map(|(c, what)| format!("{c} {what}"))
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(out, "  skipped  {}", parts.join(", "));
        }
        for e in &self.errors {
            let _ = writeln!(out, "  line {}: {}", e.line, show(&e.message));
        }
        if !self.capped.is_empty() {
            let _ = writeln!(
                out,
                "  note     tables at their size bound (overflow counted, not itemized): {}",
                self.capped.join(", ")
            );
        }
    }

    fn rules_text(&self, out: &mut String) {
        let _ = writeln!(out, "\nrules");
        for r in &self.rules {
            rule_text(out, r);
        }
    }

    fn friction_text(&self, out: &mut String) {
        let _ = writeln!(out, "\nfriction: the most frequent narrow and deny reasons");
        for f in &self.friction {
            let mut what = format!("{:<6} {}", f.decision, f.kind);
            if let Some(c) = &f.cause {
                let _ = write!(what, " ({})", show(c));
            }
            if let Some(r) = &f.rule {
                let _ = write!(what, ", rule `{}`", show(r));
            }
            if let Some(c) = &f.condition {
                let _ = write!(what, ", condition `{}`", show(c));
            }
            let _ = writeln!(out, "  {:>8}  {what}", f.count);
        }
        let _ = writeln!(
            out,
            "  most narrowed scopes: {}",
            list(&self.narrowed_scopes)
        );
    }

    fn over_asking_text(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\nover-asking: share of what was asked that was cut, per identity and purpose"
        );
        for o in &self.over_asking {
            let purpose = o.purpose.as_deref().map_or("(no purpose)".to_owned(), show);
            let _ = writeln!(
                out,
                "  {} ({}) for {}: {} requests, {} denied; scopes cut {}/{} ({}); ttl cut {} of {} ({})",
                show(&o.subject),
                o.kind,
                purpose,
                o.requests,
                o.denied,
                o.scopes_cut,
                o.scopes_requested,
                pct(o.scopes_cut, o.scopes_requested),
                dur(o.ttl_cut_secs),
                dur(o.ttl_requested_secs),
                pct(o.ttl_cut_secs, o.ttl_requested_secs),
            );
        }
    }

    fn evidence_text(&self, out: &mut String) {
        let _ = writeln!(out, "\naudit evidence: decisions per control");
        for c in &self.controls {
            let _ = writeln!(
                out,
                "  {:<32} {:>8} decisions ({}), {} → {}",
                show(&c.control),
                c.decisions.total(),
                outcomes(&c.decisions),
                day(c.first),
                day(c.last)
            );
        }
        let _ = writeln!(out, "\npolicy revisions seen");
        for r in &self.revisions {
            let _ = writeln!(
                out,
                "  {} @ {} ({}): {} decisions, {} → {}",
                show(&r.id),
                show(&r.revision),
                show(&r.digest),
                r.records,
                day(r.first),
                day(r.last)
            );
        }
    }
}

fn rule_text(out: &mut String, r: &RuleReport) {
    let effect = r.effect.as_deref().unwrap_or("rule");
    let _ = writeln!(
        out,
        "  {} ({effect}): matched {} ({}); named in {} reasons",
        show(&r.rule),
        r.matched.total(),
        outcomes(&r.matched),
        r.named_in_reasons
    );
    if r.effect.as_deref() == Some("forbid") {
        let _ = writeln!(out, "    removes  {}", plain(&r.permitted_scopes));
        return;
    }
    if r.effect.is_some() {
        let _ = writeln!(out, "    scopes   permitted {}", plain(&r.permitted_scopes));
    }
    let _ = writeln!(out, "             granted   {}", list(&r.granted_scopes));
    if !r.never_granted_scopes.is_empty() {
        let _ = writeln!(
            out,
            "             never granted (candidates to remove) {}",
            plain(&r.never_granted_scopes)
        );
    }
    if r.effect.is_some() {
        let _ = writeln!(
            out,
            "    audience permitted {}",
            plain(&r.permitted_audience)
        );
    }
    let _ = writeln!(out, "             granted   {}", list(&r.granted_audience));
    if !r.never_granted_audience.is_empty() {
        let _ = writeln!(
            out,
            "             never granted {}",
            plain(&r.never_granted_audience)
        );
    }
    let p = &r.granted_ttl;
    let cap = r
        .max_ttl_secs
        .map_or("max_ttl ?".to_owned(), |s| format!("max_ttl {}", dur(s)));
    if p.count > 0 {
        let _ = writeln!(
            out,
            "    ttl      {cap}; granted p50 {} p95 {} max {} ({} grants)",
            dur(p.p50),
            dur(p.p95),
            dur(p.max),
            p.count
        );
    } else {
        let _ = writeln!(out, "    ttl      {cap}; nothing granted through it");
    }
    let more = if r.subjects_capped { "+" } else { "" };
    let _ = writeln!(
        out,
        "    subjects {}{more} distinct; most served: {}",
        r.subjects,
        list(&r.top_subjects)
    );
}
