//! Content type of a served file, by extension.

use crate::path::extension;

/// The `Content-Type` for a file name: by its extension (case-insensitive),
/// `application/octet-stream` when unknown. Text types carry
/// `charset=utf-8`.
pub fn content_type(name: &str) -> &'static str {
    let ext = extension(name).unwrap_or_default().to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types() {
        for (name, ty) in [
            ("index.html", "text/html; charset=utf-8"),
            ("a/b.HTM", "text/html; charset=utf-8"),
            (
                "vroom-site-3f2a9c1b7d4e5f60.js",
                "text/javascript; charset=utf-8",
            ),
            ("worker.mjs", "text/javascript; charset=utf-8"),
            ("vroom-site-3f2a9c1b7d4e5f60_bg.wasm", "application/wasm"),
            ("style.css", "text/css; charset=utf-8"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("data.json", "application/json"),
            ("site.webmanifest", "application/manifest+json"),
            ("favicon.svg", "image/svg+xml"),
            ("icon.PNG", "image/png"),
            ("favicon.ico", "image/x-icon"),
            ("inter.woff2", "font/woff2"),
        ] {
            assert_eq!(content_type(name), ty, "{name}");
        }
    }

    #[test]
    fn unknown_is_octet_stream() {
        for name in ["archive.tar.zst", "README", "x.exe", "dir.d/file"] {
            assert_eq!(content_type(name), "application/octet-stream", "{name}");
        }
    }
}
