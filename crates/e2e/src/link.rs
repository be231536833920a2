//! Invite links: `https://<origin>/r/<room-id>#<S>`.
//!
//! The room id (22 base64url characters) is in the path, so the server can
//! route the page; the secret S (43 base64url characters) is in the fragment,
//! which browsers never send to a server.
//!
//! The room id is redundant (it follows from S) but lets a damaged link be
//! told from a whole one, and a link of protocol version 1 from a link of
//! this version: its id is the v1 id of its secret.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::LinkError;
use crate::schedule::{RoomId, RoomSecret};

/// Builds the invite link of a room. `origin` is e.g. `https://vroom.example`
/// (a trailing `/` is dropped; a base path such as `https://host/app` is kept).
pub fn invite_link(origin: &str, secret: &RoomSecret) -> Zeroizing<String> {
    let origin = origin.trim_end_matches('/');
    let room_id = secret.derive_keys().room_id();
    Zeroizing::new(format!(
        "{origin}/r/{}#{}",
        room_id.to_base64url(),
        secret.to_base64url().as_str()
    ))
}

/// Parses a complete invite link and checks that its room id belongs to its secret.
///
/// Accepts `http://` and `https://` (scheme case-insensitive), any host, any
/// base path before `/r/<room-id>`, and ignores a query string.
pub fn parse_invite_link(link: &str) -> Result<RoomSecret, LinkError> {
    let link = link.trim();
    let rest = strip_prefix_ignore_case(link, "https://")
        .or_else(|| strip_prefix_ignore_case(link, "http://"))
        .ok_or(LinkError::NotHttp)?;
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (rest, None),
    };
    let without_query = before_fragment
        .split_once('?')
        .map_or(before_fragment, |(p, _)| p);
    let (host, path) = match without_query.split_once('/') {
        Some((h, p)) => (h, p),
        None => (without_query, ""),
    };
    if host.is_empty() {
        return Err(LinkError::MissingHost);
    }
    let room_id = room_id_from_path(path)?;
    let fragment = fragment
        .filter(|f| !f.is_empty())
        .ok_or(LinkError::MissingFragment)?;
    parse_room_parts(room_id, fragment)
}

/// Checks the parts the page reads from `location`: the room id from the
/// path and the fragment (with or without its leading `#`).
///
/// A link whose id is the protocol-v1 id of its secret is refused with
/// [`LinkError::OldVersion`]; any other mismatch is [`LinkError::RoomIdMismatch`].
pub fn parse_room_parts(room_id: &str, fragment: &str) -> Result<RoomSecret, LinkError> {
    let claimed = RoomId::from_base64url(room_id)?;
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.is_empty() {
        return Err(LinkError::MissingFragment);
    }
    let secret = RoomSecret::from_base64url(fragment)?;
    let same = |id: RoomId| bool::from(id.as_bytes().ct_eq(claimed.as_bytes()));
    if same(secret.derive_keys().room_id()) {
        Ok(secret)
    } else if same(secret.v1_room_id()) {
        Err(LinkError::OldVersion)
    } else {
        Err(LinkError::RoomIdMismatch)
    }
}

/// The room id segment of a path ending in `r/<room-id>` (after the host's `/`).
fn room_id_from_path(path: &str) -> Result<&str, LinkError> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let (prefix, id) = path.rsplit_once('/').ok_or(LinkError::MissingRoomPath)?;
    let r_segment = prefix.rsplit_once('/').map_or(prefix, |(_, last)| last);
    if r_segment != "r" || id.is_empty() {
        return Err(LinkError::MissingRoomPath);
    }
    Ok(id)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn secret() -> RoomSecret {
        RoomSecret::from_bytes([42; 32])
    }

    #[test]
    fn round_trip() {
        let link = invite_link("https://vroom.example/", &secret());
        let id = secret().derive_keys().room_id().to_base64url();
        assert_eq!(
            link.as_str(),
            format!(
                "https://vroom.example/r/{id}#{}",
                secret().to_base64url().as_str()
            )
        );
        let parsed = parse_invite_link(&link).unwrap();
        assert_eq!(parsed.as_bytes(), secret().as_bytes());
        // Base paths, http, upper-case scheme, query and a trailing slash are fine.
        let s = secret().to_base64url();
        for l in [
            format!("http://127.0.0.1:3000/r/{id}#{}", s.as_str()),
            format!("HTTPS://h/app/r/{id}/?x=1#{}", s.as_str()),
            format!("  https://h/r/{id}#{}\n", s.as_str()),
        ] {
            assert!(parse_invite_link(&l).is_ok(), "{l}");
        }
    }

    #[test]
    fn typed_errors() {
        let id = secret().derive_keys().room_id().to_base64url();
        let s = secret().to_base64url();
        let s = s.as_str();
        let other = RoomSecret::from_bytes([1; 32]).to_base64url();
        let cases: Vec<(String, LinkError)> = vec![
            (format!("ftp://h/r/{id}#{s}"), LinkError::NotHttp),
            (format!("https:///r/{id}#{s}"), LinkError::MissingHost),
            (format!("https://h/x/{id}#{s}"), LinkError::MissingRoomPath),
            (format!("https://h/r/#{s}"), LinkError::MissingRoomPath),
            (format!("https://h#{s}"), LinkError::MissingRoomPath),
            (format!("https://h/r/{id}"), LinkError::MissingFragment),
            (format!("https://h/r/{id}#"), LinkError::MissingFragment),
            (format!("https://h/r/{id}x#{s}"), LinkError::RoomIdLength),
            (
                format!("https://h/r/{}#{s}", id.replace(|_| true, "+")),
                LinkError::RoomIdEncoding,
            ),
            (format!("https://h/r/{id}#{s}A"), LinkError::SecretLength),
            (
                format!("https://h/r/{id}#{}=", &s[..42]),
                LinkError::SecretEncoding,
            ),
            (
                format!("https://h/r/{id}#{}", other.as_str()),
                LinkError::RoomIdMismatch,
            ),
        ];
        for (link, want) in cases {
            assert_eq!(parse_invite_link(&link).map(|_| ()), Err(want), "{link}");
        }
    }

    #[test]
    fn v1_links_are_recognised() {
        // The quick room of the frozen v1 vectors (vectors/v1/key_schedule.json).
        let v1 = "https://vroom.example/r/yjGdyzDZq7ng_ZcrNxLurA#dnJvb20gdGVzdCB2ZWN0b3IgcXVpY2sgcm9vbSBTISE";
        assert_eq!(
            parse_invite_link(v1).map(|_| ()),
            Err(LinkError::OldVersion)
        );
        assert_eq!(
            secret().v1_room_id(),
            RoomSecret::from_bytes([42; 32]).v1_room_id()
        );
        let v1_id = secret().v1_room_id().to_base64url();
        assert_eq!(
            parse_room_parts(&v1_id, secret().to_base64url().as_str()).map(|_| ()),
            Err(LinkError::OldVersion)
        );
    }

    #[test]
    fn parts() {
        let id = secret().derive_keys().room_id().to_base64url();
        let s = secret().to_base64url();
        assert!(parse_room_parts(&id, &format!("#{}", s.as_str())).is_ok());
        assert!(parse_room_parts(&id, s.as_str()).is_ok());
        assert_eq!(
            parse_room_parts(&id, "#").map(|_| ()),
            Err(LinkError::MissingFragment)
        );
    }
}
