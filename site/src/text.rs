//! Message text as shown: explicit bidirectional formatting characters are
//! shown as visible marks instead of being obeyed.
//!
//! A message is shown in its own isolated, direction-by-content block
//! (`<bdi>`-like: `dir="auto"`, `unicode-bidi: plaintext`), so it never
//! reorders the name or time beside it. Inside it, an override such as
//! U+202E RIGHT-TO-LEFT OVERRIDE would still reverse the rest of the text
//! ("invoice_cod.exe" shown as "invoice_exe.doc"), so the embeddings,
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069) are cut out and
//! shown as marks. Natural right-to-left text needs none of them.

/// A piece of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Text shown as is.
    Text(&'a str),
    /// An explicit directional formatting character, shown as a mark.
    Control(char),
}

/// Whether `c` is an explicit directional embedding, override or isolate
/// (or their terminators).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Cuts `text` into runs of text and the directional controls between them.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if is_bidi_control(c) {
            if start < at {
                out.push(Segment::Text(&text[start..at]));
            }
            out.push(Segment::Control(c));
            start = at + c.len_utf8();
        }
    }
    if start < text.len() {
        out.push(Segment::Text(&text[start..]));
    }
    out
}

/// The mark shown for a control: its code point, e.g. `U+202E`.
pub fn control_mark(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_become_marks() {
        assert_eq!(
            segments("invoice_\u{202e}cod.exe"),
            vec![
                Segment::Text("invoice_"),
                Segment::Control('\u{202e}'),
                Segment::Text("cod.exe")
            ]
        );
        assert_eq!(control_mark('\u{202e}'), "U+202E");
        assert_eq!(
            segments("\u{2067}\u{2069}"),
            vec![Segment::Control('\u{2067}'), Segment::Control('\u{2069}')]
        );
    }

    #[test]
    fn plain_and_right_to_left_text_is_untouched() {
        for text in ["", "hello", "שלום עולם 123", "مرحبا\nhello", "a\u{200f}b"] {
            let expected = if text.is_empty() {
                vec![]
            } else {
                vec![Segment::Text(text)]
            };
            assert_eq!(segments(text), expected, "{text:?}");
        }
    }
}
