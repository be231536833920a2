//! Which endpoint a path names, and the method it takes.

/// An endpoint of the rooms API, with the unparsed room id of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `/api/rooms`
    Rooms,
    /// `/api/rooms/{room_id}`
    Room(&'a str),
    /// `/api/rooms/{room_id}/join`
    Join(&'a str),
    /// `/api/rooms/{room_id}/lock`
    Lock(&'a str),
    /// `/api/rooms/{room_id}/remove`
    Remove(&'a str),
    /// `/api/health`
    Health,
}

impl<'a> Route<'a> {
    /// The route a path names; `None` for any other path.
    pub(crate) fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/api/")?;
        if rest == "health" {
            return Some(Self::Health);
        }
        let rest = rest.strip_prefix("rooms")?;
        if rest.is_empty() {
            return Some(Self::Rooms);
        }
        let mut segments = rest.strip_prefix('/')?.split('/');
        let id = segments.next().filter(|id| !id.is_empty())?;
        match (segments.next(), segments.next()) {
            (None, _) => Some(Self::Room(id)),
            (Some("join"), None) => Some(Self::Join(id)),
            (Some("lock"), None) => Some(Self::Lock(id)),
            (Some("remove"), None) => Some(Self::Remove(id)),
            _ => None,
        }
    }

    /// The one method the route takes (also the `Allow` header).
    pub(crate) const fn method(self) -> &'static str {
        match self {
            Self::Rooms | Self::Join(_) | Self::Lock(_) | Self::Remove(_) => "POST",
            Self::Room(_) => "DELETE",
            Self::Health => "GET",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::parse("/api/rooms"), Some(Route::Rooms));
        assert_eq!(Route::parse("/api/health"), Some(Route::Health));
        assert_eq!(Route::parse("/api/rooms/abc"), Some(Route::Room("abc")));
        assert_eq!(
            Route::parse("/api/rooms/abc/join"),
            Some(Route::Join("abc"))
        );
        assert_eq!(
            Route::parse("/api/rooms/abc/lock"),
            Some(Route::Lock("abc"))
        );
        assert_eq!(
            Route::parse("/api/rooms/abc/remove"),
            Some(Route::Remove("abc"))
        );
        for unknown in [
            "",
            "/",
            "/api",
            "/api/",
            "/api/rooms/",
            "/api/roomsx",
            "/api/rooms//join",
            "/api/rooms/abc/",
            "/api/rooms/abc/join/",
            "/api/rooms/abc/leave",
            "/api/rooms/abc/join/x",
            "/api/rooms/abc/lock/",
            "/api/rooms/abc/remove/7",
            "/api/health/",
            "/rooms",
            "api/rooms",
        ] {
            assert_eq!(Route::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn methods() {
        assert_eq!(Route::Rooms.method(), "POST");
        assert_eq!(Route::Join("x").method(), "POST");
        assert_eq!(Route::Lock("x").method(), "POST");
        assert_eq!(Route::Remove("x").method(), "POST");
        assert_eq!(Route::Room("x").method(), "DELETE");
        assert_eq!(Route::Health.method(), "GET");
    }
}
