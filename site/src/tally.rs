//! Rate limiting of repeated warnings: at most one line per kind per window,
//! the next one saying how many were not shown. Anyone in the room (or the
//! relay) can make warnings happen; the conversation must stay readable.

/// Counts occurrences per kind `K` (e.g. a rejection reason).
#[derive(Debug, Clone)]
pub struct Tally<K> {
    window_ms: f64,
    kinds: Vec<Kind<K>>,
}

#[derive(Debug, Clone)]
struct Kind<K> {
    key: K,
    shown_at: f64,
    suppressed: u32,
}

impl<K: PartialEq> Tally<K> {
    /// A tally showing each kind at most once per `window_ms`.
    pub fn new(window_ms: f64) -> Self {
        Self {
            window_ms,
            kinds: Vec::new(),
        }
    }

    /// Records one occurrence of `key` at `now_ms`. Returns `Some(n)` when a
    /// line should be shown now, `n` being the occurrences not shown since
    /// the last line of this kind, and `None` while the kind is quiet.
    pub fn record(&mut self, key: K, now_ms: f64) -> Option<u32> {
        let Some(kind) = self.kinds.iter_mut().find(|k| k.key == key) else {
            self.kinds.push(Kind {
                key,
                shown_at: now_ms,
                suppressed: 0,
            });
            return Some(0);
        };
        if now_ms - kind.shown_at < self.window_ms {
            kind.suppressed = kind.suppressed.saturating_add(1);
            return None;
        }
        kind.shown_at = now_ms;
        Some(std::mem::take(&mut kind.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_kind_per_window() {
        let mut t = Tally::new(1000.0);
        assert_eq!(t.record("a", 0.0), Some(0));
        assert_eq!(t.record("b", 1.0), Some(0), "kinds are independent");
        for at in [10.0, 500.0, 999.0] {
            assert_eq!(t.record("a", at), None);
        }
        assert_eq!(t.record("a", 1000.0), Some(3));
        assert_eq!(t.record("a", 1500.0), None);
        assert_eq!(t.record("a", 5000.0), Some(1));
        assert_eq!(t.record("b", 5000.0), Some(0));
    }
}
