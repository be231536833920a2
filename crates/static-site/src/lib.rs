//! How the static site is served: paths, content types, caching, security headers.
//!
//! Pure logic with no Spin dependency: [`serve`] turns a [`Request`] into a
//! [`Response`] using [`Files`] (in the component, a [`Dir`] at the mount
//! root `/`) and a [`Config`] parsed from the `relay_url` and `hsts`
//! variables.

mod cache;
mod config;
mod files;
mod headers;
mod mime;
mod path;
mod serve;

pub use config::{Config, ConfigError, relay_origin};
pub use files::{Dir, Files};
pub use headers::Header;
pub use serve::{Request, Response, accepts_brotli, internal_error, serve};
