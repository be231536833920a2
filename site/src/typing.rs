//! Typing indicators, as timing rules (the signal itself is an encrypted
//! message frame, `vroom_e2e::Session::send_typing`): how often a page
//! sends one, and how long it shows who is typing.

use std::collections::BTreeMap;

/// Least time between two typing signals a page sends, in milliseconds.
pub const SEND_EVERY_MS: f64 = 3_000.0;
/// How long a member shows as typing after its last signal, in milliseconds.
pub const SHOW_FOR_MS: f64 = 5_000.0;
/// Most members shown as typing at once (the rest are counted).
pub const MAX_SHOWN: usize = 3;

/// When this page may send its next typing signal.
#[derive(Debug, Default, Clone, Copy)]
pub struct Throttle {
    last: Option<f64>,
}

impl Throttle {
    /// Whether a signal may go out at `now` (ms); if so, counts it as sent.
    pub fn allow(&mut self, now: f64) -> bool {
        if self
            .last
            .is_some_and(|last| now - last < SEND_EVERY_MS && now >= last)
        {
            return false;
        }
        self.last = Some(now);
        true
    }

    /// A text was sent: the typing stopped, the next keystroke signals again.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

/// Who is typing, each until [`SHOW_FOR_MS`] after its last signal.
#[derive(Debug, Default, Clone)]
pub struct Typists {
    until: BTreeMap<u32, f64>,
}

impl Typists {
    /// `member` signalled at `now` (ms).
    pub fn signal(&mut self, member: u32, now: f64) {
        self.until.insert(member, now + SHOW_FOR_MS);
    }

    /// `member` sent a text or left: it no longer shows as typing.
    pub fn clear(&mut self, member: u32) -> bool {
        self.until.remove(&member).is_some()
    }

    /// Forgets everyone whose time ran out at `now`; whether anything changed.
    pub fn expire(&mut self, now: f64) -> bool {
        let before = self.until.len();
        self.until.retain(|_, until| *until > now);
        self.until.len() != before
    }

    /// The members typing, in member-id order.
    pub fn members(&self) -> Vec<u32> {
        self.until.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_and_reset_on_send() {
        let mut t = Throttle::default();
        assert!(t.allow(1_000.0));
        assert!(!t.allow(2_000.0));
        assert!(!t.allow(3_999.0));
        assert!(t.allow(4_000.0));
        t.reset();
        assert!(t.allow(4_100.0));
        // A clock that went back does not silence the page.
        assert!(t.allow(100.0));
    }

    #[test]
    fn shown_for_a_few_seconds_or_until_cleared() {
        let mut t = Typists::default();
        t.signal(7, 0.0);
        t.signal(3, 1_000.0);
        assert_eq!(t.members(), vec![3, 7]);
        assert!(!t.expire(4_999.0));
        assert!(t.expire(5_000.0));
        assert_eq!(t.members(), vec![3]);
        assert!(t.clear(3));
        assert!(!t.clear(3));
        assert!(t.members().is_empty());
    }
}
