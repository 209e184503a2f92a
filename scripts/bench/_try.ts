import { createRequire } from 'node:module';
import path from 'node:path';
import { CorpusGenerator, benchPeople } from './corpus';
import { parseMail } from '@blend/mail';
import { extractVisibleText, classify } from '@blend/core';
const people = benchPeople(1);
const g = new CorpusGenerator({ seed: 1, people, bridgeAddress: 'status@x.test' });
const sizes: number[] = [];
let t = Date.now();
const msgs = [];
for (let i = 0; i < 1000; i++) { const m = await g.next({ deliveredTo: true }); msgs.push(m); sizes.push(m.raw.length); }
console.log('gen ms', Date.now() - t);
sizes.sort((a, b) => a - b);
console.log('min', sizes[0], 'p50', sizes[500], 'max', sizes.at(-1), 'replies', msgs.filter(m=>m.kind==='reply').length, 'att', msgs.filter(m=>m.attachment).length);
const { writeFileSync } = await import('node:fs');
writeFileSync('/tmp/benchtry/m5.eml', msgs[5]!.raw); writeFileSync('/tmp/benchtry/m6.eml', msgs[6]!.raw);
const att = msgs.find(m => m.attachment)!; writeFileSync('/tmp/benchtry/att.eml', att.raw);
let empty = 0;
for (const m of msgs) { const p = await parseMail(m.raw); const v = extractVisibleText(p.mail.text ?? ''); if (!v.text) empty++; const c = classify(p.mail, { bridgeDomain: 'x.test' }); if (c.kind !== (m.kind === 'reply' ? 'reply' : 'new_thread')) console.log('class', c); }
console.log('empty', empty);
const p6 = await parseMail(msgs[6]!.raw); console.log(p6.mail.deliveredTo, p6.mail.from, extractVisibleText(p6.mail.text!).text.slice(0, 300));
