//! IPv4 subnets as networks are given them: `10.88.0.0/16`.

use std::fmt;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    /// The network's own address (host bits zero).
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    pub fn parse(s: &str) -> Result<Subnet, String> {
        let bad = || format!("invalid subnet {s:?} (expected an IPv4 CIDR such as 10.89.0.0/24)");
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if !(8..=30).contains(&prefix) {
            return Err(format!(
                "invalid subnet {s:?}: the prefix must be between /8 and /30"
            ));
        }
        let subnet = Subnet {
            base: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        };
        if subnet.base != addr {
            return Err(format!(
                "invalid subnet {s:?}: host bits are set (did you mean {subnet}?)"
            ));
        }
        Ok(subnet)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.base)
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        let p = self.prefix.min(other.prefix);
        u32::from(self.base) & mask(p) == u32::from(other.base) & mask(p)
    }

    /// The `n`th address of the subnet (0 is the network's own address).
    pub fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + n)
    }

    /// Addresses a host may have: 1 ..= size-2.
    pub fn hosts(&self) -> u32 {
        (1u32 << (32 - self.prefix)) - 2
    }

    /// Is `ip` a host address of this subnet (neither its network nor its broadcast address)?
    pub fn is_host(&self, ip: Ipv4Addr) -> bool {
        let off = u32::from(ip).wrapping_sub(u32::from(self.base));
        self.contains(ip) && off >= 1 && off <= self.hosts()
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_overlap() {
        let a = Subnet::parse("10.88.0.0/16").unwrap();
        let b = Subnet::parse("10.88.5.0/24").unwrap();
        let c = Subnet::parse("10.89.0.0/24").unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert_eq!(a.nth(1), Ipv4Addr::new(10, 88, 0, 1));
        assert_eq!(c.hosts(), 254);
        assert!(c.is_host(Ipv4Addr::new(10, 89, 0, 254)));
        assert!(!c.is_host(Ipv4Addr::new(10, 89, 0, 255)));
        assert!(Subnet::parse("10.88.0.1/16").is_err());
        assert!(Subnet::parse("10.88.0.0").is_err());
        assert!(Subnet::parse("10.88.0.0/31").is_err());
    }
}
