import { escapeHtml } from '@blend/core';

/**
 * Escaping by default for server-rendered HTML: `html` is a tagged template whose every
 * interpolated value is escaped, unless it is a {@link SafeHtml} made by `html` itself or
 * by {@link sanitisedHtml}. Views are plain typed functions, so tsc checks their data.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What a template accepts: text (escaped), numbers, markup, lists of them; nothing for null/false. */
export type Html = SafeHtml | string | number | null | undefined | false | readonly Html[];


function render(v: Html): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return (v as readonly Html[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Html[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * Markup that is already safe: only for the output of `sanitiseHtml` / `textToSafeHtml`
 * from @blend/core (stored post and comment bodies, re-sanitised by the caller).
 */
export function sanitisedHtml(s: string): SafeHtml {
  return new SafeHtml(s);
}
