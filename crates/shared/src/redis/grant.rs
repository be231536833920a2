//! What a ticket grants: the value stored under its [`super::ticket_key`].
//!
//! The encoding is one of two fixed ASCII strings, [`TicketGrant::MEMBER`]
//! `{"creator":false}` and [`TicketGrant::CREATOR`] `{"creator":true}`. The
//! relay assigns the member id itself when it redeems the ticket.

/// The rights a redeemed ticket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketGrant {
    /// An ordinary member.
    Member,
    /// The creator: leaving for good ends the room.
    Creator,
}

/// The literal encodings, shared with the Lua scripts.
macro_rules! grant_member {
    () => {
        r#"{"creator":false}"#
    };
}
macro_rules! grant_creator {
    () => {
        r#"{"creator":true}"#
    };
}
pub(crate) use {grant_creator, grant_member};

impl TicketGrant {
    /// Encoding of [`TicketGrant::Member`].
    pub const MEMBER: &'static [u8] = grant_member!().as_bytes();
    /// Encoding of [`TicketGrant::Creator`].
    pub const CREATOR: &'static [u8] = grant_creator!().as_bytes();

    /// The bytes stored in Redis.
    pub const fn encode(self) -> &'static [u8] {
        match self {
            Self::Member => Self::MEMBER,
            Self::Creator => Self::CREATOR,
        }
    }

    /// Parses a stored grant; `None` for anything but the two encodings.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes {
            Self::MEMBER => Some(Self::Member),
            Self::CREATOR => Some(Self::Creator),
            _ => None,
        }
    }

    /// Whether the ticket belongs to the room's creator.
    pub const fn is_creator(self) -> bool {
        matches!(self, Self::Creator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(TicketGrant::Member.encode(), br#"{"creator":false}"#);
        assert_eq!(TicketGrant::Creator.encode(), br#"{"creator":true}"#);
        for grant in [TicketGrant::Member, TicketGrant::Creator] {
            assert_eq!(TicketGrant::decode(grant.encode()), Some(grant));
        }
        assert_eq!(TicketGrant::decode(b"{\"creator\": true}"), None);
        assert_eq!(TicketGrant::decode(b""), None);
        assert!(TicketGrant::Creator.is_creator());
        assert!(!TicketGrant::Member.is_creator());
    }
}
