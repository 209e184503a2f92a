import { avatarColourIndex, initials } from '@blend/core';
import type { PersonRef } from '@blend/db';
import { html, type SafeHtml } from './html';

/**
 * A person's initials on their colour (core avatar.ts), drawn by the server: decorative, since
 * the name is always written beside it, so screen readers skip it.
 */
export function avatar(p: Pick<PersonRef, 'name' | 'email'>, size: 'small' | 'normal' = 'normal'): SafeHtml {
  return html`<span class="avatar av-${avatarColourIndex(p.email)}${size === 'small' ? ' small' : ''}" aria-hidden="true">${initials(p.name, p.email)}</span>`;
}
