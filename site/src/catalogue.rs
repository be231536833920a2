//! The message catalogues: every sentence the page shows, one Fluent file
//! per language under `site/locales/`, compiled into the app. English is the
//! reference; a message missing from another language falls back to it
//! (and fails the tests below).
//!
//! A message may name people (`{ $member }`): the page does not format those
//! as text but asks for [`Part`]s, so it can show each name bidi-isolated
//! with its discriminator where the language puts it.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};

/// A language of the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English, the reference catalogue.
    En,
    /// German.
    De,
    /// Spanish.
    Es,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, in the order the switch lists them.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::De, Lang::Es, Lang::Fr];

    /// The BCP 47 code (`lang` attribute, the switch's values).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Es => "es",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Es => "Español",
            Lang::Fr => "Français",
        }
    }

    /// The language of a tag such as `de-AT` or `fr` (its primary subtag).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The first of the browser's preferred languages the site speaks,
    /// else English.
    pub fn negotiate<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(Lang::from_tag)
            .unwrap_or(Lang::En)
    }

    /// The catalogue's Fluent source.
    pub fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.ftl"),
            Lang::De => include_str!("../locales/de.ftl"),
            Lang::Es => include_str!("../locales/es.ftl"),
            Lang::Fr => include_str!("../locales/fr.ftl"),
        }
    }
}

/// A value for a message's variable.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Text, shown as it is.
    Text(&'a str),
    /// A number (it also selects plural forms).
    Number(u64),
}

/// A piece of a formatted message: words, or the place of the
/// `n`-th person named in the call to [`Catalogue::parts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Words.
    Text(String),
    /// Where the `n`-th named slot goes.
    Slot(usize),
}

/// Marks a slot in a formatted message: a private-use character plus the
/// slot's index, never produced by a catalogue.
const SLOT_BASE: u32 = 0xF0000;

/// One language's catalogue, parsed.
pub struct Catalogue {
    bundle: FluentBundle<FluentResource>,
}

impl Catalogue {
    /// Parses `lang`'s catalogue (the tests make sure it parses cleanly).
    pub fn new(lang: Lang) -> Self {
        let resource = FluentResource::try_new(lang.source().to_owned())
            .unwrap_or_else(|(resource, _)| resource);
        let tag = lang.code().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new(vec![tag]);
        // Names are isolated by the page (`<bdi>`); numbers need no marks.
        bundle.set_use_isolating(false);
        // Message ids are unique (tested), so nothing is overridden.
        let _ = bundle.add_resource(resource);
        Self { bundle }
    }

    /// Whether the catalogue has message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// Message `id` with `args`, or `None` when the catalogue lacks it.
    pub fn format(&self, id: &str, args: &[(&str, Arg<'_>)]) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, arg) in args {
            let value = match *arg {
                Arg::Text(text) => FluentValue::from(text),
                Arg::Number(n) => FluentValue::from(n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        Some(text.into_owned())
    }

    /// Message `id` as words and slots: `slots` names the variables that
    /// stand for people, in the order [`Part::Slot`] counts them.
    pub fn parts(&self, id: &str, args: &[(&str, Arg<'_>)], slots: &[&str]) -> Option<Vec<Part>> {
        let marks: Vec<String> = (0..slots.len()).map(|i| slot_mark(i).to_string()).collect();
        let mut all: Vec<(&str, Arg<'_>)> = args.to_vec();
        all.extend(
            slots
                .iter()
                .zip(&marks)
                .map(|(name, mark)| (*name, Arg::Text(mark))),
        );
        let text = self.format(id, &all)?;
        Some(split_slots(&text, slots.len()))
    }
}

fn slot_mark(i: usize) -> char {
    u32::try_from(i)
        .ok()
        .and_then(|i| char::from_u32(SLOT_BASE + i))
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Cuts `text` at the slot marks of slots `0..count`.
fn split_slots(text: &str, count: usize) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut words = String::new();
    for c in text.chars() {
        let slot = (c as u32)
            .checked_sub(SLOT_BASE)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < count);
        match slot {
            Some(i) => {
                if !words.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut words)));
                }
                parts.push(Part::Slot(i));
            }
            None => words.push(c),
        }
    }
    if !words.is_empty() {
        parts.push(Part::Text(words));
    }
    parts
}

#[cfg(test)]
mod tests;
