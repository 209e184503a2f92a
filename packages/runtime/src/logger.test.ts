import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, urlForLog } from './logger';

describe('urlForLog', () => {
  it.each([
    ['/links/opt-in?t=abc.def', '/links/opt-in?t=[redacted]'],
    ['/links/fix?t=abc&x=1', '/links/fix?t=[redacted]&x=[redacted]'],
    ['/api/v1/feed?cursor=eyJ9&limit=20', '/api/v1/feed?cursor=[redacted]&limit=[redacted]'],
    ['/web/posts/1?t', '/web/posts/1?t=[redacted]'],
    ['/web/posts/1?', '/web/posts/1'],
    ['/web/posts/1?&&', '/web/posts/1'],
    ['/healthz', '/healthz'],
    ['/', '/'],
  ])('%s → %s', (url, logged) => {
    expect(urlForLog(url)).toBe(logged);
  });
});

describe('createLogger', () => {
  it('writes a logged request without its query values', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger('test', 'info', sink);
    log.info({ req: { method: 'GET', url: '/links/undo?t=SECRET-TOKEN', ip: '127.0.0.1' } }, 'incoming request');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { req: { url: string; method: string; remoteAddress: string } };
    expect(line.req).toMatchObject({ method: 'GET', url: '/links/undo?t=[redacted]', remoteAddress: '127.0.0.1' });
    expect(lines[0]).not.toContain('SECRET-TOKEN');
  });
});
