//! Site configuration from the component's variables (`relay_url`, `hsts`).

use std::fmt;

/// Validated configuration of the static site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    relay_origin: String,
    hsts: bool,
}

/// Why a configuration value was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// `relay_url` is not a `ws://` or `wss://` URL with a host, an optional
    /// port and no credentials.
    RelayUrl(String),
    /// `hsts` is neither `true` nor `false`.
    Hsts(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RelayUrl(why) => write!(f, "invalid relay_url: {why}"),
            Self::Hsts(value) => {
                write!(f, "invalid hsts {value:?}: expected \"true\" or \"false\"")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses the raw values of the `relay_url` and `hsts` variables.
    pub fn from_vars(relay_url: &str, hsts: &str) -> Result<Self, ConfigError> {
        let hsts = match hsts.trim() {
            "true" => true,
            "false" => false,
            other => return Err(ConfigError::Hsts(other.to_owned())),
        };
        Ok(Self {
            relay_origin: relay_origin(relay_url)?,
            hsts,
        })
    }

    /// Origin of the relay, e.g. `ws://127.0.0.1:3001`, as allowed by the CSP.
    pub fn relay_origin(&self) -> &str {
        &self.relay_origin
    }

    /// Whether to send `Strict-Transport-Security`.
    pub fn hsts(&self) -> bool {
        self.hsts
    }
}

/// Derives the origin (`scheme://host[:port]`) of a WebSocket URL, checking
/// that it is `ws`/`wss`, has a host, a valid optional port and no
/// credentials. Path, query and fragment are dropped.
pub fn relay_origin(url: &str) -> Result<String, ConfigError> {
    let err = |why: &str| Err(ConfigError::RelayUrl(format!("{why} (got {url:?})")));
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return err("expected ws://host[:port][/path] or wss://…");
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "ws" && scheme != "wss" {
        return err("scheme must be ws or wss");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return err("credentials are not allowed");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, port)) if valid_ipv6(addr) => (&authority[..addr.len() + 2], port),
            _ => return err("invalid IPv6 host"),
        },
        None => match authority.find(':') {
            Some(i) => authority.split_at(i),
            None => (authority, ""),
        },
    };
    if host.is_empty() {
        return err("missing host");
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return err("host may contain only letters, digits, '.' and '-'");
    }
    let port = match port {
        "" => String::new(),
        p => match p.strip_prefix(':').map(str::parse::<u16>) {
            Some(Ok(n)) if n != 0 && p[1..].bytes().all(|b| b.is_ascii_digit()) => format!(":{n}"),
            _ => return err("port must be a number from 1 to 65535"),
        },
    };
    Ok(format!("{scheme}://{}{port}", host.to_ascii_lowercase()))
}

fn valid_ipv6(addr: &str) -> bool {
    addr.contains(':')
        && addr
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_of_default_relay_url() {
        assert_eq!(
            relay_origin("ws://127.0.0.1:3001/ws").unwrap(),
            "ws://127.0.0.1:3001"
        );
    }

    #[test]
    fn origin_keeps_scheme_host_port_only() {
        for (url, origin) in [
            ("wss://relay.example.com/ws", "wss://relay.example.com"),
            ("wss://relay.example.com", "wss://relay.example.com"),
            (
                "WSS://Relay.Example.COM:443/x?y#z",
                "wss://relay.example.com:443",
            ),
            ("ws://localhost:3001?room=1", "ws://localhost:3001"),
            ("ws://[::1]:3001/ws", "ws://[::1]:3001"),
            ("ws://[2001:db8::1]/ws", "ws://[2001:db8::1]"),
            ("  ws://relay:9/ws\n", "ws://relay:9"),
        ] {
            assert_eq!(relay_origin(url).unwrap(), origin, "{url}");
        }
    }

    #[test]
    fn origin_rejects_bad_urls() {
        for url in [
            "",
            "relay.example.com",
            "http://relay.example.com/ws",
            "https://relay.example.com",
            "ws://",
            "ws:///ws",
            "ws://:3001",
            "ws://user:pass@relay.example.com/ws",
            "ws://user@relay.example.com",
            "ws://relay.example.com:/ws",
            "ws://relay.example.com:0",
            "ws://relay.example.com:65536",
            "ws://relay.example.com:+80",
            "ws://relay.example.com:80:80",
            "ws://relay example.com",
            "ws://relay.example.com;script-src *",
            "ws://*.example.com",
            "ws://[::1",
            "ws://[]:80",
            "ws://[::1]x",
            "ws://relay\u{e9}.example",
        ] {
            assert!(
                matches!(relay_origin(url), Err(ConfigError::RelayUrl(_))),
                "{url:?}"
            );
        }
    }

    #[test]
    fn hsts_is_true_or_false() {
        let c = Config::from_vars("ws://a:1/ws", "true").unwrap();
        assert!(c.hsts());
        assert_eq!(c.relay_origin(), "ws://a:1");
        assert!(!Config::from_vars("ws://a:1/ws", "false").unwrap().hsts());
        for bad in ["", "yes", "1", "TRUE"] {
            assert_eq!(
                Config::from_vars("ws://a/ws", bad),
                Err(ConfigError::Hsts(bad.to_owned()))
            );
        }
    }

    #[test]
    fn errors_explain_themselves() {
        let e = Config::from_vars("http://x/ws", "false").unwrap_err();
        assert!(e.to_string().contains("relay_url"), "{e}");
        let e = Config::from_vars("ws://x/ws", "maybe").unwrap_err();
        assert!(e.to_string().contains("hsts"), "{e}");
    }
}
