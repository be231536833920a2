# Vroom, español.

## Language switch
language-label = Idioma

## Tab titles
title-landing = Vroom — salas privadas que desaparecen
title-room = Sala de Vroom
title-room-unread = ({ $unread }) Sala de Vroom
title-ended = Sala terminada — Vroom
title-invite = Invitación — Vroom

## Landing page
landing-lead = Salas de chat privadas que desaparecen. Sin cuenta, sin número de teléfono, sin correo. Los mensajes se cifran de extremo a extremo en tu navegador; cuando la sala termina, no queda nada de ella en ningún servidor.
step-create = Crea
step-create-rest = { " " }una sala con un clic.
step-share = Comparte
step-share-rest = { " " }el enlace de invitación (o un nombre de sala y una frase de contraseña).
step-talk = Habla
step-talk-rest = { " " }y luego termina la sala.
create-heading = Crear una sala
display-name-label = Tu nombre visible
optional = (opcional)
display-name-placeholder = p. ej. Sam — si no, uno al azar
display-name-help = Solo lo ve la gente de la sala: viaja dentro del cifrado.
lifetime-label = La sala termina como muy tarde tras
lifetime-15-min = 15 minutos
lifetime-1-h = 1 hora
lifetime-6-h = 6 horas
lifetime-24-h = 24 horas
quick-create = Crear una sala rápida
quick-create-help = Tu navegador genera un secreto al azar y lo pone en el enlace de invitación.
named-heading = O una sala con nombre
named-help = Elige un nombre de sala y una frase de contraseña y díselos a los demás. El mismo nombre con otra frase es otra sala.
room-name-label = Nombre de la sala
passphrase-label = Frase de contraseña
named-create = Crear o abrir la sala con nombre
join-heading = Unirse a una sala
join-link-label = Pega el enlace de invitación
join-link-go = Unirse con el enlace
join-named-heading = O con un nombre de sala y una frase de contraseña
join-named-go = Unirse a la sala con nombre
join-named-help = Aquí también se usa tu nombre visible de la izquierda.
server-heading = Lo que el servidor puede ver y lo que no
server-sees = Ve: un identificador de sala aleatorio, una prueba de que conoces la clave de la sala (guardada solo como hash), billetes de conexión de un solo uso y mensajes cifrados de tamaños fijos.
server-never-sees = Nunca ve: tus mensajes, los nombres visibles, el secreto de la sala, un nombre de sala ni una frase de contraseña. La clave está en la parte del enlace tras #, que los navegadores nunca envían.
server-stores-nothing = No se guarda nada: los mensajes se retransmiten, nunca se almacenan, y todo rastro de la sala se borra cuando termina.
limits-heading = Límites honestos
limit-code = Confías en el código que este sitio envía a tu navegador.
limit-link = Cualquiera con el enlace (o el nombre y la frase) puede unirse mientras la sala esté activa: trátalo como una contraseña. Comparad los códigos de seguridad para saber quién es quién.
limit-copies = La gente de la sala puede copiar o capturar lo que ve.
history-note = Abrir un enlace de invitación lo guarda en el historial de este navegador (y en el historial sincronizado, si está activado). Sigue ahí después de que la sala termine, cuando ya no abre nada. Pegar el enlace en la página de inicio lo mantiene fuera del historial.
pass-weak = Débil: quien la adivine puede unirse. Usa cuatro o más palabras al azar.
pass-fair = Regular: más larga es más segura, p. ej. cuatro o cinco palabras al azar.
pass-strong = Frase de contraseña fuerte.
named-missing = Introduce el nombre de la sala y la frase de contraseña.
deriving = Derivando la clave de la sala a partir del nombre y la frase… Tarda unos segundos a propósito, para que adivinar frases sea lento.
derive-input = Ese nombre de sala o esa frase no se pueden usar (demasiado largos o con caracteres de control).
derive-worker = Tu navegador no pudo ejecutar la derivación de la clave. Recarga la página y vuelve a intentarlo.

## Not found
not-found-heading = Página no encontrada
not-found-text = No hay nada en esta dirección.
go-start = Ir a la página de inicio

## Names and links
name-empty = está vacío
name-too-long = tiene más de 64 bytes
name-invisible = contiene U+{ $code }, un carácter invisible o de formato que podría hacerlo parecer el nombre de otra persona
name-spacing = tiene un espacio al principio o al final, o dos espacios seguidos
name-not-text = no es un texto válido
bad-name = Ese nombre visible no se puede usar: { $reason }. Elige otro.
link-not-whole = Eso no parece un enlace de invitación de Vroom completo. Debería tener este aspecto: https://…/r/…#… — cópialo entero, incluida la parte tras #.
link-old = Esta invitación es de una versión anterior de Vroom. No es posible unirse a su sala con esta versión: pide un enlace nuevo a quien te la envió.

## API failures
api-not-found = No hay ninguna sala activa con estos datos. Puede que la sala haya terminado o que el enlace, el nombre o la frase no sean correctos.
api-full = Esta sala está llena: ya tiene tantas personas como cabe en una sala.
api-exists = Ya hay una sala activa con estos datos.
api-rate-limited-secs = Demasiados intentos desde tu red. Espera { $secs } s y vuelve a intentarlo.
api-rate-limited = Demasiados intentos desde tu red. Espera un minuto y vuelve a intentarlo.
api-server = El servidor tiene problemas en este momento. Vuelve a intentarlo en un momento.
api-network = No se puede contactar con el servidor. Comprueba tu conexión y vuelve a intentarlo.
api-refused = El servidor rechazó la solicitud (HTTP { $status }).

## Why a room cannot be entered
failure-damaged-link = Este enlace de invitación está dañado: su parte secreta no corresponde a la sala. Pide el enlace otra vez y pégalo entero.
failure-no-key = Esta página no tiene clave de sala. Los enlaces de invitación terminan con # seguido de la clave; pide de nuevo el enlace completo.
failure-damaged-key = La clave de sala de esta pestaña está dañada.
failure-bad-name = Tu nombre visible no se puede usar: { $reason }. Vuelve atrás y elige otro.
failure-relay-origin = El relé no acepta conexiones desde la dirección de esta página.

## Passing problems
notice-not-sent = Sin conexión en este momento: tu mensaje no se envió.
notice-too-long = Este mensaje es demasiado largo.
notice-send-incomplete = Conexión perdida: no se pudo enviar todo.
notice-relay-unreachable = No se puede abrir una conexión con el relé.

## Refusals
refused-bad-mac = Alguien sin la clave de la sala intentó unirse y fue rechazado.
refused-announce-mismatch = Se rechazó un anuncio que reclamaba el número de otro miembro.
refused-invalid-key = Un miembro anunció una clave inutilizable y fue rechazado.
refused-announce-signature = El anuncio de un miembro tenía una firma no válida y fue rechazado.
refused-key-change = Un miembro intentó cambiar sus claves en mitad de la conversación y fue rechazado.
refused-member-reused = El relé informó de un miembro que ya se había ido; fue rechazado.
refused-join-older = Alguien con una versión anterior de Vroom no puede unirse a esta conversación.
refused-join-newer = Alguien con una versión más reciente de Vroom no puede unirse a esta conversación.
refused-announce-unreadable = Se rechazó un anuncio ilegible.
refused-message-older = No se pudo leer un mensaje de una versión anterior de Vroom.
refused-message-newer = No se pudo leer un mensaje de una versión más reciente de Vroom.
refused-message-unreadable = Se ignoró un mensaje ilegible.
refused-sender-mismatch = Se rechazó un mensaje que decía venir de otro miembro.
refused-not-for-me = Llegaron a esta pestaña claves destinadas a otro miembro y se ignoraron.
refused-from-self = Se rechazó un mensaje que decía venir de esta pestaña.
refused-sender-left = Se ignoró un mensaje de un miembro que se fue.
refused-bad-signature = Se rechazó un mensaje con una firma no válida: alguien intentó escribir en nombre de otro miembro.
refused-open-failed = Las claves de un miembro no estaban hechas para esta pestaña y se rechazaron.
refused-bad-name = Se rechazó el nombre visible de un miembro: { $reason }.
refused-name-changed = Un miembro intentó cambiar su nombre visible; rechazado.
refused-stale-chain = Se rechazó una actualización de claves repetida.
refused-unknown-chain = No se pudo leer un mensaje con claves caducadas.
refused-before-start = No se puede leer un mensaje enviado antes de que te unieras.
refused-replay = Un mensaje llegó por segunda vez (repetido o demasiado tarde) y se ignoró.
refused-too-far-ahead = No se pudo leer un mensaje demasiado adelantado respecto a los demás.
refused-decrypt = Se rechazó un mensaje dañado o falsificado.
refused-padding = Se rechazó un mensaje con un cuerpo mal formado.
refused-bad-offer = Se rechazó una oferta de archivo con un nombre, tipo o tamaño no válido.
refused-queue-overflow = Demasiados mensajes esperaban sus claves; se descartaron algunos.
refused-more =
    { $more ->
        [one] (No se mostró uno más como este.)
       *[other] (No se mostraron { $more } más como este.)
    }

## Lines in the conversation
line-you-joined = Te uniste como { $name }. Los mensajes están cifrados de extremo a extremo.
line-reconnected = Reconectado. Tu código de seguridad no ha cambiado.
line-connection-lost = Conexión perdida. Reconectando…
line-joined = { $member } se unió.
line-returned = { $member } ha vuelto, con el mismo código de seguridad.
line-claims-me = Atención: { $member } dice ser esta pestaña pero tiene otro código de seguridad. Comparad ahora los códigos de seguridad.
line-key-changed = Atención: el código de seguridad de { $before } ha cambiado — comparad de nuevo. Ahora aparece como { $now }.
line-left = { $member } se fue.
line-expired = El miembro número { $number } no terminó de unirse a tiempo y fue retirado.
line-keys-rotated = Claves renovadas: quien se fue no puede leer lo que se diga a partir de ahora.
line-too-fast = Estás enviando demasiado rápido; se descartó un mensaje.

## Faces
colour-red = rojo
colour-orange = naranja
colour-olive = oliva
colour-green = verde
colour-teal = verde azulado
colour-blue = azul
colour-purple = morado
colour-pink = rosa
colour-grey = gris
discriminator-title = { $colour } — las cinco primeras cifras del código de seguridad de este miembro
same-name = mismo nombre que otro miembro

## The room
conn-connecting = Conectando…
conn-online = Conectado
conn-reconnecting = Reconectando…
home-label = Página de inicio de Vroom
quick-room = Sala rápida
ends-in = Termina en { $time }
duration-hours = { $hours } h { $minutes } min
end-question = ¿Terminar la sala para todos?
leave-question = ¿Salir de esta sala?
end-now = Terminarla ya
leave = Salir
cancel = Cancelar
end-room = Terminar la sala
conversation = Conversación
message-label = Mensaje
composer-placeholder = Escribe un mensaje
composer-hint = Intro envía, Mayús+Intro empieza una línea nueva.
send = Enviar
counter = { $used } / { $max } bytes
people-heading = Personas aquí
people-help = La marca de color y el número junto a un nombre salen de las claves de esa persona: dos personas nunca los comparten por casualidad. Para saber con certeza quién es quién, comparad el código de seguridad completo en persona o en una llamada.
joining = Uniéndose…
you = { " " }(tú)
invite-heading = Invitar
invite-show = Mostrar el enlace de invitación y el código QR
invite-hide = Ocultar el enlace de invitación
invite-link-label = Enlace de invitación
copy = Copiar
copied = Copiado
qr-label = Código QR del enlace de invitación
invite-warn = Trata este enlace como una contraseña: quien lo tenga puede unirse mientras la sala esté activa.
named-room-is = Esta es la sala con nombre { $name }.
named-room-warn = Comparte el nombre de la sala y la frase en lugar de un enlace — en persona o por otro canal. Quien conozca ambos puede unirse mientras la sala esté activa.
panel-open = Personas e invitación
panel-close = Cerrar
opening = Abriendo la sala…
ended-heading = Esta sala ha terminado.
ended-text = No queda nada de ella en el servidor.
start-new = Empezar una sala nueva
left-heading = Saliste de la sala.
left-text = Esta pestaña ya no guarda ninguna de sus claves.
back-start = Volver a la página de inicio
reopened-heading = Esta pestaña salió de su sala cuando se cerró.
reopened-text = Una pestaña reabierta no vuelve a unirse y no guarda nada de la sala. Si la sala sigue activa, abre de nuevo el enlace de invitación.
failed-heading = No se puede abrir esta sala

## The invite screen
invite-title = Te han invitado a una sala privada de Vroom
invite-nothing-sent = Alguien te ha compartido un enlace a una sala rápida. Aún no se ha enviado nada: el servidor no sabe que lo abriste.
invite-what-others-see = Al unirte, la gente de la sala ve tu nombre visible y tu código de seguridad, y tú ves los suyos. Vroom no puede decirte quién ni cuántos hay en la sala antes de que te unas.
invite-name-label = Tu nombre visible
join-room = Unirse a la sala
not-now = Ahora no

## Typing, notifications and the creator's controls
typing-one = { $a } está escribiendo…
typing-two = { $a } y { $b } están escribiendo…
typing-three = { $a }, { $b } y { $c } están escribiendo…
typing-more = { $a }, { $b }, { $c } y { $more } más están escribiendo…
settings-heading = Esta pestaña
send-typing = Mostrar a los demás cuando escribo
send-typing-help = Los demás ven que escribes, nunca qué. La señal va cifrada como un mensaje.
notify = Avisarme de mensajes nuevos mientras esta pestaña está oculta
notify-help = Tu navegador pregunta primero. Los avisos solo dicen que llegó un mensaje, salvo que actives la opción siguiente.
notify-text = Mostrar en los avisos quién escribió qué
notify-text-help = Tu sistema puede guardar los avisos después de que termine la sala.
sound = Reproducir un sonido breve con mensajes nuevos mientras esta pestaña está oculta
sound-help = Suave, un cuarto de segundo.
notify-title-mention = { $name } te mencionó
notify-body-mention = Alguien te mencionó en tu sala de Vroom.
notify-body = Un mensaje nuevo en tu sala de Vroom.
notice-notifications-refused = Este navegador no permite avisos de esta página. Puedes permitirlos en su configuración del sitio.
mention-mark = te menciona
lock-room = Cerrar la sala
unlock-room = Abrir la sala
locked-state = Cerrada: nadie nuevo puede entrar
remove-member = Expulsar
confirm-remove = ¿Expulsar a { $name }? La sala se cierra, así que el enlace no le dejará volver.
confirm-remove-yes = Expulsar y cerrar
removed-heading = Quien creó la sala te ha expulsado.
removed-text = Esta pestaña ya no guarda ninguna clave de la sala y no puede leer lo que se diga a partir de ahora.
api-locked = Esta sala está cerrada: ahora mismo no deja entrar a nadie nuevo. Pide que la abran.
api-no-such-member = Esa persona ya no está en la sala.
line-locked = La sala está cerrada: nadie nuevo puede entrar, y quien se desconecte no podrá volver hasta que se abra.
line-unlocked = La sala está abierta: el enlace vuelve a funcionar.
