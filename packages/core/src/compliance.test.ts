import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIDENTIAL_MARKERS, detectConfidential, type ConfidentialFinding } from './compliance';
import type { MailInput } from './types';

interface Spec {
  subject?: string;
  headers?: Record<string, string | string[]>;
  text?: string | null;
  html?: string | null;
}

/** A plain mail to the bridge, changed only where a case says so. */
function mail(spec: Spec = {}): MailInput {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name] = Array.isArray(value) ? value : [value];
  return {
    messageId: 'abc@mail.corp.com',
    inReplyTo: [],
    references: [],
    subject: spec.subject ?? 'Quarterly numbers',
    from: { address: 'jane@corp.com', name: '' },
    to: [{ address: 'status@blend.example.test', name: '' }],
    cc: [],
    deliveredTo: ['status@blend.example.test'],
    date: null,
    headers,
    text: spec.text === undefined ? 'Hello team' : spec.text,
    html: spec.html === undefined ? null : spec.html,
  };
}

const opts = { subjectMarkers: [...DEFAULT_CONFIDENTIAL_MARKERS] };
const G1 = 'f42aa342-8706-4288-bd11-ebb85995028c';
const G2 = '87867195-f2b8-4ac2-b0b6-6bb73cb33afc';
const SITE = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const msip = (guid: string, enabled: string, name = 'Confidential') =>
  `MSIP_Label_${guid}_Enabled=${enabled}; MSIP_Label_${guid}_SiteId=${SITE}; MSIP_Label_${guid}_SetDate=2024-05-06T07:08:09Z; MSIP_Label_${guid}_Name=${name}; MSIP_Label_${guid}_ContentBits=0; MSIP_Label_${guid}_Method=Standard`;

const enc = (detail: string): ConfidentialFinding => ({ reason: 'encrypted', detail });
const label = (detail: string): ConfidentialFinding => ({ reason: 'sensitivity_label', detail });
const marker = (detail: string): ConfidentialFinding => ({ reason: 'confidential_marker', detail });

describe('detectConfidential', () => {
  it.each<[string, Spec, ConfidentialFinding | null]>([
    ['plain mail', {}, null],
    ['no body at all', { text: null }, null],

    // S/MIME (RFC 8551)
    ['S/MIME enveloped', { headers: { 'content-type': 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"' } }, enc('application/pkcs7-mime; smime-type=enveloped-data')],
    ['S/MIME enveloped, quoted and cased', { headers: { 'content-type': 'Application/PKCS7-MIME; Smime-Type="Enveloped-Data"' } }, enc('application/pkcs7-mime; smime-type=enveloped-data')],
    ['S/MIME authEnveloped', { headers: { 'content-type': 'application/pkcs7-mime; smime-type=authEnveloped-data' } }, enc('application/pkcs7-mime; smime-type=authenveloped-data')],
    ['legacy x-pkcs7-mime', { headers: { 'content-type': 'application/x-pkcs7-mime; smime-type=enveloped-data' } }, enc('application/x-pkcs7-mime; smime-type=enveloped-data')],
    ['pkcs7-mime without smime-type: fail closed', { headers: { 'content-type': 'application/pkcs7-mime; name=smime.p7m' } }, enc('application/pkcs7-mime; smime-type=none')],
    ['.p7m as octet-stream', { headers: { 'content-type': 'application/octet-stream; name="smime.p7m"' } }, enc('application/octet-stream; name=*.p7m')],
    ['S/MIME opaque signed only', { headers: { 'content-type': 'application/pkcs7-mime; smime-type=signed-data; name=smime.p7m' } }, null],
    ['S/MIME certs-only', { headers: { 'content-type': 'application/pkcs7-mime; smime-type=certs-only' } }, null],
    ['S/MIME clear-signed', { headers: { 'content-type': 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="b"' } }, null],
    ['other octet-stream', { headers: { 'content-type': 'application/octet-stream; name="report.pdf"' } }, null],

    // PGP/MIME (RFC 3156) and inline PGP (RFC 4880)
    ['PGP/MIME', { headers: { 'content-type': 'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"' } }, enc('multipart/encrypted; protocol=application/pgp-encrypted')],
    ['multipart/encrypted, other protocol', { headers: { 'content-type': 'multipart/encrypted; boundary=b; protocol=application/x-other' } }, enc('multipart/encrypted; protocol=application/x-other')],
    ['multipart/encrypted, no protocol', { headers: { 'content-type': 'multipart/encrypted' } }, enc('multipart/encrypted; protocol=none')],
    ['application/pgp-encrypted', { headers: { 'content-type': 'application/pgp-encrypted' } }, enc('application/pgp-encrypted')],
    ['PGP/MIME signed only', { headers: { 'content-type': 'multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256' } }, null],
    ['inline PGP message', { text: 'Hi\n-----BEGIN PGP MESSAGE-----\n\nhQEMA...\n-----END PGP MESSAGE-----\n' }, enc('inline-pgp')],
    ['inline PGP at the very start', { text: '-----BEGIN PGP MESSAGE-----\nhQEMA' }, enc('inline-pgp')],
    ['inline PGP, quoted', { text: 'See below\n> -----BEGIN PGP MESSAGE-----\n> hQEMA' }, enc('inline-pgp')],
    ['inline PGP in HTML only', { text: null, html: '<pre>-----BEGIN PGP MESSAGE-----<br>hQEMA</pre>' }, enc('inline-pgp')],
    ['clear-signed PGP is readable', { text: '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHello\n-----BEGIN PGP SIGNATURE-----' }, null],
    ['the armour line mentioned mid-sentence', { text: 'paste it after -----BEGIN PGP MESSAGE----- markers' }, null],

    // Microsoft Purview labels
    ['msip label enabled', { headers: { msip_labels: msip(G1, 'True') } }, label(`msip_labels:${G1}`)],
    ['msip label enabled, lower-case true', { headers: { msip_labels: msip(G1, 'true') } }, label(`msip_labels:${G1}`)],
    ['msip label disabled', { headers: { msip_labels: msip(G1, 'False') } }, null],
    ['msip two labels, second enabled', { headers: { msip_labels: `${msip(G1, 'False')};${msip(G2, 'True', 'General')}` } }, label(`msip_labels:${G2}`)],
    ['msip label on a second header line', { headers: { msip_labels: [msip(G1, 'False'), msip(G2.toUpperCase(), 'True')] } }, label(`msip_labels:${G2}`)],
    ['msip header empty', { headers: { msip_labels: '' } }, null],
    ['msip garbage', { headers: { msip_labels: 'MSIP_Label_not-a-guid_Enabled=True; =; foo' } }, null],
    ['msip name only, no Enabled pair', { headers: { msip_labels: `MSIP_Label_${G1}_Name=Secret` } }, null],

    // Sensitivity (RFC 2156)
    ['Sensitivity: Private', { headers: { sensitivity: 'Private' } }, label('sensitivity:private')],
    ['Sensitivity: Company-Confidential', { headers: { sensitivity: 'Company-Confidential' } }, label('sensitivity:company-confidential')],
    ['Sensitivity: company confidential', { headers: { sensitivity: ' company confidential ' } }, label('sensitivity:company-confidential')],
    ['X-Sensitivity: Private', { headers: { 'x-sensitivity': 'PRIVATE' } }, label('x-sensitivity:private')],
    ['Sensitivity: Personal passes', { headers: { sensitivity: 'Personal' } }, null],
    ['Sensitivity: Normal passes', { headers: { sensitivity: 'Normal' } }, null],

    // subject markers
    ['Confidential in the subject', { subject: 'Confidential: reorg plan' }, marker('subject:confidential')],
    ['upper case', { subject: 'RE: CONFIDENTIAL reorg' }, marker('subject:confidential')],
    ['German', { subject: 'Vertraulich – Gehälter' }, marker('subject:vertraulich')],
    ['French', { subject: 'Document confidentiel' }, marker('subject:confidentiel')],
    ['Spanish', { subject: 'Informe CONFIDENCIAL' }, marker('subject:confidencial')],
    ['Italian', { subject: '[Riservato] bilancio' }, marker('subject:riservato')],
    ['two-word marker', { subject: 'Strictly private: offer' }, marker('subject:strictly private')],
    ['two-word marker, spacing', { subject: 'strictly\t  PRIVATE' }, marker('subject:strictly private')],
    ['full-width', { subject: 'ＣＯＮＦＩＤＥＮＴＩＡＬ memo' }, marker('subject:confidential')],
    ['non-confidential still held (safer error)', { subject: 'Non-confidential: lunch menu' }, marker('subject:confidential')],
    ['part of a longer word', { subject: 'Confidentiality policy update' }, null],
    ['inside a word', { subject: 'Unconfidentialness' }, null],
    ['end of a longer word', { subject: 'Subconfidential memo' }, null],
    ['marker after an underscore', { subject: 'doc_confidential' }, null],
    ['with a digit suffix', { subject: 'confidential2 build' }, null],
    ['"private" alone is not a default marker', { subject: 'Private beta launch' }, null],
    ['marker only in the body', { text: 'Confidential' }, null],

    // order: encrypted > label > marker
    ['encrypted and labelled', { headers: { 'content-type': 'application/pkcs7-mime; smime-type=enveloped-data', sensitivity: 'Private' }, subject: 'Confidential' }, enc('application/pkcs7-mime; smime-type=enveloped-data')],
    ['labelled and marked', { headers: { msip_labels: msip(G1, 'True') }, subject: 'Confidential' }, label(`msip_labels:${G1}`)],
  ])('%s', (_name, spec, expected) => {
    expect(detectConfidential(mail(spec), opts)).toEqual(expected);
  });

  it.each<[string, string[], string, ConfidentialFinding | null]>([
    ['operator marker', ['Internal Only'], 'INTERNAL ONLY: roadmap', marker('subject:internal only')],
    ['marker with regex characters', ['C++ (draft)'], 'Re: C++ (draft) notes', marker('subject:c++ (draft)')],
    ['regex characters are literal', ['a.c'], 'abc', null],
    ['empty and blank markers are ignored', ['', '   '], 'anything at all', null],
    ['no markers', [], 'Confidential', null],
  ])('%s', (_name, subjectMarkers, subject, expected) => {
    expect(detectConfidential(mail({ subject }), { subjectMarkers })).toEqual(expected);
  });

  it('checks the content type the parser saw', () => {
    const found = detectConfidential(mail(), { ...opts, contentType: 'multipart/encrypted; protocol="application/pgp-encrypted"' });
    expect(found).toEqual(enc('multipart/encrypted; protocol=application/pgp-encrypted'));
  });

  it('stays fast on a huge quoted body', () => {
    const text = `${'>'.repeat(1_000_000)}\n`.repeat(2);
    expect(detectConfidential(mail({ text }), opts)).toBeNull();
  });
});
