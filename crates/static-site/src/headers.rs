//! Security headers sent on every response (DESIGN §9).

/// A response header: lower-case name and value.
pub type Header = (&'static str, String);

/// The `Content-Security-Policy`: same-origin everything, WebAssembly
/// allowed, no inline script or style, WebSocket connections to
/// `relay_origin` besides same-origin ones, and workers only from Blob URLs
/// (the Argon2id worker, whose script the integrity-pinned loader carries).
pub fn content_security_policy(relay_origin: Option<&str>) -> String {
    let connect = match relay_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src {connect}; manifest-src 'self'; \
         worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// Powerful features the site never uses, all denied.
const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), \
    display-capture=(), geolocation=(), gyroscope=(), interest-cohort=(), magnetometer=(), \
    microphone=(), midi=(), payment=(), usb=()";

/// The headers every response carries. `relay_origin` is `None` when the
/// configuration is unusable; `hsts` adds `Strict-Transport-Security`.
pub fn security_headers(relay_origin: Option<&str>, hsts: bool) -> Vec<Header> {
    let mut headers = vec![
        (
            "content-security-policy",
            content_security_policy(relay_origin),
        ),
        ("referrer-policy", "no-referrer".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("x-frame-options", "DENY".to_owned()),
        ("cross-origin-opener-policy", "same-origin".to_owned()),
        ("cross-origin-resource-policy", "same-origin".to_owned()),
        ("permissions-policy", PERMISSIONS_POLICY.to_owned()),
    ];
    if hsts {
        headers.push((
            "strict-transport-security",
            "max-age=63072000; includeSubDomains".to_owned(),
        ));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn csp_is_strict_and_allows_the_relay() {
        let csp = content_security_policy(Some("ws://127.0.0.1:3001"));
        assert_eq!(
            csp,
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; font-src 'self'; connect-src 'self' ws://127.0.0.1:3001; \
             manifest-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert!(content_security_policy(None).contains("connect-src 'self';"));
    }

    #[test]
    fn fixed_headers() {
        let h = security_headers(Some("wss://relay.example"), false);
        assert_eq!(get(&h, "referrer-policy"), Some("no-referrer"));
        assert_eq!(get(&h, "x-content-type-options"), Some("nosniff"));
        assert_eq!(get(&h, "x-frame-options"), Some("DENY"));
        assert_eq!(get(&h, "cross-origin-opener-policy"), Some("same-origin"));
        assert_eq!(get(&h, "cross-origin-resource-policy"), Some("same-origin"));
        let pp = get(&h, "permissions-policy").unwrap();
        for feature in [
            "camera=()",
            "microphone=()",
            "geolocation=()",
            "interest-cohort=()",
        ] {
            assert!(pp.contains(feature), "{feature}");
        }
        assert_eq!(get(&h, "strict-transport-security"), None);
        assert_eq!(get(&h, "set-cookie"), None);
    }

    #[test]
    fn hsts_only_when_enabled() {
        let h = security_headers(None, true);
        assert_eq!(
            get(&h, "strict-transport-security"),
            Some("max-age=63072000; includeSubDomains")
        );
    }
}
