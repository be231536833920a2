//! Accessibility audits: npm's axe-core run inside the page under test.
//!
//! `cargo xtask test` installs axe-core at a pinned version and passes its
//! `axe.min.js` as `VROOM_AXE_JS`; the script is injected through WebDriver
//! (which the page's CSP does not govern), so the site ships nothing for it.

use std::sync::OnceLock;

use serde_json::Value;

use super::session::Browser;

/// A rule axe-core found broken, with the elements that break it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub rule: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// Each failing element: its selector and axe's summary.
    pub nodes: Vec<String>,
}

/// axe-core's script, read once.
fn axe_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let path = std::env::var("VROOM_AXE_JS").expect(
            "VROOM_AXE_JS: the path of npm axe-core's axe.min.js (`cargo xtask test` installs it)",
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    })
}

/// Runs axe-core on the page `browser` shows now and returns the serious
/// and critical violations (WCAG 2.x A and AA rules and axe's best
/// practices).
pub async fn axe_violations(browser: &Browser) -> Vec<Violation> {
    let injected = browser
        .js(&format!("{}\n;return typeof window.axe;", axe_script()))
        .await;
    assert_eq!(
        injected,
        "object",
        "{}: axe-core did not load",
        browser.engine()
    );
    let result = browser
        .client
        .execute_async(
            r#"
            const done = arguments[arguments.length - 1];
            window.axe
                .run(document, { resultTypes: ["violations"] })
                .then((r) => done(JSON.stringify(r.violations.map((v) => ({
                    rule: v.id,
                    impact: v.impact || "",
                    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "")),
                })))))
                .catch((e) => done("error: " + e));
            "#,
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("{}: axe.run: {e}", browser.engine()));
    let text = result.as_str().unwrap_or_default();
    let found: Vec<Value> = serde_json::from_str(text)
        .unwrap_or_else(|_| panic!("{}: axe.run answered {text}", browser.engine()));
    found
        .into_iter()
        .map(|v| Violation {
            rule: v["rule"].as_str().unwrap_or_default().to_owned(),
            impact: v["impact"].as_str().unwrap_or_default().to_owned(),
            nodes: v["nodes"]
                .as_array()
                .map(|nodes| {
                    nodes
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .filter(|v| v.impact == "serious" || v.impact == "critical")
        .collect()
}
