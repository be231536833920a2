//! Whether a message mentions a display name: the name, compared without
//! case, standing as whole words (not inside a longer word), so "Ann" is
//! mentioned by "thanks ann!" and "@Ann" but not by "Anna" or "planning".

/// Whether `text` mentions `name`.
pub fn mentions(text: &str, name: &str) -> bool {
    let name = name.trim().to_lowercase();
    if name.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let mut from = 0;
    while let Some(at) = text[from..].find(&name) {
        let start = from + at;
        let end = start + name.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric) {
            return true;
        }
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_without_case() {
        assert!(mentions("thanks ann!", "Ann"));
        assert!(mentions("@Ann can you look?", "Ann"));
        assert!(mentions("Amber Otter, hi", "amber otter"));
        assert!(mentions("→ Zoë", "zoë"));
        assert!(mentions("anna and ann", "Ann"));
        assert!(!mentions("Anna", "Ann"));
        assert!(!mentions("planning", "Ann"));
        assert!(!mentions("Amber Otters", "Amber Otter"));
        assert!(!mentions("anything", ""));
        assert!(!mentions("", "Ann"));
    }
}
