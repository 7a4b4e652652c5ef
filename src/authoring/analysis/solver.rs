//! The solver: a depth-first search over the attributes' finite domains
//! for a request that makes every goal hold, pruned with three-valued
//! evaluation in which an attribute not yet chosen may take any value.

use crate::condition::{Cond, CondKind, Conds, Tri};
use crate::path::{Attr, Ctx};
use crate::request::IdentityKind;

use super::domain::{self, Domain, Value};
use super::witness::Draft;

/// Bits of the set of truth values a condition can still take.
const T: u8 = 1;
const F: u8 = 2;
const U: u8 = 4;
const ANY: u8 = T | F | U;

fn bit(t: Tri) -> u8 {
    match t {
        Tri::True => T,
        Tri::False => F,
        Tri::Unknown => U,
    }
}

fn and3(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::False, _) | (_, Tri::False) => Tri::False,
        (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
        _ => Tri::True,
    }
}

fn or3(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::True, _) | (_, Tri::True) => Tri::True,
        (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
        _ => Tri::False,
    }
}

const TRIS: [Tri; 3] = [Tri::True, Tri::False, Tri::Unknown];

/// Combine two sets of possible values with a binary connective.
fn combine(a: u8, b: u8, op: fn(Tri, Tri) -> Tri) -> u8 {
    let mut out = 0;
    for x in TRIS.into_iter().filter(|x| a & bit(*x) != 0) {
        for y in TRIS.into_iter().filter(|y| b & bit(*y) != 0) {
            out |= bit(op(x, y));
        }
    }
    out
}

/// What a list of conditions must evaluate to, all together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// Every condition true (a permit applies, a purpose's requirement holds).
    True,
    /// Some condition false (a forbid does not apply).
    False,
    /// Not all true (a permit does not apply).
    NotTrue,
    /// Not false (a forbid applies).
    NotFalse,
}

/// A goal: conditions and what they must evaluate to.
#[derive(Clone, Copy)]
pub(crate) struct Goal<'a> {
    pub(crate) conds: Conds<'a>,
    pub(crate) want: Want,
}

/// How the search ended.
#[derive(Debug)]
pub(crate) enum Search {
    /// Every goal holds on this request (not yet confirmed by `evaluate`).
    Found(Vec<Draft>),
    /// Every combination of candidate values was tried; `incomplete` names
    /// a condition whose classes the candidates may not cover (`None`: the
    /// search was exhaustive, so no request meets the goals).
    Exhausted { incomplete: Option<String> },
    /// The node budget ran out.
    Budget,
}

/// The set of values `cond` can still take, given the assigned attributes.
fn possible(cond: Cond<'_>, ctx: &Ctx<'_>, assigned: &[Attr]) -> u8 {
    match cond.kind() {
        CondKind::All(items) => possible_all(items, ctx, assigned),
        CondKind::Any(items) => items
            .iter()
            .fold(F, |acc, c| combine(acc, possible(c, ctx, assigned), or3)),
        CondKind::Not { inner, .. } => {
            let p = possible_all(inner, ctx, assigned);
            ((p & T) << 1) | ((p & F) >> 1) | (p & U)
        }
        CondKind::Leaf(leaf) => {
            let depends_on_now = matches!(leaf.attr, Attr::AuthAge | Attr::CredentialRemaining);
            let now_open = depends_on_now && !assigned.contains(&Attr::RequestTime);
            if assigned.contains(&leaf.attr) && !now_open {
                bit(cond.eval(ctx))
            } else {
                ANY
            }
        }
    }
}

/// The values an `all` of `items` can still take.
fn possible_all(items: Conds<'_>, ctx: &Ctx<'_>, assigned: &[Attr]) -> u8 {
    items
        .iter()
        .fold(T, |acc, c| combine(acc, possible(c, ctx, assigned), and3))
}

fn goal_possible(goal: &Goal<'_>, ctx: &Ctx<'_>, assigned: &[Attr]) -> bool {
    let set = possible_all(goal.conds, ctx, assigned);
    match goal.want {
        Want::True => set & T != 0,
        Want::False => set & F != 0,
        Want::NotTrue => set & (F | U) != 0,
        Want::NotFalse => set & (T | U) != 0,
    }
}

/// The search problem: goals over a base request.
pub(crate) struct Problem<'a> {
    pub(crate) goals: Vec<Goal<'a>>,
    pub(crate) base: Draft,
    /// The identity kind, when the question fixes it.
    pub(crate) kind: Option<IdentityKind>,
    /// Lifecycle states other than `active` are refused before any rule.
    pub(crate) active_only: bool,
    /// Attributes the route fixes (the purpose name): not searched.
    pub(crate) fixed: Vec<Attr>,
    /// Most search nodes.
    pub(crate) budget: usize,
    /// Most solutions to return.
    pub(crate) solutions: usize,
}

impl Problem<'_> {
    fn domains(&self) -> Vec<Domain> {
        let mut all = Vec::new();
        for g in &self.goals {
            for c in g.conds.iter() {
                domain::leaves(c, &mut all);
            }
        }
        let mut attrs: Vec<Attr> = Vec::new();
        for c in &all {
            if let Some(l) = c.leaf() {
                if !attrs.contains(&l.attr) && !self.fixed.contains(&l.attr) && searched(&l.attr) {
                    attrs.push(l.attr.clone());
                }
            }
        }
        // The time first: ages and remaining lifetimes are read against it.
        attrs.sort_by_key(|a| u8::from(*a != Attr::RequestTime));
        attrs
            .iter()
            .map(|a| {
                let mut d = domain::domain(a, &all, self.kind);
                if *a == Attr::RequestTime {
                    d.values = domain::times(&all, &self.base.req)
                        .into_iter()
                        .map(Value::Time)
                        .collect();
                }
                if *a == Attr::State && self.active_only {
                    d.values
                        .retain(|v| *v == Value::State(crate::request::LifecycleState::Active));
                }
                d
            })
            .collect()
    }

    /// Search for requests meeting every goal.
    pub(crate) fn solve(&self) -> Search {
        let domains = self.domains();
        // A request can ask for more scopes and audiences than the route's
        // one of each, and conditions on them can then change: not enumerated.
        let incomplete = self
            .route_leaf()
            .or_else(|| domains.iter().find_map(|d| d.incomplete.clone()));
        let mut state = State {
            draft: self.base.clone(),
            assigned: self.fixed.clone(),
            nodes: 0,
            found: Vec::new(),
        };
        state
            .assigned
            .extend([Attr::RequestScopes, Attr::RequestAudience]);
        if self.kind.is_some() {
            state.assigned.push(Attr::Kind);
        }
        if !self.dfs(&domains, 0, &mut state) && state.found.is_empty() {
            return Search::Budget;
        }
        if state.found.is_empty() {
            Search::Exhausted { incomplete }
        } else {
            Search::Found(state.found)
        }
    }

    /// A condition on the requested scopes or audiences, if any.
    fn route_leaf(&self) -> Option<String> {
        let mut all = Vec::new();
        for g in &self.goals {
            for c in g.conds.iter() {
                domain::leaves(c, &mut all);
            }
        }
        all.iter()
            .filter_map(|c| c.leaf())
            .find(|l| matches!(l.attr, Attr::RequestScopes | Attr::RequestAudience))
            .map(|l| format!("{} = {}", l.path, l.expected))
    }

    /// `false` when the budget ran out (or enough solutions were found).
    fn dfs(&self, domains: &[Domain], k: usize, s: &mut State) -> bool {
        s.nodes += 1;
        if s.nodes > self.budget {
            return false;
        }
        let ctx = Ctx::new(&s.draft.req, s.draft.now);
        if !self
            .goals
            .iter()
            .all(|g| goal_possible(g, &ctx, &s.assigned))
        {
            return true;
        }
        let Some(d) = domains.get(k) else {
            // Every attribute chosen: check the goals exactly once more
            // (one part of the request can hold two attributes).
            if self.goals.iter().all(|g| holds(g, &ctx)) {
                s.found.push(s.draft.clone());
                return s.found.len() < self.solutions;
            }
            return true;
        };
        let saved = s.draft.clone();
        s.assigned.push(d.attr.clone());
        for v in &d.values {
            s.draft.apply(&d.attr, v);
            if !self.dfs(domains, k + 1, s) {
                return false;
            }
            s.draft = saved.clone();
        }
        s.assigned.pop();
        true
    }
}

struct State {
    draft: Draft,
    assigned: Vec<Attr>,
    nodes: usize,
    found: Vec<Draft>,
}

/// Attributes the solver chooses; the requested scopes and audiences are
/// the route's own.
fn searched(a: &Attr) -> bool {
    !matches!(a, Attr::RequestScopes | Attr::RequestAudience)
}

/// Does the goal hold on a complete request?
pub(crate) fn holds(goal: &Goal<'_>, ctx: &Ctx<'_>) -> bool {
    let all = goal
        .conds
        .iter()
        .fold(Tri::True, |acc, c| and3(acc, c.eval(ctx)));
    match goal.want {
        Want::True => all == Tri::True,
        Want::False => all == Tri::False,
        Want::NotTrue => all != Tri::True,
        Want::NotFalse => all != Tri::False,
    }
}
