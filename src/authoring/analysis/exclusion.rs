//! Forbids that cannot apply on a route: one of the forbid's top-level
//! conditions is false for every value the permit's own top-level
//! conditions allow, on a single-valued attribute. Such a forbid is not a
//! goal of the route's search — large policies have hundreds of per-team
//! forbids, and each would otherwise be searched on every route.

use crate::condition::{Cond, Leaf, StrTest, Test};
use crate::path::AttrType;
use crate::pattern::Overlap;

/// Whether `forbid` is false whenever `permit` is true (sound, not
/// complete: `false` means "may apply").
pub(crate) fn excluded(permit: &[Cond], forbid: &[Cond]) -> bool {
    let single = |l: &Leaf| matches!(l.attr.ty(), AttrType::Str | AttrType::Kind);
    forbid
        .iter()
        .filter_map(Cond::leaf)
        .filter(|f| single(f))
        .any(|f| {
            permit
                .iter()
                .filter_map(Cond::leaf)
                .filter(|p| p.attr == f.attr)
                .any(|p| disjoint(&p.test, &f.test))
        })
}

/// No single value passes both tests (on a single-valued attribute: a
/// missing value passes neither, since neither test is `exists`).
fn disjoint(a: &Test, b: &Test) -> bool {
    match (a, b) {
        (Test::Kinds(x), Test::Kinds(y)) => x & y == 0,
        (Test::Str(x), Test::Str(y)) => str_disjoint(x, y) || str_disjoint(y, x),
        _ => false,
    }
}

/// `a`'s literals all fail `b`, or two single globs cannot share a string.
fn str_disjoint(a: &StrTest, b: &StrTest) -> bool {
    match (a, b) {
        (StrTest::Eq(lit, _), _) => !b.matches(lit),
        (StrTest::OneOf(items), _) => items.iter().all(|(lit, _)| !b.matches(lit)),
        (StrTest::Glob(x), StrTest::Glob(y)) => match (x.as_slice(), y.as_slice()) {
            ([g], [h]) => {
                let (p, q) = (g.literal_prefix(), h.literal_prefix());
                // Every match of `g` starts with `p`, of `h` with `q`.
                if !p.starts_with(q) && !q.starts_with(p) {
                    return true;
                }
                g.intersects(h) == Overlap::Empty
            }
            _ => false,
        },
        _ => false,
    }
}
