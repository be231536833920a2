# Vroom, français.

## Language switch
language-label = Langue

## Tab titles
title-landing = Vroom — des salons privés qui disparaissent
title-room = Salon Vroom
title-room-unread = ({ $unread }) Salon Vroom
title-ended = Salon terminé — Vroom
title-invite = Invitation — Vroom

## Landing page
landing-lead = Des salons de discussion privés qui disparaissent. Pas de compte, pas de numéro de téléphone, pas d'e-mail. Les messages sont chiffrés de bout en bout dans votre navigateur ; quand le salon se termine, il n'en reste rien sur aucun serveur.
step-create = Créez
step-create-rest = { " " }un salon en un clic.
step-share = Partagez
step-share-rest = { " " }le lien d'invitation (ou un nom de salon et une phrase secrète).
step-talk = Discutez
step-talk-rest = , puis terminez le salon.
create-heading = Créer un salon
display-name-label = Votre nom affiché
optional = (facultatif)
display-name-placeholder = p. ex. Sam — sinon un nom au hasard
display-name-help = Seules les personnes du salon le voient : il voyage à l'intérieur du chiffrement.
lifetime-label = Le salon se termine au plus tard après
lifetime-15-min = 15 minutes
lifetime-1-h = 1 heure
lifetime-6-h = 6 heures
lifetime-24-h = 24 heures
quick-create = Créer un salon rapide
quick-create-help = Un secret aléatoire est tiré dans votre navigateur et placé dans le lien d'invitation.
named-heading = Ou un salon nommé
named-help = Choisissez un nom de salon et une phrase secrète et communiquez-les aux autres. Le même nom avec une autre phrase est un autre salon.
room-name-label = Nom du salon
passphrase-label = Phrase secrète
named-create = Créer ou ouvrir le salon nommé
join-heading = Rejoindre un salon
join-link-label = Collez le lien d'invitation
join-link-go = Rejoindre avec le lien
join-named-heading = Ou avec un nom de salon et une phrase secrète
join-named-go = Rejoindre le salon nommé
join-named-help = Votre nom affiché, à gauche, sert ici aussi.
server-heading = Ce que le serveur peut voir et ne peut pas voir
server-sees = Il voit : un identifiant de salon aléatoire, une preuve que vous connaissez la clé du salon (stockée seulement hachée), des tickets de connexion à usage unique et des messages chiffrés de tailles fixes.
server-never-sees = Il ne voit jamais : vos messages, les noms affichés, le secret du salon, un nom de salon ni une phrase secrète. La clé se trouve dans la partie du lien après #, que les navigateurs n'envoient jamais.
server-stores-nothing = Rien n'est conservé : les messages sont relayés, jamais enregistrés, et toute trace du salon est effacée quand il se termine.
limits-heading = Limites honnêtes
limit-code = Vous faites confiance au code que ce site envoie à votre navigateur.
limit-link = Quiconque a le lien (ou le nom et la phrase secrète) peut rejoindre le salon tant qu'il est actif : traitez-le comme un mot de passe. Comparez les codes de sécurité pour savoir qui est qui.
limit-copies = Les personnes du salon peuvent copier ou photographier ce qu'elles voient.
history-note = Ouvrir un lien d'invitation l'inscrit dans l'historique de ce navigateur (et dans l'historique synchronisé, s'il est activé). Il y reste après la fin du salon, quand il n'ouvre plus rien. Coller le lien sur la page d'accueil le garde hors de l'historique.
pass-weak = Faible : quiconque la devine peut entrer. Utilisez quatre mots aléatoires ou plus.
pass-fair = Moyenne : plus longue est plus sûre, p. ex. quatre ou cinq mots aléatoires.
pass-strong = Phrase secrète solide.
named-missing = Saisissez le nom du salon et la phrase secrète.
deriving = Dérivation de la clé du salon à partir du nom et de la phrase secrète… Cela prend quelques secondes exprès, pour rendre lente la devinette des phrases secrètes.
derive-input = Ce nom de salon ou cette phrase secrète est inutilisable (trop long, ou avec des caractères de contrôle).
derive-worker = Votre navigateur n'a pas pu exécuter la dérivation de clé. Rechargez la page et réessayez.

## Not found
not-found-heading = Page introuvable
not-found-text = Il n'y a rien à cette adresse.
go-start = Aller à la page d'accueil

## Names and links
name-empty = il est vide
name-too-long = il dépasse 64 octets
name-invisible = il contient U+{ $code }, un caractère invisible ou de mise en forme qui pourrait le faire ressembler au nom de quelqu'un d'autre
name-spacing = il a une espace au début ou à la fin, ou deux espaces de suite
name-not-text = ce n'est pas un texte valide
bad-name = Ce nom affiché est inutilisable : { $reason }. Choisissez-en un autre.
link-not-whole = Cela ne ressemble pas à un lien d'invitation Vroom complet. Il devrait ressembler à https://…/r/…#… — copiez-le en entier, y compris la partie après #.
link-old = Cette invitation vient d'une version antérieure de Vroom. Son salon ne peut pas être rejoint avec cette version : demandez un nouveau lien à la personne qui l'a envoyée.

## API failures
api-not-found = Aucun salon actif avec ces identifiants. Le salon est peut-être terminé, ou le lien, le nom ou la phrase secrète n'est pas le bon.
api-full = Ce salon est complet : il compte déjà autant de personnes qu'un salon peut en accueillir.
api-exists = Un salon avec ces identifiants est déjà actif.
api-rate-limited-secs = Trop de tentatives depuis votre réseau. Attendez { $secs } s et réessayez.
api-rate-limited = Trop de tentatives depuis votre réseau. Attendez une minute et réessayez.
api-server = Le serveur rencontre des difficultés. Réessayez dans un instant.
api-network = Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.
api-refused = Le serveur a refusé la requête (HTTP { $status }).

## Why a room cannot be entered
failure-damaged-link = Ce lien d'invitation est abîmé : sa partie secrète ne correspond pas au salon. Redemandez le lien et collez-le en entier.
failure-no-key = Cette page n'a pas de clé de salon. Les liens d'invitation se terminent par un # suivi de la clé ; redemandez le lien complet.
failure-damaged-key = La clé de salon de cet onglet est abîmée.
failure-bad-name = Votre nom affiché est inutilisable : { $reason }. Revenez en arrière et choisissez-en un autre.
failure-relay-origin = Le relais n'accepte pas les connexions depuis l'adresse de cette page.

## Passing problems
notice-not-sent = Pas de connexion pour l'instant : votre message n'a pas été envoyé.
notice-too-long = Ce message est trop long.
notice-send-incomplete = Connexion perdue : tout n'a pas pu être envoyé.
notice-relay-unreachable = Impossible d'ouvrir une connexion avec le relais.

## Refusals
refused-bad-mac = Quelqu'un sans la clé du salon a tenté d'entrer et a été refusé.
refused-announce-mismatch = Une annonce revendiquant le numéro d'un autre membre a été refusée.
refused-invalid-key = Un membre a annoncé une clé inutilisable et a été refusé.
refused-announce-signature = L'annonce d'un membre avait une signature invalide et a été refusée.
refused-key-change = Un membre a tenté de changer ses clés en pleine conversation et a été refusé.
refused-member-reused = Le relais a signalé un membre déjà parti ; il a été refusé.
refused-join-older = Quelqu'un qui utilise une version antérieure de Vroom ne peut pas rejoindre cette conversation.
refused-join-newer = Quelqu'un qui utilise une version plus récente de Vroom ne peut pas rejoindre cette conversation.
refused-announce-unreadable = Une annonce illisible a été refusée.
refused-message-older = Un message d'une version antérieure de Vroom n'a pas pu être lu.
refused-message-newer = Un message d'une version plus récente de Vroom n'a pas pu être lu.
refused-message-unreadable = Un message illisible a été ignoré.
refused-sender-mismatch = Un message prétendant venir d'un autre membre a été refusé.
refused-not-for-me = Des clés destinées à un autre membre sont arrivées dans cet onglet et ont été ignorées.
refused-from-self = Un message prétendant venir de cet onglet a été refusé.
refused-sender-left = Un message d'un membre parti a été ignoré.
refused-bad-signature = Un message à la signature invalide a été refusé : quelqu'un a tenté d'écrire au nom d'un autre membre.
refused-open-failed = Les clés d'un membre n'étaient pas faites pour cet onglet et ont été refusées.
refused-bad-name = Le nom affiché d'un membre a été refusé : { $reason }.
refused-name-changed = Un membre a tenté de changer son nom affiché ; refusé.
refused-stale-chain = Une mise à jour de clés rejouée a été refusée.
refused-unknown-chain = Un message chiffré avec des clés expirées n'a pas pu être lu.
refused-before-start = Un message envoyé avant votre arrivée ne peut pas être lu.
refused-replay = Un message est arrivé une seconde fois (rejoué ou trop tard) et a été ignoré.
refused-too-far-ahead = Un message trop en avance sur les autres n'a pas pu être lu.
refused-decrypt = Un message abîmé ou falsifié a été refusé.
refused-padding = Un message au contenu mal formé a été refusé.
refused-bad-offer = Une offre de fichier au nom, au type ou à la taille invalide a été refusée.
refused-queue-overflow = Trop de messages attendaient leurs clés ; certains ont été abandonnés.
refused-more =
    { $more ->
        [one] (Un autre du même genre n'a pas été affiché.)
       *[other] ({ $more } autres du même genre n'ont pas été affichés.)
    }

## Lines in the conversation
line-you-joined = Vous êtes entré·e sous le nom { $name }. Les messages sont chiffrés de bout en bout.
line-reconnected = Reconnecté. Votre code de sécurité est inchangé.
line-connection-lost = Connexion perdue. Reconnexion…
line-joined = { $member } est arrivé·e.
line-returned = { $member } est de retour, avec le même code de sécurité.
line-claims-me = Attention : { $member } prétend être cet onglet mais a un autre code de sécurité. Comparez les codes de sécurité maintenant.
line-key-changed = Attention : le code de sécurité de { $before } a changé — comparez à nouveau. Il apparaît maintenant comme { $now }.
line-left = { $member } est parti·e.
line-expired = Le membre numéro { $number } n'a pas fini d'entrer à temps et a été retiré.
line-keys-rotated = Clés renouvelées : qui est parti ne peut plus lire ce qui se dit désormais.
line-too-fast = Vous envoyez trop vite ; un message a été abandonné.

## Faces
colour-red = rouge
colour-orange = orange
colour-olive = olive
colour-green = vert
colour-teal = bleu canard
colour-blue = bleu
colour-purple = violet
colour-pink = rose
colour-grey = gris
discriminator-title = { $colour } — les cinq premiers chiffres du code de sécurité de ce membre
same-name = même nom qu'un autre membre

## The room
conn-connecting = Connexion…
conn-online = Connecté
conn-reconnecting = Reconnexion…
home-label = Page d'accueil de Vroom
quick-room = Salon rapide
ends-in = Se termine dans { $time }
duration-hours = { $hours } h { $minutes } min
end-question = Terminer le salon pour tout le monde ?
leave-question = Quitter ce salon ?
end-now = Le terminer maintenant
leave = Quitter
cancel = Annuler
end-room = Terminer le salon
conversation = Conversation
message-label = Message
composer-placeholder = Écrire un message
composer-hint = Entrée envoie, Maj+Entrée commence une nouvelle ligne.
send = Envoyer
counter = { $used } / { $max } octets
people-heading = Personnes présentes
people-help = La marque colorée et le nombre à côté d'un nom viennent des clés de cette personne : deux personnes ne les partagent jamais par hasard. Pour savoir avec certitude qui est qui, comparez le code de sécurité complet en personne ou lors d'un appel.
joining = Arrivée…
you = { " " }(vous)
invite-heading = Inviter
invite-show = Afficher le lien d'invitation et le code QR
invite-hide = Masquer le lien d'invitation
invite-link-label = Lien d'invitation
copy = Copier
copied = Copié
qr-label = Code QR du lien d'invitation
invite-warn = Traitez ce lien comme un mot de passe : quiconque l'a peut entrer tant que le salon est actif.
named-room-is = Voici le salon nommé { $name }.
named-room-warn = Partagez le nom du salon et la phrase secrète plutôt qu'un lien — en personne ou par un autre canal. Quiconque connaît les deux peut entrer tant que le salon est actif.
panel-open = Personnes et invitation
panel-close = Fermer
opening = Ouverture du salon…
ended-heading = Ce salon est terminé.
ended-text = Il n'en reste rien sur le serveur.
start-new = Créer un nouveau salon
left-heading = Vous avez quitté le salon.
left-text = Cet onglet ne détient plus aucune de ses clés.
back-start = Retour à la page d'accueil
reopened-heading = Cet onglet a quitté son salon à sa fermeture.
reopened-text = Un onglet rouvert ne revient pas dans le salon et n'en garde rien. Si le salon est encore actif, rouvrez le lien d'invitation.
failed-heading = Impossible d'ouvrir ce salon

## The invite screen
invite-title = Vous êtes invité·e dans un salon Vroom privé
invite-nothing-sent = Quelqu'un vous a envoyé le lien d'un salon rapide. Rien n'a encore été envoyé : le serveur ne sait pas que vous l'avez ouvert.
invite-what-others-see = Quand vous entrez, les personnes du salon voient votre nom affiché et votre code de sécurité, et vous voyez les leurs. Vroom ne peut pas vous dire qui ni combien de personnes sont dans le salon avant que vous entriez.
invite-name-label = Votre nom affiché
join-room = Rejoindre le salon
not-now = Pas maintenant

## Typing, notifications and the creator's controls
typing-one = { $a } écrit…
typing-two = { $a } et { $b } écrivent…
typing-three = { $a }, { $b } et { $c } écrivent…
typing-more = { $a }, { $b }, { $c } et { $more } autres écrivent…
settings-heading = Cet onglet
send-typing = Montrer aux autres quand j'écris
send-typing-help = Les autres voient que vous écrivez, jamais quoi. Le signal est chiffré comme un message.
notify = M'avertir des nouveaux messages quand cet onglet est masqué
notify-help = Votre navigateur demande d'abord. Les notifications disent seulement qu'un message est arrivé, sauf si vous activez l'option suivante.
notify-text = Montrer qui a écrit quoi dans les notifications
notify-text-help = Votre système peut garder les notifications après la fin du salon.
sound = Jouer un son bref pour les nouveaux messages quand cet onglet est masqué
sound-help = Discret, un quart de seconde.
notify-title-mention = { $name } vous a mentionné
notify-body-mention = Quelqu'un vous a mentionné dans votre salon Vroom.
notify-body = Un nouveau message dans votre salon Vroom.
notice-notifications-refused = Ce navigateur n'autorise pas les notifications de cette page. Vous pouvez les autoriser dans ses paramètres du site.
mention-mark = vous mentionne
lock-room = Verrouiller le salon
unlock-room = Déverrouiller le salon
locked-state = Verrouillé : personne de nouveau ne peut entrer
remove-member = Retirer
confirm-remove = Retirer { $name } ? Le salon se verrouille, le lien ne le fera donc pas revenir.
confirm-remove-yes = Retirer et verrouiller
removed-heading = La personne qui a créé le salon vous a retiré.
removed-text = Cet onglet ne détient plus aucune clé du salon et ne peut pas lire ce qui se dira désormais.
api-locked = Ce salon est verrouillé : personne de nouveau n'y entre pour l'instant. Demandez qu'on le déverrouille.
api-no-such-member = Cette personne n'est plus dans le salon.
line-locked = Le salon est verrouillé : personne de nouveau ne peut entrer, et qui se déconnecte ne pourra revenir qu'après le déverrouillage.
line-unlocked = Le salon est déverrouillé : le lien fonctionne de nouveau.
