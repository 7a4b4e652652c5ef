//! Conditions as a reviewer reads them: `path = value`, as written.

use crate::condition::Cond;

/// One condition as written in the policy.
pub(crate) fn describe(cond: &Cond) -> String {
    match cond {
        Cond::Leaf(l) => format!("{} = {}", l.path, l.expected),
        Cond::Not { path, expected, .. } if &**path == "not" => format!("not {expected}"),
        Cond::Not { path, expected, .. } => format!("{path} = {{not:{expected}}}"),
        Cond::All(items) => group("all", items),
        Cond::Any(items) => group("any", items),
    }
}

fn group(name: &str, items: &[Cond]) -> String {
    let inner: Vec<String> = items.iter().map(describe).collect();
    format!("{name}({})", inner.join("; "))
}

/// Every top-level condition, described.
pub(crate) fn describe_all(conds: &[Cond]) -> Vec<String> {
    conds.iter().map(describe).collect()
}

/// The paths a list of conditions reads, for the exposure flags.
pub(crate) fn paths(conds: &[Cond]) -> Vec<String> {
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
