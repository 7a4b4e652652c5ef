//! Property tests for the pattern module: every matcher against a naive
//! backtracking reference, the algebra against brute force.
//!
//! The reference works on the test's own token type (`T`), rendered to text
//! for the module, so that it shares no code with the module.

use proptest::prelude::*;

use super::*;
use crate::limits::Limits;

/// A test-side token.
#[derive(Clone, Debug, PartialEq)]
enum T {
    Lit(char),
    Star,
    DStar,
    Q,
    /// A class: negated, and its members (`None` stands for the range `a-b`).
    Class(bool, Vec<Option<char>>),
}

fn render(tokens: &[T]) -> String {
    let mut s = String::new();
    for t in tokens {
        match t {
            T::Lit(c) => {
                if matches!(c, '*' | '?' | '[' | '\\') {
                    s.push('\\');
                }
                s.push(*c);
            }
            T::Star => s.push('*'),
            T::DStar => s.push_str("**"),
            T::Q => s.push('?'),
            T::Class(negated, items) => {
                s.push('[');
                if *negated {
                    s.push('!');
                }
                for item in items {
                    match item {
                        Some(c) => s.push(*c),
                        None => s.push_str("a-b"),
                    }
                }
                s.push(']');
            }
        }
    }
    s
}

/// One character against one single-character token, plainly.
fn one(t: &T, c: char) -> bool {
    match t {
        T::Lit(x) => *x == c,
        T::Q => c != '/',
        T::Class(negated, items) => {
            let inside = items.iter().any(|item| match item {
                Some(x) => *x == c,
                None => c == 'a' || c == 'b',
            });
            inside != *negated
        }
        T::Star | T::DStar => false,
    }
}

/// Naive backtracking: try every split for every star.
fn naive(tokens: &[T], text: &[char]) -> bool {
    match tokens.split_first() {
        None => text.is_empty(),
        Some((T::Star, rest)) => (0..=text.len())
            .take_while(|k| text.iter().take(*k).all(|c| *c != '/'))
            .any(|k| naive(rest, &text[k..])),
        Some((T::DStar, rest)) => (0..=text.len()).any(|k| naive(rest, &text[k..])),
        Some((t, rest)) => text
            .split_first()
            .is_some_and(|(c, more)| one(t, *c) && naive(rest, more)),
    }
}

fn naive_str(tokens: &[T], text: &str) -> bool {
    naive(tokens, &text.chars().collect::<Vec<_>>())
}

/// `*` twice in a row would render as `**`: keep one (same language).
fn no_star_pairs(mut tokens: Vec<T>) -> Vec<T> {
    tokens.dedup_by(|b, a| *a == T::Star && *b == T::Star);
    tokens
}

const CHARS: [char; 4] = ['a', 'b', '/', '.'];

fn policy_token() -> impl Strategy<Value = T> {
    let item = prop_oneof![
        prop::sample::select(CHARS.to_vec()).prop_map(Some),
        Just(None)
    ];
    prop_oneof![
        4 => prop::sample::select(CHARS.to_vec()).prop_map(T::Lit),
        2 => Just(T::Star),
        1 => Just(T::DStar),
        1 => Just(T::Q),
        1 => (any::<bool>(), prop::collection::vec(item, 1..3)).prop_map(|(n, i)| T::Class(n, i)),
    ]
}

fn policy_glob() -> impl Strategy<Value = Vec<T>> {
    prop::collection::vec(policy_token(), 0..6).prop_map(no_star_pairs)
}

/// The literal shapes, so that every strategy is exercised.
fn literal_shape() -> impl Strategy<Value = Vec<T>> {
    let lits =
        || prop::collection::vec(prop::sample::select(CHARS.to_vec()).prop_map(T::Lit), 0..4);
    (
        lits(),
        prop::option::of(prop_oneof![Just(T::Star), Just(T::DStar)]),
        lits(),
    )
        .prop_map(|(mut a, star, b)| {
            a.extend(star);
            a.extend(b);
            a
        })
}

fn request_glob() -> impl Strategy<Value = Vec<T>> {
    let token = prop_oneof![
        4 => prop::sample::select(vec!['a', 'b', '/', '[', '\\', 'é']).prop_map(T::Lit),
        2 => Just(T::Star),
        2 => Just(T::DStar),
        2 => Just(T::Q),
    ];
    prop::collection::vec(token, 0..8).prop_map(no_star_pairs)
}

/// A request wildcard: every character literal but the stars and `?`.
fn render_request(tokens: &[T]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            T::Lit(c) => c.to_string(),
            T::Star => "*".into(),
            T::DStar => "**".into(),
            _ => "?".into(),
        })
        .collect()
}

/// Every string over `alphabet` up to `max` characters.
fn all_strings(alphabet: &[char], max: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut layer = vec![String::new()];
    for _ in 0..max {
        layer = layer
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        out.extend(layer.iter().cloned());
    }
    out
}

/// The brute-force alphabet: the pattern characters, and `x` for every
/// character no pattern names.
fn universe() -> Vec<String> {
    all_strings(&['a', 'b', '/', '.', 'x'], 5)
}

fn texts() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!['a', 'b', '/', '.', 'é', '[', '\\']),
        0..10,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn glob(tokens: &[T]) -> Glob {
    Glob::new(&render(tokens)).unwrap()
}

/// `covers` against brute force, and the counterexample checked.
fn check_cover(a: &[T], b: &[T], got: &Coverage, strings: &[String]) -> Result<(), TestCaseError> {
    match got {
        Coverage::Covered => {
            let escape = strings.iter().find(|s| naive_str(b, s) && !naive_str(a, s));
            prop_assert!(escape.is_none(), "covered, yet {escape:?}");
        }
        Coverage::Counterexample(w) => prop_assert!(naive_str(b, w) && !naive_str(a, w), "{w:?}"),
        Coverage::Unknown => prop_assert!(false, "small globs are decided"),
    }
    Ok(())
}

fn check_overlap(a: &[T], b: &[T], got: &Overlap, strings: &[String]) -> Result<(), TestCaseError> {
    match got {
        Overlap::Empty => {
            let both = strings.iter().find(|s| naive_str(a, s) && naive_str(b, s));
            prop_assert!(both.is_none(), "empty, yet {both:?}");
        }
        Overlap::Witness(w) => prop_assert!(naive_str(a, w) && naive_str(b, w), "{w:?}"),
        Overlap::Unknown => prop_assert!(false, "small globs are decided"),
    }
    Ok(())
}

// ------------------------------------------------------------------ regexes

/// A small regex over the same alphabet.
fn regex_gen() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("/".to_owned()),
        Just(r"\.".to_owned()),
        Just(".".to_owned()),
        Just("[ab]".to_owned()),
        Just("[^a/]".to_owned()),
    ];
    atom.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(?:{a}|{b})")),
            inner.clone().prop_map(|a| format!("(?:{a})*")),
            inner.prop_map(|a| format!("(?:{a})?")),
        ]
    })
}

fn re(source: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{source})$")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every strategy agrees with the reference, on random globs and on the
    /// literal shapes.
    #[test]
    fn glob_matches_like_the_reference(
        tokens in prop_oneof![policy_glob(), literal_shape()],
        extra in prop::collection::vec(texts(), 8),
    ) {
        let g = glob(&tokens);
        for text in all_strings(&CHARS, 4).iter().chain(&extra) {
            prop_assert_eq!(g.is_match(text), naive_str(&tokens, text), "`{}` on {:?}", g, text);
        }
    }

    /// Request wildcards: the in-place matcher, the compiled request glob and
    /// the reference agree.
    #[test]
    fn request_wildcards_match_like_the_reference(
        tokens in request_glob(),
        extra in prop::collection::vec(texts(), 16),
    ) {
        let pattern = render_request(&tokens);
        let compiled = Glob::request_wildcard(&pattern, &Limits::default()).unwrap();
        for text in all_strings(&['a', '/', 'é'], 4).iter().chain(&extra) {
            let want = naive_str(&tokens, text);
            prop_assert_eq!(wildcard_match(&pattern, text), want, "`{}` on {:?}", pattern, text);
            prop_assert_eq!(compiled.is_match(text), want, "compiled `{}` on {:?}", pattern, text);
        }
    }

    /// Glob cover and overlap against brute force; witnesses and
    /// counterexamples checked by the reference.
    #[test]
    fn glob_algebra_agrees_with_brute_force(a in policy_glob(), b in policy_glob()) {
        let strings = universe();
        let (ga, gb) = (glob(&a), glob(&b));
        check_cover(&a, &b, &ga.covers(&gb), &strings)?;
        check_cover(&b, &a, &gb.covers(&ga), &strings)?;
        check_overlap(&a, &b, &ga.intersects(&gb), &strings)?;
    }

}

proptest! {
    // Dense DFA construction is slow in debug builds: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The same questions for globs through the regex route (DFAs), so the
    /// two routes agree.
    #[test]
    fn glob_algebra_through_dfas(a in policy_glob(), b in policy_glob()) {
        let strings = universe();
        let (ga, gb) = (glob(&a), glob(&b));
        let (ra, rb) = (ga.regex_source().unwrap(), gb.regex_source().unwrap());
        check_cover(&a, &b, &regex_lang::covers(&ra, &rb, Budget::default()), &strings)?;
        check_overlap(&a, &b, &regex_lang::intersects(&ra, &rb, Budget::default()), &strings)?;
        prop_assert_eq!(
            ga.covers(&gb) == Coverage::Covered,
            regex_lang::covers(&ra, &rb, Budget::default()) == Coverage::Covered
        );
    }

    /// Regex cover and overlap against brute force (the regex crate decides
    /// membership), and a glob against a regex.
    #[test]
    fn regex_algebra_agrees_with_brute_force(
        a in regex_gen(),
        b in regex_gen(),
        g in policy_glob(),
    ) {
        let strings = universe();
        let (ra, rb) = (re(&a), re(&b));
        match covers(Language::Regex(&a), Language::Regex(&b)) {
            Coverage::Covered => {
                let escape = strings.iter().find(|s| rb.is_match(s) && !ra.is_match(s));
                prop_assert!(escape.is_none(), "`{}` covers `{}`, yet {:?}", a, b, escape);
            }
            Coverage::Counterexample(w) => prop_assert!(rb.is_match(&w) && !ra.is_match(&w), "{:?}", w),
            Coverage::Unknown => prop_assert!(false, "small regexes are decided"),
        }
        match intersects(Language::Regex(&a), Language::Regex(&b)) {
            Overlap::Empty => {
                let both = strings.iter().find(|s| ra.is_match(s) && rb.is_match(s));
                prop_assert!(both.is_none(), "`{}` and `{}` share {:?}", a, b, both);
            }
            Overlap::Witness(w) => prop_assert!(ra.is_match(&w) && rb.is_match(&w), "{:?}", w),
            Overlap::Unknown => prop_assert!(false, "small regexes are decided"),
        }
        let gg = glob(&g);
        match intersects(Language::Glob(&gg), Language::Regex(&a)) {
            Overlap::Empty => {
                let both = strings.iter().find(|s| gg.is_match(s) && ra.is_match(s));
                prop_assert!(both.is_none(), "`{}` and `{}` share {:?}", gg, a, both);
            }
            Overlap::Witness(w) => prop_assert!(gg.is_match(&w) && ra.is_match(&w), "{:?}", w),
            Overlap::Unknown => prop_assert!(false, "small patterns are decided"),
        }
        match covers(Language::Regex(&a), Language::Glob(&gg)) {
            Coverage::Covered => {
                let escape = strings.iter().find(|s| gg.is_match(s) && !ra.is_match(s));
                prop_assert!(escape.is_none(), "`{}` covers `{}`, yet {:?}", a, gg, escape);
            }
            Coverage::Counterexample(w) => prop_assert!(gg.is_match(&w) && !ra.is_match(&w), "{:?}", w),
            Coverage::Unknown => prop_assert!(false, "small patterns are decided"),
        }
    }
}

// ------------------------------------------------------------- worked cases

#[test]
fn witnesses_read_well() {
    let g = |p: &str| Glob::new(p).unwrap();
    assert_eq!(
        g("reports:*").intersects(&g("*:read")),
        Overlap::Witness("reports:read".into())
    );
    assert_eq!(g("reports:*").intersects(&g("billing:*")), Overlap::Empty);
    let (one, any) = (g("spiffe://td/ns/*/sa/x"), g("spiffe://td/ns/**/sa/x"));
    let Coverage::Counterexample(w) = one.covers(&any) else {
        panic!("`**` matches more than `*`")
    };
    assert!(any.is_match(&w) && !one.is_match(&w), "{w}");
    assert_eq!(any.covers(&one), Coverage::Covered);
    assert_eq!(
        g("spiffe://td/**").covers(&g("spiffe://td/ns/*/sa/?")),
        Coverage::Covered
    );
}

#[test]
fn budgets_give_unknown_not_a_guess() {
    let g = |p: &str| Glob::new(p).unwrap();
    let tiny = Budget {
        states: 3,
        dfa_bytes: 1 << 20,
    };
    let (a, b) = (g("*a???????"), g("**"));
    assert_eq!(
        covers_within(Language::Glob(&b), Language::Glob(&a), tiny),
        Coverage::Unknown
    );
    assert_eq!(
        intersects_within(Language::Glob(&a), Language::Glob(&b), tiny),
        Overlap::Unknown
    );
    // A Unicode word boundary is beyond a dense DFA.
    assert_eq!(
        intersects(Language::Regex(r"\bx"), Language::Regex("x")),
        Overlap::Unknown
    );
    // Within the default budget, the same questions are decided.
    assert_eq!(b.covers(&a), Coverage::Covered);
    assert_eq!(a.covers(&b), Coverage::Counterexample(String::new()));
    assert!(matches!(a.intersects(&b), Overlap::Witness(w) if a.is_match(&w)));
}

// ------------------------------------------------------------- search budget

/// A product search may see exactly its budget of states; one state more
/// and it stops, undecided. (The algebra's answers within the budget are
/// checked against brute force above; this pins where the budget ends.)
#[test]
fn a_search_may_see_exactly_its_budget_of_states_and_no_more() {
    let mut bfs: algebra::Bfs<u32, char> = algebra::Bfs::new(0);
    for s in 1..5 {
        bfs.visit(s, 0, Some('a'));
    }
    // Five states seen.
    assert!(bfs.next(5).is_ok());
    assert!(bfs.next(6).is_ok());
    assert!(bfs.next(4).is_err());
    assert!(bfs.next(0).is_err());
}

/// A class that ends just below the surrogate gap (U+D7FF) does not cover
/// a character above it: the search tries the first character after the
/// gap, U+E000.
#[test]
fn a_class_ending_below_the_surrogate_gap_leaves_out_what_follows_the_gap() {
    let g = |p: &str| Glob::new(p).unwrap();
    let below_gap = g("[\u{0}-\u{D7FF}]");
    let Coverage::Counterexample(w) = below_gap.covers(&g("?")) else {
        panic!("`?` matches characters past the gap")
    };
    assert_eq!(w, "\u{E000}");
}

/// A counterexample to coverage is made of the characters people read
/// (`a`, `.`, `0`, …) when one of them will do, not of a class's bounds
/// (here U+0000, the first character the class leaves out).
#[test]
fn counterexamples_use_readable_characters() {
    let g = |p: &str| Glob::new(p).unwrap();
    assert_eq!(
        g("[b-y]").covers(&g("?")),
        Coverage::Counterexample(".".into())
    );
    assert_eq!(
        g("[c-y]x").covers(&g("?x")),
        Coverage::Counterexample(".x".into())
    );
}

/// An intersection search stops at a pair where either regex can no longer
/// match: a small budget decides a one-string regex against a long one,
/// rather than walking the long one's states.
#[test]
fn an_intersection_search_prunes_pairs_where_either_side_is_dead() {
    let small = Budget {
        states: 10,
        dfa_bytes: 1 << 20,
    };
    assert_eq!(
        intersects_within(Language::Regex("x"), Language::Regex("[a-w]{0,30}"), small),
        Overlap::Empty
    );
    assert_eq!(
        intersects_within(Language::Regex("[a-w]{0,30}"), Language::Regex("x"), small),
        Overlap::Empty
    );
}
