//! Spin's HTTP routing: exact routes and `/prefix/...` wildcards, the most
//! specific match wins, and the `spin-*` headers a component receives.

use anyhow::{Result, ensure};

/// One route of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The route as written in the manifest, e.g. `/api/...`.
    pub raw: String,
    /// The fixed part: `/api` for `/api/...`, `/` for `/...`, the path itself for exact routes.
    prefix: String,
    wildcard: bool,
    /// Index of the component that serves it.
    pub component: usize,
}

/// The result of matching a request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    /// The matched route.
    pub route: &'a Route,
    /// `spin-path-info`: the part of the path after the route's fixed part.
    pub path_info: String,
}

/// All routes of the application.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Route {
    /// Parses a manifest route.
    pub fn parse(raw: &str, component: usize) -> Result<Self> {
        ensure!(raw.starts_with('/'), "route `{raw}` must start with `/`");
        ensure!(
            !raw.split('/').any(|segment| segment.starts_with(':')),
            "route `{raw}`: named wildcards are not supported by this host"
        );
        let (prefix, wildcard) = match raw.strip_suffix("/...") {
            Some(prefix) => (prefix.to_string(), true),
            None => {
                ensure!(
                    !raw.contains("..."),
                    "route `{raw}`: `...` is only allowed as the last segment"
                );
                (raw.trim_end_matches('/').to_string(), false)
            }
        };
        Ok(Self {
            raw: raw.to_string(),
            prefix,
            wildcard,
            component,
        })
    }

    /// `spin-component-route`: the fixed part, empty for the root wildcard.
    pub fn component_route(&self) -> &str {
        &self.prefix
    }

    fn matches(&self, path: &str) -> Option<String> {
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        if !self.wildcard {
            let exact = if self.prefix.is_empty() {
                "/"
            } else {
                &self.prefix
            };
            return (path == exact).then(String::new);
        }
        if self.prefix.is_empty() {
            return Some(path.to_string());
        }
        let rest = path.strip_prefix(&self.prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| rest.to_string())
    }

    /// Orders routes by specificity: longer fixed parts first, exact before wildcard.
    fn specificity(&self) -> (usize, bool) {
        (self.prefix.len(), !self.wildcard)
    }
}

impl Router {
    /// Builds the table; two routes with the same fixed part and kind are an error.
    pub fn new(mut routes: Vec<Route>) -> Result<Self> {
        routes.sort_by_key(|route| std::cmp::Reverse(route.specificity()));
        for pair in routes.windows(2) {
            ensure!(
                pair[0].specificity() != pair[1].specificity() || pair[0].prefix != pair[1].prefix,
                "duplicate routes `{}` and `{}`",
                pair[0].raw,
                pair[1].raw
            );
        }
        Ok(Self { routes })
    }

    /// Every route, most specific first.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Finds the most specific route for `path` (without the query).
    pub fn find(&self, path: &str) -> Option<RouteMatch<'_>> {
        self.routes.iter().find_map(|route| {
            route
                .matches(path)
                .map(|path_info| RouteMatch { route, path_info })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new(vec![
            Route::parse("/...", 0).unwrap(),
            Route::parse("/api/...", 1).unwrap(),
            Route::parse("/api/health", 2).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn longest_match_wins_and_exact_beats_wildcard() {
        let router = router();
        let m = router.find("/api/rooms/abc/join").unwrap();
        assert_eq!(
            (m.route.component, m.path_info.as_str()),
            (1, "/rooms/abc/join")
        );
        let m = router.find("/api/health").unwrap();
        assert_eq!((m.route.component, m.path_info.as_str()), (2, ""));
        let m = router.find("/api").unwrap();
        assert_eq!((m.route.component, m.path_info.as_str()), (1, ""));
        let m = router.find("/apiary").unwrap();
        assert_eq!((m.route.component, m.path_info.as_str()), (0, "/apiary"));
        let m = router.find("/").unwrap();
        assert_eq!((m.route.component, m.path_info.as_str()), (0, "/"));
    }

    #[test]
    fn component_route_is_the_fixed_part() {
        assert_eq!(Route::parse("/...", 0).unwrap().component_route(), "");
        assert_eq!(
            Route::parse("/api/...", 0).unwrap().component_route(),
            "/api"
        );
    }

    #[test]
    fn unmatched_paths_and_bad_routes() {
        let router = Router::new(vec![Route::parse("/api/...", 0).unwrap()]).unwrap();
        assert!(router.find("/other").is_none());
        assert!(Route::parse("api", 0).is_err());
        assert!(Route::parse("/a/.../b", 0).is_err());
        assert!(Route::parse("/users/:id", 0).is_err());
        assert!(
            Router::new(vec![
                Route::parse("/a/...", 0).unwrap(),
                Route::parse("/a/...", 1).unwrap()
            ])
            .is_err()
        );
    }
}
