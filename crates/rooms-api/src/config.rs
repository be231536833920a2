//! The API's settings, parsed and validated from Spin variables (strings).

use vroom_shared::client_addr::{Bucket, ClientAddrSource};
use vroom_shared::redis::RateKeySecret;

/// Why the variables do not make a valid [`Config`]. Never contains a value
/// (the Redis URL may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("variable `{0}` is not set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("variable `{name}` {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Per-minute limits of one action, per kind of client bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Per IPv4 address and per IPv6 /64.
    pub address: u32,
    /// Per IPv6 /56.
    pub v6_56: u32,
    /// Per IPv6 /48.
    pub v6_48: u32,
    /// All clients without a usable address, together.
    pub unknown: u32,
}

impl RateLimits {
    /// The limit of `bucket`.
    pub fn of(&self, bucket: &Bucket) -> u32 {
        match bucket {
            Bucket::V4(_) | Bucket::V6 { prefix: 64.., .. } => self.address,
            Bucket::V6 {
                prefix: 56..=63, ..
            } => self.v6_56,
            Bucket::V6 { .. } => self.v6_48,
            Bucket::Unknown => self.unknown,
        }
    }
}

/// An ACL user and password for Redis (`redis_username`,
/// `redis_password`); `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisAuth {
    /// The ACL user; empty for Redis' `default` user (`AUTH <password>`).
    pub username: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for RedisAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisAuth { .. }")
    }
}

/// Validated settings of the rooms API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `redis://host:port` or `rediss://host:port` (TLS), as
    /// `allowed_outbound_hosts` names it; with [`Self::redis_auth`] unset it
    /// may also carry `user:password@`.
    pub redis_url: String,
    /// The ACL credentials, when given as their own variables.
    pub redis_auth: Option<RedisAuth>,
    /// `ws://…` or `wss://…`, handed to clients as `relay`.
    pub relay_url: String,
    /// Lifetime cap when the client asks for none (seconds). May be below
    /// [`vroom_shared::api::MIN_LIFETIME_SECS`] (e.g. for tests); clients cannot ask for that.
    pub room_lifetime_default_secs: u32,
    /// Largest lifetime a client may ask for (seconds); clients may ask for
    /// [`vroom_shared::api::MIN_LIFETIME_SECS`] up to this.
    pub room_lifetime_max_secs: u32,
    /// A room idle this long ends (seconds).
    pub room_idle_secs: u32,
    /// Members a room may hold at once, the creator included.
    pub room_max_members: u32,
    /// A new room nobody connects to ends after this long (seconds): its
    /// deadline until a ticket of it is redeemed.
    pub room_claim_secs: u32,
    /// Creates per minute, per client bucket.
    pub rate_create: RateLimits,
    /// Joins per minute, per client bucket.
    pub rate_join: RateLimits,
    /// Creates per minute of all clients together (shared in Redis by every
    /// instance with the same [`Self::rate_key_secret`]).
    pub rate_create_global_per_min: u32,
    /// The key of the rate-limit counters' names.
    pub rate_key_secret: RateKeySecret,
    /// Where the client address comes from.
    pub client_addr: ClientAddrSource,
    /// Publish `ended` with `SPUBLISH` (Redis Cluster sharded pub/sub)
    /// instead of `PUBLISH`.
    pub sharded_pubsub: bool,
}

impl Config {
    /// Variables that must be set.
    pub const REQUIRED: [&'static str; 9] = [
        "redis_url",
        "relay_url",
        "room_lifetime_default_secs",
        "room_lifetime_max_secs",
        "room_idle_secs",
        "room_max_members",
        "rate_create_per_min",
        "rate_join_per_min",
        "rate_key_secret",
    ];

    /// Variables that may be absent, with their defaults:
    /// `redis_username` and `redis_password` (empty: none; a username needs
    /// a password), `redis_sharded_pubsub` (`true` or `false`, default `false`),
    /// `room_claim_secs` ([`Self::DEFAULT_CLAIM_SECS`]), the limits of
    /// [`Self::DEFAULT_LIMITS`], and the client address source
    /// (`client_addr_source` `spin` or `header`, default `spin`;
    /// `client_addr_header`, required with `header` and empty otherwise;
    /// `client_addr_trusted_hops`, default 1).
    pub const OPTIONAL: [&'static str; 14] = [
        "redis_username",
        "redis_password",
        "redis_sharded_pubsub",
        "room_claim_secs",
        "rate_create_v6_56_per_min",
        "rate_create_v6_48_per_min",
        "rate_create_unknown_per_min",
        "rate_join_v6_56_per_min",
        "rate_join_v6_48_per_min",
        "rate_join_unknown_per_min",
        "rate_create_global_per_min",
        "client_addr_source",
        "client_addr_header",
        "client_addr_trusted_hops",
    ];

    /// Defaults of the optional limits (as in `spin.toml`): a /56 may do 4
    /// times, a /48 16 times what one address may; the unknown bucket as
    /// much as one address; 6,000 creates a minute in all.
    pub const DEFAULT_LIMITS: [(&'static str, u32); 7] = [
        ("rate_create_v6_56_per_min", 80),
        ("rate_create_v6_48_per_min", 320),
        ("rate_create_unknown_per_min", 20),
        ("rate_join_v6_56_per_min", 240),
        ("rate_join_v6_48_per_min", 960),
        ("rate_join_unknown_per_min", 60),
        ("rate_create_global_per_min", 6000),
    ];

    /// Default of `room_claim_secs`: long enough for a page to connect after
    /// creating (it does so at once), short enough that rooms nobody uses
    /// cannot pile up in Redis.
    pub const DEFAULT_CLAIM_SECS: u32 = 60;

    /// Builds the config from a variable lookup (`None` = not set).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).ok_or(ConfigError::Missing(name));
        let number = |name: &'static str, min: u32| -> Result<u32, ConfigError> {
            number_of(name, get(name)?, min)
        };
        let limit = |name: &'static str| -> Result<u32, ConfigError> {
            match lookup(name) {
                Some(text) => number_of(name, text, 1),
                None => Ok(Self::DEFAULT_LIMITS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(1, |(_, default)| *default)),
            }
        };

        let redis_url = url(get("redis_url")?, "redis_url", &["redis://", "rediss://"])?;
        let redis_auth = redis_auth(&lookup, &redis_url)?;
        let relay_url = url(get("relay_url")?, "relay_url", &["ws://", "wss://"])?;
        let room_lifetime_max_secs = number("room_lifetime_max_secs", 1)?;
        let room_lifetime_default_secs = number("room_lifetime_default_secs", 1)?;
        if room_lifetime_default_secs > room_lifetime_max_secs {
            return Err(ConfigError::Invalid {
                name: "room_lifetime_default_secs",
                reason: "must not exceed room_lifetime_max_secs".into(),
            });
        }
        let sharded_pubsub = match lookup("redis_sharded_pubsub").as_deref().map(str::trim) {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "redis_sharded_pubsub",
                    reason: "must be `true` or `false`".into(),
                });
            }
        };
        Ok(Self {
            redis_url,
            redis_auth,
            relay_url,
            room_lifetime_default_secs,
            room_lifetime_max_secs,
            room_idle_secs: number("room_idle_secs", 1)?,
            room_max_members: number("room_max_members", 2)?,
            room_claim_secs: match lookup("room_claim_secs") {
                None => Self::DEFAULT_CLAIM_SECS,
                Some(text) => number_of("room_claim_secs", text, 1)?,
            },
            rate_create: RateLimits {
                address: number("rate_create_per_min", 1)?,
                v6_56: limit("rate_create_v6_56_per_min")?,
                v6_48: limit("rate_create_v6_48_per_min")?,
                unknown: limit("rate_create_unknown_per_min")?,
            },
            rate_join: RateLimits {
                address: number("rate_join_per_min", 1)?,
                v6_56: limit("rate_join_v6_56_per_min")?,
                v6_48: limit("rate_join_v6_48_per_min")?,
                unknown: limit("rate_join_unknown_per_min")?,
            },
            rate_create_global_per_min: limit("rate_create_global_per_min")?,
            rate_key_secret: RateKeySecret::new(get("rate_key_secret")?).ok_or(
                ConfigError::Invalid {
                    name: "rate_key_secret",
                    reason: format!(
                        "must be at least {} bytes (e.g. `openssl rand -base64 32`)",
                        RateKeySecret::MIN_LEN
                    ),
                },
            )?,
            client_addr: client_addr_source(&lookup)?,
            sharded_pubsub,
        })
    }

    /// The address to open Redis with: [`Self::redis_url`] with the ACL
    /// credentials, percent-encoded, as its `user:password@`. Holds the
    /// password: never log it.
    pub fn redis_address(&self) -> String {
        let Some(auth) = &self.redis_auth else {
            return self.redis_url.clone();
        };
        let (scheme, rest) = self
            .redis_url
            .split_once("://")
            .unwrap_or(("redis", &self.redis_url));
        format!(
            "{scheme}://{}:{}@{rest}",
            percent_encode(&auth.username),
            percent_encode(&auth.password)
        )
    }

    /// The Redis command that publishes on a room channel.
    pub const fn publish_command(&self) -> &'static str {
        if self.sharded_pubsub {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }
}

/// `redis_username` and `redis_password`; `redis_url` must then carry no
/// credentials of its own.
fn redis_auth(
    lookup: &impl Fn(&str) -> Option<String>,
    redis_url: &str,
) -> Result<Option<RedisAuth>, ConfigError> {
    let username = lookup("redis_username").unwrap_or_default();
    let password = lookup("redis_password").unwrap_or_default();
    let invalid = |name, reason: &str| ConfigError::Invalid {
        name,
        reason: reason.into(),
    };
    if username.is_empty() && password.is_empty() {
        return Ok(None);
    }
    if password.is_empty() {
        return Err(invalid(
            "redis_username",
            "needs redis_password (Redis authenticates a user with its password)",
        ));
    }
    let authority = redis_url
        .split_once("://")
        .map_or("", |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid(
            "redis_url",
            "must not hold credentials when redis_username or redis_password is set",
        ));
    }
    Ok(Some(RedisAuth { username, password }))
}

/// `text` with every byte but RFC 3986's unreserved characters
/// percent-encoded, for a URL's user or password.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `client_addr_source`, `client_addr_header`, `client_addr_trusted_hops`.
fn client_addr_source(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<ClientAddrSource, ConfigError> {
    let header = lookup("client_addr_header")
        .map(|h| h.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let hops = match lookup("client_addr_trusted_hops") {
        None => 1,
        Some(text) => number_of("client_addr_trusted_hops", text, 1)?,
    };
    let invalid = |name, reason: &str| ConfigError::Invalid {
        name,
        reason: reason.into(),
    };
    match lookup("client_addr_source").as_deref().map(str::trim) {
        None | Some("" | "spin") if header.is_empty() => Ok(ClientAddrSource::Spin),
        None | Some("" | "spin") => Err(invalid(
            "client_addr_header",
            "is only read with client_addr_source = \"header\"",
        )),
        Some("header") if header.is_empty() => Err(invalid(
            "client_addr_header",
            "must name a header when client_addr_source is \"header\"",
        )),
        Some("header")
            if !header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Err(invalid("client_addr_header", "is not a header name"))
        }
        Some("header") => Ok(ClientAddrSource::Header {
            name: header,
            hops: hops as usize,
        }),
        Some(_) => Err(invalid(
            "client_addr_source",
            "must be \"spin\" or \"header\"",
        )),
    }
}

/// A whole number of at least `min`, digits only.
fn number_of(name: &'static str, text: String, min: u32) -> Result<u32, ConfigError> {
    let value: u32 = text
        .trim()
        .parse()
        .ok()
        .filter(|_| text.trim().bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ConfigError::Invalid {
            name,
            reason: "is not a whole number".into(),
        })?;
    if value < min {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("must be at least {min}"),
        });
    }
    Ok(value)
}

/// A URL with one of `schemes`, a non-empty rest, and no whitespace or
/// control characters.
fn url(text: String, name: &'static str, schemes: &[&str]) -> Result<String, ConfigError> {
    let text = text.trim().to_owned();
    let rest = schemes.iter().find_map(|s| text.strip_prefix(s));
    let ok = rest.is_some_and(|rest| !rest.is_empty())
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(text)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("must be a URL starting with {}", schemes.join(" or ")),
        })
    }
}

/// The required variables as `spin.toml` sets them, with a test secret.
#[cfg(test)]
pub(crate) const EXAMPLE_VARS: [(&str, &str); 9] = [
    ("redis_url", "redis://127.0.0.1:6379"),
    ("relay_url", "ws://127.0.0.1:3001/ws"),
    ("room_lifetime_default_secs", "3600"),
    ("room_lifetime_max_secs", "86400"),
    ("room_idle_secs", "900"),
    ("room_max_members", "32"),
    ("rate_create_per_min", "20"),
    ("rate_join_per_min", "60"),
    ("rate_key_secret", "0123456789abcdef0123456789abcdef"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars() -> HashMap<&'static str, String> {
        EXAMPLE_VARS
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect()
    }

    fn parse(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_of_spin_toml_parse() {
        let config = parse(&vars()).unwrap();
        assert_eq!(config.relay_url, "ws://127.0.0.1:3001/ws");
        assert_eq!(config.room_lifetime_default_secs, 3600);
        assert_eq!(config.room_max_members, 32);
        assert_eq!(config.room_claim_secs, Config::DEFAULT_CLAIM_SECS);
        assert_eq!(
            config.rate_create,
            RateLimits {
                address: 20,
                v6_56: 80,
                v6_48: 320,
                unknown: 20
            }
        );
        assert_eq!(config.rate_join.v6_48, 960);
        assert_eq!(config.rate_create_global_per_min, 6000);
        assert_eq!(config.client_addr, ClientAddrSource::Spin);
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
        assert!(!config.sharded_pubsub);
        assert_eq!(config.publish_command(), "PUBLISH");
    }

    #[test]
    fn every_required_variable_is_required() {
        for name in Config::REQUIRED {
            let mut vars = vars();
            vars.remove(name);
            assert_eq!(parse(&vars), Err(ConfigError::Missing(name)));
        }
    }

    #[test]
    fn bad_values_are_named_without_their_value() {
        let cases = [
            ("redis_url", "http://127.0.0.1"),
            ("redis_url", "redis://  "),
            ("redis_url", "redis://secret pass@host"),
            ("relay_url", "http://relay"),
            ("room_idle_secs", "0"),
            ("room_idle_secs", "-1"),
            ("room_idle_secs", "+5"),
            ("room_max_members", "lots"),
            ("room_max_members", "1"),
            ("room_claim_secs", "0"),
            ("room_lifetime_max_secs", "0"),
            ("room_lifetime_default_secs", "0"),
            ("room_lifetime_default_secs", "90000"),
            ("rate_join_per_min", "99999999999"),
            ("redis_sharded_pubsub", "yes"),
            ("rate_key_secret", "too short to key anything with"),
            ("rate_create_global_per_min", "0"),
            ("rate_join_v6_48_per_min", "many"),
            ("client_addr_source", "x-forwarded-for"),
            ("client_addr_header", "x-forwarded-for"),
            ("client_addr_trusted_hops", "0"),
        ];
        for (name, value) in cases {
            let mut vars = vars();
            vars.insert(name, value.to_owned());
            let err = parse(&vars).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(name), "{text}");
            assert!(!text.contains(value), "{text}");
        }
    }

    #[test]
    fn redis_credentials_go_into_the_address_encoded_and_stay_out_of_debug() {
        let mut vars = vars();
        vars.insert("redis_url", "rediss://cache.example:6380".into());
        vars.insert("redis_username", "vroom".into());
        vars.insert("redis_password", "p@ss:w/rd %".into());
        let config = parse(&vars).unwrap();
        assert_eq!(
            config.redis_address(),
            "rediss://vroom:p%40ss%3Aw%2Frd%20%25@cache.example:6380"
        );
        assert_eq!(config.redis_url, "rediss://cache.example:6380");
        assert!(!format!("{config:?}").contains("p@ss"));
        vars.insert("redis_username", String::new());
        assert_eq!(
            parse(&vars).unwrap().redis_address(),
            "rediss://:p%40ss%3Aw%2Frd%20%25@cache.example:6380"
        );
        vars.insert("redis_password", String::new());
        assert_eq!(
            parse(&vars).unwrap().redis_address(),
            "rediss://cache.example:6380"
        );
    }

    #[test]
    fn redis_credentials_are_given_once_and_whole() {
        let mut vars = vars();
        vars.insert("redis_username", "vroom".into());
        let err = parse(&vars).unwrap_err().to_string();
        assert!(err.contains("redis_password"), "{err}");
        vars.insert("redis_password", "secret".into());
        vars.insert("redis_url", "redis://other:secret@127.0.0.1:6379".into());
        let err = parse(&vars).unwrap_err().to_string();
        assert!(
            err.contains("redis_url") && !err.contains("secret"),
            "{err}"
        );
    }

    #[test]
    fn a_short_default_lifetime_is_an_operator_choice() {
        let mut vars = vars();
        vars.insert("room_lifetime_default_secs", "2".into());
        assert_eq!(parse(&vars).unwrap().room_lifetime_default_secs, 2);
    }

    #[test]
    fn sharded_pubsub_switches_the_publish_command() {
        let mut vars = vars();
        vars.insert("redis_sharded_pubsub", "true".into());
        assert_eq!(parse(&vars).unwrap().publish_command(), "SPUBLISH");
        vars.insert("redis_sharded_pubsub", "false".into());
        assert_eq!(parse(&vars).unwrap().publish_command(), "PUBLISH");
    }

    #[test]
    fn the_client_address_may_come_from_a_forwarding_header() {
        let mut vars = vars();
        vars.insert("client_addr_source", "header".into());
        vars.insert("client_addr_header", "X-Forwarded-For".into());
        vars.insert("client_addr_trusted_hops", "2".into());
        assert_eq!(
            parse(&vars).unwrap().client_addr,
            ClientAddrSource::Header {
                name: "x-forwarded-for".into(),
                hops: 2
            }
        );
        for bad in ["", "x forwarded", "x:y"] {
            vars.insert("client_addr_header", bad.into());
            let err = parse(&vars).unwrap_err();
            assert!(err.to_string().contains("client_addr_header"), "{err}");
        }
    }
}
