import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { addressingFrom, CONVERSION_KEYS, conversionOptions, loadConfigSubset } from '@blend/config';
import { classify, describeDoubt, renderMailContent, threadLookupOrder, threadSubjectKey, type Addressing } from '@blend/core';
import { parseMail } from '@blend/mail';
import { UsageError } from './cli-commands';

/**
 * `blend preview FILE.eml...`: what Blend would make of each message, without a database,
 * Redis or mail server. Uses BLEND_ADDRESSING, BLEND_MAIL_DOMAIN or BLEND_MAIL_ADDRESS, and
 * converts as ingest does under BLEND_REDACT and BLEND_DISCLAIMER_PATTERNS when they are set.
 */
export async function preview(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length === 0) throw new UsageError('preview takes one or more .eml files');
  const addressing = previewAddressing(process.env);
  const conversion = conversionOptions(loadConfigSubset([...CONVERSION_KEYS]));
  let failures = 0;
  for (const file of positionals) {
    try {
      const { mail, attachments } = await parseMail(readFileSync(file));
      const c = renderMailContent(mail, conversion);
      const out = {
        file,
        classification: classify(mail, { addressing }),
        title: c.title,
        body_text: c.bodyText,
        body_html: c.bodyHtml,
        trimmed_text: c.trimmedText,
        forwarded: c.forwarded,
        mentions: c.mentionedEmails,
        tags: c.tags,
        attachments: attachments.map((a) => ({ name: a.filename, type: a.contentType, size: a.size })),
        thread_key: { parents: threadLookupOrder(mail), subject: threadSubjectKey(mail.subject) },
        confidence: c.confidence,
        // Why a mail would be held as unclear_quote rather than published; null when confidence is high.
        confidence_reason: c.confidenceReason,
      };
      if (values.json) console.log(JSON.stringify(out));
      else {
        console.log(`== ${file}  [${out.classification.kind}] ${out.title}`);
        console.log(out.body_text || '(no text)');
        if (out.trimmed_text) console.log(`-- trimmed ${out.trimmed_text.split('\n').length} line(s): quotes, signature, footers (--json shows them)`);
        if (out.forwarded.length) console.log(`-- ${out.forwarded.length} forwarded message(s) kept apart`);
        if (out.confidence_reason) console.log(`-- low confidence, would be held (unclear_quote): ${describeDoubt(out.confidence_reason)}`);
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

/** Blend's addresses from the environment; with none set, those of a trial at example.test. */
function previewAddressing(env: Record<string, string | undefined>): Addressing {
  const fallback = env.BLEND_ADDRESSING === 'plus' ? {} : { BLEND_MAIL_DOMAIN: 'example.test' };
  return addressingFrom(loadConfigSubset(['BLEND_ADDRESSING', 'BLEND_MAIL_DOMAIN', 'BLEND_MAIL_ADDRESS'], { ...fallback, ...env }));
}
