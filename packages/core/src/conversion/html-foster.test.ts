import { describe, expect, it } from 'vitest';
import { parseHtml, renderHtml } from './html-dom';

describe('fosterParent (through parseHtml)', () => {
  it.each<[string, string, string]>([
    [
      'paragraphs written straight into a table go before it',
      '<table><p>Hi Sam,</p><p>A new ticket is yours.</p><tr><td>Team</td></tr></table>',
      '<p>Hi Sam,</p><p>A new ticket is yours.</p><table><tr><td>Team</td></tr></table>',
    ],
    [
      'text inside a row goes before the table; the cells stay',
      '<table><tbody><tr>Note:<td>cell</td></tr></tbody></table>',
      'Note:<table><tbody><tr><td>cell</td></tr></tbody></table>',
    ],
    [
      'content of a cell stays in the cell, also a nested table\'s',
      '<table><tr><td><p>inside</p><table><tr><td>deep</td></tr></table></td></tr></table>',
      '<table><tr><td><p>inside</p><table><tr><td>deep</td></tr></table></td></tr></table>',
    ],
    ['whitespace between rows stays', '<table>\n<tr><td>a</td></tr>\n</table>', '<table>\n<tr><td>a</td></tr>\n</table>'],
  ])('%s', (_name, input, expected) => {
    expect(renderHtml(parseHtml(input))).toBe(expected);
  });
});
