//! `mintgate eval`'s explanation: what was asked, what is granted, and why,
//! with the rule behind every reason and that rule's controls.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use mintgate::{Cause, Decision, Grant, IssuancePolicy, MintRequest, Reason, ScopeCause};

/// The explanation of one decision, written by its `Display`.
pub struct Explanation<'a> {
    /// The policy that decided.
    pub policy: &'a IssuancePolicy,
    /// The request.
    pub request: &'a MintRequest,
    /// The request file, as given.
    pub path: &'a Path,
    /// The decision.
    pub grant: &'a Grant,
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(" ")
    }
}

impl Explanation<'_> {
    /// `rule `id` (controls: …)`.
    fn rule_line(&self, controls: &HashMap<&str, &Vec<String>>, id: &str) -> String {
        match controls.get(id) {
            Some(c) if !c.is_empty() => format!("rule `{id}` (controls: {})", c.join(", ")),
            _ => format!("rule `{id}` (no controls)"),
        }
    }

    /// For a scope the purpose does not justify: what the purpose does
    /// justify.
    fn purpose_note(&self, reason: &Reason) -> Option<String> {
        if reason.cause() != Some(Cause::Scope(ScopeCause::NotJustifiedByPurpose)) {
            return None;
        }
        let name = &self.request.purpose.as_ref()?.name;
        let spec = self.policy.document().purposes.get(name)?;
        Some(format!(
            "purpose `{name}` justifies only: {}",
            spec.scopes.join(" ")
        ))
    }

    fn asked(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let req = self.request;
        writeln!(f, "asked")?;
        let id = &req.identity;
        writeln!(f, "  subject   {} ({})", id.subject, id.kind.as_str())?;
        if let Some(issuer) = &id.issuer {
            writeln!(f, "  issuer    {issuer}")?;
        }
        if let Some(p) = &req.purpose {
            match &p.ticket {
                Some(t) => writeln!(f, "  purpose   {} (ticket {t})", p.name)?,
                None => writeln!(f, "  purpose   {}", p.name)?,
            }
        }
        writeln!(f, "  scopes    {}", list(&req.scopes))?;
        writeln!(f, "  audience  {}", list(&req.audience))?;
        let ttl = req.ttl.map_or("(default)".to_owned(), |t| t.to_string());
        writeln!(f, "  ttl       {ttl}")?;
        if let Some(d) = &req.delegation {
            writeln!(
                f,
                "  on behalf of {} (delegation depth {})",
                d.subject,
                d.depth()
            )?;
            if let Some(parent) = &d.parent {
                writeln!(
                    f,
                    "  parent    [{}] until {}",
                    parent.scopes.join(" "),
                    parent.expires_at.to_rfc3339()
                )?;
            }
        }
        Ok(())
    }

    fn decided(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grant = self.grant;
        let headline = grant.decision.to_string().to_uppercase();
        match grant.denial {
            Some(d) => writeln!(f, "decision  {headline} ({d})")?,
            None => writeln!(f, "decision  {headline}")?,
        }
        if grant.decision == Decision::Deny {
            return writeln!(f, "granted   nothing");
        }
        writeln!(f, "granted")?;
        writeln!(f, "  scopes    {}", list(&grant.scopes))?;
        writeln!(f, "  audience  {}", list(&grant.audience))?;
        if let (Some(ttl), Some(exp)) = (grant.ttl, grant.expires_at) {
            writeln!(f, "  ttl       {ttl} (expires {})", exp.to_rfc3339())?;
        }
        Ok(())
    }

    fn because(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grant = self.grant;
        let controls: HashMap<&str, &Vec<String>> = self
            .policy
            .document()
            .rules
            .iter()
            .map(|r| (r.id.as_str(), &r.controls))
            .collect();
        if !grant.reasons.is_empty() {
            writeln!(f, "because")?;
            for r in &grant.reasons {
                writeln!(f, "  - {r}")?;
                if let Some(rule) = r.rule() {
                    writeln!(f, "      {}", self.rule_line(&controls, rule))?;
                }
                if let Some(p) = self.purpose_note(r) {
                    writeln!(f, "      {p}")?;
                }
            }
        } else if grant.decision == Decision::Allow {
            writeln!(f, "because   the grant equals the request")?;
        }
        if !grant.matched_rules.is_empty() {
            writeln!(f, "matched")?;
            for r in &grant.matched_rules {
                writeln!(f, "  - {}", self.rule_line(&controls, r))?;
            }
        }
        if !grant.controls.is_empty() {
            writeln!(f, "controls  {}", grant.controls.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meta = self.policy.policy_ref();
        writeln!(
            f,
            "policy    {} @ {} ({})",
            meta.id, meta.revision, meta.digest
        )?;
        writeln!(f, "request   {}", self.path.display())?;
        writeln!(f, "now       {}", self.grant.issued_at.to_rfc3339())?;
        writeln!(f)?;
        self.asked(f)?;
        writeln!(f)?;
        self.decided(f)?;
        self.because(f)
    }
}
