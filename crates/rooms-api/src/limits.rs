//! The rate limits a create or join counts against: the client's buckets
//! (its IPv4 address; or its IPv6 /64, /56 and /48; or the one bucket of
//! clients without a usable address) and, for creates, the global budget.
//! All of them are checked and counted by one [`RATE_LIMIT`] script.

use crate::backend::{Backend, Value};
use crate::config::Config;
use crate::error::ApiError;
use crate::request::ApiRequest;
use crate::script::{self, RATE_LIMIT};
use vroom_shared::api::ErrorCode;
use vroom_shared::client_addr::Bucket;
use vroom_shared::redis::{GLOBAL_BUCKET, RATE_WINDOW_SECS, RateAction, rate_key};

/// The counters `action` by this request's client counts in, with their
/// limits: `(keys, limits)`.
pub(crate) fn counters(
    req: &ApiRequest,
    config: &Config,
    action: RateAction,
) -> (Vec<String>, Vec<u32>) {
    let source = &config.client_addr;
    let ip = source.client_ip(req.header_values(source.header()));
    let limits = match action {
        RateAction::Create => &config.rate_create,
        RateAction::Join => &config.rate_join,
    };
    let secret = &config.rate_key_secret;
    let (mut keys, mut counts): (Vec<String>, Vec<u32>) = Bucket::of(ip)
        .iter()
        .map(|bucket| (rate_key(action, secret, &bucket.name()), limits.of(bucket)))
        .unzip();
    if action == RateAction::Create {
        keys.push(rate_key(action, secret, GLOBAL_BUCKET));
        counts.push(config.rate_create_global_per_min);
    }
    (keys, counts)
}

/// Counts the request in every counter of [`counters`]; `429` with
/// `Retry-After` (and nothing counted) if any of them is spent.
pub(crate) async fn rate_limit(
    req: &ApiRequest,
    backend: &impl Backend,
    config: &Config,
    action: RateAction,
) -> Result<(), ApiError> {
    let (keys, limits) = counters(req, config, action);
    let args: Vec<Vec<u8>> = std::iter::once(RATE_WINDOW_SECS)
        .chain(limits)
        .map(|n| n.to_string().into_bytes())
        .collect();
    match script::run(backend, &RATE_LIMIT, &keys, &args)
        .await?
        .as_slice()
    {
        [Value::Int(0)] => Ok(()),
        [Value::Int(wait)] if *wait > 0 => Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many requests, slow down",
        )
        .with_header("retry-after", wait.to_string())),
        _ => Err(ApiError::unexpected_reply("RATE_LIMIT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vroom_shared::client_addr::ClientAddrSource;

    fn config() -> Config {
        Config::from_lookup(|name| {
            crate::config::EXAMPLE_VARS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    fn request(values: &[(&str, &str)]) -> ApiRequest {
        values
            .iter()
            .fold(ApiRequest::new("POST", "/api/rooms"), |req, (n, v)| {
                req.with_header(n, v)
            })
    }

    #[test]
    fn the_forged_first_value_is_ignored() {
        let config = config();
        let forged = request(&[
            ("spin-client-addr", "10.9.8.7:1"),
            ("spin-client-addr", "203.0.113.9:5000"),
        ]);
        let real = request(&[("spin-client-addr", "203.0.113.9:6000")]);
        assert_eq!(
            counters(&forged, &config, RateAction::Join),
            counters(&real, &config, RateAction::Join)
        );
    }

    #[test]
    fn ipv6_counts_at_three_prefixes_and_creates_globally() {
        let config = config();
        let req = request(&[("spin-client-addr", "[2001:db8:1:2::9]:1")]);
        let (keys, limits) = counters(&req, &config, RateAction::Create);
        assert_eq!(limits, [20, 80, 320, 6000]);
        assert_eq!(keys.len(), 4);
        let (keys, limits) = counters(&req, &config, RateAction::Join);
        assert_eq!((keys.len(), limits), (3, vec![60, 240, 960]));
    }

    #[test]
    fn a_missing_or_malformed_address_shares_the_unknown_bucket() {
        let mut config = config();
        config.client_addr = ClientAddrSource::Header {
            name: "x-forwarded-for".into(),
            hops: 2,
        };
        let unknown = |req: &ApiRequest| counters(req, &config, RateAction::Join);
        let none = request(&[]);
        let short = request(&[("x-forwarded-for", "203.0.113.9")]);
        let garbage = request(&[("x-forwarded-for", "garbage, 10.0.0.1")]);
        assert_eq!(unknown(&none), unknown(&short));
        assert_eq!(unknown(&none), unknown(&garbage));
        assert_eq!(unknown(&none).1, [60]);
        let good = request(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.1")]);
        assert_ne!(unknown(&none), unknown(&good));
    }
}
