//! Conditions as a reviewer reads them: `path = value`, as written.

use crate::condition::{Cond, CondKind, Conds};

/// One condition as written in the policy.
pub(crate) fn describe(cond: Cond<'_>) -> String {
    match cond.kind() {
        CondKind::Leaf(l) => format!("{} = {}", l.path, l.expected),
        CondKind::Not {
            path: "not",
            expected,
            ..
        } => format!("not {expected}"),
        CondKind::Not { path, expected, .. } => format!("{path} = {{not:{expected}}}"),
        CondKind::All(items) => group("all", items),
        CondKind::Any(items) => group("any", items),
    }
}

fn group(name: &str, items: Conds<'_>) -> String {
    let inner: Vec<String> = items.iter().map(describe).collect();
    format!("{name}({})", inner.join("; "))
}

/// Every top-level condition, described.
pub(crate) fn describe_all(conds: Conds<'_>) -> Vec<String> {
    conds.iter().map(describe).collect()
}

/// The paths a list of conditions reads, for the exposure flags.
pub(crate) fn paths<'c>(conds: impl IntoIterator<Item = Cond<'c>>) -> Vec<String> {
    let mut leaves = Vec::new();
    for c in conds {
        super::domain::leaves(c, &mut leaves);
    }
    let mut out: Vec<String> = leaves
        .iter()
        .filter_map(|c| c.leaf())
        .map(|l| l.path.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}
