//! `allowed_outbound_hosts`: which network destinations a component may open.
//!
//! Entries look like `redis://127.0.0.1:6379`, with `*` allowed for the
//! scheme, host or port (`redis://*:6379`, `redis://localhost:*`). As on
//! Spin, only some schemes have a default port (`redis` 6379, `http`,
//! `https`): a `rediss://` entry or address must name its port.

use anyhow::{Context, Result, bail};

/// One allowed destination pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: String,
    host: String,
    port: Option<u16>,
}

/// A component's allow-list.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    entries: Vec<AllowedHost>,
}

/// A destination a guest asked for, parsed from its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// URL scheme, e.g. `redis`.
    pub scheme: String,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port (the scheme's default when the address has none).
    pub port: u16,
}

impl AllowedHosts {
    /// Parses the rendered entries of a component.
    pub fn parse(entries: &[String]) -> Result<Self> {
        let entries = entries
            .iter()
            .map(|entry| {
                AllowedHost::parse(entry)
                    .with_context(|| format!("allowed_outbound_hosts entry `{entry}`"))
            })
            .collect::<Result<_>>()?;
        Ok(Self { entries })
    }

    /// Whether the component may connect to `destination`.
    pub fn allows(&self, destination: &Destination) -> bool {
        self.entries.iter().any(|entry| {
            (entry.scheme == "*" || entry.scheme == destination.scheme)
                && (entry.host == "*" || entry.host.eq_ignore_ascii_case(&destination.host))
                && entry.port.is_none_or(|port| port == destination.port)
        })
    }
}

impl AllowedHost {
    fn parse(entry: &str) -> Result<Self> {
        let Some((scheme, rest)) = entry.split_once("://") else {
            bail!("missing `scheme://`");
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("paths are not allowed");
        }
        let (host, port) = split_host_port(rest)?;
        let port = match port {
            Some("*") => None,
            Some(port) => Some(port.parse().context("invalid port")?),
            None if scheme == "*" => None,
            None => Some(
                default_port(scheme)
                    .with_context(|| format!("a port is required for scheme `{scheme}`"))?,
            ),
        };
        Ok(Self {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_string(),
            port,
        })
    }
}

impl Destination {
    /// Parses an address such as `redis://127.0.0.1:6379/0` or `redis://[::1]`.
    pub fn parse(address: &str) -> Result<Self> {
        let Some((scheme, rest)) = address.split_once("://") else {
            bail!("missing `scheme://`");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let (host, port) = split_host_port(authority)?;
        if host.is_empty() || host == "*" {
            bail!("missing host");
        }
        let scheme = scheme.to_ascii_lowercase();
        let port = match port {
            Some(port) => port.parse().context("invalid port")?,
            None => default_port(&scheme).context("missing port")?,
        };
        Ok(Self {
            scheme,
            host: host.to_string(),
            port,
        })
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            bail!("unterminated IPv6 address");
        };
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => bail!("unexpected text after IPv6 address"),
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "redis" => Some(6379),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn dest(address: &str) -> Destination {
        Destination::parse(address).unwrap()
    }

    #[test]
    fn exact_entries_match_only_their_host_and_port() {
        let hosts = allowed(&["redis://127.0.0.1:6379"]);
        assert!(hosts.allows(&dest("redis://127.0.0.1:6379")));
        assert!(hosts.allows(&dest("redis://127.0.0.1")));
        assert!(hosts.allows(&dest("redis://user:pw@127.0.0.1:6379/2")));
        assert!(!hosts.allows(&dest("redis://127.0.0.1:6380")));
        assert!(!hosts.allows(&dest("redis://10.0.0.1:6379")));
        assert!(!hosts.allows(&dest("rediss://127.0.0.1:6379")));
    }

    #[test]
    fn wildcards() {
        let hosts = allowed(&["redis://*:6379", "*://cache.local:*"]);
        assert!(hosts.allows(&dest("redis://anything:6379")));
        assert!(!hosts.allows(&dest("redis://anything:1")));
        assert!(hosts.allows(&dest("rediss://cache.local:7000")));
    }

    #[test]
    fn ipv6_and_bad_addresses() {
        let hosts = allowed(&["redis://[::1]:6379"]);
        assert!(hosts.allows(&dest("redis://[::1]:6379")));
        assert!(Destination::parse("127.0.0.1:6379").is_err());
        assert!(Destination::parse("redis://:6379").is_err());
        assert!(Destination::parse("redis://h:notaport").is_err());
        assert!(AllowedHosts::parse(&["redis://h:1/path".to_string()]).is_err());
        assert!(AllowedHosts::parse(&["tcp://h".to_string()]).is_err());
        assert!(!AllowedHosts::default().allows(&dest("redis://127.0.0.1")));
    }

    #[test]
    fn tls_entries_name_their_port_and_ignore_credentials() {
        let hosts = allowed(&["rediss://cache.example:6380"]);
        assert!(hosts.allows(&dest("rediss://cache.example:6380")));
        assert!(hosts.allows(&dest("rediss://vroom:p%40ss@cache.example:6380/0")));
        assert!(!hosts.allows(&dest("redis://cache.example:6380")));
        // Spin knows no default port for `rediss`.
        assert!(AllowedHosts::parse(&["rediss://cache.example".to_string()]).is_err());
        assert!(Destination::parse("rediss://cache.example").is_err());
    }
}
