//! The catalogues are complete and consistent: every language has exactly
//! English's messages with the same variables, every message the page asks
//! for exists, and every message exists for a reason (the page asks for it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::{Arg, Catalogue, Lang, Part};

/// Message id → the variables its value and attributes use.
fn messages(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    let resource = fluent_syntax::parser::parse(lang.source())
        .unwrap_or_else(|(_, errors)| panic!("{lang:?} catalogue does not parse: {errors:?}"));
    let mut out = BTreeMap::new();
    for entry in resource.body {
        match entry {
            Entry::Message(message) => {
                let mut vars = BTreeSet::new();
                if let Some(value) = &message.value {
                    pattern_vars(value, &mut vars);
                }
                assert!(
                    message.value.is_some(),
                    "{lang:?}: {} has no value",
                    message.id.name
                );
                let id = message.id.name.to_owned();
                assert!(
                    out.insert(id.clone(), vars).is_none(),
                    "{lang:?}: {id} is defined twice"
                );
            }
            Entry::Term(term) => panic!("{lang:?}: terms are not used ({})", term.id.name),
            Entry::Junk { content } => panic!("{lang:?}: unparsable entry {content:?}"),
            _ => {}
        }
    }
    out
}

fn pattern_vars(pattern: &Pattern<&str>, vars: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(expression: &Expression<&str>, vars: &mut BTreeSet<String>) {
    match expression {
        Expression::Inline(inline) => inline_vars(inline, vars),
        Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for variant in variants {
                pattern_vars(&variant.value, vars);
            }
        }
    }
}

fn inline_vars(inline: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        _ => {}
    }
}

/// Every message id the page's code asks for: the string literal opening
/// each call of `t!`, `tr`, `tr_with`, `parts` or `named` in `src/web/`.
fn ids_in_code() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut ids = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("src/web") {
        let path = entry.expect("entry").path();
        let code = std::fs::read_to_string(&path).expect("source");
        for call in ["t!(", "tr(", "tr_with(", "parts(", "named("] {
            for (at, _) in code.match_indices(call) {
                let preceded_by_word = code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                let Some(rest) = code[at + call.len()..].trim_start().strip_prefix('"') else {
                    continue;
                };
                if preceded_by_word {
                    continue;
                }
                let id = &rest[..rest.find('"').expect("closing quote")];
                ids.insert(id.to_owned());
            }
        }
    }
    assert!(ids.len() > 100, "found only {} ids in {dir:?}", ids.len());
    ids
}

#[test]
fn every_catalogue_parses_cleanly() {
    for lang in Lang::ALL {
        assert!(
            fluent_bundle::FluentResource::try_new(lang.source().to_owned()).is_ok(),
            "{lang:?} catalogue has syntax errors"
        );
        messages(lang);
    }
}

#[test]
fn every_language_has_every_message_with_the_same_variables() {
    let english = messages(Lang::En);
    for lang in Lang::ALL {
        let other = messages(lang);
        let missing: Vec<&String> = english
            .keys()
            .filter(|id| !other.contains_key(*id))
            .collect();
        let extra: Vec<&String> = other
            .keys()
            .filter(|id| !english.contains_key(*id))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{lang:?}: missing {missing:?}, not in English {extra:?}"
        );
        for (id, vars) in &english {
            assert_eq!(&other[id], vars, "{lang:?}: {id} uses other variables");
        }
    }
}

#[test]
fn every_message_the_page_asks_for_exists_and_every_message_is_asked_for() {
    let used = ids_in_code();
    let english: BTreeSet<String> = messages(Lang::En).into_keys().collect();
    let missing: Vec<&String> = used.difference(&english).collect();
    assert!(missing.is_empty(), "not in the catalogues: {missing:?}");
    let unused: Vec<&String> = english.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "in the catalogues, never shown: {unused:?}"
    );
    for lang in Lang::ALL {
        let catalogue = Catalogue::new(lang);
        for id in &used {
            assert!(catalogue.has(id), "{lang:?} lacks {id}");
        }
    }
}

#[test]
fn people_are_slots_in_every_language() {
    for lang in Lang::ALL {
        let catalogue = Catalogue::new(lang);
        let parts = catalogue
            .parts("line-key-changed", &[], &["before", "now"])
            .expect("message");
        for slot in [0, 1] {
            assert_eq!(
                parts.iter().filter(|p| **p == Part::Slot(slot)).count(),
                1,
                "{lang:?}: {parts:?}"
            );
        }
        assert!(parts.iter().all(|p| match p {
            Part::Text(t) => !t.chars().any(|c| u32::from(c) >= super::SLOT_BASE),
            Part::Slot(_) => true,
        }));
    }
}

#[test]
fn plurals_follow_the_language() {
    let en = Catalogue::new(Lang::En);
    let one = en.format("refused-more", &[("more", Arg::Number(1))]);
    let three = en.format("refused-more", &[("more", Arg::Number(3))]);
    assert_eq!(one.as_deref(), Some("(one more like this was not shown.)"));
    assert_eq!(three.as_deref(), Some("(3 more like this were not shown.)"));
    let fr = Catalogue::new(Lang::Fr);
    assert_eq!(
        fr.format("api-refused", &[("status", Arg::Number(418))])
            .as_deref(),
        Some("Le serveur a refusé la requête (HTTP 418).")
    );
}

#[test]
fn the_browser_language_is_negotiated() {
    assert_eq!(Lang::negotiate(["de-AT", "en-US"]), Lang::De);
    assert_eq!(Lang::negotiate(["pt-BR", "es-419"]), Lang::Es);
    assert_eq!(Lang::negotiate(["FR_ca"]), Lang::Fr);
    assert_eq!(Lang::negotiate(["pt-BR", "ja"]), Lang::En);
    assert_eq!(Lang::negotiate([]), Lang::En);
}
