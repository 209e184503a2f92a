import { describe, expect, it } from 'vitest';
import { contentDisposition, DEFAULT_ATTACHMENT_LIMITS, isTnef, planAttachments, safeFilename, servedAs } from './attachments';

describe('safeFilename', () => {
  it.each<[string | null, string, string]>([
    ['report.pdf', 'application/pdf', 'report.pdf'],
    ['C:\\Users\\x\\secret.docx', 'application/octet-stream', 'secret.docx'],
    ['../../etc/passwd', 'text/plain', 'passwd'],
    ['invoice\u202Efdp.exe', 'application/pdf', 'invoicefdp.exe'],
    ['a"b<c>.txt', 'text/plain', 'a_b_c_.txt'],
    ['.htaccess', 'text/plain', 'htaccess'],
    [null, 'image/png', 'attachment-3.png'],
    ['   ', 'application/x-unknown', 'attachment-3.bin'],
    ['Grüße 📎.pdf', 'application/pdf', 'Grüße 📎.pdf'],
  ])('%j (%s) -> %j', (name, type, expected) => {
    expect(safeFilename(name, 2, type)).toBe(expected);
  });
});

describe('planAttachments', () => {
  const MB = 1024 * 1024;
  it('stores files in order within the per-file and per-mail limits, and lists the rest with a reason', () => {
    const plan = planAttachments(
      [
        { filename: 'a.pdf', contentType: 'application/pdf', size: 4 * MB, inline: false },
        { filename: 'big.pptx', contentType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', size: 11 * MB, inline: false },
        { filename: 'b.pdf', contentType: 'application/pdf', size: 8 * MB, inline: false },
        { filename: 'c.pdf', contentType: 'application/pdf', size: 9 * MB, inline: false },
        { filename: 'empty.txt', contentType: 'text/plain', size: 0, inline: false },
      ],
      { maxFileBytes: 10 * MB, maxTotalBytes: 20 * MB, maxFiles: 50 },
    );
    expect(plan.map((p) => [p.filename, p.store, p.omitted])).toEqual([
      ['a.pdf', true, null],
      ['big.pptx', false, 'too_large'],
      ['b.pdf', true, null],
      ['c.pdf', false, 'total_too_large'],
      ['empty.txt', false, 'empty'],
    ]);
    expect(plan[1]!.note).toMatch(/larger than the limit/);
  });

  it.each<[string, string, string | null, boolean]>([
    ['a PDF', 'application/pdf', 'report.pdf', true],
    ['a photo', 'image/jpeg', 'IMG_0001.JPG', true],
    ['a spreadsheet sent as octet-stream', 'application/octet-stream', 'budget.xlsx', true],
    ['a voice memo', 'audio/mp4', 'memo.m4a', true],
    ['a program', 'application/x-msdownload', 'setup.exe', false],
    ['a program disguised as a PDF', 'application/pdf', 'invoice.pdf.exe', false],
    ['a script sent as text', 'text/plain', 'run.vbs', false],
    ['a macro document', 'application/vnd.ms-word.document.macroEnabled.12', 'offer.docm', false],
    ['an archive', 'application/zip', 'photos.zip', false],
    ['a web page', 'text/html', 'page.html', false],
    ['an SVG', 'image/svg+xml', 'logo.svg', false],
    ['an unknown binary', 'application/octet-stream', 'data.bin', false],
    ['a file without a name or type', 'application/octet-stream', null, false],
  ])('stores %s: %s', (_what, type, name, stored) => {
    const [p] = planAttachments([{ filename: name, contentType: type, size: 100, inline: false }]);
    expect(p!.store).toBe(stored);
    if (!stored) expect(p).toMatchObject({ omitted: 'type_not_allowed', note: expect.stringMatching(/not accepted/) });
  });

  it('takes an allow-list from the operator', () => {
    const [zip] = planAttachments([{ filename: 'a.zip', contentType: 'application/zip', size: 100, inline: false }], { ...DEFAULT_ATTACHMENT_LIMITS, allowedTypes: ['application/zip'] });
    expect(zip!.store).toBe(true);
    const [pdf] = planAttachments([{ filename: 'a.pdf', contentType: 'application/pdf', size: 100, inline: false }], { ...DEFAULT_ATTACHMENT_LIMITS, allowedTypes: ['image/*'] });
    expect(pdf).toMatchObject({ store: false, omitted: 'type_not_allowed' });
  });

  it('keeps winmail.dat as a file with a note, never as an inline image', () => {
    const [p] = planAttachments([{ filename: 'winmail.dat', contentType: 'application/ms-tnef', size: 100, inline: true }]);
    expect(p).toMatchObject({ store: true, inline: false });
    expect(p!.note).toMatch(/winmail\.dat/);
    expect(isTnef({ filename: 'WINMAIL.DAT', contentType: 'application/octet-stream' })).toBe(true);
    expect(isTnef({ filename: 'x.bin', contentType: 'application/vnd.ms-tnef' })).toBe(true);
  });

  it('lists at most maxFiles files', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ filename: `f${i}.txt`, contentType: 'text/plain', size: 1, inline: false }));
    expect(planAttachments(many, { maxFileBytes: 10, maxTotalBytes: 1000, maxFiles: 50 })).toHaveLength(50);
  });
});

describe('servedAs', () => {
  it.each<[string, string, 'inline' | 'attachment']>([
    ['image/png', 'image/png', 'inline'],
    ['IMAGE/JPEG; name=x.jpg', 'image/jpeg', 'inline'],
    ['image/svg+xml', 'application/octet-stream', 'attachment'],
    ['text/html', 'application/octet-stream', 'attachment'],
    ['application/pdf', 'application/pdf', 'attachment'],
    ['text/plain', 'text/plain; charset=utf-8', 'attachment'],
    ['application/x-msdownload', 'application/octet-stream', 'attachment'],
  ])('%s -> %s %s', (declared, type, disposition) => {
    expect(servedAs(declared)).toEqual({ contentType: type, disposition });
  });
});

describe('contentDisposition', () => {
  it.each<[string, string]>([
    ['report.pdf', `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`],
    ['Grüße (1).pdf', `attachment; filename="Gr__e (1).pdf"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%281%29.pdf`],
    ['a"b\\c.txt', `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`],
  ])('%j', (name, expected) => {
    expect(contentDisposition('attachment', name)).toBe(expected);
  });
});
