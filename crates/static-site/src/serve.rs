//! One request in, one response out: methods, lookup, headers, 304.

use crate::cache::{NO_CACHE, cache_control, etag, if_none_match};
use crate::config::Config;
use crate::files::Files;
use crate::headers::{Header, security_headers};
use crate::mime::content_type;
use crate::path::{INDEX, resolve};

/// What the static site needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, e.g. `GET` (case-sensitive).
    pub method: &'a str,
    /// The path without query string, e.g. `/r/abc`.
    pub path: &'a str,
    /// The `If-None-Match` header (all values joined by `, `), if any.
    pub if_none_match: Option<&'a str>,
    /// The `Accept-Encoding` header (all values joined by `, `), if any.
    pub accept_encoding: Option<&'a str>,
}

/// Suffix of the precompressed (Brotli) variant of a file, made at build time.
const BROTLI_SUFFIX: &str = ".br";

/// Whether an `Accept-Encoding` header accepts `br` (and does not refuse it
/// with `q=0`).
pub fn accepts_brotli(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|param| {
            param
                .strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        coding.eq_ignore_ascii_case("br") && !refused
    })
}

/// A response to send as is. Headers have lower-case names; the body is
/// empty for `HEAD` (whatever the status) and for 304. `Content-Length` is
/// set only when there is a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, security headers included.
    pub headers: Vec<Header>,
    /// Response body.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Serves one request from `files`: GET and HEAD only (405 otherwise), path
/// resolution with the SPA fallback, the precompressed `<file>.br` when the
/// client accepts Brotli (the `.br` files themselves are not served by name),
/// content type, caching headers, ETag and `If-None-Match` → 304, security
/// headers on every response.
pub fn serve(config: &Config, request: &Request<'_>, files: &dyn Files) -> Response {
    let security = security_headers(Some(config.relay_origin()), config.hsts());
    let head = request.method == "HEAD";
    if !head && request.method != "GET" {
        return error(405, "Method not allowed", head, security);
    }
    let found = resolve(request.path).and_then(|lookup| match files.read(&lookup.file) {
        Some(body) => Some((lookup.file, body)),
        None if lookup.spa_fallback => files.read(INDEX).map(|body| (INDEX.to_owned(), body)),
        None => None,
    });
    let Some((name, body)) = found.filter(|(name, _)| !name.ends_with(BROTLI_SUFFIX)) else {
        return error(404, "Not found", head, security);
    };
    let compressed = request
        .accept_encoding
        .is_some_and(accepts_brotli)
        .then(|| files.read(&format!("{name}{BROTLI_SUFFIX}")))
        .flatten();
    let (body, encoding) = match compressed {
        Some(compressed) => (compressed, Some("br")),
        None => (body, None),
    };
    let tag = etag(&body);
    let not_modified = request
        .if_none_match
        .is_some_and(|h| if_none_match(h, &tag));
    let mut headers = security;
    headers.push(("cache-control", cache_control(&name).to_owned()));
    headers.push(("etag", tag));
    headers.push(("vary", "accept-encoding".to_owned()));
    if let Some(encoding) = encoding {
        headers.push(("content-encoding", encoding.to_owned()));
    }
    if not_modified {
        return Response {
            status: 304,
            headers,
            body: Vec::new(),
        };
    }
    headers.push(("content-type", content_type(&name).to_owned()));
    finish(200, headers, body, head)
}

/// The response when the configuration is unusable: 500 with a generic body
/// (the cause belongs in the log), and the strictest security headers.
pub fn internal_error(method: &str) -> Response {
    error(
        500,
        "Internal server error",
        method == "HEAD",
        security_headers(None, false),
    )
}

/// A small plain-text error page; 405 carries `Allow`.
fn error(status: u16, message: &str, head: bool, mut headers: Vec<Header>) -> Response {
    if status == 405 {
        headers.push(("allow", "GET, HEAD".to_owned()));
    }
    headers.push(("cache-control", NO_CACHE.to_owned()));
    headers.push(("content-type", "text/plain; charset=utf-8".to_owned()));
    finish(status, headers, format!("{message}\n").into_bytes(), head)
}

/// Drops the body for `HEAD`, otherwise adds its `Content-Length`.
fn finish(status: u16, mut headers: Vec<Header>, body: Vec<u8>, head: bool) -> Response {
    if head {
        return Response {
            status,
            headers,
            body: Vec::new(),
        };
    }
    headers.push(("content-length", body.len().to_string()));
    Response {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::cache::{IMMUTABLE, NO_STORE};

    const WASM: &str = "vroom-site-3f2a9c1b7d4e5f60_bg.wasm";

    struct Mem(HashMap<&'static str, &'static [u8]>);

    impl Files for Mem {
        fn read(&self, path: &str) -> Option<Vec<u8>> {
            self.0.get(path).map(|b| b.to_vec())
        }
    }

    fn site() -> Mem {
        Mem(HashMap::from([
            (INDEX, &b"<!doctype html><title>Vroom</title>"[..]),
            ("style.css", &b"body{}"[..]),
            ("about", &b"plain file without extension"[..]),
            (WASM, &b"\0asm"[..]),
            (
                "vroom-site-3f2a9c1b7d4e5f60_bg.wasm.br",
                &b"brotli of the wasm"[..],
            ),
        ]))
    }

    fn config() -> Config {
        Config::from_vars("ws://127.0.0.1:3001/ws", "false").unwrap()
    }

    fn send(method: &str, path: &str) -> Response {
        serve(
            &config(),
            &Request {
                method,
                path,
                if_none_match: None,
                accept_encoding: None,
            },
            &site(),
        )
    }

    #[test]
    fn index_at_root() {
        let r = send("GET", "/");
        assert_eq!(r.status, 200);
        assert_eq!(r.body, site().read(INDEX).unwrap());
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("cache-control"), Some(NO_STORE));
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
    }

    #[test]
    fn spa_fallback() {
        for path in ["/r/abc123", "/r/x.js", "/create", "/r/"] {
            let r = send("GET", path);
            assert_eq!(
                (r.status, r.header("content-type")),
                (200, Some("text/html; charset=utf-8")),
                "{path}"
            );
            assert_eq!(r.header("cache-control"), Some(NO_STORE), "{path}");
        }
        assert_eq!(send("GET", "/about").body, b"plain file without extension");
    }

    #[test]
    fn missing_file_with_extension_is_404() {
        let r = send("GET", "/missing.js");
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"Not found\n");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert!(r.header("content-security-policy").is_some());
    }

    #[test]
    fn traversal_is_404() {
        for path in [
            "/../index.html",
            "/%2e%2e/index.html",
            "/.env",
            "/a%2Fb",
            "/a\\b",
            "/a%00",
        ] {
            assert_eq!(send("GET", path).status, 404, "{path}");
        }
    }

    #[test]
    fn missing_index_is_404() {
        let empty = Mem(HashMap::new());
        let r = serve(
            &config(),
            &Request {
                method: "GET",
                path: "/r/x",
                if_none_match: None,
                accept_encoding: None,
            },
            &empty,
        );
        assert_eq!(r.status, 404);
    }

    #[test]
    fn hashed_assets_are_immutable() {
        let r = send("GET", &format!("/{WASM}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/wasm"));
        assert_eq!(r.header("cache-control"), Some(IMMUTABLE));
        assert_eq!(
            send("GET", "/style.css").header("cache-control"),
            Some(NO_CACHE)
        );
    }

    #[test]
    fn head_has_headers_but_no_body() {
        let get = send("GET", "/style.css");
        let head = send("HEAD", "/style.css");
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(head.header("content-length"), None);
        let without_length: Vec<_> = get
            .headers
            .into_iter()
            .filter(|(n, _)| *n != "content-length")
            .collect();
        assert_eq!(head.headers, without_length);
        let missing = send("HEAD", "/missing.js");
        assert_eq!((missing.status, missing.body.len()), (404, 0));
    }

    #[test]
    fn other_methods_are_405() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "TRACE"] {
            let r = send(method, "/");
            assert_eq!(r.status, 405, "{method}");
            assert_eq!(r.header("allow"), Some("GET, HEAD"));
            assert!(r.header("content-security-policy").is_some());
        }
    }

    #[test]
    fn conditional_get() {
        let tag = send("GET", "/style.css").header("etag").unwrap().to_owned();
        for method in ["GET", "HEAD"] {
            let request = Request {
                method,
                path: "/style.css",
                if_none_match: Some(&tag),
                accept_encoding: None,
            };
            let r = serve(&config(), &request, &site());
            assert_eq!(r.status, 304);
            assert!(r.body.is_empty());
            assert_eq!(r.header("etag"), Some(tag.as_str()));
            assert_eq!(r.header("cache-control"), Some(NO_CACHE));
            assert_eq!(r.header("content-length"), None);
            assert!(r.header("content-security-policy").is_some());
        }
        let stale = Request {
            method: "GET",
            path: "/style.css",
            if_none_match: Some("\"stale\""),
            accept_encoding: None,
        };
        assert_eq!(serve(&config(), &stale, &site()).status, 200);
    }

    #[test]
    fn security_headers_everywhere_and_no_cookies() {
        let hsts = Config::from_vars("wss://relay.example.com/ws", "true").unwrap();
        for (method, path) in [
            ("GET", "/"),
            ("GET", "/nope.css"),
            ("POST", "/"),
            ("HEAD", "/r/x"),
        ] {
            let r = serve(
                &hsts,
                &Request {
                    method,
                    path,
                    if_none_match: None,
                    accept_encoding: None,
                },
                &site(),
            );
            let csp = r.header("content-security-policy").unwrap();
            assert!(
                csp.contains("connect-src 'self' wss://relay.example.com;"),
                "{csp}"
            );
            assert_eq!(
                r.header("strict-transport-security"),
                Some("max-age=63072000; includeSubDomains")
            );
            assert_eq!(r.header("x-frame-options"), Some("DENY"));
            assert_eq!(r.header("set-cookie"), None);
        }
        assert_eq!(send("GET", "/").header("strict-transport-security"), None);
    }

    #[test]
    fn internal_error_is_generic() {
        let r = internal_error("GET");
        assert_eq!(r.status, 500);
        assert_eq!(r.body, b"Internal server error\n");
        assert!(
            r.header("content-security-policy")
                .unwrap()
                .contains("connect-src 'self';")
        );
        assert!(internal_error("HEAD").body.is_empty());
    }

    #[test]
    fn precompressed_variants_go_to_clients_that_accept_brotli() {
        let path = format!("/{WASM}");
        let get = |accept: Option<&str>| {
            serve(
                &config(),
                &Request {
                    method: "GET",
                    path: &path,
                    if_none_match: None,
                    accept_encoding: accept,
                },
                &site(),
            )
        };
        let br = get(Some("gzip, deflate, br, zstd"));
        assert_eq!(br.body, b"brotli of the wasm");
        assert_eq!(br.header("content-encoding"), Some("br"));
        assert_eq!(br.header("content-type"), Some("application/wasm"));
        assert_eq!(br.header("cache-control"), Some(IMMUTABLE));
        assert_eq!(br.header("vary"), Some("accept-encoding"));
        for accept in [None, Some("gzip"), Some("br;q=0, gzip"), Some("")] {
            let plain = get(accept);
            assert_eq!(plain.body, b"\0asm", "{accept:?}");
            assert_eq!(plain.header("content-encoding"), None);
            assert_ne!(plain.header("etag"), br.header("etag"));
        }
        // Files without a variant are sent as they are; variants are not served by name.
        let css = serve(
            &config(),
            &Request {
                method: "GET",
                path: "/style.css",
                if_none_match: None,
                accept_encoding: Some("br"),
            },
            &site(),
        );
        assert_eq!((css.status, css.header("content-encoding")), (200, None));
        assert_eq!(send("GET", &format!("/{WASM}.br")).status, 404);
    }

    #[test]
    fn accept_encoding_parsing() {
        assert!(accepts_brotli("br"));
        assert!(accepts_brotli("gzip, BR;q=0.5"));
        assert!(!accepts_brotli("gzip, deflate"));
        assert!(!accepts_brotli("br;q=0"));
        assert!(!accepts_brotli("brotli"));
        assert!(!accepts_brotli(""));
    }
}
