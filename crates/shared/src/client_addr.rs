//! Where a request's client address comes from, and the rate-limit buckets
//! that address falls in.
//!
//! A client may send any header it likes, including `spin-client-addr` and
//! every forwarding header; a Spin host copies the client's headers first and
//! appends its own after them. So an address is only ever read from the
//! *right* end of a header's values: the last `spin-client-addr` (what the
//! host appended), or the entry as many places from the right as there are
//! trusted proxies appending to a forwarding header. What the client wrote
//! stays to the left and is never read. A missing or malformed entry is no
//! address at all ([`Bucket::Unknown`]), never the client's choice.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Where the client address is read from (the `client_addr_source`,
/// `client_addr_header` and `client_addr_trusted_hops` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAddrSource {
    /// The value the host appends itself: the *last* `spin-client-addr`.
    Spin,
    /// A forwarding header that `hops` trusted proxies in front append to
    /// (`X-Forwarded-For`, `Forwarded` (RFC 7239 `for=`),
    /// `CF-Connecting-IP`, `X-Real-IP`, …): the entry `hops` places from the
    /// right, counting every value of the header in the order received.
    Header {
        /// Header name, lowercase.
        name: String,
        /// Trusted proxies appending to it, at least 1.
        hops: usize,
    },
}

impl ClientAddrSource {
    /// The header a Spin host appends with the peer's `ip:port`.
    pub const SPIN_HEADER: &'static str = "spin-client-addr";

    /// The header this source reads (lowercase).
    pub fn header(&self) -> &str {
        match self {
            Self::Spin => Self::SPIN_HEADER,
            Self::Header { name, .. } => name,
        }
    }

    /// The client's address, from every value of [`Self::header`] in the
    /// order received; `None` when there are fewer entries than trusted hops
    /// or the chosen entry is not an address.
    pub fn client_ip<'a>(&self, values: impl IntoIterator<Item = &'a str>) -> Option<IpAddr> {
        let hops = match self {
            Self::Spin => 1,
            Self::Header { hops, .. } => (*hops).max(1),
        };
        // A plain split on commas, not a quote-aware one: a client could
        // open a quote that swallows what the proxies append after it, while
        // extra entries it makes on the left never change the count from the
        // right.
        let entries: Vec<&str> = values
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        let entry = entries[entries.len().checked_sub(hops)?];
        if self.header().eq_ignore_ascii_case("forwarded") {
            forwarded_for(entry).and_then(parse_node)
        } else {
            parse_node(entry)
        }
    }
}

/// The `for=` value of one RFC 7239 forwarded-element.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then_some(value)
    })
}

/// An address as forwarding headers write it: `ip`, `ip:port`,
/// `[ipv6]:port` or `[ipv6]`, possibly quoted. `unknown`, obfuscated
/// identifiers (`_hidden`) and anything else are `None`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    text.strip_prefix('[')?
        .strip_suffix(']')?
        .parse::<Ipv6Addr>()
        .ok()
        .map(IpAddr::V6)
}

/// A rate-limit bucket: a set of clients that share one counter per action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// One IPv4 address (IPv4-mapped IPv6 included).
    V4([u8; 4]),
    /// An IPv6 network of `prefix` bits (64, 56 or 48), host bits zero.
    V6 {
        /// The network address.
        network: u128,
        /// Prefix length.
        prefix: u8,
    },
    /// Every client whose address is missing or malformed, together.
    Unknown,
}

/// The IPv6 prefix lengths a client is counted at: its /64 (one subscriber
/// LAN), the /56 and the /48 around it (typical allocations to one site).
pub const V6_PREFIXES: [u8; 3] = [64, 56, 48];

impl Bucket {
    /// Every bucket a client counts in: its IPv4 address; or its IPv6 /64,
    /// /56 and /48; or [`Bucket::Unknown`] without an address.
    pub fn of(ip: Option<IpAddr>) -> Vec<Self> {
        let ip = ip.map(|ip| ip.to_canonical());
        match ip {
            Some(IpAddr::V4(v4)) => vec![Self::V4(v4.octets())],
            Some(IpAddr::V6(v6)) => V6_PREFIXES
                .iter()
                .map(|&prefix| Self::V6 {
                    network: u128::from(v6) & (u128::MAX << (128 - u32::from(prefix))),
                    prefix,
                })
                .collect(),
            None => vec![Self::Unknown],
        }
    }

    /// The bucket's name, e.g. `v4:203.0.113.9`, `v6/56:2001:db8:1:200::`
    /// or `unknown`: what is hashed into its key (never stored as is).
    pub fn name(&self) -> String {
        match self {
            Self::V4(octets) => format!("v4:{}", std::net::Ipv4Addr::from(*octets)),
            Self::V6 { network, prefix } => format!("v6/{prefix}:{}", Ipv6Addr::from(*network)),
            Self::Unknown => "unknown".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, hops: usize) -> ClientAddrSource {
        ClientAddrSource::Header {
            name: name.into(),
            hops,
        }
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn spin_takes_the_value_the_host_appended() {
        let spin = ClientAddrSource::Spin;
        assert_eq!(spin.client_ip(["203.0.113.9:52446"]), ip("203.0.113.9"));
        // The client's forged values come first; the host's is last.
        assert_eq!(
            spin.client_ip(["10.0.0.1:1", "10.0.0.2:2, 10.0.0.3:3", "[2001:db8::7]:9"]),
            ip("2001:db8::7")
        );
        assert_eq!(spin.client_ip([]), None);
        assert_eq!(spin.client_ip(["10.0.0.1:1", "not an address"]), None);
    }

    #[test]
    fn forwarding_headers_count_trusted_hops_from_the_right() {
        let xff = header("x-forwarded-for", 1);
        assert_eq!(
            xff.client_ip(["6.6.6.6", "1.1.1.1, 203.0.113.9"]),
            ip("203.0.113.9")
        );
        let two = header("x-forwarded-for", 2);
        assert_eq!(
            two.client_ip(["6.6.6.6, 203.0.113.9", "10.0.0.1"]),
            ip("203.0.113.9")
        );
        assert_eq!(two.client_ip(["10.0.0.1"]), None, "fewer entries than hops");
        assert_eq!(xff.client_ip([]), None);
        assert_eq!(xff.client_ip(["1.1.1.1, garbage"]), None);
        assert_eq!(xff.client_ip(["1.1.1.1,, ,"]), ip("1.1.1.1"));
        let cf = header("cf-connecting-ip", 1);
        assert_eq!(cf.client_ip(["2001:db8::1"]), ip("2001:db8::1"));
        assert_eq!(cf.client_ip(["[2001:db8::1]"]), ip("2001:db8::1"));
        assert_eq!(cf.client_ip(["[2001:db8::1]:443"]), ip("2001:db8::1"));
    }

    #[test]
    fn forwarded_reads_for_of_the_trusted_element() {
        let fwd = header("forwarded", 1);
        assert_eq!(
            fwd.client_ip([r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https"#]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            fwd.client_ip(["for=1.1.1.1", "proto=http;For=192.0.2.60;by=203.0.113.43"]),
            ip("192.0.2.60")
        );
        for hidden in ["for=unknown", "for=_hidden", "proto=https", "for="] {
            assert_eq!(fwd.client_ip(["for=1.1.1.1", hidden]), None, "{hidden}");
        }
        // An unbalanced quote on the client's side cannot swallow the
        // proxy's element.
        assert_eq!(
            fwd.client_ip([r#"for="6.6.6.6, for=192.0.2.60"#]),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn buckets_aggregate_ipv6_at_three_prefixes() {
        let names = |addr: &str| -> Vec<String> {
            Bucket::of(addr.parse().ok())
                .iter()
                .map(Bucket::name)
                .collect()
        };
        assert_eq!(names("203.0.113.9"), ["v4:203.0.113.9"]);
        assert_eq!(names("::ffff:203.0.113.9"), ["v4:203.0.113.9"]);
        assert_eq!(
            names("2001:db8:1:2ff:4:5:6:7"),
            [
                "v6/64:2001:db8:1:2ff::",
                "v6/56:2001:db8:1:200::",
                "v6/48:2001:db8:1::"
            ]
        );
        assert_eq!(names("nothing"), ["unknown"]);
        assert_eq!(
            Bucket::of(ip("2001:db8:1:2::1"))[1],
            Bucket::of(ip("2001:db8:1:3::1"))[1],
            "one /56"
        );
    }
}
