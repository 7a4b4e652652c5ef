//! The index's discrimination tree: nodes reached through keys, each key an
//! attribute value a rule can only match with.
//!
//! The root files every rule under one key, its most selective (see
//! [`super::keys::primary`]): a request visits the buckets of its own
//! values, as it always did. A bucket of more than [`LEAF`] rules is split
//! further by the rules' other keys — the attribute that separates the most
//! rules from the largest group first, then, among the rules without it,
//! the next — so that many rules sharing one key (10,000 rules over 30
//! teams) still leave few candidates. Rules with no further key stay in the
//! node and are candidates whenever it is reached.
//!
//! Layout: nodes, edges and rule lists are contiguous arrays addressed by
//! integers; a node's rules are a span of one shared list.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use crate::fastmap::HashMap;
use crate::ids::{Id, RuleId};
use crate::request::MintRequest;

use super::hash::ValueHasher;
use super::keys::{Key, KeyAttr};

/// Buckets up to this size are not split: visiting a few rules costs less
/// than the lookups that would skip them.
const LEAF: usize = 8;
/// Keys with more values than this are not used below the first level:
/// each value files the rule once more.
const MAX_FANOUT: usize = 8;
/// Levels below the first, at most.
const MAX_DEPTH: usize = 3;

/// `lists[start..end]`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Span {
    start: usize,
    end: usize,
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Node {
    /// Every rule filed at or below this node (for explanations, which look
    /// at a whole first-level bucket).
    all: Span,
    /// The rules that stop here: candidates whenever the node is reached.
    rules: Span,
    /// Into `edges`.
    edges: Span,
}

/// The children of a node by the request's value of one attribute.
///
/// Keyed by the value's 64-bit hash (seeded per edge), not by the value: a
/// lookup compares no key string, and the policy holds no copy of the
/// values (2–3 % of its memory). Two values sharing a hash could only send a
/// request to a child it does not belong to: more candidates, each still
/// evaluated whole, never a rule skipped (the index's soundness, see the
/// module docs of `index`). With a random seed a request cannot aim for a
/// collision, and by chance one comes about once in 2^64 pairs of values.
#[derive(Debug)]
pub(super) struct Edge {
    attr: KeyAttr,
    /// For a prefix key: its distinct lengths, ascending.
    lens: Vec<usize>,
    /// Hashes the values `children` is keyed by.
    hasher: ValueHasher,
    children: ByHash<usize>,
}

impl Edge {
    fn child(&self, hash: u64) -> Option<usize> {
        self.children.get(&hash).copied()
    }

    /// Call `f` with every child the request reaches through this edge.
    fn reached(&self, req: &MintRequest, mut f: impl FnMut(usize)) {
        self.attr.request_values(req, |v| {
            if self.lens.is_empty() {
                if let Some(c) = self.child(self.hasher.hash(v)) {
                    f(c);
                }
                return;
            }
            // Every prefix length the edge's values have, in one pass.
            self.hasher.prefixes(v, &self.lens, |h| {
                if let Some(c) = self.child(h) {
                    f(c);
                }
            });
        });
    }
}

/// A map keyed by hashes computed beforehand.
type ByHash<V> = std::collections::HashMap<u64, V, PassThrough>;

/// The keys of a [`ByHash`] map are hashes already: used as they are.
#[derive(Clone, Copy, Debug, Default)]
struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

#[derive(Clone, Copy, Debug)]
struct PassThroughHasher(u64);

impl std::hash::Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    /// Only `u64` keys are hashed; anything else is folded in, so the
    /// hasher stays correct (if slower) should another key type appear.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The values' groups keyed by `hash`, in the order first seen. Values that
/// share a hash share one group, the union of theirs (each rule once): a
/// request with either value then reaches the rules of both — extra
/// candidates, never a rule lost.
fn group_by_hash<'v>(
    groups: impl ExactSizeIterator<Item = (&'v str, Vec<Item>)>,
    hash: impl Fn(&str) -> u64,
) -> Vec<(u64, Vec<Item>)> {
    let mut out: Vec<(u64, Vec<Item>)> = Vec::with_capacity(groups.len());
    let mut at = ByHash::with_capacity_and_hasher(groups.len(), PassThrough);
    for (value, items) in groups {
        let h = hash(value);
        match at.entry(h) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push((h, items));
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                if let Some((_, merged)) = out.get_mut(*e.get()) {
                    merged.extend(items);
                    merged.sort_by_key(|it| it.rule);
                    merged.dedup_by_key(|it| it.rule);
                }
            }
        }
    }
    out
}

#[derive(Debug, Default)]
pub(super) struct Tree {
    lists: Vec<RuleId>,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

/// A rule being filed, with the keys it has not used on the way down.
#[derive(Clone, Copy)]
struct Item {
    rule: RuleId,
    /// Bit `j`: key `j` of the rule is used (or unusable).
    used: u32,
}

impl Tree {
    /// The tree for rules with these keys (`keys[i]` is rule `i`'s); node 0
    /// is the root.
    pub(super) fn build(keys: &[Vec<Key<'_>>]) -> Tree {
        let mut tree = Tree {
            lists: Vec::with_capacity(keys.len()),
            nodes: Vec::with_capacity(keys.len() + 1),
            edges: Vec::new(),
        };
        tree.nodes.push(Node::default());
        let mut builder = Builder { keys, tree };
        let mut always = Vec::new();
        // The first level: each rule under its primary key, in maps sized
        // up front (at most one group per value).
        let mut sizes: BTreeMap<&KeyAttr<&str>, usize> = BTreeMap::new();
        for rule_keys in keys {
            if let Some(key) = super::keys::primary(rule_keys).and_then(|p| rule_keys.get(p)) {
                *sizes.entry(&key.attr).or_default() += key.values.len();
            }
        }
        let mut first: BTreeMap<&KeyAttr<&str>, HashMap<&str, Vec<Item>>> = BTreeMap::new();
        for (i, rule_keys) in keys.iter().enumerate() {
            let Some(rule) = RuleId::from_index(i) else {
                break;
            };
            let Some(p) = super::keys::primary(rule_keys) else {
                always.push(rule);
                continue;
            };
            let Some(key) = rule_keys.get(p) else {
                continue;
            };
            // Keys with many values stay out of the levels below.
            let mut used = 1u32.checked_shl(p as u32).unwrap_or(0);
            for (j, k) in rule_keys.iter().enumerate().take(32) {
                if k.values.len() > MAX_FANOUT {
                    used |= 1 << j;
                }
            }
            let groups = first.entry(&key.attr).or_insert_with(|| {
                let size = sizes.get(&key.attr).copied().unwrap_or(0);
                HashMap::with_capacity_and_hasher(size, Default::default())
            });
            for &v in &key.values {
                let group = groups.entry(v).or_default();
                if group.last().is_none_or(|it: &Item| it.rule != rule) {
                    group.push(Item { rule, used });
                }
            }
        }
        let mut edges = Vec::with_capacity(first.len());
        for (attr, groups) in first {
            edges.push(builder.edge(attr, groups.into_iter(), 0));
        }
        let rules = builder.list(always.iter().copied());
        let edges = builder.edges(edges);
        let mut tree = builder.tree;
        if let Some(root) = tree.nodes.first_mut() {
            *root = Node {
                all: rules,
                rules,
                edges,
            };
        }
        tree
    }

    fn node(&self, n: usize) -> Option<&Node> {
        self.nodes.get(n)
    }

    fn list(&self, span: Span) -> &[RuleId] {
        self.lists.get(span.start..span.end).unwrap_or(&[])
    }

    fn edges_of(&self, node: &Node) -> &[Edge] {
        self.edges
            .get(node.edges.start..node.edges.end)
            .unwrap_or(&[])
    }

    /// The rules a request can match: every node it reaches, down to the
    /// leaves, appended to `out` (unsorted, possibly repeated). The
    /// first-level nodes reached go to `reached`, for [`Tree::first_level`].
    ///
    /// Level by level rather than depth first (`reached` is the queue, cut
    /// back to the first level at the end): all of a node's edges are
    /// probed before any child is visited, and the next node is known
    /// before this one's probes are done. The probes do not depend on one
    /// another, so when the index is cold their misses are waited for
    /// together rather than one descent at a time.
    #[inline]
    pub(super) fn candidates(
        &self,
        req: &MintRequest,
        out: &mut Vec<RuleId>,
        reached: &mut Vec<usize>,
    ) {
        reached.clear();
        let Some(root) = self.node(0) else { return };
        out.extend_from_slice(self.list(root.rules));
        for edge in self.edges_of(root) {
            edge.reached(req, |c| reached.push(c));
        }
        let first_level = reached.len();
        let mut next = 0;
        while let Some(&n) = reached.get(next) {
            next += 1;
            let Some(node) = self.node(n) else { continue };
            out.extend_from_slice(self.list(node.rules));
            for edge in self.edges_of(node) {
                edge.reached(req, |c| reached.push(c));
            }
        }
        reached.truncate(first_level);
    }

    /// The rules of the first-level buckets `reached` (as
    /// [`Tree::candidates`] left it), whole, and the root's: what
    /// explanations look at. Calls `f` once per rule and bucket (a rule
    /// may come more than once).
    pub(super) fn first_level(&self, reached: &[usize], mut f: impl FnMut(RuleId)) {
        let Some(root) = self.node(0) else { return };
        self.list(root.rules).iter().copied().for_each(&mut f);
        for node in reached.iter().filter_map(|&c| self.node(c)) {
            self.list(node.all).iter().copied().for_each(&mut f);
        }
    }

    /// Nodes, edges and listed rule ids: the tree's size, for tests.
    #[cfg(test)]
    pub(super) fn size(&self) -> (usize, usize, usize) {
        (self.nodes.len(), self.edges.len(), self.lists.len())
    }
}

struct Builder<'k> {
    keys: &'k [Vec<Key<'k>>],
    tree: Tree,
}

impl<'k> Builder<'k> {
    fn list(&mut self, rules: impl Iterator<Item = RuleId>) -> Span {
        let start = self.tree.lists.len();
        self.tree.lists.extend(rules);
        Span {
            start,
            end: self.tree.lists.len(),
        }
    }

    fn edges(&mut self, edges: Vec<Edge>) -> Span {
        let start = self.tree.edges.len();
        self.tree.edges.extend(edges);
        Span {
            start,
            end: self.tree.edges.len(),
        }
    }

    /// The unused keys of an item.
    fn open_keys(&self, item: Item) -> impl Iterator<Item = (usize, &'k Key<'k>)> + use<'k> {
        let keys: &'k [Key<'k>] = self.keys.get(item.rule.index()).map_or(&[], Vec::as_slice);
        keys.iter()
            .enumerate()
            .filter(move |(j, _)| *j < 32 && item.used & (1 << j) == 0)
    }

    /// The attribute that best splits `items`: the most rules separated
    /// from the largest group of one value. `None` when none separates any.
    fn best_split(&self, items: &[Item]) -> Option<&'k KeyAttr<&'k str>> {
        let mut stats: BTreeMap<&KeyAttr<&str>, (usize, HashMap<&str, usize>)> = BTreeMap::new();
        for &item in items {
            for (_, key) in self.open_keys(item) {
                let (covered, counts) = stats.entry(&key.attr).or_default();
                *covered += 1;
                for &v in &key.values {
                    *counts.entry(v).or_default() += 1;
                }
            }
        }
        stats
            .into_iter()
            .map(|(attr, (covered, counts))| {
                let largest = counts.values().copied().max().unwrap_or(0);
                (covered.saturating_sub(largest), attr)
            })
            .filter(|(score, _)| *score > 0)
            // The highest score; ties to the first attribute.
            .min_by_key(|(score, _)| std::cmp::Reverse(*score))
            .map(|(_, attr)| attr)
    }

    /// An edge on `attr` with one child node (at `depth`) per value: the
    /// same shape at the first level and below.
    fn edge<'v>(
        &mut self,
        attr: &KeyAttr<&str>,
        groups: impl ExactSizeIterator<Item = (&'v str, Vec<Item>)>,
        depth: usize,
    ) -> Edge {
        let hasher = ValueHasher::random();
        let mut lens = Vec::new();
        let groups = groups.inspect(|(value, _)| {
            if attr.is_prefix() {
                lens.push(value.len());
            }
        });
        let by_hash = group_by_hash(groups, |v| hasher.hash(v));
        let mut children = ByHash::with_capacity_and_hasher(by_hash.len(), PassThrough);
        for (hash, items) in by_hash {
            children.insert(hash, self.node(&items, depth));
        }
        lens.sort_unstable();
        lens.dedup();
        Edge {
            attr: attr.to_owned_attr(),
            lens,
            hasher,
            children,
        }
    }

    /// A node for `items`, split while it holds more than [`LEAF`] rules
    /// and a key separates some; returns its position.
    fn node(&mut self, items: &[Item], depth: usize) -> usize {
        if items.len() <= LEAF || depth >= MAX_DEPTH {
            // Not split (most nodes): no copy of the items.
            let rules = self.list(items.iter().map(|it| it.rule));
            let edges = self.edges(Vec::new());
            self.tree.nodes.push(Node {
                all: rules,
                rules,
                edges,
            });
            return self.tree.nodes.len() - 1;
        }
        let mut rest: Vec<Item> = items.to_vec();
        let mut edges = Vec::new();
        while rest.len() > LEAF && depth < MAX_DEPTH {
            let Some(attr) = self.best_split(&rest) else {
                break;
            };
            let mut groups: BTreeMap<&str, Vec<Item>> = BTreeMap::new();
            let mut left = Vec::with_capacity(rest.len());
            for &item in &rest {
                let found = self.open_keys(item).find(|(_, k)| k.attr == *attr);
                let Some((j, key)) = found else {
                    left.push(item);
                    continue;
                };
                let used = item.used | (1 << j);
                for &v in &key.values {
                    groups.entry(v).or_default().push(Item {
                        rule: item.rule,
                        used,
                    });
                }
            }
            edges.push(self.edge(attr, groups.into_iter(), depth + 1));
            rest = left;
        }
        let rules = self.list(rest.iter().map(|it| it.rule));
        // Only first-level nodes need all their rules (for explanations).
        let all = if edges.is_empty() {
            rules
        } else if depth == 0 {
            self.list(items.iter().map(|it| it.rule))
        } else {
            Span::default()
        };
        let edges = self.edges(edges);
        self.tree.nodes.push(Node { all, rules, edges });
        self.tree.nodes.len() - 1
    }
}

#[cfg(test)]
mod tests {
    //! The shape of the tree on designed policies: which rules a request
    //! gets as candidates once a shared-key bucket is split. Soundness on
    //! generated policies is `super::super::tests`; these pin that the
    //! splits happen, and stop, where the module says.

    use serde_json::{Map, Value, json};

    use crate::IssuancePolicy;
    use crate::ids::Id;
    use crate::request::{Identity, IdentityKind, MintRequest, Purpose};
    use crate::value::AttrValue;

    /// A permit named `id` with these conditions.
    fn permit(id: String, when: Value) -> Value {
        json!({
            "id": id,
            "when": when,
            "grant": { "scopes": ["s:read"], "audience": ["https://aud"] },
        })
    }

    fn compile(rules: Vec<Value>) -> IssuancePolicy {
        let doc = json!({
            "policy": { "id": "tree", "revision": "1", "max_ttl": "1h" },
            "rule": rules,
        });
        IssuancePolicy::from_json_str(&doc.to_string()).unwrap()
    }

    /// A request with these claims and purpose.
    fn request(claims: &[(&str, &str)], purpose: Option<&str>) -> MintRequest {
        let mut identity = Identity::new("spiffe://a/x", IdentityKind::Workload);
        for (name, value) in claims {
            let value = AttrValue::String((*value).into());
            identity.claims.insert((*name).into(), value);
        }
        MintRequest {
            identity,
            scopes: vec!["s:read".into()],
            purpose: purpose.map(Purpose::new),
            ..MintRequest::default()
        }
    }

    /// The ids of the candidate rules, in policy order.
    fn candidates(policy: &IssuancePolicy, req: &MintRequest) -> Vec<String> {
        let (mut out, mut reached) = (Vec::new(), Vec::new());
        policy.index.candidates(req, &mut out, &mut reached);
        out.iter()
            .map(|r| policy.rules[r.index()].id.to_string())
            .collect()
    }

    fn ids(range: impl Iterator<Item = usize>) -> Vec<String> {
        range.map(|i| format!("r{i}")).collect()
    }

    #[test]
    fn a_shared_key_bucket_is_split_by_the_key_that_separates_its_rules() {
        let rules = (0..30)
            .map(|i| {
                let when = json!({ "identity.claims.team": "t", "purpose.name": format!("p{i}") });
                permit(format!("r{i}"), when)
            })
            .collect();
        let policy = compile(rules);
        let req = request(&[("team", "t")], Some("p7"));
        assert_eq!(candidates(&policy, &req), ids(7..8));
        // Another team reaches no bucket at all.
        let other = request(&[("team", "u")], Some("p7"));
        assert_eq!(candidates(&policy, &other), Vec::<String>::new());
    }

    #[test]
    fn a_bucket_is_not_split_by_a_key_all_its_rules_share() {
        let rules = (0..10)
            .map(|i| {
                let when = json!({ "identity.claims.team": "t", "identity.claims.env": "e" });
                permit(format!("r{i}"), when)
            })
            .collect();
        let policy = compile(rules);
        // The rules stay in the team's node, so even a request without
        // `env` (which none of them can match) gets them all: splitting
        // by `env` would separate nothing from the largest group.
        let req = request(&[("team", "t")], None);
        assert_eq!(candidates(&policy, &req), ids(0..10));
        assert_eq!(policy.index.size().0, 2, "root and the team's node");
    }

    /// Ten rules of one team, each naming its purpose among `fanout`
    /// values of its own.
    fn purposes_of_fanout(fanout: usize) -> IssuancePolicy {
        let rules = (0..10)
            .map(|i| {
                let names: Vec<String> = (0..fanout).map(|k| format!("p{i}-{k}")).collect();
                let when = json!({ "identity.claims.team": "t", "purpose.name": names });
                permit(format!("r{i}"), when)
            })
            .collect();
        compile(rules)
    }

    #[test]
    fn keys_of_up_to_eight_values_split_a_bucket_and_longer_lists_do_not() {
        let req = request(&[("team", "t")], Some("p3-2"));
        assert_eq!(candidates(&purposes_of_fanout(8), &req), ids(3..4));
        assert_eq!(candidates(&purposes_of_fanout(9), &req), ids(0..10));
    }

    #[test]
    fn a_list_of_more_than_eight_values_stays_unused_below_the_split() {
        // Level 1 splits the team's 20 rules by `env` into two nodes of
        // ten; the purposes (nine values each) may not split those.
        let rules = (0..20)
            .map(|i| {
                let names: Vec<String> = (0..9).map(|k| format!("p{i}-{k}")).collect();
                let when = json!({
                    "identity.claims.team": "t",
                    "identity.claims.env": format!("e{}", i % 2),
                    "purpose.name": names,
                });
                permit(format!("r{i}"), when)
            })
            .collect();
        let policy = compile(rules);
        let req = request(&[("team", "t"), ("env", "e1")], Some("p3-2"));
        assert_eq!(candidates(&policy, &req), ids((1..20).step_by(2)));
    }

    #[test]
    fn splitting_stops_once_a_node_keeps_eight_rules() {
        // Twelve rules with a purpose each are split off; the eight with
        // an `env` each stay together (eight is a leaf's size).
        let mut rules = Vec::new();
        for i in 0..12 {
            let when = json!({ "identity.claims.team": "t", "purpose.name": format!("p{i}") });
            rules.push(permit(format!("r{i}"), when));
        }
        for i in 12..20 {
            let when =
                json!({ "identity.claims.team": "t", "identity.claims.env": format!("e{i}") });
            rules.push(permit(format!("r{i}"), when));
        }
        let policy = compile(rules);
        let req = request(&[("team", "t"), ("env", "e12")], Some("p0"));
        let mut expected = ids(0..1);
        expected.extend(ids(12..20));
        assert_eq!(candidates(&policy, &req), expected);
    }

    #[test]
    fn a_bucket_is_split_at_most_three_levels_below_the_first() {
        // 144 rules of one team over four two-valued claims, each
        // combination nine times: levels 1 to 3 split by `a`, `b`, `c`
        // (ties go to the first claim by name); `d` is never used.
        let rules = (0..144)
            .map(|i: usize| {
                let mut when = Map::new();
                when.insert("identity.claims.team".into(), json!("t"));
                for (bit, name) in ["a", "b", "c", "d"].iter().enumerate() {
                    let value = format!("{}", (i >> bit) & 1);
                    when.insert(format!("identity.claims.{name}"), json!(value));
                }
                permit(format!("r{i}"), Value::Object(when))
            })
            .collect();
        let policy = compile(rules);
        let claims = [
            ("team", "t"),
            ("a", "1"),
            ("b", "0"),
            ("c", "1"),
            ("d", "1"),
        ];
        let req = request(&claims, None);
        let expected: Vec<String> = ids((0..144).filter(|i| i & 0b111 == 0b101));
        assert_eq!(expected.len(), 18);
        assert_eq!(candidates(&policy, &req), expected);
    }

    #[test]
    fn an_exact_key_is_not_looked_up_by_prefixes_of_the_request_value() {
        let rules = vec![
            permit("r0".into(), json!({ "identity.claims.team": "t" })),
            permit("r1".into(), json!({ "identity.subject": "spiffe://a" })),
            permit(
                "r2".into(),
                json!({ "identity.subject": { "glob": "spiffe://a/*" } }),
            ),
        ];
        let policy = compile(rules);
        let req = request(&[("team", "tx")], None);
        // Subject `spiffe://a/x`: the glob's prefix is reached, the exact
        // subject `spiffe://a` and the team `t` are not.
        assert_eq!(candidates(&policy, &req), ids(2..3));
    }

    /// Values whose hashes collide share one group holding both values'
    /// rules, each once, so neither value's rules are lost (the index's
    /// soundness does not rest on the hash being collision-free).
    #[test]
    fn values_sharing_a_hash_share_one_group_with_both_values_rules() {
        use super::{Item, group_by_hash};
        use crate::ids::RuleId;
        let item = |i: usize| Item {
            rule: RuleId::from_index(i).unwrap(),
            used: 0,
        };
        let groups = vec![
            ("a", vec![item(0), item(2)]),
            ("b", vec![item(1), item(2)]),
            ("c", vec![item(3)]),
        ];
        // `a` and `b` collide; `c` does not.
        let hash = |v: &str| u64::from(v == "c");
        let out = group_by_hash(groups.into_iter(), hash);
        let rules: Vec<(u64, Vec<usize>)> = out
            .iter()
            .map(|(h, items)| (*h, items.iter().map(|it| it.rule.index()).collect()))
            .collect();
        assert_eq!(rules, [(0, vec![0, 1, 2]), (1, vec![3])]);
    }
}
