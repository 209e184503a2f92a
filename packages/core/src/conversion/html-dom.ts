import render from 'dom-serializer';
import { hasChildren, isDocument, isTag, isText, type ChildNode, type Document, type Element, type ParentNode, type Text } from 'domhandler';
import { removeElement } from 'domutils';
import { parseDocument } from 'htmlparser2';
import { fosterParent } from './html-foster';

/** Part of a text node that belongs to one line (a `<pre>` node spans several). */
export interface Segment {
  node: Text;
  from: number;
  to: number;
}

/** One rendered line of an HTML body, with the text nodes it came from. */
export interface HtmlLine {
  /** The text with `> ` per quote level, as the plain-text trimmer expects. */
  text: string;
  segments: Segment[];
}

/**
 * Bounds on the DOM we walk. Beyond them the caller falls back to the plain-text
 * path, whose converter has its own depth cap (docs/SECURITY.md B3, F9).
 */
const MAX_NODES = 100_000;
const MAX_DEPTH = 256;

/** Elements that break the line before and after them. */
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'center', 'dd', 'div', 'dl', 'dt', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'html', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table',
  'tbody', 'thead', 'tfoot', 'tr', 'ul', 'caption',
]);

/**
 * Elements the reader never sees: only ones the sanitiser drops with their content
 * (html.ts DROP_WITH_CONTENT). Anything else it unwraps and shows, so the trimmer
 * must read it too, or history hidden in an unknown element would slip past.
 */
const HIDDEN = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'svg', 'math', 'object', 'iframe', 'textarea', 'select']);

/**
 * Runs of HTML whitespace that collapse to one space outside `<pre>`: two or more, or one
 * that is not a plain space (a lone space needs no rewriting).
 */
const HTML_SPACE_RUN = /[ \t\n\r\f]{2,}|[\t\n\r\f]/g;

/**
 * Parses untrusted HTML with htmlparser2 (the parser sanitize-html also uses), with content
 * that stands directly in a table moved before it, where a browser shows it (see fosterParent).
 */
export function parseHtml(html: string): Document {
  const doc = parseDocument(html, { decodeEntities: true });
  if (/<table/i.test(html)) fosterParent(doc);
  return doc;
}

/**
 * True when the document is within {@link MAX_NODES} and {@link MAX_DEPTH}.
 * dom-serializer recurses per level, so a deeper document must not be rendered.
 */
export function withinLimits(doc: Document): boolean {
  const stack: [ChildNode, number][] = doc.children.map((c) => [c, 1]);
  let visited = 0;
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (++visited > MAX_NODES || level > MAX_DEPTH) return false;
    if (hasChildren(node)) for (const child of node.children) stack.push([child, level + 1]);
  }
  return true;
}

/** Serialises the (cut) document; entities are re-encoded minimally, non-ASCII kept. */
export function renderHtml(doc: Document): string {
  return render(doc, { encodeEntities: 'utf8' });
}

/**
 * A `blockquote` that holds quoted mail rather than indentation: Apple and
 * Thunderbird mark theirs `type="cite"`, Gmail `class="gmail_quote"`, Outlook for
 * Mac draws a left border. Gmail's "indent" is a bare blockquote and stays text.
 * Android clients wrap the history in `div.quote`.
 */
function isQuoteElement(el: Element, insideQuote: boolean): boolean {
  const cls = ` ${el.attribs.class ?? ''} `;
  if (el.name === 'blockquote') {
    const style = el.attribs.style ?? '';
    return (
      insideQuote ||
      (el.attribs.type ?? '').toLowerCase() === 'cite' ||
      cls.includes(' gmail_quote ') ||
      (/border-left\s*:\s*(?!none)/i.test(style) && /padding/i.test(style))
    );
  }
  return el.name === 'div' && cls.includes(' quote ');
}

/**
 * Renders the document into lines the way a mail client shows it: a line break
 * at `<br>` and around block elements, table cells separated by a space,
 * whitespace collapsed except in `<pre>`, and `> ` prefixed per quote level.
 * Returns null when the document is beyond {@link MAX_NODES} or {@link MAX_DEPTH}.
 */
export function lineariseHtml(doc: Document): HtmlLine[] | null {
  const lines: HtmlLine[] = [];
  let text = '';
  let segments: Segment[] = [];
  let depth = 0;
  let lineDepth = 0;
  let pre = 0;
  let visited = 0;
  // A block boundary only ends the current line; blank lines come from empty lines
  // (`<div><br></div>`, `<p>&nbsp;</p>`, `<br><br>`) and paragraph ends.
  const breakLine = () => {
    if (segments.length > 0) lines.push({ text: `${'> '.repeat(lineDepth)}${text.replace(/ {2,}/g, ' ').trim()}`, segments });
    text = '';
    segments = [];
  };
  const blankLine = () => {
    if (lines.length > 0 && lines[lines.length - 1]?.text !== '') lines.push({ text: '', segments: [] });
  };
  const addText = (node: Text, from: number, to: number, value: string) => {
    if (segments.length === 0) lineDepth = depth;
    segments.push({ node, from, to });
    text += value;
  };
  type Step = { node: ChildNode; exit: false; level: number } | { el: Element; exit: true; quote: boolean };
  const stack: Step[] = [...doc.children].reverse().map((node) => ({ node, exit: false as const, level: 1 }));
  while (stack.length > 0) {
    const step = stack.pop()!;
    if (step.exit) {
      if (step.el.name === 'pre') pre--;
      if (step.quote) depth--;
      if (BLOCK.has(step.el.name)) breakLine();
      // A paragraph has a margin below it, except Word's MsoNormal lines, which are lines.
      if (step.el.name === 'p' && !/\bMsoNormal\b/.test(step.el.attribs.class ?? '')) blankLine();
      continue;
    }
    if (++visited > MAX_NODES || step.level > MAX_DEPTH) return null;
    const node = step.node;
    if (isText(node)) {
      if (pre > 0) {
        let from = 0;
        for (const part of node.data.split('\n')) {
          if (from > 0) breakLine();
          addText(node, from, from + part.length, part);
          from += part.length + 1;
        }
      } else {
        addText(node, 0, node.data.length, node.data.replace(HTML_SPACE_RUN, ' '));
      }
      continue;
    }
    if (!isTag(node) || HIDDEN.has(node.name)) continue;
    if (node.name === 'br') {
      if (segments.length === 0) blankLine();
      else breakLine();
      continue;
    }
    if (node.name === 'td' || node.name === 'th') text += ' ';
    const quote = isQuoteElement(node, depth > 0);
    if (BLOCK.has(node.name)) breakLine();
    if (quote) depth++;
    if (node.name === 'pre') pre++;
    stack.push({ el: node, exit: true, quote });
    for (let i = node.children.length - 1; i >= 0; i--) {
      const child = node.children[i];
      if (child) stack.push({ node: child, exit: false, level: step.level + 1 });
    }
  }
  breakLine();
  return lines;
}

/**
 * Detaches nodes, one pass per affected parent. domutils' `removeElement` searches
 * and splices the parent's child array for every node, which is quadratic when a
 * cut removes tens of thousands of siblings.
 */
export function removeAll(nodes: Iterable<ChildNode>): void {
  const byParent = new Map<ParentNode, Set<ChildNode>>();
  for (const n of nodes) {
    if (!n.parent) continue;
    let set = byParent.get(n.parent);
    if (!set) byParent.set(n.parent, (set = new Set()));
    set.add(n);
  }
  for (const [parent, gone] of byParent) {
    for (const n of gone) n.parent = n.prev = n.next = null;
    parent.children = parent.children.filter((c) => !gone.has(c));
    parent.children.forEach((c, i, all) => {
      c.prev = all[i - 1] ?? null;
      c.next = all[i + 1] ?? null;
    });
  }
}

/** Removes `node` and everything after it in document order. */
export function removeFrom(node: ChildNode): void {
  removeAfter(node);
  removeAll([node]);
}

/** Removes everything after `node` in document order, keeping `node` itself. */
export function removeAfter(node: ChildNode): void {
  const gone: ChildNode[] = [];
  let cur: ParentNode | ChildNode | null = node;
  while (cur && !isDocument(cur)) {
    for (let n: ChildNode | null = cur.next; n; n = n.next) gone.push(n);
    cur = cur.parent;
  }
  removeAll(gone);
}

/** Cuts the document where line `index` starts (or does nothing past the last line with text). */
export function cutAtLine(lines: readonly HtmlLine[], index: number): boolean {
  for (let i = index; i < lines.length; i++) {
    const seg = lines[i]?.segments[0];
    if (!seg) continue;
    if (seg.from === 0) removeFrom(seg.node);
    else {
      seg.node.data = seg.node.data.slice(0, seg.from);
      removeAfter(seg.node);
    }
    return true;
  }
  return false;
}

/** Removes the text of the given lines; returns the parents that may now be empty. */
export function dropLines(lines: readonly HtmlLine[], indexes: Iterable<number>): ParentNode[] {
  const parents: ParentNode[] = [];
  const gone: ChildNode[] = [];
  // Descending, so that earlier segments of a shared <pre> node keep their offsets.
  for (const i of [...indexes].sort((a, b) => b - a)) {
    const segs = lines[i]?.segments ?? [];
    for (let s = segs.length - 1; s >= 0; s--) {
      const seg = segs[s];
      if (!seg) continue;
      if (seg.from === 0 && seg.to >= seg.node.data.length) {
        if (seg.node.parent) parents.push(seg.node.parent);
        gone.push(seg.node);
      } else {
        // A whole line of a <pre> text goes with its newline, so no blank line marks the spot.
        const whole = s === 0 && segs.length === 1 && (seg.from === 0 || seg.node.data[seg.from - 1] === '\n');
        const to = whole && seg.node.data[seg.to] === '\n' ? seg.to + 1 : seg.to;
        seg.node.data = seg.node.data.slice(0, seg.from) + seg.node.data.slice(to);
      }
    }
  }
  removeAll(gone);
  return parents;
}

/** Nodes whose subtree holds visible (non-whitespace) text, computed in one pass. */
function meaningfulNodes(doc: Document): Set<ParentNode | ChildNode> {
  const out = new Set<ParentNode | ChildNode>();
  const order: (ParentNode | ChildNode)[] = [];
  const stack: (ParentNode | ChildNode)[] = [doc];
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    if (hasChildren(n) && !(isTag(n) && HIDDEN.has(n.name))) for (const c of n.children) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    if (isText(n) ? /\S/.test(n.data) : hasChildren(n) && n.children.some((c) => out.has(c))) out.add(n);
  }
  return out;
}

/**
 * Removes what a cut leaves behind: trailing `<br>`, `<hr>`, empty blocks and
 * whitespace at the end of the document, and the given parents when they no
 * longer hold any text (the wrapper of a dropped attribution).
 */
export function pruneEmpty(doc: Document, parents: readonly ParentNode[] = []): void {
  const meaningful = meaningfulNodes(doc);
  const gone = new Set<ChildNode>();
  for (const p of parents) {
    // The outermost ancestor left without text goes, and its subtree with it.
    let top: ChildNode | null = null;
    for (let cur: ParentNode | null = p; cur && isTag(cur) && !meaningful.has(cur) && cur.name !== 'body' && cur.name !== 'html'; cur = cur.parent) {
      top = cur;
    }
    if (top) gone.add(top);
  }
  removeAll(gone);
  let child: ChildNode | null = doc.lastChild;
  while (child) {
    if (meaningful.has(child)) {
      if (!hasChildren(child)) return;
      child = child.lastChild;
    } else if (isTag(child) && HIDDEN.has(child.name)) {
      // <head> and <style> stay: the sanitiser drops them anyway.
      child = child.prev;
    } else {
      // A meaningful parent has a meaningful child, so this stops before running out.
      const prev: ChildNode | null = child.prev;
      removeElement(child);
      child = prev;
    }
  }
}
