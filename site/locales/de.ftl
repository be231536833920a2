# Vroom, Deutsch.

## Language switch
language-label = Sprache

## Tab titles
title-landing = Vroom — private Räume, die verschwinden
title-room = Vroom-Raum
title-room-unread = ({ $unread }) Vroom-Raum
title-ended = Raum beendet — Vroom
title-invite = Einladung — Vroom

## Landing page
landing-lead = Private Chaträume, die verschwinden. Kein Konto, keine Telefonnummer, keine E-Mail. Nachrichten werden in deinem Browser Ende-zu-Ende-verschlüsselt; wenn der Raum endet, bleibt nichts davon auf irgendeinem Server.
step-create = Erstelle
step-create-rest = { " " }einen Raum mit einem Klick.
step-share = Teile
step-share-rest = { " " }den Einladungslink (oder einen Raumnamen und eine Passphrase).
step-talk = Sprich
step-talk-rest = { " " }miteinander und beende dann den Raum.
create-heading = Einen Raum erstellen
display-name-label = Dein Anzeigename
optional = (optional)
display-name-placeholder = z. B. Sam — sonst ein zufälliger
display-name-help = Nur die Leute im Raum sehen ihn: Er reist innerhalb der Verschlüsselung.
lifetime-label = Der Raum endet spätestens nach
lifetime-15-min = 15 Minuten
lifetime-1-h = 1 Stunde
lifetime-6-h = 6 Stunden
lifetime-24-h = 24 Stunden
quick-create = Schnellen Raum erstellen
quick-create-help = Ein zufälliges Geheimnis wird in deinem Browser gezogen und in den Einladungslink gelegt.
named-heading = Oder ein benannter Raum
named-help = Wähle einen Raumnamen und eine Passphrase und sag sie den anderen. Derselbe Name mit einer anderen Passphrase ist ein anderer Raum.
room-name-label = Raumname
passphrase-label = Passphrase
named-create = Benannten Raum erstellen oder öffnen
join-heading = Einem Raum beitreten
join-link-label = Einladungslink einfügen
join-link-go = Mit dem Link beitreten
join-named-heading = Oder mit Raumname und Passphrase
join-named-go = Dem benannten Raum beitreten
join-named-help = Dein Anzeigename von links gilt auch hier.
server-heading = Was der Server sehen kann und was nicht
server-sees = Er sieht: eine zufällige Raum-ID, einen Nachweis, dass du den Schlüssel des Raums kennst (nur gehasht gespeichert), einmalige Verbindungstickets und verschlüsselte Nachrichten fester Größen.
server-never-sees = Er sieht nie: deine Nachrichten, Anzeigenamen, das Raumgeheimnis, einen Raumnamen oder eine Passphrase. Der Schlüssel steht im Teil des Links nach #, den Browser nie senden.
server-stores-nothing = Nichts wird gespeichert: Nachrichten werden weitergeleitet, nie abgelegt, und jede Spur des Raums wird gelöscht, wenn er endet.
limits-heading = Ehrliche Grenzen
limit-code = Du vertraust dem Code, den diese Seite an deinen Browser schickt.
limit-link = Wer den Link (oder Name und Passphrase) hat, kann beitreten, solange der Raum läuft: Behandle ihn wie ein Passwort. Vergleicht Sicherheitscodes, um sicher zu wissen, wer wer ist.
limit-copies = Leute im Raum können kopieren oder abfotografieren, was sie sehen.
history-note = Ein geöffneter Einladungslink landet im Verlauf dieses Browsers (und im synchronisierten Verlauf, falls der an ist). Er bleibt dort, nachdem der Raum geendet hat, und öffnet dann nichts mehr. Wer den Link stattdessen auf der Startseite einfügt, hält ihn aus dem Verlauf heraus.
pass-weak = Schwach: Wer sie errät, kann beitreten. Nimm vier oder mehr zufällige Wörter.
pass-fair = Mittel: Länger ist sicherer, z. B. vier oder fünf zufällige Wörter.
pass-strong = Starke Passphrase.
named-missing = Gib sowohl den Raumnamen als auch die Passphrase ein.
deriving = Der Raumschlüssel wird aus Name und Passphrase abgeleitet … Das dauert absichtlich ein paar Sekunden, damit das Erraten von Passphrasen langsam ist.
derive-input = Dieser Raumname oder diese Passphrase ist nicht verwendbar (zu lang oder mit Steuerzeichen).
derive-worker = Dein Browser konnte die Schlüsselableitung nicht ausführen. Lade die Seite neu und versuche es noch einmal.

## Not found
not-found-heading = Seite nicht gefunden
not-found-text = Unter dieser Adresse gibt es nichts.
go-start = Zur Startseite

## Names and links
name-empty = er ist leer
name-too-long = er ist länger als 64 Bytes
name-invisible = er enthält U+{ $code }, ein unsichtbares oder Formatierungszeichen, mit dem er wie der Name von jemand anderem aussehen könnte
name-spacing = er hat ein Leerzeichen am Anfang oder Ende oder zwei Leerzeichen hintereinander
name-not-text = er ist kein gültiger Text
bad-name = Dieser Anzeigename ist nicht verwendbar: { $reason }. Wähle einen anderen.
link-not-whole = Das sieht nicht nach einem vollständigen Vroom-Einladungslink aus. Er sollte so aussehen: https://…/r/…#… — kopiere ihn ganz, auch den Teil nach #.
link-old = Diese Einladung stammt von einer älteren Vroom-Version. Ihrem Raum kann mit dieser Version nicht beigetreten werden: Bitte die Person, die sie geschickt hat, um einen neuen Link.

## API failures
api-not-found = Kein laufender Raum mit diesen Zugangsdaten. Vielleicht ist der Raum beendet, oder Link, Name oder Passphrase stimmen nicht.
api-full = Dieser Raum ist voll: Er hat schon so viele Leute, wie ein Raum fassen kann.
api-exists = Ein Raum mit diesen Zugangsdaten läuft bereits.
api-rate-limited-secs = Zu viele Versuche aus deinem Netz. Bitte warte { $secs } s und versuche es dann noch einmal.
api-rate-limited = Zu viele Versuche aus deinem Netz. Bitte warte eine Minute und versuche es dann noch einmal.
api-server = Der Server hat gerade Probleme. Bitte versuche es gleich noch einmal.
api-network = Der Server ist nicht erreichbar. Prüfe deine Verbindung und versuche es noch einmal.
api-refused = Der Server hat die Anfrage abgelehnt (HTTP { $status }).

## Why a room cannot be entered
failure-damaged-link = Dieser Einladungslink ist beschädigt: Sein geheimer Teil passt nicht zum Raum. Lass dir den Link noch einmal geben und füge ihn ganz ein.
failure-no-key = Diese Seite hat keinen Raumschlüssel. Einladungslinks enden mit einem # und dem Schlüssel; lass dir den ganzen Link noch einmal geben.
failure-damaged-key = Der Raumschlüssel dieses Tabs ist beschädigt.
failure-bad-name = Dein Anzeigename ist nicht verwendbar: { $reason }. Geh zurück und wähle einen anderen.
failure-relay-origin = Das Relay nimmt keine Verbindungen von der Adresse dieser Seite an.

## Passing problems
notice-not-sent = Gerade nicht verbunden: Deine Nachricht wurde nicht gesendet.
notice-too-long = Diese Nachricht ist zu lang.
notice-send-incomplete = Verbindung verloren: Nicht alles konnte gesendet werden.
notice-relay-unreachable = Keine Verbindung zum Relay möglich.

## Refusals
refused-bad-mac = Jemand ohne den Raumschlüssel wollte beitreten und wurde abgewiesen.
refused-announce-mismatch = Eine Ankündigung, die die Nummer eines anderen Mitglieds beanspruchte, wurde abgewiesen.
refused-invalid-key = Ein Mitglied hat einen unbrauchbaren Schlüssel angekündigt und wurde abgewiesen.
refused-announce-signature = Die Ankündigung eines Mitglieds hatte eine ungültige Signatur und wurde abgewiesen.
refused-key-change = Ein Mitglied wollte mitten im Gespräch seine Schlüssel tauschen und wurde abgewiesen.
refused-member-reused = Das Relay meldete ein Mitglied, das schon gegangen war; es wurde abgewiesen.
refused-join-older = Jemand mit einer älteren Vroom-Version kann diesem Gespräch nicht beitreten.
refused-join-newer = Jemand mit einer neueren Vroom-Version kann diesem Gespräch nicht beitreten.
refused-announce-unreadable = Eine unlesbare Ankündigung wurde abgewiesen.
refused-message-older = Eine Nachricht von einer älteren Vroom-Version konnte nicht gelesen werden.
refused-message-newer = Eine Nachricht von einer neueren Vroom-Version konnte nicht gelesen werden.
refused-message-unreadable = Eine unlesbare Nachricht wurde ignoriert.
refused-sender-mismatch = Eine Nachricht, die angeblich von einem anderen Mitglied kam, wurde abgewiesen.
refused-not-for-me = Schlüssel für ein anderes Mitglied kamen bei diesem Tab an und wurden ignoriert.
refused-from-self = Eine Nachricht, die angeblich von diesem Tab kam, wurde abgewiesen.
refused-sender-left = Eine Nachricht von einem gegangenen Mitglied wurde ignoriert.
refused-bad-signature = Eine Nachricht mit ungültiger Signatur wurde abgewiesen: Jemand wollte im Namen eines anderen Mitglieds schreiben.
refused-open-failed = Die Schlüssel eines Mitglieds waren nicht für diesen Tab gemacht und wurden abgewiesen.
refused-bad-name = Der Anzeigename eines Mitglieds wurde abgewiesen: { $reason }.
refused-name-changed = Ein Mitglied wollte seinen Anzeigenamen ändern; abgewiesen.
refused-stale-chain = Eine wiederholte Schlüsselaktualisierung wurde abgewiesen.
refused-unknown-chain = Eine Nachricht unter abgelaufenen Schlüsseln konnte nicht gelesen werden.
refused-before-start = Eine Nachricht von vor deinem Beitritt kann nicht gelesen werden.
refused-replay = Eine Nachricht kam ein zweites Mal an (wiederholt oder zu spät) und wurde ignoriert.
refused-too-far-ahead = Eine Nachricht, die den anderen zu weit voraus war, konnte nicht gelesen werden.
refused-decrypt = Eine beschädigte oder gefälschte Nachricht wurde abgewiesen.
refused-padding = Eine Nachricht mit fehlerhaftem Inhalt wurde abgewiesen.
refused-bad-offer = Ein Dateiangebot mit ungültigem Namen, Typ oder ungültiger Größe wurde abgewiesen.
refused-queue-overflow = Zu viele Nachrichten warteten auf ihre Schlüssel; einige wurden verworfen.
refused-more =
    { $more ->
        [one] (Eine weitere dieser Art wurde nicht angezeigt.)
       *[other] ({ $more } weitere dieser Art wurden nicht angezeigt.)
    }

## Lines in the conversation
line-you-joined = Du bist als { $name } beigetreten. Nachrichten sind Ende-zu-Ende-verschlüsselt.
line-reconnected = Wieder verbunden. Dein Sicherheitscode ist unverändert.
line-connection-lost = Verbindung verloren. Neu verbinden …
line-joined = { $member } ist beigetreten.
line-returned = { $member } ist zurück, mit demselben Sicherheitscode.
line-claims-me = Warnung: { $member } gibt sich als dieser Tab aus, hat aber einen anderen Sicherheitscode. Vergleicht jetzt die Sicherheitscodes.
line-key-changed = Warnung: Der Sicherheitscode von { $before } hat sich geändert — vergleicht erneut. Jetzt erscheint er als { $now }.
line-left = { $member } ist gegangen.
line-expired = Mitglied Nummer { $number } hat den Beitritt nicht rechtzeitig abgeschlossen und wurde entfernt.
line-keys-rotated = Schlüssel erneuert: Wer gegangen ist, kann ab jetzt nichts mehr mitlesen.
line-too-fast = Du sendest zu schnell; eine Nachricht wurde verworfen.

## Faces
colour-red = rot
colour-orange = orange
colour-olive = oliv
colour-green = grün
colour-teal = petrol
colour-blue = blau
colour-purple = lila
colour-pink = pink
colour-grey = grau
discriminator-title = { $colour } — die ersten fünf Ziffern des Sicherheitscodes dieses Mitglieds
same-name = gleicher Name wie ein anderes Mitglied

## The room
conn-connecting = Verbinden …
conn-online = Verbunden
conn-reconnecting = Neu verbinden …
home-label = Vroom-Startseite
quick-room = Schneller Raum
ends-in = Endet in { $time }
duration-hours = { $hours } h { $minutes } min
end-question = Den Raum für alle beenden?
leave-question = Diesen Raum verlassen?
end-now = Jetzt beenden
leave = Verlassen
cancel = Abbrechen
end-room = Raum beenden
conversation = Gespräch
message-label = Nachricht
composer-placeholder = Nachricht schreiben
composer-hint = Enter sendet, Umschalt+Enter beginnt eine neue Zeile.
send = Senden
counter = { $used } / { $max } Bytes
people-heading = Leute hier
people-help = Die farbige Marke und die Zahl neben einem Namen stammen aus den Schlüsseln dieser Person: Zwei Leute teilen sie nie zufällig. Um sicher zu wissen, wer wer ist, vergleicht den ganzen Sicherheitscode persönlich oder in einem Anruf.
joining = Tritt bei …
you = { " " }(du)
invite-heading = Einladen
invite-show = Einladungslink und QR-Code zeigen
invite-hide = Einladungslink verbergen
invite-link-label = Einladungslink
copy = Kopieren
copied = Kopiert
qr-label = QR-Code des Einladungslinks
invite-warn = Behandle diesen Link wie ein Passwort: Wer ihn hat, kann beitreten, solange der Raum läuft.
named-room-is = Das ist der benannte Raum { $name }.
named-room-warn = Teile statt eines Links den Raumnamen und die Passphrase — persönlich oder über einen anderen Kanal. Wer beides kennt, kann beitreten, solange der Raum läuft.
panel-open = Leute und Einladung
panel-close = Schließen
opening = Der Raum wird geöffnet …
ended-heading = Dieser Raum ist beendet.
ended-text = Nichts davon bleibt auf dem Server.
start-new = Einen neuen Raum starten
left-heading = Du hast den Raum verlassen.
left-text = Dieser Tab hält keinen seiner Schlüssel mehr.
back-start = Zurück zur Startseite
reopened-heading = Dieser Tab hat seinen Raum verlassen, als er geschlossen wurde.
reopened-text = Ein wieder geöffneter Tab tritt nicht erneut bei und behält nichts vom Raum. Wenn der Raum noch läuft, öffne den Einladungslink erneut.
failed-heading = Dieser Raum lässt sich nicht öffnen

## The invite screen
invite-title = Du bist in einen privaten Vroom-Raum eingeladen
invite-nothing-sent = Jemand hat dir einen Link zu einem schnellen Raum geschickt. Noch wurde nichts gesendet: Der Server weiß nicht, dass du ihn geöffnet hast.
invite-what-others-see = Wenn du beitrittst, sehen die Leute im Raum deinen Anzeigenamen und deinen Sicherheitscode, und du siehst ihre. Vroom kann dir vor dem Beitritt nicht sagen, wer oder wie viele im Raum sind.
invite-name-label = Dein Anzeigename
join-room = Dem Raum beitreten
not-now = Nicht jetzt

## Typing, notifications and the creator's controls
typing-one = { $a } schreibt…
typing-two = { $a } und { $b } schreiben…
typing-three = { $a }, { $b } und { $c } schreiben…
typing-more = { $a }, { $b }, { $c } und { $more } weitere schreiben…
settings-heading = Dieser Tab
send-typing = Anderen zeigen, wenn ich schreibe
send-typing-help = Andere sehen, dass du schreibst, nie was. Das Signal ist wie eine Nachricht verschlüsselt.
notify = Mich über neue Nachrichten benachrichtigen, während dieser Tab verborgen ist
notify-help = Dein Browser fragt zuerst. Benachrichtigungen sagen nur, dass eine Nachricht kam, außer du schaltest die nächste Option ein.
notify-text = In Benachrichtigungen zeigen, wer was geschrieben hat
notify-text-help = Dein System behält Benachrichtigungen womöglich auch nach dem Ende des Raums.
sound = Bei neuen Nachrichten einen kurzen Ton spielen, während dieser Tab verborgen ist
sound-help = Leise, eine Viertelsekunde.
notify-title-mention = { $name } hat dich erwähnt
notify-body-mention = Jemand hat dich in deinem Vroom-Raum erwähnt.
notify-body = Eine neue Nachricht in deinem Vroom-Raum.
notice-notifications-refused = Dieser Browser erlaubt dieser Seite keine Benachrichtigungen. Du kannst sie in seinen Website-Einstellungen erlauben.
mention-mark = erwähnt dich
lock-room = Raum sperren
unlock-room = Raum entsperren
locked-state = Gesperrt: Niemand Neues kann beitreten
remove-member = Entfernen
confirm-remove = { $name } entfernen? Der Raum wird gesperrt, also bringt der Link diese Person nicht zurück.
confirm-remove-yes = Entfernen und sperren
removed-heading = Die Person, die den Raum erstellt hat, hat dich entfernt.
removed-text = Dieser Tab hält keinen Schlüssel des Raums mehr und kann nicht lesen, was ab jetzt gesagt wird.
api-locked = Dieser Raum ist gesperrt: Gerade lässt niemand Neues herein. Bitte um Entsperrung.
api-no-such-member = Diese Person ist nicht mehr im Raum.
line-locked = Der Raum ist gesperrt: Niemand Neues kann beitreten, und wer die Verbindung verliert, kommt erst nach dem Entsperren zurück.
line-unlocked = Der Raum ist entsperrt: Der Link funktioniert wieder.
