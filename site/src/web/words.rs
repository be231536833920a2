//! Every sentence the page shows, looked up in the message catalogues
//! (`site/locales/*.ftl`, see `vroom_site::catalogue`) in the page's
//! language: one function per kind of message, chosen from the typed values
//! the state machine emits (`room.rs`, `api.rs`, `vroom_e2e` errors), and
//! [`t!`] for a fixed text in a view. Every lookup reads the language
//! reactively, so a view that calls these inside a closure follows the
//! switch.
//!
//! Sentences that mention a member are a list of [`Piece`]s, so the view can
//! show the member's name bidi-isolated with its discriminator, wherever the
//! language puts it.

use leptos::prelude::Signal;
use vroom_e2e::{DecodeError, LinkError, NameError, RejectReason};
use vroom_site::catalogue::{Arg, Lang, Part};

use super::api::ApiError;
use super::lang;
use super::room::{Conn, Face, Failure, Notice, Refusal, SystemLine};

/// A fixed text of a view, following the language: `t!` of a message id
/// is [`text`] of it.
macro_rules! t {
    ($id:literal) => {
        $crate::web::words::text($id)
    };
}
pub(crate) use t;

/// Catalogue message `id` as a signal that follows the language. One type
/// for every fixed text, so the views share one rendering path instead of
/// one per text (a closure per text costs about a kilobyte of wasm each).
pub fn text(id: &'static str) -> Signal<String> {
    Signal::derive(move || tr(id))
}

/// Message `id` in the page's language (English if that catalogue lacks
/// it, the id itself if English does too: the tests rule both out).
pub fn tr(id: &str) -> String {
    tr_with(id, &[])
}

/// Message `id` with its variables.
pub fn tr_with(id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let lang = lang::current();
    lang::catalogue(lang)
        .format(id, args)
        .or_else(|| lang::catalogue(Lang::En).format(id, args))
        .unwrap_or_else(|| id.to_owned())
}

/// Message `id` whose variables `faces` (in order) are members: words
/// around [`Piece::Face`]s.
fn parts(id: &str, args: &[(&str, Arg<'_>)], faces: &[(&str, &Face)]) -> Vec<Piece> {
    let slots: Vec<&str> = faces.iter().map(|(name, _)| *name).collect();
    let lang = lang::current();
    let parts = lang::catalogue(lang)
        .parts(id, args, &slots)
        .or_else(|| lang::catalogue(Lang::En).parts(id, args, &slots))
        .unwrap_or_else(|| vec![Part::Text(id.to_owned())]);
    parts
        .into_iter()
        .map(|part| match part {
            Part::Text(text) => Piece::Text(text),
            Part::Slot(i) => Piece::Face(faces[i].1.clone()),
        })
        .collect()
}

/// A piece of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain words.
    Text(String),
    /// A member: name and discriminator.
    Face(Face),
    /// A display name alone (this tab's, or a named room's).
    Name(String),
}

/// The tooltip of a discriminator (its colour's name, in palette order of
/// `style.css` `.c0`…`.c7`).
pub fn discriminator_title(colour: u8) -> String {
    let name = match colour {
        0 => tr("colour-red"),
        1 => tr("colour-orange"),
        2 => tr("colour-olive"),
        3 => tr("colour-green"),
        4 => tr("colour-teal"),
        5 => tr("colour-blue"),
        6 => tr("colour-purple"),
        7 => tr("colour-pink"),
        _ => tr("colour-grey"),
    };
    tr_with("discriminator-title", &[("colour", Arg::Text(&name))])
}

/// Who is typing: up to [`vroom_site::typing::MAX_SHOWN`] faces, then a count.
pub fn typing(faces: &[Face]) -> Vec<Piece> {
    let shown = &faces[..faces.len().min(vroom_site::typing::MAX_SHOWN)];
    let more = (faces.len() - shown.len()) as u64;
    match (shown, more) {
        ([], _) => Vec::new(),
        ([a], _) => parts("typing-one", &[], &[("a", a)]),
        ([a, b], _) => parts("typing-two", &[], &[("a", a), ("b", b)]),
        ([a, b, c], 0) => parts("typing-three", &[], &[("a", a), ("b", b), ("c", c)]),
        ([a, b, c, ..], more) => parts(
            "typing-more",
            &[("more", Arg::Number(more))],
            &[("a", a), ("b", b), ("c", c)],
        ),
    }
}

/// A notification for a message that arrived while the tab was hidden:
/// `(title, body)`; names and text only when `show_text`.
pub fn notification(show_text: bool, name: &str, text: &str, mention: bool) -> (String, String) {
    if show_text {
        let cut: String = text.chars().take(200).collect();
        let title = if mention {
            tr_with("notify-title-mention", &[("name", Arg::Text(name))])
        } else {
            name.to_owned()
        };
        return (title, cut);
    }
    let body = if mention {
        tr("notify-body-mention")
    } else {
        tr("notify-body")
    };
    ("Vroom".to_owned(), body)
}

/// The creator's button that locks or unlocks the room.
pub fn lock_button(locked: bool) -> String {
    if locked {
        tr("unlock-room")
    } else {
        tr("lock-room")
    }
}

/// The question before removing `name`.
pub fn confirm_remove(name: &str) -> Vec<Piece> {
    named("confirm-remove", "name", name)
}

/// The state of the relay connection.
pub fn conn(conn: Conn) -> String {
    match conn {
        Conn::Connecting => tr("conn-connecting"),
        Conn::Online => tr("conn-online"),
        Conn::Reconnecting => tr("conn-reconnecting"),
    }
}

/// The tab's title: never a name (titles go to history).
pub fn title(ended: bool, invite: bool, unread: u32) -> String {
    if ended {
        tr("title-ended")
    } else if invite {
        tr("title-invite")
    } else if unread > 0 {
        tr_with(
            "title-room-unread",
            &[("unread", Arg::Number(unread.into()))],
        )
    } else {
        tr("title-room")
    }
}

/// How long until the room ends: `m:ss`, or hours and minutes.
pub fn ends_in(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let time = if h > 0 {
        tr_with(
            "duration-hours",
            &[
                ("hours", Arg::Number(h)),
                ("minutes", Arg::Text(&format!("{m:02}"))),
            ],
        )
    } else {
        format!("{m}:{s:02}")
    };
    tr_with("ends-in", &[("time", Arg::Text(&time))])
}

/// The composer's byte counter.
pub fn counter(used: usize, max: usize) -> String {
    tr_with(
        "counter",
        &[
            ("used", Arg::Number(used as u64)),
            ("max", Arg::Number(max as u64)),
        ],
    )
}

/// The room lifetimes the landing page offers: label and seconds.
pub fn lifetimes() -> [(String, u32); 4] {
    [
        (tr("lifetime-15-min"), 15 * 60),
        (tr("lifetime-1-h"), 3600),
        (tr("lifetime-6-h"), 6 * 3600),
        (tr("lifetime-24-h"), 24 * 3600),
    ]
}

/// How strong a passphrase looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Easy to guess.
    Weak,
    /// Could be longer.
    Fair,
    /// Long and varied.
    Strong,
}

/// The hint under the passphrase field.
pub fn strength(s: Strength) -> String {
    match s {
        Strength::Weak => tr("pass-weak"),
        Strength::Fair => tr("pass-fair"),
        Strength::Strong => tr("pass-strong"),
    }
}

/// Why a display name cannot be used.
pub fn name_error(e: NameError) -> String {
    match e {
        NameError::Empty => tr("name-empty"),
        NameError::TooLong => tr("name-too-long"),
        NameError::Invisible(code) => tr_with(
            "name-invisible",
            &[("code", Arg::Text(&format!("{code:04X}")))],
        ),
        NameError::Spacing => tr("name-spacing"),
        NameError::NotUtf8 | NameError::Padding => tr("name-not-text"),
    }
}

/// A refused display name, as a sentence.
pub fn bad_name(e: NameError) -> String {
    tr_with("bad-name", &[("reason", Arg::Text(&name_error(e)))])
}

/// Why an invite link pasted on the start page cannot be used.
pub fn link_error(e: LinkError) -> String {
    match e {
        LinkError::OldVersion => tr("link-old"),
        _ => tr("link-not-whole"),
    }
}

/// An API failure, as a sentence.
pub fn api_error(e: &ApiError) -> String {
    match e {
        ApiError::NotFound => tr("api-not-found"),
        ApiError::Full => tr("api-full"),
        ApiError::Exists => tr("api-exists"),
        ApiError::RateLimited(Some(secs)) => tr_with(
            "api-rate-limited-secs",
            &[("secs", Arg::Number((*secs).into()))],
        ),
        ApiError::RateLimited(None) => tr("api-rate-limited"),
        ApiError::Server => tr("api-server"),
        ApiError::Network => tr("api-network"),
        ApiError::Refused(status) => {
            tr_with("api-refused", &[("status", Arg::Number((*status).into()))])
        }
        ApiError::Locked => tr("api-locked"),
        ApiError::NoSuchMember => tr("api-no-such-member"),
    }
}

/// Why the room cannot be entered.
pub fn failure(f: &Failure) -> String {
    match f {
        Failure::OldLink => tr("link-old"),
        Failure::DamagedLink => tr("failure-damaged-link"),
        Failure::NoKey => tr("failure-no-key"),
        Failure::DamagedKey => tr("failure-damaged-key"),
        Failure::BadName(e) => tr_with(
            "failure-bad-name",
            &[("reason", Arg::Text(&name_error(*e)))],
        ),
        Failure::Api(e) => api_error(e),
        Failure::RelayOrigin => tr("failure-relay-origin"),
        Failure::Locked => tr("api-locked"),
    }
}

/// A passing problem.
pub fn notice(n: &Notice) -> String {
    match n {
        Notice::NotSent => tr("notice-not-sent"),
        Notice::TooLong => tr("notice-too-long"),
        Notice::SendIncomplete => tr("notice-send-incomplete"),
        Notice::RelayUnreachable => tr("notice-relay-unreachable"),
        Notice::Api(e) => api_error(e),
        Notice::NotificationsRefused => tr("notice-notifications-refused"),
    }
}

/// Whether a malformed frame came from an older or a newer version.
enum Version {
    Older,
    Newer,
}

fn version(e: DecodeError) -> Option<Version> {
    match e {
        DecodeError::TooOld(_) => Some(Version::Older),
        DecodeError::TooNew(_) => Some(Version::Newer),
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
        RejectReason::BadMac => tr("refused-bad-mac"),
        RejectReason::SenderMismatch => tr("refused-announce-mismatch"),
        RejectReason::InvalidKey => tr("refused-invalid-key"),
        RejectReason::BadSignature => tr("refused-announce-signature"),
        RejectReason::KeyChange => tr("refused-key-change"),
        RejectReason::MemberIdReused => tr("refused-member-reused"),
        RejectReason::Malformed(e) => match version(e) {
            Some(Version::Older) => tr("refused-join-older"),
            Some(Version::Newer) => tr("refused-join-newer"),
            None => tr("refused-announce-unreadable"),
        },
        other => payload_refusal(other),
    }
}

fn payload_refusal(reason: RejectReason) -> String {
    match reason {
        RejectReason::Malformed(e) => match version(e) {
            Some(Version::Older) => tr("refused-message-older"),
            Some(Version::Newer) => tr("refused-message-newer"),
            None => tr("refused-message-unreadable"),
        },
        RejectReason::SenderMismatch => tr("refused-sender-mismatch"),
        RejectReason::NotForMe => tr("refused-not-for-me"),
        RejectReason::FromSelf => tr("refused-from-self"),
        RejectReason::SenderLeft => tr("refused-sender-left"),
        RejectReason::BadSignature => tr("refused-bad-signature"),
        RejectReason::OpenFailed => tr("refused-open-failed"),
        RejectReason::BadName(e) => {
            tr_with("refused-bad-name", &[("reason", Arg::Text(&name_error(e)))])
        }
        RejectReason::NameChanged => tr("refused-name-changed"),
        RejectReason::StaleChain => tr("refused-stale-chain"),
        RejectReason::UnknownChain => tr("refused-unknown-chain"),
        RejectReason::BeforeChainStart => tr("refused-before-start"),
        RejectReason::Replay => tr("refused-replay"),
        RejectReason::TooFarAhead => tr("refused-too-far-ahead"),
        RejectReason::DecryptFailed => tr("refused-decrypt"),
        RejectReason::BadPadding => tr("refused-padding"),
        RejectReason::BadOffer => tr("refused-bad-offer"),
        RejectReason::QueueOverflow => tr("refused-queue-overflow"),
        RejectReason::BadMac
        | RejectReason::InvalidKey
        | RejectReason::KeyChange
        | RejectReason::MemberIdReused => member_refusal(reason),
    }
}

/// A line the page writes into the conversation.
pub fn system_line(line: &SystemLine) -> Vec<Piece> {
    match line {
        SystemLine::YouJoined { name } => named("line-you-joined", "name", name),
        SystemLine::Reconnected => vec![Piece::Text(tr("line-reconnected"))],
        SystemLine::ConnectionLost => vec![Piece::Text(tr("line-connection-lost"))],
        SystemLine::Joined(face) => parts("line-joined", &[], &[("member", face)]),
        SystemLine::Returned(face) => parts("line-returned", &[], &[("member", face)]),
        SystemLine::KeyChanged {
            now,
            claims_me: true,
            ..
        } => parts("line-claims-me", &[], &[("member", now)]),
        SystemLine::KeyChanged { now, before, .. } => {
            parts("line-key-changed", &[], &[("before", before), ("now", now)])
        }
        SystemLine::Left(face) => parts("line-left", &[], &[("member", face)]),
        SystemLine::Expired { member } => vec![Piece::Text(tr_with(
            "line-expired",
            &[("number", Arg::Number((*member).into()))],
        ))],
        SystemLine::KeysRotated => vec![Piece::Text(tr("line-keys-rotated"))],
        SystemLine::Refused { what, more } => {
            let mut sentence = refusal(*what);
            if *more > 0 {
                sentence.push(' ');
                sentence.push_str(&tr_with(
                    "refused-more",
                    &[("more", Arg::Number((*more).into()))],
                ));
            }
            vec![Piece::Text(sentence)]
        }
        SystemLine::SendingTooFast => vec![Piece::Text(tr("line-too-fast"))],
        SystemLine::LockChanged(true) => vec![Piece::Text(tr("line-locked"))],
        SystemLine::LockChanged(false) => vec![Piece::Text(tr("line-unlocked"))],
    }
}

/// Which named room this is, the name shown as a [`Piece::Name`].
pub fn named_room_is(name: &str) -> Vec<Piece> {
    named("named-room-is", "name", name)
}

/// Message `id` whose variable `var` is the display or room name `name`.
fn named(id: &str, var: &str, name: &str) -> Vec<Piece> {
    let lang = lang::current();
    let parts = lang::catalogue(lang)
        .parts(id, &[], &[var])
        .or_else(|| lang::catalogue(Lang::En).parts(id, &[], &[var]))
        .unwrap_or_else(|| vec![Part::Text(id.to_owned())]);
    parts
        .into_iter()
        .map(|part| match part {
            Part::Text(text) => Piece::Text(text),
            Part::Slot(_) => Piece::Name(name.to_owned()),
        })
        .collect()
}

/// What remains of a room in the browser, said plainly (invite screen, the
/// invite panel and the start page).
pub fn history_note() -> String {
    tr("history-note")
}
