import { describe, expect, it } from 'vitest';
import { readClamdReply } from './clamd';

describe('readClamdReply', () => {
  it.each([
    ['stream: OK\0', { clean: true }],
    ['stream: OK', { clean: true }],
    ['1: OK\0', { clean: true }],
    ['stream: Eicar-Test-Signature FOUND\0', { clean: false, signature: 'Eicar-Test-Signature' }],
    ['stream: Win.Trojan.Agent-123 FOUND\0', { clean: false, signature: 'Win.Trojan.Agent-123' }],
    ['INSTREAM size limit exceeded. ERROR\0', null],
    ['', null],
    ['stream: OK FOUND? \0garbage', null],
  ])('%j', (reply, verdict) => expect(readClamdReply(reply)).toEqual(verdict));
});
