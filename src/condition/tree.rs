//! The compiled conditions of a whole policy, in one contiguous array.
//!
//! Every rule's `when` and every purpose's `requires` is a [`CondList`]:
//! a run of nodes in [`Conditions`], addressed by position. A group's
//! children are a run of their own, so a list is a slice and a node holds
//! its leaf inline: evaluating a rule reads its nodes in order from one
//! array instead of following a box per leaf and a vector per group
//! (docs/performance.md, "A compact compiled layout").
//!
//! [`Cond`] and [`Conds`] are borrowed views of a node and of a list, for
//! evaluation, explanations, the index and the authoring tools.

use std::sync::Arc;

use super::{Failure, Leaf, Test, Tri, all_tri, any_tri, quoted};
use crate::fastmap::HashMap;
use crate::path::{Attr, Ctx, Val};

/// A run of nodes in [`Conditions`]: a rule's top-level conditions (all
/// must hold), a group's members, or what a `not` negates (all of it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CondList {
    start: u32,
    len: u32,
}

impl CondList {
    pub(crate) fn len(self) -> usize {
        self.len as usize
    }
}

/// One compiled condition.
#[derive(Debug)]
pub(crate) enum Node {
    All(CondList),
    Any(CondList),
    /// Not all of `inner`: a `not` table, or `path = { not = … }` (one
    /// member).
    Not {
        inner: CondList,
        /// The path as written (`not` for a `not` table).
        path: Arc<str>,
        /// What is negated, as written.
        expected: Box<str>,
    },
    Leaf(Leaf),
}

/// The nodes of every condition of a policy.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    nodes: Vec<Node>,
}

impl Conditions {
    /// The list's nodes; empty for a list this store did not make.
    fn slice(&self, list: CondList) -> &[Node] {
        let start = list.start as usize;
        self.nodes
            .get(start..start + list.len as usize)
            .unwrap_or_default()
    }

    /// A borrowed view of `list`.
    pub(crate) fn list(&self, list: CondList) -> Conds<'_> {
        Conds { store: self, list }
    }

    /// Append `nodes` as one run (a group's members must be contiguous).
    /// `None` when the store would outgrow 32-bit positions (the caller
    /// reports it as a limit, with its location).
    fn push_run(&mut self, nodes: impl ExactSizeIterator<Item = Node>) -> Option<CondList> {
        let start = self.nodes.len();
        let len = nodes.len();
        u32::try_from(start.checked_add(len)?).ok()?;
        let list = CondList {
            start: u32::try_from(start).ok()?,
            len: u32::try_from(len).ok()?,
        };
        self.nodes.extend(nodes);
        Some(list)
    }

    /// Kleene AND over `list`: false as soon as one is false.
    #[inline]
    pub(crate) fn all_true(&self, list: CondList, ctx: &Ctx<'_>) -> Tri {
        all_tri(self.slice(list).iter().map(|n| self.eval(n, ctx)))
    }

    #[inline]
    fn eval(&self, node: &Node, ctx: &Ctx<'_>) -> Tri {
        match node {
            Node::All(list) => self.all_true(*list, ctx),
            Node::Any(list) => any_tri(self.slice(*list).iter().map(|n| self.eval(n, ctx))),
            Node::Not { inner, .. } => self.all_true(*inner, ctx).not(),
            Node::Leaf(leaf) => ctx.memo.get_or(leaf, || leaf.eval(ctx)),
        }
    }
}

/// [`Conditions`] being filled by the compiler, with the attribute paths
/// seen so far: a policy names the same few paths in every rule, so each
/// is resolved once and its text and open-attribute name are shared by
/// every condition on it.
#[derive(Default)]
pub(crate) struct ConditionsBuilder {
    conditions: Conditions,
    paths: HashMap<Arc<str>, Attr>,
}

impl ConditionsBuilder {
    /// Room for `more` nodes, so a large policy is not copied as it grows.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.conditions.nodes.reserve(more);
    }

    /// The store, without the room `reserve` over-estimated, its shared
    /// leaves given their memo slots.
    pub(crate) fn finish(mut self) -> Conditions {
        self.conditions.nodes.shrink_to_fit();
        super::memo::assign_slots(&mut self.conditions.nodes);
        self.conditions
    }

    pub(crate) fn len(&self) -> usize {
        self.conditions.nodes.len()
    }

    pub(crate) fn push_run(
        &mut self,
        nodes: impl ExactSizeIterator<Item = Node>,
    ) -> Option<CondList> {
        self.conditions.push_run(nodes)
    }

    /// `path` resolved, and its shared text; `Err` carries the hint of
    /// [`Attr::parse`]. Unknown paths are not remembered: they end the
    /// compile.
    pub(crate) fn path(&mut self, path: &str) -> Result<(Attr, Arc<str>), String> {
        if let Some((text, attr)) = self.paths.get_key_value(path) {
            return Ok((attr.clone(), Arc::clone(text)));
        }
        let attr = Attr::parse(path)?;
        let text: Arc<str> = path.into();
        self.paths.insert(Arc::clone(&text), attr.clone());
        Ok((attr, text))
    }
}

/// A borrowed list of conditions (all must hold).
#[derive(Clone, Copy)]
pub(crate) struct Conds<'p> {
    store: &'p Conditions,
    list: CondList,
}

/// A store with no conditions, for [`Conds::empty`].
#[cfg(feature = "authoring")]
static EMPTY: Conditions = Conditions { nodes: Vec::new() };

impl<'p> Conds<'p> {
    /// No conditions (always true).
    #[cfg(feature = "authoring")]
    pub(crate) fn empty() -> Conds<'static> {
        Conds {
            store: &EMPTY,
            list: CondList::default(),
        }
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Cond<'p>> + Clone + 'p {
        let store = self.store;
        store
            .slice(self.list)
            .iter()
            .map(move |node| Cond { store, node })
    }

    pub(crate) fn len(self) -> usize {
        self.list.len()
    }

    #[cfg(feature = "authoring")]
    pub(crate) fn is_empty(self) -> bool {
        self.list.len == 0
    }

    /// Kleene AND of the members.
    #[inline]
    pub(crate) fn eval(self, ctx: &Ctx<'_>) -> Tri {
        self.store.all_true(self.list, ctx)
    }

    /// Why the list is not true (or, with `want_false`, not false): the
    /// first member that is not as wanted. `None` when the list is.
    pub(crate) fn explain(self, ctx: &Ctx<'_>, want_false: bool) -> Option<Failure> {
        let value = self.eval(ctx);
        if is_as_wanted(value, want_false) {
            return None;
        }
        self.iter().find_map(|c| c.explain(ctx, want_false))
    }
}

/// A borrowed condition.
#[derive(Clone, Copy)]
pub(crate) struct Cond<'p> {
    store: &'p Conditions,
    node: &'p Node,
}

/// What a condition is, with its members as views.
pub(crate) enum CondKind<'p> {
    All(Conds<'p>),
    Any(Conds<'p>),
    Not {
        inner: Conds<'p>,
        path: &'p str,
        expected: &'p str,
    },
    Leaf(&'p Leaf),
}

impl<'p> Cond<'p> {
    pub(crate) fn kind(self) -> CondKind<'p> {
        let list = |list: CondList| self.store.list(list);
        match self.node {
            Node::All(l) => CondKind::All(list(*l)),
            Node::Any(l) => CondKind::Any(list(*l)),
            Node::Not {
                inner,
                path,
                expected,
            } => CondKind::Not {
                inner: list(*inner),
                path,
                expected,
            },
            Node::Leaf(leaf) => CondKind::Leaf(leaf),
        }
    }

    /// The leaf, when this condition is one (for indexing and lints).
    pub(crate) fn leaf(self) -> Option<&'p Leaf> {
        match self.node {
            Node::Leaf(l) => Some(l),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn eval(self, ctx: &Ctx<'_>) -> Tri {
        self.store.eval(self.node, ctx)
    }

    /// Explain why this condition is not true (or, with `want_false`, why it
    /// is not false). `None` when it is as wanted.
    pub(crate) fn explain(self, ctx: &Ctx<'_>, want_false: bool) -> Option<Failure> {
        let value = self.eval(ctx);
        if is_as_wanted(value, want_false) {
            return None;
        }
        match self.kind() {
            // All wanted true, or any wanted false: the first member not as
            // wanted. All wanted false, or any wanted true: no member is as
            // wanted (else the group would be), so the first one's reason.
            CondKind::All(items) | CondKind::Any(items) => {
                items.iter().find_map(|c| c.explain(ctx, want_false))
            }
            CondKind::Not {
                inner,
                path,
                expected,
            } => {
                let mut failure = inner.explain(ctx, !want_false)?;
                failure.path = path.to_owned();
                failure.expected = format!("not {expected}");
                Some(failure)
            }
            CondKind::Leaf(leaf) => Some(leaf_failure(leaf, value, ctx, want_false)),
        }
    }
}

/// Whether `value` is what an explanation looks for the reason against:
/// true, or false with `want_false`.
fn is_as_wanted(value: Tri, want_false: bool) -> bool {
    value == if want_false { Tri::False } else { Tri::True }
}

fn leaf_failure(leaf: &Leaf, value: Tri, ctx: &Ctx<'_>, want_false: bool) -> Failure {
    Failure {
        // `str::to_owned`, not `to_string`: on `Arc<str>` and `Box<str>` the
        // latter goes through the formatting machinery.
        path: str::to_owned(&leaf.path),
        expected: if want_false {
            format!("not {}", leaf.expected)
        } else {
            str::to_owned(&leaf.expected)
        },
        actual: match ctx.get(&leaf.attr) {
            Some(v) if value == Tri::Unknown => format!("{v} (cannot be compared)"),
            Some(Val::Str(s)) => quoted(s).unwrap_or_else(|| Val::Str(s).to_string()),
            Some(v) => v.to_string(),
            None => "missing".to_owned(),
        },
    }
}

impl Leaf {
    /// A missing attribute is unknown, except to `exists`.
    #[inline(always)]
    pub(crate) fn eval(&self, ctx: &Ctx<'_>) -> Tri {
        match ctx.get(&self.attr) {
            Some(v) => self.test.eval(v),
            None => match self.test {
                Test::Exists(b) => Tri::from_bool(!b),
                _ => Tri::Unknown,
            },
        }
    }
}
