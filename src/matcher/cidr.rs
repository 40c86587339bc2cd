//! IP address blocks for `cidrMatch`, parsed once at compile time.

use std::net::IpAddr;

/// An address block of `cidrMatch`; a bare address is a /32 or /128.
#[derive(Clone, Debug, PartialEq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr.trim().parse().map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("`{s}` has an invalid prefix length (0 to {max})")),
            },
        };
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        let (a, b, bits) = match (ip, &self.net) {
            (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(*a) as u128, u32::from(*n) as u128, 32),
            (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(*a), u128::from(*n), 128),
            // An IPv4-mapped IPv6 address is the IPv4 address.
            (IpAddr::V6(a), IpAddr::V4(n)) => match a.to_ipv4_mapped() {
                Some(a4) => (u32::from(a4) as u128, u32::from(*n) as u128, 32),
                None => return false,
            },
            (IpAddr::V4(_), IpAddr::V6(_)) => return false,
        };
        let shift = bits - self.prefix as u32;
        shift >= bits || (a >> shift) == (b >> shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(Cidr::parse("10.0.0.0/8").unwrap().contains(&ip("10.1.2.3")));
        assert!(!Cidr::parse("172.16.0.0/12").unwrap().contains(&ip("172.32.0.1")));
        assert!(Cidr::parse("fc00::/7").unwrap().contains(&ip("fd12::1")));
        assert!(Cidr::parse("::1").unwrap().contains(&ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(&ip("8.8.8.8")));
        assert!(Cidr::parse("10.0.0.0/8").unwrap().contains(&ip("::ffff:10.0.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err() && Cidr::parse("nope").is_err());
    }
}
