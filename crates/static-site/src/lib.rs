//! How the static site is served: paths, content types, caching, security headers.
