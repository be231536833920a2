# Vroom, English: the reference catalogue. Every message here must exist in
# every other language (`cargo test -p vroom-site` checks it).

## Language switch
language-label = Language

## Tab titles
title-landing = Vroom — private rooms that vanish
title-room = Vroom room
title-room-unread = ({ $unread }) Vroom room
title-ended = Room ended — Vroom
title-invite = Invitation — Vroom

## Landing page
landing-lead = Private chat rooms that vanish. No account, no phone number, no e-mail. Messages are end-to-end encrypted in your browser; when the room ends, nothing of it is left on any server.
step-create = Create
step-create-rest = { " " }a room with one click.
step-share = Share
step-share-rest = { " " }the invite link (or a room name and passphrase).
step-talk = Talk
step-talk-rest = , then end the room.
create-heading = Create a room
display-name-label = Your display name
optional = (optional)
display-name-placeholder = e.g. Sam — a random one otherwise
display-name-help = Only the people in the room see it: it travels inside the encryption.
lifetime-label = The room ends at the latest after
lifetime-15-min = 15 minutes
lifetime-1-h = 1 hour
lifetime-6-h = 6 hours
lifetime-24-h = 24 hours
quick-create = Create a quick room
quick-create-help = A random secret is drawn in your browser and put in the invite link.
named-heading = Or a named room
named-help = Choose a room name and a passphrase and tell them to the others. The same name with another passphrase is another room.
room-name-label = Room name
passphrase-label = Passphrase
named-create = Create or open the named room
join-heading = Join a room
join-link-label = Paste the invite link
join-link-go = Join with the link
join-named-heading = Or with a room name and passphrase
join-named-go = Join the named room
join-named-help = Your display name from the left is used here too.
server-heading = What the server can and cannot see
server-sees = It sees: a random room id, a proof that you know the room's key (stored only hashed), one-time connection tickets, and encrypted messages of fixed sizes.
server-never-sees = It never sees: your messages, display names, the room secret, a room name or a passphrase. The key is in the part of the link after #, which browsers never send.
server-stores-nothing = Nothing is stored: messages are relayed, never saved, and every trace of the room is deleted when it ends.
limits-heading = Honest limits
limit-code = You trust the code this site sends to your browser.
limit-link = Anyone with the link (or the name and passphrase) can join while the room is live: treat it like a password. Compare safety codes to be sure who is who.
limit-copies = People in the room can copy or screenshot what they see.
history-note = Opening an invite link puts it in this browser's history (and in synced history, if that is on). It stays there after the room ends, when it no longer opens anything. Pasting the link on the start page instead keeps it out of history.
pass-weak = Weak: anyone who guesses it can join. Use four or more random words.
pass-fair = Fair: longer is safer, e.g. four or five random words.
pass-strong = Strong passphrase.
named-missing = Enter both the room name and the passphrase.
deriving = Deriving the room key from the name and passphrase… This takes a few seconds on purpose, to make guessing passphrases slow.
derive-input = That room name or passphrase cannot be used (too long, or with control characters).
derive-worker = Your browser could not run the key derivation. Reload the page and try again.

## Not found
not-found-heading = Page not found
not-found-text = There is nothing at this address.
go-start = Go to the start page

## Names and links
name-empty = it is empty
name-too-long = it is longer than 64 bytes
name-invisible = it contains U+{ $code }, an invisible or formatting character that could make it look like someone else's name
name-spacing = it has a space at its start or end, or two spaces in a row
name-not-text = it is not valid text
bad-name = That display name cannot be used: { $reason }. Choose another.
link-not-whole = That does not look like a whole Vroom invite link. It should look like https://…/r/…#… — copy all of it, including the part after #.
link-old = This invite is from an older version of Vroom. The room it opened cannot be joined with this version: ask whoever sent it for a new link.

## API failures
api-not-found = No live room with these credentials. The room may have ended, or the link, name or passphrase is not right.
api-full = This room is full: it already has as many people as a room may hold.
api-exists = A room with these credentials is live already.
api-rate-limited-secs = Too many attempts from your network. Please wait { $secs } s and try again.
api-rate-limited = Too many attempts from your network. Please wait a minute and try again.
api-server = The server is having trouble right now. Please try again in a moment.
api-network = Cannot reach the server. Check your connection and try again.
api-refused = The server refused the request (HTTP { $status }).

## Why a room cannot be entered
failure-damaged-link = This invite link is damaged: its secret part does not match the room. Ask for the link again and paste all of it.
failure-no-key = This page has no room key. Invite links end with a # followed by the key; ask for the whole link again.
failure-damaged-key = This tab's room key is damaged.
failure-bad-name = Your display name cannot be used: { $reason }. Go back and choose another.
failure-relay-origin = The relay does not accept connections from this page's address.

## Passing problems
notice-not-sent = Not connected right now: your message was not sent.
notice-too-long = This message is too long.
notice-send-incomplete = Connection lost: not everything could be sent.
notice-relay-unreachable = Cannot open a connection to the relay.

## Refusals
refused-bad-mac = Someone without the room key tried to join and was refused.
refused-announce-mismatch = An announcement claiming another member's number was refused.
refused-invalid-key = A member announced an unusable key and was refused.
refused-announce-signature = A member's announcement had an invalid signature and was refused.
refused-key-change = A member tried to swap its keys in the middle of the conversation and was refused.
refused-member-reused = The relay reported a member that had already left; it was refused.
refused-join-older = Someone using an older version of Vroom cannot join this conversation.
refused-join-newer = Someone using a newer version of Vroom cannot join this conversation.
refused-announce-unreadable = An unreadable announcement was refused.
refused-message-older = A message from an older version of Vroom could not be read.
refused-message-newer = A message from a newer version of Vroom could not be read.
refused-message-unreadable = An unreadable message was ignored.
refused-sender-mismatch = A message claiming to come from another member was refused.
refused-not-for-me = Keys meant for another member reached this tab and were ignored.
refused-from-self = A message claiming to come from this tab was refused.
refused-sender-left = A message from a member who left was ignored.
refused-bad-signature = A message with an invalid signature was refused: someone tried to write in another member's name.
refused-open-failed = A member's keys were not made for this tab and were refused.
refused-bad-name = A member's display name was refused: { $reason }.
refused-name-changed = A member tried to change its display name; refused.
refused-stale-chain = A replayed key update was refused.
refused-unknown-chain = A message under keys that expired could not be read.
refused-before-start = A message sent before you joined cannot be read.
refused-replay = A message arrived a second time (replayed or too late) and was ignored.
refused-too-far-ahead = A message too far ahead of the others could not be read.
refused-decrypt = A damaged or forged message was refused.
refused-padding = A message with a malformed body was refused.
refused-bad-offer = A file offer with an invalid name, type or size was refused.
refused-queue-overflow = Too many messages were waiting for their keys; some were dropped.
refused-more =
    { $more ->
        [one] (one more like this was not shown.)
       *[other] ({ $more } more like this were not shown.)
    }

## Lines in the conversation ({ $name }, { $member }, { $before } and { $now } are shown as names)
line-you-joined = You joined as { $name }. Messages are end-to-end encrypted.
line-reconnected = Reconnected. Your safety code is unchanged.
line-connection-lost = Connection lost. Reconnecting…
line-joined = { $member } joined.
line-returned = { $member } is back, with the same safety code.
line-claims-me = Warning: { $member } claims to be this tab but has another safety code. Compare safety codes now.
line-key-changed = Warning: the safety code of { $before } changed — compare again. It now shows as { $now }.
line-left = { $member } left.
line-expired = Member number { $number } did not finish joining in time and was removed.
line-keys-rotated = Keys rotated: whoever left cannot read what is said from now on.
line-too-fast = You are sending too fast; a message was dropped.

## Faces
colour-red = red
colour-orange = orange
colour-olive = olive
colour-green = green
colour-teal = teal
colour-blue = blue
colour-purple = purple
colour-pink = pink
colour-grey = grey
discriminator-title = { $colour } — the first five digits of this member's safety code
same-name = same name as another member

## The room
conn-connecting = Connecting…
conn-online = Connected
conn-reconnecting = Reconnecting…
home-label = Vroom start page
quick-room = Quick room
ends-in = Ends in { $time }
duration-hours = { $hours } h { $minutes } min
end-question = End the room for everyone?
leave-question = Leave this room?
end-now = End it now
leave = Leave
cancel = Cancel
end-room = End room
conversation = Conversation
message-label = Message
composer-placeholder = Write a message
composer-hint = Enter sends, Shift+Enter starts a new line.
send = Send
counter = { $used } / { $max } bytes
people-heading = People here
people-help = The coloured mark and number beside a name come from that person's keys: two people never share them by chance. To be sure who is who, compare the whole safety code in person or on a call.
joining = Joining…
you = { " " }(you)
invite-heading = Invite
invite-show = Show the invite link and QR code
invite-hide = Hide the invite link
invite-link-label = Invite link
copy = Copy
copied = Copied
qr-label = QR code of the invite link
invite-warn = Treat this link like a password: anyone who has it can join while the room is live.
named-room-is = This is the named room { $name }.
named-room-warn = Share the room name and the passphrase instead of a link — in person or over another channel. Anyone who knows both can join while the room is live.
panel-open = People and invite
panel-close = Close
opening = Opening the room…
ended-heading = This room has ended.
ended-text = Nothing of it remains on the server.
start-new = Start a new room
left-heading = You left the room.
left-text = This tab no longer holds any of its keys.
back-start = Back to the start page
reopened-heading = This tab left its room when it was closed.
reopened-text = A reopened tab does not join again, and it keeps nothing of the room. If the room is still live, open the invite link again.
failed-heading = Cannot open this room

## The invite screen
invite-title = You are invited to a private Vroom room
invite-nothing-sent = Someone shared a link to a quick room with you. Nothing has been sent yet: the server does not know you opened it.
invite-what-others-see = When you join, the people in the room see your display name and your safety code, and you see theirs. Vroom cannot tell you who or how many are in the room before you join.
invite-name-label = Your display name
join-room = Join the room
not-now = Not now

## Typing, notifications and the creator's controls
typing-one = { $a } is typing…
typing-two = { $a } and { $b } are typing…
typing-three = { $a }, { $b } and { $c } are typing…
typing-more = { $a }, { $b }, { $c } and { $more } more are typing…
settings-heading = This tab
send-typing = Show others when I am typing
send-typing-help = Others see that you are writing, never what. The signal is encrypted like a message.
notify = Notify me of new messages while this tab is hidden
notify-help = Your browser asks first. Notifications say only that a message came, unless you switch on the next option.
notify-text = Show who wrote what in notifications
notify-text-help = Your system may keep notifications after the room ends.
sound = Play a short sound for new messages while this tab is hidden
sound-help = Quiet, a quarter of a second.
notify-title-mention = { $name } mentioned you
notify-body-mention = Someone mentioned you in your Vroom room.
notify-body = A new message in your Vroom room.
notice-notifications-refused = This browser does not allow notifications from this page. You can allow them in its site settings.
mention-mark = mentions you
lock-room = Lock room
unlock-room = Unlock room
locked-state = Locked: nobody new can join
remove-member = Remove
confirm-remove = Remove { $name }? The room locks, so the link will not bring them back.
confirm-remove-yes = Remove and lock
removed-heading = The room's creator removed you.
removed-text = This tab no longer holds any of the room's keys, and cannot read what is said from now on.
api-locked = This room is locked: its creator lets nobody new in right now. Ask them to unlock it.
api-no-such-member = That person is no longer in the room.
line-locked = The room is locked: nobody new can join, and whoever drops out cannot come back until it is unlocked.
line-unlocked = The room is unlocked: the link works again.
