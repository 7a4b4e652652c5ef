//! Explanations: the nearest rule of `docs/semantics.md` §4, the condition
//! that failed, and bounded echoes of the request (`Limits::max_echo_len`).

use std::sync::Arc;

use crate::condition::{CondList, Tri};
use crate::document::Effect;
use crate::echo::{echo, echo_owned};
use crate::grant::{ConditionFailure, Reason};
use crate::ids::{RuleId, ScopeId};
use crate::scopes::Name;

use super::Evaluation;

/// The nearest rule so far: how many of its top-level conditions hold, and
/// how many of the first ones hold without a break (its explanation starts
/// after them).
#[derive(Clone, Copy)]
struct Score {
    score: usize,
    rule: RuleId,
    true_before: usize,
}

impl<'a> Evaluation<'a> {
    /// A request string as a reason repeats it: cut to the echo limit.
    pub(super) fn echo(&self, text: &str) -> String {
        echo(text, self.policy.limits.max_echo_len)
    }

    /// The first condition of `conds` that is not true, with the request's
    /// value cut to the echo limit.
    #[cold]
    #[inline(never)]
    pub(super) fn failure(&self, conds: CondList) -> Option<ConditionFailure> {
        self.failure_from(conds, 0)
    }

    /// [`Self::failure`] when the first `true_before` conditions are known
    /// to hold (the nearest rule's scoring saw them true): they are not
    /// evaluated again.
    fn failure_from(&self, conds: CondList, true_before: usize) -> Option<ConditionFailure> {
        let max = self.policy.limits.max_echo_len;
        self.policy
            .conds(conds)
            .iter()
            .skip(true_before)
            .find_map(|c| c.explain(&self.ctx, false))
            .map(|f| ConditionFailure {
                path: f.path,
                expected: f.expected,
                actual: echo_owned(f.actual, max),
            })
    }

    /// A scope as the policy's tables see it: its text and interned id.
    pub(super) fn scope_name<'n>(&self, text: &'n str) -> Name<'n, ScopeId> {
        Name {
            text,
            id: self.policy.scope_ids.get(text),
        }
    }

    /// The permit that came closest: most top-level conditions true, ties
    /// to the first in policy order. Looked for among the candidate rules and
    /// the rules granting the scope `only` (or any requested scope), at most
    /// `Limits::max_explained_rules` of the latter, so explaining stays
    /// bounded.
    ///
    /// For a removed scope only permits granting it can come nearest, and
    /// every such permit is filed under the scope's name or a glob's prefix
    /// (`scope_rules`, `glob_scope_rules`): when those lists were looked at
    /// whole, walking the index's buckets would find no rule they lack, so
    /// it is skipped. The result does not depend on the order rules are
    /// looked at (ties go to policy order), only on the set.
    #[cold]
    #[inline(never)]
    pub(super) fn nearest(
        &self,
        only: Option<Name<'_, ScopeId>>,
    ) -> Option<(Arc<str>, Option<ConditionFailure>)> {
        let mut best: Option<Score> = None;
        let mut consider = |i: RuleId| {
            let rule = self.rule(i);
            if rule.effect != Effect::Permit || only.is_some_and(|s| !rule.covers(s)) {
                return;
            }
            if let Some(score) = self.score_above(rule.when, i, best) {
                best = Some(score);
            }
        };
        let requested = (self.req.scopes.iter())
            .filter(|_| only.is_none())
            .map(|s| self.scope_name(s));
        let mut budget = self.policy.limits.max_explained_rules;
        let mut whole = true;
        'outer: for s in only.into_iter().chain(requested) {
            let exact = s.id.map_or(&[][..], |id| self.policy.scope_rules.get(id));
            let globbed = self.policy.glob_scope_rules.buckets(s.text).flatten();
            for &i in exact.iter().chain(globbed) {
                if budget == 0 {
                    whole = false;
                    break 'outer;
                }
                budget -= 1;
                consider(i);
            }
        }
        if only.is_none() || !whole {
            // The whole first-level buckets, not only the rules left after
            // the deeper keys: a rule skipped there can still come nearest.
            self.policy.index.explained(&self.s.reached, &mut consider);
        }
        let best = best?;
        let rule = self.rule(best.rule);
        let failure = self.failure_from(rule.when, best.true_before);
        Some((Arc::clone(&rule.id), failure))
    }

    /// How many of `conds` (rule `i`'s) hold, when that beats `best`: more
    /// of them, or as many and `i` first in policy order. Stops as soon as
    /// the conditions left could not make up the difference, so a rule far
    /// from the best is not evaluated whole.
    fn score_above(&self, conds: CondList, i: RuleId, best: Option<Score>) -> Option<Score> {
        let conds = self.policy.conds(conds);
        let mut score = 0;
        let mut left = conds.len();
        let mut true_before = None;
        for (k, c) in conds.iter().enumerate() {
            if let Some(b) = best {
                if score + left < b.score || (score + left == b.score && i >= b.rule) {
                    return None;
                }
            }
            left -= 1;
            if c.eval(&self.ctx) == Tri::True {
                score += 1;
            } else if true_before.is_none() {
                true_before = Some(k);
            }
        }
        match best {
            Some(b) if score < b.score || (score == b.score && i >= b.rule) => None,
            _ => Some(Score {
                score,
                rule: i,
                true_before: true_before.unwrap_or(conds.len()),
            }),
        }
    }

    /// The reason for step 6 (deny by default), naming the nearest rule.
    #[cold]
    #[inline(never)]
    pub(super) fn not_permitted(&self) -> Reason {
        let (nearest_rule, condition) = match self.nearest(None) {
            Some((rule, condition)) => (Some(rule), condition),
            None => (None, None),
        };
        Reason::NotPermitted {
            nearest_rule,
            condition,
        }
    }

    /// When a forbid applied only because a condition could not be decided
    /// (fail closed), that condition.
    #[cold]
    #[inline(never)]
    pub(super) fn undecided_forbid(&self, forbid: RuleId) -> Option<ConditionFailure> {
        let undecided = self.s.forbids.iter().any(|&(i, u)| i == forbid && u);
        if !undecided {
            return None;
        }
        self.failure(self.rule(forbid).when)
    }
}
