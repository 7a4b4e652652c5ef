//! CIDR blocks: membership, and the algebra (exact, witness an address).
//!
//! Membership canonicalizes first: `::ffff:10.1.2.3` is the IPv4 address
//! `10.1.2.3`. So an IPv4 block holds IPv4 addresses (in either spelling),
//! and an IPv6 block holds the IPv6 addresses of its range *except* the
//! IPv4-mapped ones (`::ffff:0:0/96`): those are IPv4 addresses. The algebra
//! works on exactly these sets.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::algebra::{Coverage, Overlap};
use super::error::{PatternError, PatternErrorKind};

/// An IPv4 or IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

/// The IPv4-mapped range `::ffff:0:0/96`, as addresses.
const MAPPED: Interval = Interval {
    lo: 0xffff_0000_0000,
    hi: 0xffff_ffff_ffff,
};

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Interval {
    lo: u128,
    hi: u128,
}

impl Cidr {
    /// Parse `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or
    /// /128); the error is the reason alone.
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        Cidr::parse_located(s).map_err(|e| match e.kind() {
            // Today's message names the address part.
            PatternErrorKind::NotAnAddress => {
                let addr = s.get(e.span()).unwrap_or(s);
                format!("`{addr}` is not an IP address")
            }
            _ => e.reason(),
        })
    }

    /// Parse, with a located [`PatternError`].
    pub(crate) fn parse_located(s: &str) -> Result<Cidr, PatternError> {
        let (addr_text, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let error = |kind, span| PatternError::new(kind, s, span);
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| error(PatternErrorKind::NotAnAddress, 0..addr_text.len()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                error(
                    PatternErrorKind::PrefixLength { max },
                    addr_text.len() + 1..s.len(),
                )
            })?,
            None => max,
        };
        let cidr = Cidr { addr, prefix };
        if cidr.network_bits(addr) != raw(addr) {
            return Err(error(PatternErrorKind::HostBits, 0..addr_text.len()));
        }
        Ok(cidr)
    }

    fn mask(&self) -> u128 {
        let bits = if self.addr.is_ipv4() { 32 } else { 128 };
        let host = bits - u32::from(self.prefix);
        let all = if self.addr.is_ipv4() {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        all.checked_shl(host).map_or(0, |m| m & all)
    }

    fn network_bits(&self, ip: IpAddr) -> u128 {
        raw(ip) & self.mask()
    }

    /// Whether the block holds `ip` (IPv4-mapped IPv6 addresses are IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4() && self.network_bits(ip) == raw(self.addr)
    }

    /// The block's addresses as ranges of its family: one, or for an IPv6
    /// block, what is left once the IPv4-mapped range is taken out.
    fn ranges(&self) -> Vec<Interval> {
        let lo = raw(self.addr);
        let whole = Interval {
            lo,
            hi: lo | (!self.mask() & family_max(self.addr.is_ipv4())),
        };
        if self.addr.is_ipv4() {
            vec![whole]
        } else {
            whole.minus(MAPPED)
        }
    }

    fn address(&self, bits: u128) -> IpAddr {
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(bits).unwrap_or(0))),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(bits)),
        }
    }

    /// Does every address `other` holds lie in `self`? If not, one that
    /// does not.
    pub(crate) fn covers(&self, other: &Cidr) -> Coverage<IpAddr> {
        let mut outside = other.ranges();
        if self.addr.is_ipv4() == other.addr.is_ipv4() {
            for mine in self.ranges() {
                outside = outside.into_iter().flat_map(|r| r.minus(mine)).collect();
            }
        }
        match outside.first() {
            None => Coverage::Covered,
            Some(r) => Coverage::Counterexample(other.address(r.lo)),
        }
    }

    /// Is some address in both blocks? If so, one.
    pub(crate) fn intersects(&self, other: &Cidr) -> Overlap<IpAddr> {
        if self.addr.is_ipv4() != other.addr.is_ipv4() {
            return Overlap::Empty;
        }
        for a in self.ranges() {
            for b in other.ranges() {
                let (lo, hi) = (a.lo.max(b.lo), a.hi.min(b.hi));
                if lo <= hi {
                    return Overlap::Witness(self.address(lo));
                }
            }
        }
        Overlap::Empty
    }
}

impl Interval {
    /// `self` without `other`: zero, one or two ranges.
    fn minus(self, other: Interval) -> Vec<Interval> {
        if other.hi < self.lo || other.lo > self.hi {
            return vec![self];
        }
        let mut out = Vec::new();
        if other.lo > self.lo {
            out.push(Interval {
                lo: self.lo,
                hi: other.lo - 1,
            });
        }
        if other.hi < self.hi {
            out.push(Interval {
                lo: other.hi + 1,
                hi: self.hi,
            });
        }
        out
    }
}

fn family_max(v4: bool) -> u128 {
    if v4 { u128::from(u32::MAX) } else { u128::MAX }
}

fn raw(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn c(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    #[test]
    fn cidr_membership() {
        let c8 = c("10.0.0.0/8");
        assert!(c8.contains(ip("10.1.2.3")));
        assert!(c8.contains(ip("::ffff:10.1.2.3")));
        assert!(!c8.contains(ip("11.0.0.1")));
        assert!(!c8.contains(ip("::1")));
        let c6 = c("2001:db8::/32");
        assert!(c6.contains(ip("2001:db8::1")));
        assert!(c("0.0.0.0/0").contains(ip("1.2.3.4")));
        assert!(!c("::/0").contains(ip("::ffff:1.2.3.4")));
        assert_eq!(
            Cidr::parse("10.0.0.1/8").unwrap_err(),
            "host bits are set; write the network address"
        );
        assert_eq!(
            Cidr::parse("10.0.0.0/33").unwrap_err(),
            "prefix length must be 0..=32"
        );
        assert_eq!(
            Cidr::parse("nope/8").unwrap_err(),
            "`nope` is not an IP address"
        );
        let e = Cidr::parse_located("10.0.0.0/33").unwrap_err();
        assert_eq!(e.span(), 9..11);
    }

    /// An IPv6 block holds no IPv4-mapped address (those are IPv4): blocks
    /// next to the mapped range keep exactly their own addresses, and a
    /// block inside it, even at either end, holds none.
    #[test]
    fn ipv6_blocks_beside_and_inside_the_mapped_range() {
        assert_eq!(c("::1/128").intersects(&c("::2/128")), Overlap::Empty);
        assert_eq!(
            c("::1/128").intersects(&c("::1/128")),
            Overlap::Witness(ip("::1"))
        );
        for inside in ["::ffff:0.0.0.0/128", "::ffff:255.255.255.255/128"] {
            assert_eq!(c(inside).intersects(&c(inside)), Overlap::Empty, "{inside}");
            assert_eq!(
                c("::1/128").covers(&c(inside)),
                Coverage::Covered,
                "{inside}"
            );
        }
    }

    #[test]
    fn cidr_algebra() {
        assert_eq!(c("10.0.0.0/8").covers(&c("10.1.0.0/16")), Coverage::Covered);
        assert_eq!(
            c("10.1.0.0/16").covers(&c("10.0.0.0/8")),
            Coverage::Counterexample(ip("10.0.0.0"))
        );
        assert_eq!(
            c("10.1.0.0/16").intersects(&c("10.0.0.0/8")),
            Overlap::Witness(ip("10.1.0.0"))
        );
        assert_eq!(
            c("10.1.0.0/16").intersects(&c("10.2.0.0/16")),
            Overlap::Empty
        );
        assert_eq!(c("0.0.0.0/0").intersects(&c("::/0")), Overlap::Empty);
        assert_eq!(
            c("::/0").covers(&c("1.0.0.0/8")),
            Coverage::Counterexample(ip("1.0.0.0"))
        );
        // An IPv6 block inside the mapped range holds no address at all.
        assert_eq!(
            c("1.2.3.4/32").covers(&c("::ffff:0:0/96")),
            Coverage::Covered
        );
        assert_eq!(c("::/0").intersects(&c("::ffff:0:0/96")), Overlap::Empty);
        // `::ffff:0:0/95` is the mapped range and its neighbour `::fffe:0:0/96`.
        assert_eq!(
            c("0:0:0:0:0:fffe::/96").covers(&c("::fffe:0:0/95")),
            Coverage::Covered
        );
        assert_eq!(c("::/0").covers(&c("2001:db8::/32")), Coverage::Covered);
        assert_eq!(
            c("2001:db8::/48").covers(&c("2001:db8::/32")),
            Coverage::Counterexample(ip("2001:db8:1::"))
        );
    }

    fn block() -> impl Strategy<Value = Cidr> {
        (24u8..=32, 0u32..256).prop_map(|(prefix, host)| {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let addr = Ipv4Addr::from((0xC000_0200 | host) & keep);
            Cidr {
                addr: IpAddr::V4(addr),
                prefix,
            }
        })
    }

    proptest! {
        /// Brute force over the 256 addresses of 192.0.2.0/24.
        #[test]
        fn cidr_algebra_agrees_with_brute_force(a in block(), b in block()) {
            let all: Vec<IpAddr> = (0..256u32).map(|h| IpAddr::V4(Ipv4Addr::from(0xC000_0200 | h))).collect();
            let both = all.iter().find(|x| a.contains(**x) && b.contains(**x));
            match a.intersects(&b) {
                Overlap::Witness(w) => prop_assert!(a.contains(w) && b.contains(w)),
                Overlap::Empty => prop_assert!(both.is_none()),
                Overlap::Unknown => prop_assert!(false, "cidr overlap is decidable"),
            }
            let escapes = all.iter().find(|x| b.contains(**x) && !a.contains(**x));
            match a.covers(&b) {
                Coverage::Counterexample(w) => prop_assert!(b.contains(w) && !a.contains(w)),
                Coverage::Covered => prop_assert!(escapes.is_none()),
                Coverage::Unknown => prop_assert!(false, "cidr cover is decidable"),
            }
        }
    }
}
