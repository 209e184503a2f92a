import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { classify, compileRedactions, renderMailContent, threadLookupOrder, threadSubjectKey } from '@blend/core';
import { parseMail } from '@blend/mail';
import { UsageError } from './cli-people';

/**
 * `blend preview FILE.eml...`: what Blend would make of each message, without a database,
 * Redis or mail server. Uses BLEND_MAIL_DOMAIN and BLEND_REDACT when they are set.
 */
export async function preview(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length === 0) throw new UsageError('preview takes one or more .eml files');
  const domain = (process.env.BLEND_MAIL_DOMAIN ?? 'example.test').toLowerCase();
  const redactions = compileRedactions(process.env.BLEND_REDACT ?? 'card,iban');
  let failures = 0;
  for (const file of positionals) {
    try {
      const { mail, attachments } = await parseMail(readFileSync(file));
      const c = renderMailContent(mail, { redactions });
      const out = {
        file,
        classification: classify(mail, { bridgeDomain: domain }),
        title: c.title,
        body_text: c.bodyText,
        body_html: c.bodyHtml,
        forwarded: c.forwarded,
        mentions: c.mentionedEmails,
        tags: c.tags,
        attachments: attachments.map((a) => ({ name: a.filename, type: a.contentType, size: a.size })),
        thread_key: { parents: threadLookupOrder(mail), subject: threadSubjectKey(mail.subject) },
        confidence: c.confidence,
      };
      if (values.json) console.log(JSON.stringify(out));
      else {
        console.log(`== ${file}  [${out.classification.kind}] ${out.title}`);
        console.log(out.body_text || '(no text)');
        if (out.forwarded.length) console.log(`-- ${out.forwarded.length} forwarded message(s) kept apart`);
        if (out.tags.length || out.mentions.length) console.log(`-- tags: ${out.tags.join(' ')}  mentions: ${out.mentions.join(' ')}`);
        console.log('');
      }
    } catch (err) {
      failures++;
      console.error(`${file}: ${(err as Error).message}`);
    }
  }
  return failures ? 1 : 0;
}
