//! The API's settings, parsed and validated from Spin variables (strings).

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

/// Validated settings of the rooms API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `redis://…` or `rediss://…`.
    pub redis_url: String,
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
    /// Creates per client address per minute.
    pub rate_create_per_min: u32,
    /// Joins per client address per minute.
    pub rate_join_per_min: u32,
    /// Publish `ended` with `SPUBLISH` (Redis Cluster sharded pub/sub)
    /// instead of `PUBLISH`.
    pub sharded_pubsub: bool,
}

impl Config {
    /// Variables that must be set.
    pub const REQUIRED: [&'static str; 8] = [
        "redis_url",
        "relay_url",
        "room_lifetime_default_secs",
        "room_lifetime_max_secs",
        "room_idle_secs",
        "room_max_members",
        "rate_create_per_min",
        "rate_join_per_min",
    ];

    /// Variables that may be absent: `redis_sharded_pubsub` (`true` or
    /// `false`, default `false`), `room_claim_secs` (default
    /// [`Self::DEFAULT_CLAIM_SECS`]).
    pub const OPTIONAL: [&'static str; 2] = ["redis_sharded_pubsub", "room_claim_secs"];

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

        let redis_url = url(get("redis_url")?, "redis_url", &["redis://", "rediss://"])?;
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
            relay_url,
            room_lifetime_default_secs,
            room_lifetime_max_secs,
            room_idle_secs: number("room_idle_secs", 1)?,
            room_max_members: number("room_max_members", 2)?,
            room_claim_secs: match lookup("room_claim_secs") {
                None => Self::DEFAULT_CLAIM_SECS,
                Some(text) => number_of("room_claim_secs", text, 1)?,
            },
            rate_create_per_min: number("rate_create_per_min", 1)?,
            rate_join_per_min: number("rate_join_per_min", 1)?,
            sharded_pubsub,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars() -> HashMap<&'static str, String> {
        [
            ("redis_url", "redis://127.0.0.1:6379"),
            ("relay_url", "ws://127.0.0.1:3001/ws"),
            ("room_lifetime_default_secs", "3600"),
            ("room_lifetime_max_secs", "86400"),
            ("room_idle_secs", "900"),
            ("room_max_members", "32"),
            ("rate_create_per_min", "20"),
            ("rate_join_per_min", "60"),
        ]
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
}
