import type { MailInput } from '../types';

/** An address as the parser gives it, without a display name. */
export const addr = (address: string) => ({ address, name: '' });

/** A parsed mail for unit tests: no sender, recipients, threading headers or body unless given. */
export function mailInput(over: Partial<MailInput> = {}): MailInput {
  return {
    messageId: 'self@x.com',
    inReplyTo: [],
    references: [],
    subject: '',
    from: null,
    to: [],
    cc: [],
    deliveredTo: [],
    date: null,
    headers: {},
    text: null,
    html: null,
    ...over,
  };
}
