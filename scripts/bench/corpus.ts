/**
 * A deterministic generator of realistic RFC 5322 office mail for `pnpm bench`: a mix of
 * new threads and replies (In-Reply-To/References to earlier generated Message-IDs, "Re:"
 * subjects, "On … wrote:" attributions with `>` quotes, RFC 3676 signatures), always
 * multipart/alternative text+HTML, some with a small base64 attachment, each 5–50 KB.
 * The same seed gives byte-identical messages.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import {
  attributionDate,
  between,
  escapeHtml,
  mulberry32,
  opener,
  paragraph,
  pick,
  randomBytesFrom,
  signatureLines,
  threadSubject,
  wrap,
  type BenchPerson,
  type Rng,
} from './corpus-text';

export { benchPeople, type BenchPerson } from './corpus-text';

export interface CorpusOptions {
  seed: number;
  /** Senders; the generator only writes mail from and to these people. */
  people: BenchPerson[];
  /** The bridge address every message is sent to, e.g. `status@t-….test`. */
  bridgeAddress: string;
  /** Date header of the first message. @defaultValue 2025-03-03T08:00:00Z */
  start?: Date;
  /** Share of messages that reply to an earlier one. @defaultValue 0.6 */
  replyRatio?: number;
  /** Share of messages with one attachment. @defaultValue 0.25 */
  attachmentRatio?: number;
  /** @defaultValue 5120 */
  minBytes?: number;
  /** @defaultValue 51200 */
  maxBytes?: number;
}

export interface BenchMessage {
  index: number;
  /** With angle brackets, as in the header. */
  messageId: string;
  subject: string;
  from: BenchPerson;
  date: Date;
  kind: 'new_thread' | 'reply';
  /** Message-ID of the message this one replies to. */
  parentId: string | null;
  /** Message-ID of the first message of the thread. */
  rootId: string;
  attachment: boolean;
  raw: Buffer;
}

/** What a later reply needs from an earlier message to quote it and thread onto it. */
interface Sent {
  messageId: string;
  rootId: string;
  subject: string;
  from: BenchPerson;
  date: Date;
  references: string[];
  textLines: string[];
  htmlInner: string;
  ownHtml: string;
}

interface Thread {
  messages: Sent[];
  participants: BenchPerson[];
}

const MAILERS = ['Microsoft Outlook 16.0', 'Apple Mail (2.3774.500.171.1.1)', 'Mozilla Thunderbird 128.3.1', 'Evolution 3.46.4'];

export class CorpusGenerator {
  private readonly rng: Rng;
  private readonly threads: Thread[] = [];
  private clock: number;
  private index = 0;
  private readonly o: Required<CorpusOptions>;

  constructor(opts: CorpusOptions) {
    this.o = {
      start: new Date('2025-03-03T08:00:00Z'),
      replyRatio: 0.6,
      attachmentRatio: 0.25,
      minBytes: 5 * 1024,
      maxBytes: 50 * 1024,
      ...opts,
    };
    this.rng = mulberry32(opts.seed);
    this.clock = this.o.start.getTime();
  }

  /**
   * The next message. `deliveredTo` prepends the trace headers an MTA adds on delivery
   * (Return-Path, Delivered-To, Received), for messages APPENDed straight to the mailbox.
   * `cc: false` leaves out the Cc that 30 % of messages get.
   */
  async next(opts: { deliveredTo?: boolean; kind?: 'new_thread' | 'reply'; subject?: string; cc?: boolean } = {}): Promise<BenchMessage> {
    const rng = this.rng;
    const index = this.index++;
    this.clock += between(rng, 1, 20) * 60_000 + between(rng, 0, 59_999);
    const date = new Date(this.clock);
    const wantReply = opts.kind ? opts.kind === 'reply' : rng() < this.o.replyRatio;
    const thread = wantReply && this.threads.length > 0 ? this.pickThread() : null;
    const parent = thread ? (rng() < 0.8 ? thread.messages.at(-1)! : pick(rng, thread.messages)) : null;
    const from = this.pickSender(thread, parent);
    const messageId = `<${date.getTime().toString(36)}.${index}.${Math.floor(rng() * 1e9).toString(36)}@mail.corp.test>`;
    const subject = opts.subject ?? (parent ? `Re: ${parent.subject.replace(/^Re: /, '')}` : threadSubject(rng));
    // Clients keep the first reference and the most recent ones (RFC 5322 3.6.4 allows trimming).
    const chain = parent ? [...parent.references, parent.messageId] : [];
    const references = chain.length > 10 ? [chain[0]!, ...chain.slice(-9)] : chain;

    const target = Math.exp(Math.log(this.o.minBytes) + rng() * Math.log(this.o.maxBytes / this.o.minBytes));
    let attachment = rng() < this.o.attachmentRatio ? this.attachment(Math.floor((target * (0.3 + rng() * 0.3)) / 1.37)) : null;
    // A colleague in Cc: Blend mails them a notice when the thread becomes a post.
    const cc = rng() < 0.3 && opts.cc !== false ? pick(rng, this.o.people.filter((p) => p !== from)) : null;
    const paras: string[] = [paragraph(rng)];
    const quoteBudget = target * 0.35;
    const greeting = opener(rng);
    const mailer = pick(rng, MAILERS);

    const build = async () => {
      const own = [greeting, ...paras];
      const ownText = [...own.flatMap((p) => [...wrap(p), '']), ...signatureLines(from)];
      const ownHtml = `${own.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}\n<div class="signature">-- <br>${signatureLines(from).slice(1).map(escapeHtml).join('<br>')}</div>`;
      let textLines = ownText;
      let htmlInner = ownHtml;
      if (parent) {
        const attribution = `On ${attributionDate(parent.date)}, ${parent.from.name} <${parent.from.email}> wrote:`;
        const quoted = truncateLines(parent.textLines, quoteBudget).map((l) => (l ? `> ${l}` : '>'));
        textLines = [...ownText, '', attribution, ...quoted];
        // Quote the parent's whole HTML (with its own quotes) when it fits the budget, else
        // just what its author wrote, else the same lines as the text part.
        const inner =
          parent.htmlInner.length < quoteBudget
            ? parent.htmlInner
            : parent.ownHtml.length < quoteBudget
              ? parent.ownHtml
              : truncateLines(parent.textLines, quoteBudget).map((l) => `${escapeHtml(l)}<br>`).join('\n');
        htmlInner = `${ownHtml}\n<div class="gmail_quote"><div class="gmail_attr">${escapeHtml(attribution)}<br></div>\n<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">\n${inner}\n</blockquote></div>`;
      }
      const html = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div dir="ltr" style="font-family:Calibri,Arial,sans-serif;font-size:11pt">\n${htmlInner}\n</div></body></html>`;
      const composer = new MailComposer({
        from: { name: from.name, address: from.email },
        to: this.o.bridgeAddress,
        ...(cc ? { cc: { name: cc.name, address: cc.email } } : {}),
        subject,
        date,
        messageId,
        ...(parent ? { inReplyTo: parent.messageId, references } : {}),
        text: textLines.join('\n'),
        html,
        attachments: attachment ? [attachment] : [],
        headers: { 'X-Mailer': mailer, 'Content-Language': 'en-GB' },
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      return { raw: await composer.compile().build(), textLines, htmlInner, ownHtml };
    };

    // Grow (or shrink) the body a paragraph at a time until the message (with the trace
    // fields, if any) lands in range.
    const trace = opts.deliveredTo ? traceHeaders(from.email, this.o.bridgeAddress, date, index) : '';
    const size = (b: { raw: Buffer }) => b.raw.length + trace.length;
    let built = await build();
    const perPara = Math.max(1, (size(built) - 600) / Math.max(1, paras.length + 1));
    const missing = Math.floor((target - size(built)) / (perPara * 2.2));
    for (let i = 0; i < missing; i++) paras.push(paragraph(rng));
    if (missing > 0) built = await build();
    while (size(built) < this.o.minBytes) {
      paras.push(paragraph(rng), paragraph(rng));
      built = await build();
    }
    while (size(built) > this.o.maxBytes && paras.length > 1) {
      paras.splice(-Math.max(1, Math.ceil(paras.length / 4)));
      built = await build();
    }
    if (size(built) > this.o.maxBytes && attachment) {
      // A long quote plus a big attachment: drop the attachment rather than the quote.
      attachment = null;
      built = await build();
    }

    const rootId = parent ? parent.rootId : messageId;
    const sent: Sent = { messageId, rootId, subject, from, date, references, textLines: built.textLines, htmlInner: built.htmlInner, ownHtml: built.ownHtml };
    if (thread) {
      thread.messages.push(sent);
      if (!thread.participants.includes(from)) thread.participants.push(from);
    } else {
      this.threads.push({ messages: [sent], participants: [from] });
    }
    return {
      index,
      messageId,
      subject,
      from,
      date,
      kind: parent ? 'reply' : 'new_thread',
      parentId: parent?.messageId ?? null,
      rootId,
      attachment: attachment !== null,
      raw: trace ? Buffer.concat([Buffer.from(trace), built.raw]) : built.raw,
    };
  }

  /** Recent threads are far more likely to get the next reply. */
  private pickThread(): Thread {
    const recent = Math.min(this.threads.length, 40);
    const back = Math.floor(this.rng() ** 2 * recent);
    return this.threads[this.threads.length - 1 - back]!;
  }

  private pickSender(thread: Thread | null, parent: Sent | null): BenchPerson {
    const others = (list: BenchPerson[]) => list.filter((p) => p !== parent?.from);
    const participants = thread ? others(thread.participants) : [];
    if (participants.length > 0 && this.rng() < 0.6) return pick(this.rng, participants);
    return pick(this.rng, others(this.o.people));
  }

  private attachment(bytes: number) {
    const size = Math.max(512, Math.min(bytes, 30 * 1024));
    if (this.rng() < 0.5) {
      const head = Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1');
      return { filename: `report-${between(this.rng, 100, 999)}.pdf`, contentType: 'application/pdf', content: Buffer.concat([head, randomBytesFrom(this.rng, size)]) };
    }
    const head = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    return { filename: `screenshot-${between(this.rng, 1000, 9999)}.png`, contentType: 'image/png', content: Buffer.concat([head, randomBytesFrom(this.rng, size)]) };
  }
}

/** Keep whole lines from the top until `budget` characters are used. */
function truncateLines(lines: string[], budget: number): string[] {
  let used = 0;
  let n = 0;
  while (n < lines.length && used + lines[n]!.length + 1 <= budget) used += lines[n++]!.length + 1;
  return lines.slice(0, Math.max(n, Math.min(lines.length, 3)));
}

/**
 * The trace fields the local Postfix + Dovecot LMTP put above a delivered message (copied
 * from a real delivery), so sender authentication sees the SMTP client 127.0.0.1, which
 * the test DNS allows for corp.test (test/support/dns.ts).
 */
function traceHeaders(from: string, to: string, date: Date, index: number): string {
  const when = new Date(date.getTime() + 2_000).toUTCString().replace('GMT', '+0000');
  const id = index.toString(16).toUpperCase().padStart(11, '0');
  return [
    `Return-Path: <${from}>`,
    `Delivered-To: ${to}`,
    'Received: from vm ([127.0.0.1])',
    '\tby vm with LMTP',
    `\tid B${id}`,
    `\t(envelope-from <${from}>)`,
    `\tfor <${to}>; ${when}`,
    'Received: from mail.corp.test (unknown [127.0.0.1])',
    `\tby vm (Postfix) with ESMTP id ${id}`,
    `\tfor <${to}>; ${when} (UTC)`,
    '',
  ].join('\r\n');
}
