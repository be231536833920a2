//! Every sentence the page shows about a room, in English, chosen from the
//! typed values the state machine emits (`room.rs`, `api.rs`, `vroom_e2e`
//! errors). This is the one place a message catalogue replaces.
//!
//! Sentences that mention a member are a list of [`Piece`]s, so the view can
//! show the member's name bidi-isolated with its discriminator.

use vroom_e2e::{DecodeError, LinkError, NameError, RejectReason};

use super::api::ApiError;
use super::room::{Conn, Face, Failure, Notice, Refusal, SystemLine};

/// A piece of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain words.
    Text(String),
    /// A member: name and discriminator.
    Face(Face),
    /// A display name alone (this tab's).
    Name(String),
}

fn text(s: impl Into<String>) -> Piece {
    Piece::Text(s.into())
}

/// Names of the discriminator colours, in palette order (`style.css` `.c0`…`.c7`).
pub const COLOUR_NAMES: [&str; 8] = [
    "red", "orange", "olive", "green", "teal", "blue", "purple", "pink",
];

/// The tooltip of a discriminator.
pub fn discriminator_title(colour: u8) -> String {
    let name = COLOUR_NAMES
        .get(usize::from(colour))
        .copied()
        .unwrap_or("grey");
    format!("{name} — the first five digits of this member's safety code")
}

/// The mark beside a name that another member also uses.
pub const SAME_NAME: &str = "same name as another member";

/// Who is typing: up to [`vroom_site::typing::MAX_SHOWN`] faces, then a count.
pub fn typing(faces: &[Face]) -> Vec<Piece> {
    let max = vroom_site::typing::MAX_SHOWN;
    let mut pieces = Vec::new();
    for (i, face) in faces.iter().take(max).enumerate() {
        if i > 0 {
            pieces.push(text(
                if i + 1 == faces.len().min(max) && faces.len() <= max {
                    " and "
                } else {
                    ", "
                },
            ));
        }
        pieces.push(Piece::Face(face.clone()));
    }
    match faces.len() {
        0 => {}
        1 => pieces.push(text(" is typing…")),
        n if n <= max => pieces.push(text(" are typing…")),
        n => pieces.push(text(format!(" and {} more are typing…", n - max))),
    }
    pieces
}

/// The heading of the person's switches in the room.
pub const SETTINGS_HEADING: &str = "This tab";

/// The switch that sends typing signals.
pub const SEND_TYPING: &str = "Show others when I am typing";

/// What the typing switch does, said plainly.
pub const SEND_TYPING_HELP: &str =
    "Others see that you are writing, never what.     The signal is encrypted like a message.";

/// The switch for notifications.
pub const NOTIFY: &str = "Notify me of new messages while this tab is hidden";

/// What notifications show, said plainly.
pub const NOTIFY_HELP: &str = "Your browser asks first. Notifications say only that a \
    message came, unless you switch on the next option.";

/// The switch that puts names and texts in notifications.
pub const NOTIFY_TEXT: &str = "Show who wrote what in notifications";

/// What showing texts in notifications means.
pub const NOTIFY_TEXT_HELP: &str = "Your system may keep notifications after the room ends.";

/// The switch for the sound.
pub const SOUND: &str = "Play a short sound for new messages while this tab is hidden";

/// The sound's help line.
pub const SOUND_HELP: &str = "Quiet, a quarter of a second.";

/// A notification for a message that arrived while the tab was hidden:
/// `(title, body)`; names and text only when `show_text`.
pub fn notification(show_text: bool, name: &str, text: &str, mention: bool) -> (String, String) {
    if show_text {
        let cut: String = text.chars().take(200).collect();
        let title = if mention {
            format!("{name} mentioned you")
        } else {
            name.to_owned()
        };
        return (title, cut);
    }
    let body = if mention {
        "Someone mentioned you in your Vroom room."
    } else {
        "A new message in your Vroom room."
    };
    ("Vroom".to_owned(), body.to_owned())
}

/// The mark beside a message that mentions this tab's display name.
pub const MENTION: &str = "mentions you";

/// The creator's button that locks or unlocks the room.
pub fn lock_button(locked: bool) -> &'static str {
    if locked { "Unlock room" } else { "Lock room" }
}

/// The lock state, for everyone in the room.
pub const LOCKED_STATE: &str = "Locked: nobody new can join";

/// The creator's button beside a member.
pub const REMOVE: &str = "Remove";

/// The question before removing `name`.
pub fn confirm_remove(name: &str) -> Vec<Piece> {
    vec![
        text("Remove "),
        Piece::Name(name.to_owned()),
        text("? The room locks, so the link will not bring them back."),
    ]
}

/// The creator's confirmation of a removal.
pub const CONFIRM_REMOVE: &str = "Remove and lock";

/// Not removing after all.
pub const CANCEL: &str = "Cancel";

/// The screen of a removed member: heading and explanation.
pub const REMOVED_HEADING: &str = "The room's creator removed you.";

/// What being removed means.
pub const REMOVED_TEXT: &str = "This tab no longer holds any of the room's keys, and cannot read \
    what is said from now on.";

/// The state of the relay connection.
pub fn conn(conn: Conn) -> &'static str {
    match conn {
        Conn::Connecting => "Connecting…",
        Conn::Online => "Connected",
        Conn::Reconnecting => "Reconnecting…",
    }
}

/// Why a display name cannot be used.
pub fn name_error(e: NameError) -> String {
    match e {
        NameError::Empty => "it is empty".into(),
        NameError::TooLong => "it is longer than 64 bytes".into(),
        NameError::Invisible(code) => format!(
            "it contains U+{code:04X}, an invisible or formatting character that could make it \
             look like someone else's name"
        ),
        NameError::Spacing => "it has a space at its start or end, or two spaces in a row".into(),
        NameError::NotUtf8 | NameError::Padding => "it is not valid text".into(),
    }
}

/// A refused display name, as a sentence.
pub fn bad_name(e: NameError) -> String {
    format!(
        "That display name cannot be used: {}. Choose another.",
        name_error(e)
    )
}

/// Why an invite link pasted on the start page cannot be used.
pub fn link_error(e: LinkError) -> String {
    match e {
        LinkError::OldVersion => old_link().into(),
        _ => "That does not look like a whole Vroom invite link. It should look like \
              https://…/r/…#… — copy all of it, including the part after #."
            .into(),
    }
}

fn locked_out() -> &'static str {
    "This room is locked: its creator lets nobody new in right now. Ask them to unlock it."
}

fn old_link() -> &'static str {
    "This invite is from an older version of Vroom. The room it opened cannot be joined with \
     this version: ask whoever sent it for a new link."
}

/// An API failure, as a sentence.
pub fn api_error(e: &ApiError) -> String {
    match e {
        ApiError::NotFound => "No live room with these credentials. The room may have ended, \
                               or the link, name or passphrase is not right."
            .into(),
        ApiError::Full => {
            "This room is full: it already has as many people as a room may hold.".into()
        }
        ApiError::Exists => "A room with these credentials is live already.".into(),
        ApiError::Locked => locked_out().into(),
        ApiError::NoSuchMember => "That person is no longer in the room.".into(),
        ApiError::RateLimited(Some(secs)) => {
            format!("Too many attempts from your network. Please wait {secs} s and try again.")
        }
        ApiError::RateLimited(None) => {
            "Too many attempts from your network. Please wait a minute and try again.".into()
        }
        ApiError::Server => {
            "The server is having trouble right now. Please try again in a moment.".into()
        }
        ApiError::Network => "Cannot reach the server. Check your connection and try again.".into(),
        ApiError::Refused(status) => format!("The server refused the request (HTTP {status})."),
    }
}

/// Why the room cannot be entered.
pub fn failure(f: &Failure) -> String {
    match f {
        Failure::OldLink => old_link().into(),
        Failure::DamagedLink => "This invite link is damaged: its secret part does not match \
                                 the room. Ask for the link again and paste all of it."
            .into(),
        Failure::NoKey => "This page has no room key. Invite links end with a # followed by \
                           the key; ask for the whole link again."
            .into(),
        Failure::DamagedKey => "This tab's room key is damaged.".into(),
        Failure::BadName(e) => format!(
            "Your display name cannot be used: {}. Go back and choose another.",
            name_error(*e)
        ),
        Failure::Api(e) => api_error(e),
        Failure::RelayOrigin => {
            "The relay does not accept connections from this page's address.".into()
        }
        Failure::Locked => locked_out().into(),
    }
}

/// A passing problem.
pub fn notice(n: &Notice) -> String {
    match n {
        Notice::NotSent => "Not connected right now: your message was not sent.".into(),
        Notice::TooLong => "This message is too long.".into(),
        Notice::SendIncomplete => "Connection lost: not everything could be sent.".into(),
        Notice::RelayUnreachable => "Cannot open a connection to the relay.".into(),
        Notice::Api(e) => api_error(e),
        Notice::NotificationsRefused => "This browser does not allow notifications from this \
                                         page. You can allow them in its site settings."
            .into(),
    }
}

fn version(e: DecodeError) -> Option<&'static str> {
    match e {
        DecodeError::TooOld(_) => Some("an older"),
        DecodeError::TooNew(_) => Some("a newer"),
        _ => None,
    }
}

/// What was refused, accurately, one sentence per reason.
pub fn refusal(what: Refusal) -> String {
    match what {
        Refusal::Member(reason) => member_refusal(reason),
        Refusal::Payload(reason) => payload_refusal(reason),
    }
}

fn member_refusal(reason: RejectReason) -> String {
    match reason {
        RejectReason::BadMac => {
            "Someone without the room key tried to join and was refused.".into()
        }
        RejectReason::SenderMismatch => {
            "An announcement claiming another member's number was refused.".into()
        }
        RejectReason::InvalidKey => "A member announced an unusable key and was refused.".into(),
        RejectReason::BadSignature => {
            "A member's announcement had an invalid signature and was refused.".into()
        }
        RejectReason::KeyChange => "A member tried to swap its keys in the middle of the \
                                    conversation and was refused."
            .into(),
        RejectReason::MemberIdReused => {
            "The relay reported a member that had already left; it was refused.".into()
        }
        RejectReason::Malformed(e) => match version(e) {
            Some(which) => {
                format!("Someone using {which} version of Vroom cannot join this conversation.")
            }
            None => "An unreadable announcement was refused.".into(),
        },
        other => payload_refusal(other),
    }
}

fn payload_refusal(reason: RejectReason) -> String {
    match reason {
        RejectReason::Malformed(e) => match version(e) {
            Some(which) => format!("A message from {which} version of Vroom could not be read."),
            None => "An unreadable message was ignored.".into(),
        },
        RejectReason::SenderMismatch => {
            "A message claiming to come from another member was refused.".into()
        }
        RejectReason::NotForMe => "Keys meant for another member reached this tab and were \
                                   ignored."
            .into(),
        RejectReason::FromSelf => "A message claiming to come from this tab was refused.".into(),
        RejectReason::SenderLeft => "A message from a member who left was ignored.".into(),
        RejectReason::BadSignature => "A message with an invalid signature was refused: someone \
                                       tried to write in another member's name."
            .into(),
        RejectReason::OpenFailed => {
            "A member's keys were not made for this tab and were refused.".into()
        }
        RejectReason::BadName(e) => {
            format!("A member's display name was refused: {}.", name_error(e))
        }
        RejectReason::NameChanged => "A member tried to change its display name; refused.".into(),
        RejectReason::StaleChain => "A replayed key update was refused.".into(),
        RejectReason::UnknownChain => "A message under keys that expired could not be read.".into(),
        RejectReason::BeforeChainStart => "A message sent before you joined cannot be read.".into(),
        RejectReason::Replay => {
            "A message arrived a second time (replayed or too late) and was ignored.".into()
        }
        RejectReason::TooFarAhead => {
            "A message too far ahead of the others could not be read.".into()
        }
        RejectReason::DecryptFailed => "A damaged or forged message was refused.".into(),
        RejectReason::BadPadding => "A message with a malformed body was refused.".into(),
        RejectReason::QueueOverflow => {
            "Too many messages were waiting for their keys; some were dropped.".into()
        }
        RejectReason::BadMac
        | RejectReason::InvalidKey
        | RejectReason::KeyChange
        | RejectReason::MemberIdReused => member_refusal(reason),
    }
}

/// A line the page writes into the conversation.
pub fn system_line(line: &SystemLine) -> Vec<Piece> {
    match line {
        SystemLine::YouJoined { name } => vec![
            text("You joined as "),
            Piece::Name(name.clone()),
            text(". Messages are end-to-end encrypted."),
        ],
        SystemLine::Reconnected => vec![text("Reconnected. Your safety code is unchanged.")],
        SystemLine::ConnectionLost => vec![text("Connection lost. Reconnecting…")],
        SystemLine::Joined(face) => vec![Piece::Face(face.clone()), text(" joined.")],
        SystemLine::Returned(face) => vec![
            Piece::Face(face.clone()),
            text(" is back, with the same safety code."),
        ],
        SystemLine::KeyChanged {
            now,
            claims_me: true,
            ..
        } => vec![
            text("Warning: "),
            Piece::Face(now.clone()),
            text(" claims to be this tab but has another safety code. Compare safety codes now."),
        ],
        SystemLine::KeyChanged { now, before, .. } => vec![
            text("Warning: the safety code of "),
            Piece::Face(before.clone()),
            text(" changed — compare again. It now shows as "),
            Piece::Face(now.clone()),
            text("."),
        ],
        SystemLine::Left(face) => vec![Piece::Face(face.clone()), text(" left.")],
        SystemLine::Expired { member } => vec![text(format!(
            "Member number {member} did not finish joining in time and was removed."
        ))],
        SystemLine::KeysRotated => vec![text(
            "Keys rotated: whoever left cannot read what is said from now on.",
        )],
        SystemLine::Refused { what, more } => {
            let mut sentence = refusal(*what);
            if *more > 0 {
                sentence.push_str(&format!(" ({more} more like this were not shown.)"));
            }
            vec![text(sentence)]
        }
        SystemLine::SendingTooFast => {
            vec![text("You are sending too fast; a message was dropped.")]
        }
        SystemLine::LockChanged(true) => vec![text(
            "The room is locked: nobody new can join, and whoever drops out cannot come back \
             until it is unlocked.",
        )],
        SystemLine::LockChanged(false) => vec![text("The room is unlocked: the link works again.")],
    }
}

/// What remains of a room in the browser, said plainly (invite screen, the
/// invite panel and the start page).
pub const HISTORY_NOTE: &str = "Opening an invite link puts it in this browser's history (and \
    in synced history, if that is on). It stays there after the room ends, when it no longer \
    opens anything. Pasting the link on the start page instead keeps it out of history.";
