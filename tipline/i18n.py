"""English and Spanish for the reporter's pages: the district's families write in both.

The English text is the key (as with gettext), so a string missing from a catalogue shows
in English rather than not at all. The choice comes from ``?lang=``, the form, a cookie
that holds only the language, or the browser's preference; none of it is stored.
"""

from __future__ import annotations

from flask import Request

LANGS = ("en", "es")
NAMES = {"en": "English", "es": "Español"}

ES: dict[str, str] = {
    # layout
    "Safe tip line": "Línea segura de avisos",
    "Error:": "Error:",
    "Leave this site": "Salir de este sitio",
    "In an emergency": "En una emergencia",
    "call 911": "llame al 911",
    "Suicide & Crisis Lifeline": "Línea de Prevención del Suicidio y Crisis",
    "call 988": "llame al 988",
    "text 988": "envíe un texto al 988",
    "Tip line": "Línea de avisos",
    "Check a tip": "Ver mi aviso",
    "How this works": "Cómo funciona",
    "Anonymous: we do not record who you are, your device or where you connect from.":
        "Anónimo: no registramos quién es usted, su dispositivo ni desde dónde se conecta.",
    # form
    "Send a tip": "Enviar un aviso",
    "Tell us what's going on": "Cuéntenos qué está pasando",
    "You don't have to give your name. Staff who keep students safe will read this. If someone is in danger "
    "right now, call 911.":
        "No tiene que dar su nombre. Lo leerá el personal que protege a los estudiantes. Si alguien está en "
        "peligro ahora mismo, llame al 911.",
    "What is it about?": "¿De qué se trata?",
    "A threat of violence, or a weapon": "Una amenaza de violencia o un arma",
    "Bullying or cyberbullying": "Acoso o ciberacoso",
    "Bias, hate or discrimination": "Prejuicio, odio o discriminación",
    "Someone may hurt themselves, or is in crisis": "Alguien podría hacerse daño o está en crisis",
    "Something else": "Otra cosa",
    "I'm not sure": "No estoy seguro/a",
    "Which school?": "¿Qué escuela?",
    "Not sure / outside school": "No sé / fuera de la escuela",
    "What happened?": "¿Qué pasó?",
    "Who, what, where, when — whatever you know. Up to {n} characters.":
        "Quién, qué, dónde, cuándo: lo que sepa. Hasta {n} caracteres.",
    "Screenshots or photos": "Capturas de pantalla o fotos",
    "(optional) Up to {files} files, {mb} MB each: JPEG, PNG, HEIC photos or PDF. We remove location data "
    "from photos.":
        "(opcional) Hasta {files} archivos de {mb} MB cada uno: fotos JPEG, PNG, HEIC o PDF. Quitamos de las "
        "fotos los datos de ubicación.",
    "Your name or a way to reach you": "Su nombre o cómo contactarle",
    "(optional — only if you want to. Leave it empty to stay anonymous.)":
        "(opcional: solo si usted quiere. Déjelo vacío para seguir anónimo.)",
    "Leave this empty": "Deje esto vacío",
    "Send tip": "Enviar aviso",
    "After you send, you get a receipt code. With it you can come back, see what happened and answer "
    "questions from staff.":
        "Después de enviar recibirá un código. Con él puede volver, ver qué pasó y responder preguntas del "
        "personal.",
    # errors
    "Your tip has not been sent yet.": "Su aviso todavía no se ha enviado.",
    "Your message has not been sent yet.": "Su mensaje todavía no se ha enviado.",
    "Some characters in {label} could not be read (they show as �). Please check that part and send again.":
        "Algunos caracteres de {label} no se pudieron leer (aparecen como �). Revise esa parte y envíe de "
        "nuevo.",
    "your message": "su mensaje",
    "your contact details": "sus datos de contacto",
    "You can attach up to {n} files at once.": "Puede adjuntar hasta {n} archivos a la vez.",
    "Please tell us what happened: the message box is empty.":
        "Cuéntenos qué pasó: el cuadro del mensaje está vacío.",
    "Your message is {length} characters; the limit is {limit}. Please shorten it, or send the rest as a "
    "follow-up with your receipt code.":
        "Su mensaje tiene {length} caracteres; el límite es {limit}. Acórtelo o envíe el resto después con su "
        "código.",
    "Please choose a school from the list, or “Not sure / outside school”.":
        "Elija una escuela de la lista, o “No sé / fuera de la escuela”.",
    "Please leave the last box (“Leave this empty”) blank, then send again.":
        "Deje vacío el último cuadro (“Deje esto vacío”) y envíe de nuevo.",
    "These files were not kept: {names}. Please attach them again, or other files.":
        "Estos archivos no se guardaron: {names}. Adjúntelos de nuevo, u otros archivos.",
    "These files were too large to keep while the form is shown again. Please attach them again: {names}.":
        "Estos archivos eran demasiado grandes para guardarlos mientras el formulario se muestra de nuevo. "
        "Adjúntelos otra vez: {names}.",
    "A file you attached before could not be kept (the page was open too long). Please attach it again.":
        "No se pudo guardar un archivo que adjuntó antes (la página estuvo abierta demasiado tiempo). "
        "Adjúntelo de nuevo.",
    "Files are not kept when you change the language. Please attach them again: {names}.":
        "Los archivos no se guardan al cambiar de idioma. Adjúntelos de nuevo: {names}.",
    "Files already attached": "Archivos ya adjuntos",
    "They are kept with this page, locked, not saved anywhere. Untick a file to leave it out.":
        "Van con esta página, cifrados, sin guardarse en ningún sitio. Desmarque un archivo para no enviarlo.",
    "Add more screenshots or photos": "Agregar más capturas de pantalla o fotos",
    "We could not save your tip just now, and nothing was stored. Your words are still below: please try "
    "again in a minute. In an emergency call 911.":
        "No pudimos guardar su aviso ahora y no se guardó nada. Su texto sigue abajo: inténtelo de nuevo en "
        "un minuto. En una emergencia llame al 911.",
    "We could not save your message just now, and nothing was stored. Please try again in a minute.":
        "No pudimos guardar su mensaje ahora y no se guardó nada. Inténtelo de nuevo en un minuto.",
    "We could not open your tip just now. Nothing was stored or changed. Please try again in a minute. In an "
    "emergency call 911.":
        "No pudimos abrir su aviso ahora. No se guardó ni se cambió nada. Inténtelo de nuevo en un minuto. En "
        "una emergencia llame al 911.",
    "Your files were not kept either. Please attach them again: {names}.":
        "Tampoco guardamos sus archivos. Adjúntelos de nuevo: {names}.",
    "This page was open for a long time (or cookies are blocked), so for your safety we need you to send it "
    "again. Your words are kept below; attach any files again, then press Send.":
        "Esta página estuvo abierta mucho tiempo (o las cookies están bloqueadas), así que por su seguridad "
        "debe enviarla de nuevo. Su texto sigue abajo; adjunte otra vez los archivos y pulse Enviar.",
    "This page had expired. Please enter your receipt code again.":
        "Esta página había caducado. Escriba su código otra vez.",
    "What you sent arrived broken, so nothing was stored. Please write your message again and press Send. In an "
    "emergency call 911.":
        "Lo que envió llegó dañado, así que no se guardó nada. Escriba su mensaje otra vez y pulse Enviar. En una "
        "emergencia llame al 911.",
    "What you sent was too large for us to receive, so nothing was stored. Files can be up to {mb} MB each, "
    "{files} at most. Please write your message again and attach smaller files (a screenshot is usually "
    "small).":
        "Lo que envió era demasiado grande y no se guardó nada. Los archivos pueden tener hasta {mb} MB cada "
        "uno, {files} como máximo. Escriba su mensaje de nuevo y adjunte archivos más pequeños (una captura "
        "de pantalla suele ser pequeña).",
    # uploads
    "“{name}” is larger than {mb} MB. Please send a smaller file.":
        "“{name}” pesa más de {mb} MB. Envíe un archivo más pequeño.",
    "“{name}” is empty.": "“{name}” está vacío.",
    "“{name}” is not a type we accept. You can send photos (JPEG, PNG, HEIC) and PDF files.":
        "“{name}” no es un tipo de archivo que aceptemos. Puede enviar fotos (JPEG, PNG, HEIC) y PDF.",
    "“{name}” is a HEIC photo we cannot read here. Please send a screenshot instead.":
        "“{name}” es una foto HEIC que no podemos leer aquí. Envíe una captura de pantalla.",
    "“{name}” is too large a picture. Please send a screenshot or a smaller photo.":
        "“{name}” es una imagen demasiado grande. Envíe una captura de pantalla o una foto más pequeña.",
    "“{name}” says it is a picture but could not be opened as one. Please send a screenshot or photo again.":
        "“{name}” parece una imagen pero no se pudo abrir. Envíe la captura o la foto otra vez.",
    "“{name}” and the pictures before it are too much to check in one message. Please send fewer pictures "
    "now and the rest as a follow-up with your receipt code.":
        "“{name}” y las imágenes anteriores son demasiado para revisar en un solo mensaje. Envíe menos imágenes "
        "ahora y el resto después, con su código.",
    "We are checking many pictures right now and could not check yours. Your words are kept: please attach the "
    "files again and send in a minute.":
        "Estamos revisando muchas imágenes ahora mismo y no pudimos revisar las suyas. Sus palabras se guardaron: "
        "adjunte los archivos otra vez y envíe en un minuto.",
    "“{name}” could not be opened as a PDF. Please send a screenshot of it instead.":
        "“{name}” no se pudo abrir como PDF. Envíe una captura de pantalla en su lugar.",
    "“{name}” is locked with a password. Please send it without the password, or a screenshot.":
        "“{name}” está protegido con contraseña. Envíelo sin contraseña, o una captura de pantalla.",
    # receipt
    "Tip received": "Aviso recibido",
    "Thank you. Your tip was received.": "Gracias. Recibimos su aviso.",
    "Your receipt code:": "Su código:",
    "Keep this code": "Guarde este código",
    "Write it down or take a screenshot now.": "Anótelo o tome una captura de pantalla ahora.",
    "We cannot show it again or recover it": "No podemos mostrarlo otra vez ni recuperarlo",
    "— we never store it.": ": nunca lo guardamos.",
    "Don't share it: anyone with the code can read your tip.":
        "No lo comparta: cualquiera con el código puede leer su aviso.",
    "Come back any time at": "Vuelva cuando quiera a",
    "and enter the code to see what's happening, read questions from staff and add information or files.":
        "y escriba el código para ver qué está pasando, leer preguntas del personal y agregar información o "
        "archivos.",
    "What happens next": "Qué pasa después",
    "Trained staff read every tip. Threats are handled with the school's threat assessment team and, when "
    "needed, the police — straight away, day or night.":
        "Personal capacitado lee cada aviso. Las amenazas se atienden con el equipo de evaluación de amenazas "
        "de la escuela y, si hace falta, con la policía, de inmediato, de día o de noche.",
    "Staff may leave you questions. Check back in a day or two with your code.":
        "El personal puede dejarle preguntas. Vuelva en uno o dos días con su código.",
    "If someone is in danger right now, call 911. If you or a friend are thinking about suicide, call or "
    "text 988.":
        "Si alguien está en peligro ahora mismo, llame al 911. Si usted o un amigo piensan en el suicidio, "
        "llame o envíe un texto al 988.",
    "Send another tip": "Enviar otro aviso",
    "Save or print this code": "Guarde o imprima este código",
    "A long press on the code selects all of it, to copy into your notes.":
        "Si mantiene el dedo sobre el código, se selecciona entero para copiarlo en sus notas.",
    "Download the code as a small text file": "Descargar el código en un pequeño archivo de texto",
    "To print it, or save it as a PDF, choose Print or Share in your browser's menu: only the code and how to "
    "use it are printed.":
        "Para imprimirlo o guardarlo como PDF, elija Imprimir o Compartir en el menú del navegador: solo se "
        "imprimen el código y cómo usarlo.",
    "On a shared phone or computer, others can find a saved file, a screenshot or a print: keep it somewhere "
    "only you can see.":
        "En un teléfono o una computadora compartidos, otras personas pueden encontrar un archivo guardado, una "
        "captura o una copia impresa: guárdelo donde solo usted pueda verlo.",
    "Kept your code? Then you can leave this page. If you come back to it with Back, your browser may ask to "
    "send the form again: say yes, and the same code is shown. Your tip is not sent twice.":
        "¿Guardó su código? Entonces puede salir de esta página. Si vuelve a ella con Atrás, el navegador puede "
        "pedirle que envíe el formulario otra vez: acepte y verá el mismo código. Su aviso no se envía dos "
        "veces.",
    "This receipt cannot be shown again": "Este recibo ya no se puede mostrar",
    "If you kept your code, use it on “Check a tip”. If someone is in danger right now, call 911.":
        "Si guardó su código, úselo en “Ver mi aviso”. Si alguien está en peligro ahora mismo, llame al 911.",
    # follow-up
    "Check on your tip": "Vea su aviso",
    "We couldn't find a tip with that code. Check each character and try again — codes look like":
        "No encontramos un aviso con ese código. Revise cada carácter e inténtelo de nuevo; los códigos son "
        "así:",
    "Your receipt code": "Su código",
    "No tip has this code.": "Ningún aviso tiene este código.",
    "Open my tip": "Abrir mi aviso",
    "Your tip": "Su aviso",
    "Status:": "Estado:",
    "What you sent": "Lo que envió",
    "Files:": "Archivos:",
    "Messages": "Mensajes",
    "Staff": "Personal",
    "You": "Usted",
    "No messages yet. Staff may leave questions here: check back in a day or two.":
        "Todavía no hay mensajes. El personal puede dejar preguntas aquí: vuelva en uno o dos días.",
    "Answer a question or add information": "Responda una pregunta o agregue información",
    "Add files": "Agregar archivos",
    "(optional) up to {files}, {mb} MB each: JPEG, PNG, HEIC or PDF":
        "(opcional) hasta {files}, de {mb} MB cada uno: JPEG, PNG, HEIC o PDF",
    "Send": "Enviar",
    "Thank you. Your message was added to your tip.": "Gracias. Su mensaje se agregó a su aviso.",
    "Received. It is waiting for a staff member to read it.":
        "Recibido. Está esperando que alguien del personal lo lea.",
    "A staff member is looking into it.": "Alguien del personal lo está revisando.",
    "Staff have taken action on it.": "El personal ya tomó medidas.",
    "Closed. Thank you for speaking up.": "Cerrado. Gracias por avisarnos.",
    # help, limits, errors
    "How the safe tip line works": "Cómo funciona la línea segura de avisos",
    "Anonymous.": "Anónimo.",
    "You don't need an account or your name. We don't record your device, your address or where you came "
    "from.":
        "No necesita cuenta ni nombre. No registramos su dispositivo, su dirección ni de dónde viene.",
    "Private.": "Privado.",
    "Your words are locked (encrypted) before they are saved. Only the staff whose job is to act on them can "
    "unlock them.":
        "Su texto se cifra antes de guardarse. Solo el personal que debe actuar puede abrirlo.",
    "Who reads it.": "Quién lo lee.",
    "The school's administrators, counselors, the threat assessment team, the DEIB coordinator or the school "
    "resource officer, depending on what it is about.":
        "La dirección de la escuela, los consejeros, el equipo de evaluación de amenazas, la coordinación DEIB "
        "o el oficial escolar, según el tema.",
    "Threats.": "Amenazas.",
    "If you receive a threatening message outside school hours, it goes to the police. Please don't share "
    "or forward threats to other students.":
        "Si recibe un mensaje amenazante fuera del horario escolar, va a la policía. No comparta ni reenvíe "
        "amenazas a otros estudiantes.",
    "is the only way back to your tip. Keep it safe.": "es la única forma de volver a su aviso. Guárdelo bien.",
    "Emergencies:": "Emergencias:",
    "call 911. Thinking about suicide, or worried about a friend? Call or text 988.":
        "llame al 911. ¿Piensa en el suicidio o le preocupa un amigo? Llame o envíe un texto al 988.",
    "Leaving quickly, and hiding that you were here": "Salir rápido y no dejar rastro de su visita",
    "The “Leave this site” button at the top of every page opens a weather page at once. It does not erase "
    "this site from your browser's history.":
        "El botón “Salir de este sitio”, arriba en cada página, abre al instante una página del tiempo. No "
        "borra este sitio del historial del navegador.",
    "This site leaves no lasting cookies on your phone, but your browser remembers the pages you visited in "
    "its history.":
        "Este sitio no deja cookies permanentes en su teléfono, pero el navegador recuerda en su historial las "
        "páginas que visitó.",
    "To remove this site from the history: in Chrome, open the menu (⋮), then History, and delete the tip "
    "line's pages, or choose “Delete browsing data”. On an iPhone in Safari, open the bookmarks (book icon), "
    "then History, and swipe left on the tip line's pages.":
        "Para quitar este sitio del historial: en Chrome, abra el menú (⋮), luego Historial, y borre las páginas "
        "de la línea de avisos, o elija “Borrar datos de navegación”. En un iPhone con Safari, abra los "
        "marcadores (icono del libro), luego Historial, y deslice a la izquierda sobre esas páginas.",
    "Next time, a private window (“Incognito” in Chrome, “Private” in Safari) keeps no history at all once "
    "you close it.":
        "La próxima vez, una ventana privada (“Incógnito” en Chrome, “Privada” en Safari) no guarda ningún "
        "historial al cerrarla.",
    "If you saved your receipt code as a file, a screenshot or a photo, delete it from the phone once you "
    "have it somewhere safe.":
        "Si guardó su código como archivo, captura o foto, bórrelo del teléfono cuando lo tenga en un lugar "
        "seguro.",
    "Please wait": "Espere un momento",
    "Please wait a few minutes": "Espere unos minutos",
    "Too many attempts came from your connection in a short time, so we paused it for a little while. "
    "Nothing you already sent was lost.":
        "Llegaron demasiados intentos desde su conexión en poco tiempo, así que la pausamos un rato. No se "
        "perdió nada de lo que ya envió.",
    "Page not found": "Página no encontrada",
    "There is no page here. You can send a tip from the home page.":
        "Aquí no hay ninguna página. Puede enviar un aviso desde la página principal.",
    "Something went wrong": "Algo salió mal",
    "Something went wrong on our side. If you were sending a tip, please try again. In an emergency call "
    "911.":
        "Algo salió mal de nuestro lado. Si estaba enviando un aviso, inténtelo de nuevo. En una emergencia "
        "llame al 911.",
    "Go to the tip form": "Ir al formulario",
}

CATALOGUES = {"es": ES}


def translate(lang: str, text: str, **params: object) -> str:
    out = CATALOGUES.get(lang, {}).get(text, text)
    return out.format(**params) if params else out


def pick(request: Request) -> str:
    chosen = request.args.get("lang")
    if chosen not in LANGS and request.method == "POST":
        try:
            chosen = request.form.get("lang")
        except Exception:  # noqa: BLE001 - a body too large to read: fall back to the cookie
            chosen = None
    if chosen not in LANGS:
        chosen = request.cookies.get("tl_lang")
    if chosen in LANGS:
        return str(chosen)
    return request.accept_languages.best_match(LANGS) or "en"
