/**
 * One-line and one-paragraph boilerplate that ends a text and is none of the author's words:
 * the "sent from <device>" footer of mobile and desktop clients in any language, a virus or
 * spam scanner's notice, a newsletter's "why you get this / unsubscribe" notice, a "---handle"
 * sign-off mark and HTML debris a broken message leaves in its text. Callers ask only about
 * the last line or paragraph of the text. Every pattern is anchored or bounded.
 */

/**
 * Devices, mail apps and their generic names: the object of a "sent from" footer. Brand names
 * are the same in every language; the generic words are given in the languages whose footers
 * use them ("Smartphone", "телефона", "手机").
 */
const DEVICE =
  /iPhone|iPad|iPod|Mac\b|Apple Watch|Android|Samsung|Galaxy|Huawei|Honor|Xiaomi|Redmi|POCO|Oppo|OPPO|vivo|OnePlus|Pixel|Nokia|Motorola|moto\b|Xperia|Sony|HTC|LG\b|BlackBerry|Wiko|Fairphone|Windows|Outlook|Gmail|Yahoo|AOL|TypeApp|BlueMail|Blue Mail|Spark|Edison|Airmail|Nine\b|K-9|FairEmail|Newton|Proton\s?Mail|Tutanota|Tuta\b|Thunderbird|Mail\b|Mobile|mobile|Smartphone|smartphone|Handy|Tablet|tablet|phone|téléphone|teléfono|telefono|telefoon|telefon|telemóvel|celular|móvil|mobiel|mobil|puhelime|смартфон|телефон|планшет|мобильн|手机|手機|携帯|スマートフォン|スマホ|휴대폰|핸드폰|모바일/;

/**
 * "Sent" in the languages of the footers, at the start of the line or (SOV word order, and
 * "Von meinem iPhone gesendet") at its end.
 */
const SENT_FIRST =
  /^(?:Sent|Gesendet|Envoyé|Enviado|Enviada|Inviato|Verzonden|Verstuurd|Skickat|Sendt|Sendes|Lähetetty|Wysłane|Wysłano|Отправлено|Надіслано|Odesláno|Odoslané|Poslano|Trimis|Küldve|Saadetud|Išsiųsta|Nosūtīts|Στάλθηκε|Απεστάλη|Gửi|Được gửi|Dikirim|Terkirim|Dihantar|נשלח|أُرسلت|أرسلت|发自|發自|来自|來自|寄件者為)(?=\s|$|我的)/i;
const SENT_LAST = /(?:gesendet|gönderildi|küldve|verzonden|送信|发送|發送|傳送|에서 보냄|보냄)[.。]?$/i;

/** Words of a footer besides "sent" and the device: a footer is short. */
const FOOTER_MAX_WORDS = 9;

/**
 * A "sent from <device or app>" footer in any language: a short line (nine words at most, no
 * question) that opens or closes with a word for "sent" and names a device or a mail app.
 * "Sent from my iPhone", "Gesendet von Outlook für Android", "Von meinem Samsung Galaxy
 * Smartphone gesendet.", "iPhoneから送信", "iPhone'umdan gönderildi". "Works on iPhone" and
 * "I sent it from my phone, did it arrive?" are not footers.
 */
export function isDeviceFooter(line: string): boolean {
  if (line.length > 100 || /[?？]/.test(line) || line.split(/\s+/).length > FOOTER_MAX_WORDS) return false;
  // The anchored "sent" patterns first: they fail at once on almost every line.
  return (SENT_FIRST.test(line) || SENT_LAST.test(line)) && DEVICE.test(line);
}

/** A scanner's notice: "This email has been scanned for spam and viruses by …", "Virus-free. www.avast.com". */
const SCAN_NOTICE =
  /^(?:This (?:e-?mail|message)(?: and any attachments?)? (?:has been|was|is) (?:scanned|checked)|Diese E-?Mail wurde (?:von \S+(?: \S+){0,3} )?auf (?:Viren|Malware) (?:geprüft|überprüft)|Ce (?:message|courriel|mail) a été (?:analysé|vérifié)|Virus-free\b|Virenfrei\b|Sans virus\b|Libre de virus\b)/i;

/** True for a paragraph (lines joined) that is a virus or spam scanner's notice. */
export function isScanNotice(paragraph: string): boolean {
  return paragraph.length <= 600 && SCAN_NOTICE.test(paragraph);
}

/** Unsubscribing, in the languages newsletters use. */
const UNSUBSCRIBE =
  /\b(?:unsubscribe|opt[- ]out|abbestellen|abmelden|austragen|désinscri\w*|désabonne\w*|darse de baja|darte de baja|cancelar (?:la|su) suscripción|disiscriv\w*|cancellarti|uitschrijven|afmelden|avregistrera|avsluta prenumeration|wypisać|отписаться)\b|退订|取消订阅|配信停止/i;
/** Why the reader gets the mail, or the link to act on: what makes it a notice, not a question about one. */
const NOTICE_CONTEXT =
  /\b(?:(?:receiv|get)\w* this (?:e-?mail|message|newsletter)|you are (?:listed|subscribed|registered)|click here|klicken Sie hier|cliquez ici|haga clic aquí|clicca qui|klik hier)\b|https?:\/\//i;

/**
 * True for a paragraph that tells why the reader gets this mail and how to unsubscribe (a
 * newsletter's footer, also as a "P.S."). "How do I unsubscribe from the list?" is not one.
 */
export function isSubscriptionNotice(paragraph: string): boolean {
  return paragraph.length <= 800 && !/\?\s*$/.test(paragraph) && UNSUBSCRIBE.test(paragraph) && NOTICE_CONTEXT.test(paragraph);
}

/**
 * HTML a broken message leaves in its text part or rendering: an HTML element's tag, or an
 * attribute list with the `>` that closed it ('class="gmail_quote">'). Nobody types that as a
 * line; a bounce's "<jesmund>" (a recipient without its domain) is no HTML element, and stays.
 */
const MARKUP_DEBRIS =
  /^(?:<\/?(?:div|span|p|br|a|font|b|i|u|s|strong|em|small|big|center|pre|code|table|thead|tbody|tfoot|tr|td|th|blockquote|html|head|body|meta|style|title|img|hr|ul|ol|li|o:p|section|header|footer|sup|sub|wbr)(?:\s[^<>]{0,200})?\/?>|(?:[a-z-]{1,30}=(?:"[^"<>]{0,200}"|'[^'<>]{0,200}')\s*){1,6}\/?>)+$/i;

/** True when the line is only HTML debris (see {@link MARKUP_DEBRIS}). */
export function isMarkupDebris(line: string): boolean {
  return line.length <= 300 && MARKUP_DEBRIS.test(line);
}

/**
 * A sign-off mark: three dashes and one handle ("---/dev/il", "--- jd"). Two dashes before a
 * word are a command-line flag ("--force") as often as a sign-off, so they are left to the
 * typed-name rules (a capitalised name or the sender's own).
 */
export function isDashSignoff(line: string): boolean {
  return /^-{3}\s?[^\s>=-]\S{0,23}$/.test(line);
}

/**
 * The title line HCL Notes puts over a quoted memo ("Jane Doe via Support --- Subject [Ticket#1] ---"),
 * left at the end of the text when the memo's header table under it is cut as history.
 */
export function isNotesSectionTitle(line: string): boolean {
  return line.length <= 250 && /^[^\s-][^\n]{0,99}\s-{3}\s\S[^\n]{0,150}\s-{3}$/.test(line);
}

/** Confidentiality, in the languages of the usual legal notices. */
const CONFIDENTIAL = /vertraulich|confidential|confidentiel|confidencial|confidenzial|riservat|vertrouwelijk|konfidentiell|fortrolig|poufn|důvěrn|luottamuksellinen|конфиденциальн|конфіденційн|機密|秘密|保密/i;
/** The intended recipient a notice speaks of. */
const ADDRESSEE = /adressat|empfänger|recipient|destinatair|destinatario|geadresseerde|ontvanger|mottagare|modtager|mottaker|adresat|odbiorc|příjemce|vastaanottaja|получател|адресат|одержувач|宛先|受信者|收件人/i;

/**
 * A legal notice as the last paragraph, in any wording: long (150 characters or more), and it
 * speaks both of confidentiality and of the intended recipient ("Diese Information ist
 * ausschließlich für den Adressaten bestimmt und kann vertrauliche … enthalten"). The phrase
 * table of quote-markers knows the common wordings; this finds the others by what they say.
 */
export function isLegalNotice(paragraph: string): boolean {
  if (paragraph.length < 150 || paragraph.length > 4_000) return false;
  return CONFIDENTIAL.test(paragraph) && ADDRESSEE.test(paragraph);
}

/**
 * An image's file name on its own line: how a text part shows an inline picture ("RIKK
 * merki.jpg"). Dropped only as the last line, where it is a signature's logo; in the middle of
 * the text it stands for a picture the author put there, and stays.
 */
export function isImageFileLine(line: string): boolean {
  return line.length <= 80 && /^[\p{L}\p{N}][\p{L}\p{N} _.()-]{0,70}\.(?:jpe?g|png|gif|bmp|webp)$/iu.test(line);
}
