//! Which rate-limit bucket a client address falls in.

use std::net::{IpAddr, SocketAddr};

/// The bucket of `spin-client-addr` (`ip:port`, `[ipv6]:port`, or a bare
/// address): `v4:<address>` for IPv4 (including IPv4-mapped IPv6),
/// `v6:<first four groups>::/64` for IPv6, so one /64 is one client, and
/// `unknown` — one bucket shared by all — when the header is missing or
/// unparsable. Only a hash of the bucket reaches Redis.
pub fn client_bucket(client_addr: Option<&str>) -> String {
    let addr = client_addr.map(str::trim).and_then(|text| {
        text.parse::<SocketAddr>()
            .map(|socket| socket.ip())
            .or_else(|_| text.parse::<IpAddr>())
            .ok()
    });
    match addr {
        Some(IpAddr::V4(v4)) => format!("v4:{v4}"),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("v4:{v4}"),
            None => {
                let s = v6.segments();
                format!("v6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        let cases = [
            (Some("203.0.113.9:52446"), "v4:203.0.113.9"),
            (Some("203.0.113.9"), "v4:203.0.113.9"),
            (Some("[2001:db8:1:2:3:4:5:6]:443"), "v6:2001:db8:1:2::/64"),
            (Some("[2001:db8:1:2::9]:1"), "v6:2001:db8:1:2::/64"),
            (Some("2001:db8:1:2:ffff::1"), "v6:2001:db8:1:2::/64"),
            (Some("[::ffff:203.0.113.9]:80"), "v4:203.0.113.9"),
            (Some("[::1]:80"), "v6:0:0:0:0::/64"),
            (Some("not an address"), "unknown"),
            (Some(""), "unknown"),
            (None, "unknown"),
        ];
        for (addr, bucket) in cases {
            assert_eq!(client_bucket(addr), bucket, "{addr:?}");
        }
        assert_ne!(
            client_bucket(Some("[2001:db8:1:2::1]:1")),
            client_bucket(Some("[2001:db8:1:3::1]:1"))
        );
    }
}
