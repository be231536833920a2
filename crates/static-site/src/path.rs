//! Request path → file under the mount root, with the SPA fallback rule.

/// The page every client route is served by.
pub const INDEX: &str = "index.html";

/// Where a request path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// File to serve, relative to the mount root (`/`-separated, no leading
    /// `/`, no `.`/`..`/hidden segments).
    pub file: String,
    /// Serve [`INDEX`] instead when `file` does not exist (client routes).
    pub spa_fallback: bool,
}

/// Resolves a request path (without query string) to a file, or `None` when
/// it must be answered with 404: not starting with `/`, bad percent-encoding,
/// encoded `/`, `\`, control characters (NUL included), non-UTF-8, empty
/// inner segments, and segments starting with `.` (hidden files, `.`, `..`).
///
/// `/` and paths ending in `/` lead to [`INDEX`]; `/r/…` is a client route
/// and always leads to [`INDEX`]; a missing file falls back to [`INDEX`]
/// only when its name has no extension.
pub fn resolve(path: &str) -> Option<Lookup> {
    let path = if path.is_empty() { "/" } else { path };
    let raw = path.strip_prefix('/')?;
    let mut segments = Vec::new();
    let mut raw_segments = raw.split('/').peekable();
    while let Some(raw_segment) = raw_segments.next() {
        let segment = decode_segment(raw_segment)?;
        if segment.is_empty() {
            if raw_segments.peek().is_some() {
                return None;
            }
        } else {
            segments.push(segment);
        }
    }
    let index = || Lookup {
        file: INDEX.to_owned(),
        spa_fallback: false,
    };
    if raw.is_empty() || raw.ends_with('/') || segments.first().is_some_and(|s| s == "r") {
        return Some(index());
    }
    let has_extension = segments.last().and_then(|name| extension(name)).is_some();
    Some(Lookup {
        file: segments.join("/"),
        spa_fallback: !has_extension,
    })
}

/// The extension of a file name (text after its last `.`), if any.
pub fn extension(name: &str) -> Option<&str> {
    let name = name.rsplit('/').next().unwrap_or(name);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext),
        _ => None,
    }
}

/// Percent-decodes one path segment; `None` if it is malformed or decodes to
/// something never served.
fn decode_segment(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = hex_digit(*bytes.get(i + 1)?)?;
            let low = hex_digit(*bytes.get(i + 2)?)?;
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let segment = String::from_utf8(out).ok()?;
    let forbidden = |c: char| c == '/' || c == '\\' || c.is_control();
    if segment.starts_with('.') || segment.contains(forbidden) {
        return None;
    }
    Some(segment)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Option<(String, bool)> {
        resolve(path).map(|l| (l.file, l.spa_fallback))
    }

    fn index() -> Option<(String, bool)> {
        Some((INDEX.to_owned(), false))
    }

    #[test]
    fn root_and_directories_are_the_index() {
        assert_eq!(file("/"), index());
        assert_eq!(file(""), index());
        assert_eq!(file("/some/dir/"), index());
    }

    #[test]
    fn room_routes_are_the_index() {
        assert_eq!(file("/r/abc123"), index());
        assert_eq!(file("/r/abc.def"), index());
        assert_eq!(file("/r/a/b/c"), index());
        assert_eq!(file("/r"), index());
        assert_eq!(file("/r/"), index());
    }

    #[test]
    fn files_with_an_extension_do_not_fall_back() {
        assert_eq!(file("/style.css"), Some(("style.css".into(), false)));
        assert_eq!(
            file("/assets/app-0123456789abcdef.wasm"),
            Some(("assets/app-0123456789abcdef.wasm".into(), false))
        );
        assert_eq!(file("/index.html"), Some(("index.html".into(), false)));
    }

    #[test]
    fn extensionless_paths_fall_back() {
        assert_eq!(file("/about"), Some(("about".into(), true)));
        assert_eq!(file("/join/room"), Some(("join/room".into(), true)));
        assert_eq!(file("/trailing."), Some(("trailing.".into(), true)));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(file("/a%20b.txt"), Some(("a b.txt".into(), false)));
        assert_eq!(file("/%E2%9C%93.txt"), Some(("\u{2713}.txt".into(), false)));
        assert_eq!(file("/%73tyle.css"), Some(("style.css".into(), false)));
    }

    #[test]
    fn traversal_and_odd_paths_are_rejected() {
        for path in [
            "/..",
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/a%2Fb.txt",
            "/a%2fb",
            "/r/%2F",
            "/r/../x",
            "/.",
            "/./index.html",
            "/.env",
            "/.git/config",
            "/a/.hidden.txt",
            "/%2egit/config",
            "/a\\b.txt",
            "/a%5Cb.txt",
            "/..%5C..%5Cwin.ini",
            "/a%00.html",
            "/a\0.html",
            "/a%0a.html",
            "/%ff.txt",
            "/%",
            "/%2",
            "/%zz",
            "/%+1",
            "/a//b.txt",
            "//etc/passwd",
            "relative.txt",
        ] {
            assert_eq!(resolve(path), None, "{path:?}");
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(extension("a.css"), Some("css"));
        assert_eq!(extension("dir.d/a"), None);
        assert_eq!(extension("a.tar.gz"), Some("gz"));
        assert_eq!(extension("a."), None);
        assert_eq!(extension(".a"), None);
        assert_eq!(extension("a"), None);
    }
}
