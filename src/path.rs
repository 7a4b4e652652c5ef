//! Attribute paths: what a condition can look at, its type, and how a request
//! supplies it.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::condition::Memo;
use crate::request::{Actor, IdentityKind, LifecycleState, MintRequest};
use crate::value::AttrValue;

/// An attribute a condition reads, resolved from a request at evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Attr {
    Subject,
    Kind,
    Issuer,
    Owner,
    State,
    AuthenticatedAt,
    AuthAge,
    CredentialExpiresAt,
    CredentialRemaining,
    IdentityClaim(Arc<str>),
    PurposeName,
    PurposeTicket,
    PurposeAttribute(Arc<str>),
    Posture(Arc<str>),
    DelegationDepth,
    DelegationSubject,
    DelegationActors,
    DelegationActorKinds,
    ParentScopes,
    ParentExpiresAt,
    RequestScopes,
    RequestAudience,
    RequestTtl,
    RequestTime,
    RequestClaim(Arc<str>),
}

/// The static type of an attribute, used to type-check conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttrType {
    Str,
    Kind,
    State,
    Time,
    Duration,
    Number,
    StrList,
    /// Claims, posture and purpose attributes: typed by their value.
    Open,
}

impl AttrType {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            AttrType::Str => "a string",
            AttrType::Kind => "an identity kind (workload, agent, service_account, ci_job, user)",
            AttrType::State => "a lifecycle state (active, suspended, offboarded)",
            AttrType::Time => "a time",
            AttrType::Duration => "a duration",
            AttrType::Number => "a number",
            AttrType::StrList => "a list of strings",
            AttrType::Open => "an open attribute",
        }
    }
}

/// Every fixed path, with its attribute. Open families (`…claims.NAME`,
/// `posture.NAME`, `purpose.attributes.NAME`) are handled by prefix.
const FIXED: &[(&str, Attr)] = &[
    ("identity.subject", Attr::Subject),
    ("identity.kind", Attr::Kind),
    ("identity.issuer", Attr::Issuer),
    ("identity.owner", Attr::Owner),
    ("identity.state", Attr::State),
    ("identity.authenticated_at", Attr::AuthenticatedAt),
    ("identity.auth_age", Attr::AuthAge),
    ("identity.credential_expires_at", Attr::CredentialExpiresAt),
    ("identity.credential_remaining", Attr::CredentialRemaining),
    ("purpose.name", Attr::PurposeName),
    ("purpose.ticket", Attr::PurposeTicket),
    ("delegation.depth", Attr::DelegationDepth),
    ("delegation.subject", Attr::DelegationSubject),
    ("delegation.actors", Attr::DelegationActors),
    ("delegation.actor_kinds", Attr::DelegationActorKinds),
    ("delegation.parent.scopes", Attr::ParentScopes),
    ("delegation.parent.expires_at", Attr::ParentExpiresAt),
    ("request.scopes", Attr::RequestScopes),
    ("request.audience", Attr::RequestAudience),
    ("request.ttl", Attr::RequestTtl),
    ("request.time", Attr::RequestTime),
];

const OPEN: &[&str] = &[
    "identity.claims.",
    "purpose.attributes.",
    "posture.",
    "request.claims.",
];

/// The hint for a path that is neither fixed nor in an open family: a
/// likely meant open path (`identity.claim.x` → `identity.claims.x`), then
/// the known paths under the same root, open families included.
fn unknown_hint(path: &str) -> String {
    let root = path.split('.').next().unwrap_or("");
    let mut known: Vec<String> = FIXED
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| p.split('.').next() == Some(root))
        .map(str::to_owned)
        .collect();
    known.extend(
        OPEN.iter()
            .filter(|p| p.split('.').next() == Some(root))
            .map(|p| format!("{p}NAME")),
    );
    if known.is_empty() {
        return "; paths start with `identity.`, `purpose.`, `posture.`, `delegation.` or `request.`"
            .to_owned();
    }
    let meant = OPEN.iter().find_map(|open| near_open(path, open));
    let meant = meant.map_or(String::new(), |m| format!("; did you mean `{m}`?"));
    format!("{meant}; known `{root}.` paths: {}", known.join(", "))
}

/// `path` with its family word fixed, when it names an attribute under a
/// misspelt open family: `identity.claim.x`, `identity.Claims.x` or
/// `purpose.attribute.x` for `identity.claims.` / `purpose.attributes.`.
fn near_open(path: &str, open: &str) -> Option<String> {
    let (root, family) = open.trim_end_matches('.').split_once('.')?;
    let rest = path.strip_prefix(root)?.strip_prefix('.')?;
    let (word, name) = rest.split_once('.')?;
    let close = word.eq_ignore_ascii_case(family)
        || word.eq_ignore_ascii_case(family.trim_end_matches('s'));
    (close && !name.is_empty()).then(|| format!("{open}{name}"))
}

impl Attr {
    /// Resolve a path; `Err` carries a hint for the error message.
    pub(crate) fn parse(path: &str) -> Result<Attr, String> {
        if let Some((_, attr)) = FIXED.iter().find(|(p, _)| *p == path) {
            return Ok(attr.clone());
        }
        for prefix in OPEN {
            if let Some(name) = path.strip_prefix(prefix) {
                if name.is_empty() {
                    return Err(format!("; `{prefix}` needs an attribute name after it"));
                }
                let name: Arc<str> = name.into();
                return Ok(match *prefix {
                    "identity.claims." => Attr::IdentityClaim(name),
                    "purpose.attributes." => Attr::PurposeAttribute(name),
                    "posture." => Attr::Posture(name),
                    _ => Attr::RequestClaim(name),
                });
            }
        }
        Err(unknown_hint(path))
    }

    pub(crate) fn ty(&self) -> AttrType {
        match self {
            Attr::Subject
            | Attr::Issuer
            | Attr::Owner
            | Attr::PurposeName
            | Attr::PurposeTicket
            | Attr::DelegationSubject => AttrType::Str,
            Attr::Kind => AttrType::Kind,
            Attr::State => AttrType::State,
            Attr::AuthenticatedAt
            | Attr::CredentialExpiresAt
            | Attr::ParentExpiresAt
            | Attr::RequestTime => AttrType::Time,
            Attr::AuthAge | Attr::CredentialRemaining | Attr::RequestTtl => AttrType::Duration,
            Attr::DelegationDepth => AttrType::Number,
            Attr::DelegationActors
            | Attr::DelegationActorKinds
            | Attr::ParentScopes
            | Attr::RequestScopes
            | Attr::RequestAudience => AttrType::StrList,
            Attr::IdentityClaim(_)
            | Attr::PurposeAttribute(_)
            | Attr::Posture(_)
            | Attr::RequestClaim(_) => AttrType::Open,
        }
    }
}

/// A request attribute's value, borrowed from the request.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Val<'a> {
    Str(&'a str),
    Kind(IdentityKind),
    State(LifecycleState),
    Time(DateTime<Utc>),
    /// Whole seconds; negative when a timestamp lies in the future.
    Dur(i64),
    Num(f64),
    Strings(&'a [String]),
    Actors(&'a [Actor]),
    ActorKinds(&'a [Actor]),
    Open(&'a AttrValue),
}

impl fmt::Display for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Str(s) => write!(f, "{s:?}"),
            Val::Kind(k) => write!(f, "{:?}", k.as_str()),
            Val::State(s) => write!(f, "{:?}", s.as_str()),
            Val::Time(t) => write!(f, "{}", t.to_rfc3339()),
            Val::Dur(secs) => match u64::try_from(*secs) {
                Ok(s) => write!(f, "{}", crate::Duration::from_secs(s)),
                Err(_) => write!(f, "{secs}s (in the future)"),
            },
            Val::Num(n) => write!(f, "{n}"),
            Val::Strings(items) => write!(f, "{items:?}"),
            Val::Actors(actors) => {
                let subjects: Vec<&str> = actors.iter().map(|a| a.subject.as_str()).collect();
                write!(f, "{subjects:?}")
            }
            Val::ActorKinds(actors) => {
                let kinds: Vec<&str> = actors
                    .iter()
                    .map(|a| a.kind.map_or("unknown", IdentityKind::as_str))
                    .collect();
                write!(f, "{kinds:?}")
            }
            Val::Open(v) => write!(f, "{v}"),
        }
    }
}

/// What a condition evaluates against: the request and the time, and the
/// results of the leaves several rules share, once evaluated against them.
pub(crate) struct Ctx<'a> {
    pub(crate) req: &'a MintRequest,
    pub(crate) now: DateTime<Utc>,
    pub(crate) memo: Memo,
}

fn secs_between(later: DateTime<Utc>, earlier: DateTime<Utc>) -> i64 {
    later.signed_duration_since(earlier).num_seconds()
}

impl<'a> Ctx<'a> {
    /// A context with nothing remembered yet.
    pub(crate) fn new(req: &'a MintRequest, now: DateTime<Utc>) -> Self {
        Ctx {
            req,
            now,
            memo: Memo::default(),
        }
    }

    /// The attribute's value, or `None` when the request does not supply it.
    #[inline(always)]
    pub(crate) fn get(&self, attr: &Attr) -> Option<Val<'a>> {
        let req = self.req;
        let id = &req.identity;
        Some(match attr {
            Attr::Subject => Val::Str(&id.subject),
            Attr::Kind => Val::Kind(id.kind),
            Attr::Issuer => Val::Str(id.issuer.as_deref()?),
            Attr::Owner => Val::Str(id.owner.as_deref()?),
            Attr::State => Val::State(id.state),
            Attr::AuthenticatedAt => Val::Time(id.authenticated_at?),
            Attr::AuthAge => Val::Dur(secs_between(self.now, id.authenticated_at?)),
            Attr::CredentialExpiresAt => Val::Time(id.credential_expires_at?),
            Attr::CredentialRemaining => {
                Val::Dur(secs_between(id.credential_expires_at?, self.now))
            }
            Attr::IdentityClaim(name) => Val::Open(id.claims.get(&**name)?),
            Attr::PurposeName => Val::Str(&req.purpose.as_ref()?.name),
            Attr::PurposeTicket => Val::Str(req.purpose.as_ref()?.ticket.as_deref()?),
            Attr::PurposeAttribute(name) => {
                Val::Open(req.purpose.as_ref()?.attributes.get(&**name)?)
            }
            Attr::Posture(name) => Val::Open(req.posture.get(&**name)?),
            Attr::DelegationDepth => {
                let depth = req.delegation.as_ref().map_or(0, |d| d.depth());
                #[allow(clippy::cast_precision_loss)]
                Val::Num(depth as f64)
            }
            Attr::DelegationSubject => Val::Str(&req.delegation.as_ref()?.subject),
            Attr::DelegationActors => Val::Actors(&req.delegation.as_ref()?.actors),
            Attr::DelegationActorKinds => Val::ActorKinds(&req.delegation.as_ref()?.actors),
            Attr::ParentScopes => Val::Strings(&req.delegation.as_ref()?.parent.as_ref()?.scopes),
            Attr::ParentExpiresAt => {
                Val::Time(req.delegation.as_ref()?.parent.as_ref()?.expires_at)
            }
            Attr::RequestScopes => Val::Strings(&req.scopes),
            Attr::RequestAudience => Val::Strings(&req.audience),
            Attr::RequestTtl => Val::Dur(i64::try_from(req.ttl?.as_secs()).unwrap_or(i64::MAX)),
            Attr::RequestTime => Val::Time(self.now),
            Attr::RequestClaim(name) => Val::Open(req.claims.get(&**name)?),
        })
    }
}

/// Run `f` on the textual form of an address without allocating.
pub(crate) fn with_ip_str<R>(ip: IpAddr, f: impl FnOnce(&str) -> R) -> R {
    use std::io::Write;
    let mut buf = [0u8; 64];
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    // An IPv6 address is at most 45 bytes, so this write cannot fail.
    let _ = write!(cursor, "{ip}");
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    f(buf
        .get(..len)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::Attr;

    #[test]
    fn a_misspelt_open_family_is_answered_with_the_path_meant() {
        for (path, meant) in [
            ("identity.claim.repo", "identity.claims.repo"),
            ("identity.Claims.repo", "identity.claims.repo"),
            ("purpose.attribute.risk", "purpose.attributes.risk"),
        ] {
            let hint = Attr::parse(path).err().unwrap_or_default();
            assert!(
                hint.contains(&format!("did you mean `{meant}`?")),
                "{path}: {hint}"
            );
        }
        // No hint where the family word is not a misspelling of one, or
        // no name follows it.
        for path in ["identity.subjct", "identity.team.x", "identity.claim."] {
            let hint = Attr::parse(path).err().unwrap_or_default();
            assert!(!hint.contains("did you mean"), "{path}: {hint}");
        }
    }
}
