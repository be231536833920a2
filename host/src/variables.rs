//! Application variables and the `{{ name }}` templates that refer to them,
//! resolved the way Spin does: `SPIN_VARIABLE_<NAME>` overrides the default.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use crate::manifest::VariableDecl;

/// Resolved application variables.
#[derive(Debug, Clone, Default)]
pub struct AppVariables {
    values: BTreeMap<String, String>,
}

impl AppVariables {
    /// Resolves every declared variable from `env` (a lookup such as
    /// `std::env::var`) or its default; a required variable without a value
    /// is an error.
    pub fn resolve(
        decls: &BTreeMap<String, VariableDecl>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (name, decl) in decls {
            let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let value = match (env(&env_name), &decl.default) {
                (Some(value), _) => value,
                (None, Some(default)) => default.clone(),
                (None, None) => bail!("variable `{name}` is required: set {env_name}"),
            };
            values.insert(name.clone(), value);
        }
        Ok(Self { values })
    }

    /// Renders a template such as `redis://{{ redis_host }}`.
    pub fn render(&self, template: &str) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                bail!("unterminated `{{{{` in template `{template}`");
            };
            let name = after[..end].trim();
            match self.values.get(name) {
                Some(value) => out.push_str(value),
                None => bail!("template `{template}` refers to undeclared variable `{name}`"),
            }
            rest = &after[end + 2..];
        }
        if rest.contains("}}") {
            bail!("stray `}}}}` in template `{template}`");
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls() -> BTreeMap<String, VariableDecl> {
        let toml = r#"
            host = { default = "127.0.0.1:6379" }
            lifetime = { default = "3600" }
            secret_key = { required = true }
        "#;
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn environment_overrides_defaults() {
        let vars = AppVariables::resolve(&decls(), |name| match name {
            "SPIN_VARIABLE_LIFETIME" => Some("5".into()),
            "SPIN_VARIABLE_SECRET_KEY" => Some("k".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(vars.render("{{ lifetime }}").unwrap(), "5");
        assert_eq!(
            vars.render("redis://{{host}}/0").unwrap(),
            "redis://127.0.0.1:6379/0"
        );
    }

    #[test]
    fn required_variables_must_be_set() {
        let err = AppVariables::resolve(&decls(), |_| None).unwrap_err();
        assert!(err.to_string().contains("SPIN_VARIABLE_SECRET_KEY"));
    }

    #[test]
    fn bad_templates_are_errors() {
        let vars = AppVariables::resolve(&decls(), |_| Some("x".into())).unwrap();
        assert!(vars.render("{{ nope }}").is_err());
        assert!(vars.render("{{ host").is_err());
        assert!(vars.render("host }}").is_err());
        assert_eq!(vars.render("plain").unwrap(), "plain");
    }
}
