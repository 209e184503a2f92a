import { composeDigest, LANGUAGES, type Language } from '@blend/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderCorrectionMail, renderDigestMail, renderMirrorMail, renderNotificationMail, renderReceiptMail, warmTemplates, type RenderedMail } from './index';

const PREFS = 'https://blend.example/preferences';
const POST = 'https://blend.example/posts/p1';
const EVIL = '<b>Q3</b> & "plans" {{name}}';
const at = new Date(Date.UTC(2026, 0, 5, 12, 30));

beforeAll(async () => {
  await warmTemplates();
}, 60_000);

const KINDS = ['digest', 'notification', 'published', 'not published', 'correction', 'mirror'] as const;

/** Every mail Blend renders, in `language`, with a title that needs escaping. */
function everyMail(language: Language): [(typeof KINDS)[number], RenderedMail][] {
  const digest = composeDigest(
    [{ kind: 'comment', postId: 'p1', commentId: 'c1', threadTitle: EVIL, groupName: 'General', authorName: 'Ann', authorEmail: 'ann@x.test', source: 'email', text: 'Hello', at, mentionsMe: true }],
    { excerptChars: 300 },
  );
  return [
    ['digest', renderDigestMail({ recipientName: 'Bo', frequency: 'weekly', digest: { ...digest, threads: digest.threads.map((t) => ({ ...t, url: POST, replyAddress: 'reply+x@b.test' })) }, preferencesUrl: PREFS, unsubscribeUrl: PREFS, timezone: 'Asia/Tokyo', language })],
    ['notification', renderNotificationMail({ recipientName: 'Bo', threadTitle: EVIL, postUrl: POST, items: [{ kind: 'mention', authorName: 'Ann', text: 'hi', at }, { kind: 'reply', authorName: '', text: 'yo', at }], preferencesUrl: PREFS, timezone: 'Europe/Paris', language })],
    ['published', renderReceiptMail({ outcome: 'commented', title: EVIL, text: 'done', postUrl: POST, undoUrl: POST, fixUrl: POST, validMinutes: 90, preferencesUrl: PREFS, language })],
    ['not published', renderReceiptMail({ outcome: 'held', subject: EVIL, reason: 'sender_rate', preferencesUrl: PREFS, language })],
    ['correction', renderCorrectionMail({ authorName: 'Ann', change: 'edited', text: 'v2', postTitle: EVIL, postUrl: POST, preferencesUrl: PREFS, language })],
    ['mirror', renderMirrorMail({ authorName: 'Ann', text: 'a comment', postTitle: '', postUrl: POST, preferencesUrl: PREFS, language })],
  ];
}

const KEY = /\b(?:common|digest|notification|receipt|reason|correction|mirror|footer|notice)\.[a-zA-Z_.]+\b/;

describe.each(LANGUAGES)('mail in %s', (language) => {
  it.each(KINDS)('%s: in its language, with no message key left and every value escaped once', (kind) => {
    const mail = everyMail(language).find(([k]) => k === kind)![1];
    expect(mail.language).toBe(language);
    expect(mail.html).toContain(`<html lang="${language}"`);
    for (const part of [mail.subject, mail.text, mail.html]) expect(part).not.toMatch(KEY);
    expect(mail.html).not.toContain('<b>Q3</b>');
    expect(mail.html).not.toContain('&amp;amp;');
    if (mail.subject.includes('Q3')) expect(mail.subject).toContain('<b>Q3</b> & "plans" {{name}}');
  });

  it('says something different from English, except for English', () => {
    const [[, mail]] = everyMail(language) as [[string, RenderedMail]];
    const [[, english]] = everyMail('en') as [[string, RenderedMail]];
    if (language === 'en') expect(mail.text).toBe(english.text);
    else expect(mail.text).not.toBe(english.text);
  });
});

describe('localised details', () => {
  it.each<[Language, string, string]>([
    ['en', 'Your weekly Blend digest: 1 thread, 1 update', 'Mon 5 Jan, 21:30'],
    ['de', 'Ihr wöchentlicher Blend-Überblick: 1 Unterhaltung, 1 Neuigkeit', 'Mo., 5. Jan., 21:30'],
    ['fr', 'Votre résumé Blend de la semaine : 1 discussion, 1 nouveauté', 'lun. 5 janv., 21:30'],
    ['es', 'Tu resumen semanal de Blend: 1 conversación, 1 novedad', 'lun, 5 ene, 21:30'],
    ['ja', 'Blend 今週のまとめ: 1 件のスレッド、1 件の更新', '1月5日(月) 21:30'],
  ])('%s digest: subject %s, times like %s', (language, subject, time) => {
    const [[, digest]] = everyMail(language) as [[string, RenderedMail]];
    expect(digest.subject).toBe(subject);
    expect(digest.text).toContain(time);
  });

  it.each<[Language, string]>([
    ['en', 'Undo and Fix work for 1 hour and 30 minutes after this mail was sent.'],
    ['de', 'Rückgängig und Korrigieren funktionieren noch 1 Stunde und 30 Minuten nach dem Versand dieser Mail.'],
    ['fr', 'Annuler et Corriger fonctionnent pendant 1 heure et 30 minutes après l’envoi de ce message.'],
    ['es', 'Deshacer y Corregir funcionan durante 1 hora y 30 minutos tras el envío de este correo.'],
    ['ja', '「取り消す」と「修正する」は、このメールの送信から 1 時間 30 分間 有効です。'],
  ])('%s receipt: %s', (language, validity) => {
    const published = everyMail(language).find(([k]) => k === 'published')![1];
    expect(published.text).toContain(validity);
  });
});
