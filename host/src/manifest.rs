//! Reading a Spin application manifest (`spin.toml`, manifest version 2).
//!
//! Only what this host can honour is accepted; anything else is a clear error
//! at start-up rather than a silent difference from Spin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// The parts of `spin.toml` this host runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be 2.
    pub spin_manifest_version: u32,
    /// Name, version and description of the application.
    pub application: Application,
    /// Application variables with their defaults.
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDecl>,
    /// Triggers; only HTTP is supported.
    #[serde(default)]
    pub trigger: Triggers,
    /// Components by id.
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDecl>,
}

/// `[application]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Application name.
    pub name: String,
    /// Accepted, not used: version, description, authors.
    #[serde(rename = "version", default)]
    _version: Option<IgnoredAny>,
    #[serde(rename = "description", default)]
    _description: Option<IgnoredAny>,
    #[serde(rename = "authors", default)]
    _authors: Option<IgnoredAny>,
}

/// `[variables] name = { default = "…" }` or `{ required = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    /// Value used when no `SPIN_VARIABLE_<NAME>` override is set.
    #[serde(default)]
    pub default: Option<String>,
    /// Whether a value must be provided from the environment.
    #[serde(default)]
    pub required: bool,
    /// Accepted, not used: this host never prints variable values.
    #[serde(rename = "secret", default)]
    _secret: Option<IgnoredAny>,
}

/// `[trigger]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// `[[trigger.http]]` entries.
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// Route: an exact path or a `/prefix/...` wildcard.
    pub route: String,
    /// Id of the component that handles it.
    pub component: String,
    /// Executor (only the default `wasi-http`-style component is supported).
    #[serde(default)]
    pub executor: Option<toml::Value>,
}

/// `[component.<id>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDecl {
    /// Path of the `.wasm`, relative to the manifest.
    pub source: String,
    /// Accepted, not used.
    #[serde(rename = "description", default)]
    _description: Option<IgnoredAny>,
    /// Files mounted into the component.
    #[serde(default)]
    pub files: Vec<FileMountDecl>,
    /// Network destinations the component may reach, e.g. `redis://host:port`.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: templates over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables of the guest.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Build instructions: for `spin build`; `cargo xtask` builds here.
    #[serde(rename = "build", default)]
    _build: Option<IgnoredAny>,
}

/// An entry of `files`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FileMountDecl {
    /// A path relative to the manifest, mounted at the same relative path.
    Path(String),
    /// A directory mounted at `destination`.
    Mapped {
        /// Directory relative to the manifest.
        source: String,
        /// Absolute guest path.
        destination: String,
    },
}

/// A file mount resolved to a host directory and a guest path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMount {
    /// Directory on the host.
    pub host_dir: PathBuf,
    /// Absolute path the guest sees.
    pub guest_path: String,
}

impl Manifest {
    /// Reads and checks a manifest file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses and checks manifest text.
    pub fn parse(text: &str) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text)?;
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> Result<()> {
        ensure!(
            self.spin_manifest_version == 2,
            "spin_manifest_version must be 2, found {}",
            self.spin_manifest_version
        );
        for name in self.variables.keys() {
            check_variable_name(name)?;
        }
        for (name, decl) in &self.variables {
            ensure!(
                !(decl.required && decl.default.is_some()),
                "variable `{name}` cannot be both required and have a default"
            );
        }
        ensure!(
            !self.trigger.http.is_empty(),
            "the manifest declares no [[trigger.http]]"
        );
        for trigger in &self.trigger.http {
            ensure!(
                self.component.contains_key(&trigger.component),
                "route `{}` names unknown component `{}`",
                trigger.route,
                trigger.component
            );
            if trigger.executor.is_some() {
                bail!(
                    "route `{}`: custom executors are not supported by this host",
                    trigger.route
                );
            }
        }
        for (id, component) in &self.component {
            for name in component.variables.keys() {
                check_variable_name(name)
                    .with_context(|| format!("component `{id}` variable `{name}`"))?;
            }
        }
        Ok(())
    }
}

impl FileMountDecl {
    /// Resolves the mount against the manifest directory.
    pub fn resolve(&self, app_dir: &Path) -> Result<FileMount> {
        let (source, destination) = match self {
            FileMountDecl::Path(path) => {
                ensure!(
                    !path.contains(['*', '?', '[']),
                    "file pattern `{path}`: glob patterns are not supported by this host; \
                     mount a directory with {{ source, destination }}"
                );
                (path.as_str(), format!("/{}", path.trim_start_matches("./")))
            }
            FileMountDecl::Mapped {
                source,
                destination,
            } => (source.as_str(), destination.clone()),
        };
        ensure!(
            destination.starts_with('/'),
            "file mount destination `{destination}` must be an absolute path"
        );
        let host_dir = app_dir.join(source);
        ensure!(
            host_dir.is_dir(),
            "file mount source `{}` is not a directory",
            host_dir.display()
        );
        Ok(FileMount {
            host_dir,
            guest_path: destination,
        })
    }
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and
/// underscores, starting with a letter.
pub fn check_variable_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ensure!(
        valid,
        "invalid variable name `{name}`: use lowercase letters, digits and `_`, starting with a letter"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
[variables]
greeting = { default = "hi" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/api/..."
component = "api"
[component.api]
source = "api.wasm"
allowed_outbound_hosts = ["redis://{{ host }}"]
[component.api.variables]
message = "{{ greeting }} there"
"#;

    #[test]
    fn parses_a_minimal_manifest() {
        let manifest = Manifest::parse(MINIMAL).unwrap();
        assert_eq!(manifest.application.name, "demo");
        assert_eq!(manifest.trigger.http[0].route, "/api/...");
        assert!(manifest.variables["token"].required);
        assert_eq!(
            manifest.component["api"].variables["message"],
            "{{ greeting }} there"
        );
    }

    #[test]
    fn rejects_other_versions_unknown_fields_and_dangling_routes() {
        let v1 = MINIMAL.replace("spin_manifest_version = 2", "spin_manifest_version = 1");
        assert!(Manifest::parse(&v1).is_err());
        let unknown = MINIMAL.replace("source = \"api.wasm\"", "source = \"api.wasm\"\nsorce = 1");
        assert!(Manifest::parse(&unknown).is_err());
        let dangling = MINIMAL.replace("component = \"api\"", "component = \"nope\"");
        assert!(Manifest::parse(&dangling).is_err());
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(check_variable_name("redis_host").is_ok());
        assert!(check_variable_name("a1").is_ok());
        for bad in ["", "Redis", "1a", "_a", "a-b", "a b"] {
            assert!(check_variable_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn glob_file_patterns_are_refused_clearly() {
        let err = FileMountDecl::Path("static/*.html".into())
            .resolve(Path::new("."))
            .unwrap_err();
        assert!(err.to_string().contains("glob"));
    }

    #[test]
    fn the_repository_manifest_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
        let manifest = Manifest::load(&path).unwrap();
        assert!(manifest.component.contains_key("rooms"));
        assert!(manifest.component.contains_key("static"));
    }
}
