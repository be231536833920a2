//! Caching: `Cache-Control` by file name, strong ETags, `If-None-Match`.
//!
//! HTML is `no-store`: the room page must leave nothing in any cache, and a
//! `no-store` page is kept out of the browsers' back/forward cache, so going
//! back never shows an ended conversation.

use std::hash::{DefaultHasher, Hasher};

use crate::path::extension;

/// `Cache-Control` for hashed (content-addressed) assets.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` for HTML pages: kept in no cache at all.
pub const NO_STORE: &str = "no-store";
/// `Cache-Control` for everything else: revalidate every time.
pub const NO_CACHE: &str = "no-cache";

/// `Cache-Control` for a served file: [`IMMUTABLE`] for hashed assets,
/// [`NO_STORE`] for HTML, [`NO_CACHE`] otherwise.
pub fn cache_control(name: &str) -> &'static str {
    if is_hashed_asset(name) {
        IMMUTABLE
    } else if extension(name).is_some_and(|ext| ext.eq_ignore_ascii_case("html")) {
        NO_STORE
    } else {
        NO_CACHE
    }
}

/// Whether a file name is content-hashed the way trunk names its output:
/// `name-<16 or more hex digits>.ext`, optionally with wasm-bindgen's `_bg`
/// before the extension (`app-3f2a9c1b7d4e5f60_bg.wasm`).
pub fn is_hashed_asset(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let Some(stem) = extension(file).and_then(|ext| file.strip_suffix(ext)?.strip_suffix('.'))
    else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((prefix, hash)) => {
            !prefix.is_empty() && hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// A strong ETag for a body: its length and a 64-bit hash of its bytes
/// (std's SipHash; a new Rust release may change tags once, which only costs
/// a re-download).
pub fn etag(body: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    hasher.write(body);
    format!("\"{:x}-{:016x}\"", body.len(), hasher.finish())
}

/// Whether an `If-None-Match` header value matches `etag`: `*`, or any
/// listed tag equal to it under weak comparison (RFC 9110 §13.1.2).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = opaque(etag);
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_immutable() {
        for name in [
            "vroom-site-3f2a9c1b7d4e5f60.wasm",
            "vroom-site-3f2a9c1b7d4e5f60_bg.wasm",
            "vroom-site-3f2a9c1b7d4e5f60.js",
            "assets/style-0123456789ABCDEF0123.css",
            "a-0123456789abcdef.woff2",
        ] {
            assert!(is_hashed_asset(name), "{name}");
            assert_eq!(cache_control(name), IMMUTABLE, "{name}");
        }
    }

    #[test]
    fn html_is_never_stored() {
        for name in ["index.html", "sub/page.HTML"] {
            assert_eq!(cache_control(name), NO_STORE, "{name}");
        }
    }

    #[test]
    fn everything_else_is_no_cache() {
        for name in [
            "style.css",
            "favicon.svg",
            "vroom-site-3f2a9c1b7d4e5f6.wasm",
            "vroom-site-3f2a9c1b7d4e5f6g.wasm",
            "-3f2a9c1b7d4e5f60.wasm",
            "vroom-site-3f2a9c1b7d4e5f60",
            "snippets/vroom-site-3f2a9c1b7d4e5f60/inline0.js",
            "vroom-site_3f2a9c1b7d4e5f60.js",
        ] {
            assert!(!is_hashed_asset(name), "{name}");
            assert_eq!(cache_control(name), NO_CACHE, "{name}");
        }
    }

    #[test]
    fn etags_are_strong_and_follow_content() {
        let a = etag(b"hello");
        assert!(a.starts_with("\"5-") && a.ends_with('"'), "{a}");
        assert_eq!(a, etag(b"hello"));
        assert_ne!(a, etag(b"hellO"));
        assert_ne!(etag(b""), etag(b"\0"));
    }

    #[test]
    fn if_none_match_rules() {
        let tag = etag(b"x");
        assert!(if_none_match(&tag, &tag));
        assert!(if_none_match("*", &tag));
        assert!(if_none_match(&format!("\"other\", {tag}"), &tag));
        assert!(if_none_match(&format!("W/{tag}"), &tag));
        assert!(!if_none_match("\"other\"", &tag));
        assert!(!if_none_match("", &tag));
        assert!(!if_none_match(tag.trim_matches('"'), &tag));
    }
}
