import { isTag, isText, type ChildNode, type Document, type Element } from 'domhandler';
import { prepend, removeElement } from 'domutils';

/** What may stand directly in a table, a table section or a row (HTML "in table" insertion modes). */
const TABLE_CONTENT: Readonly<Record<string, ReadonlySet<string>>> = {
  table: new Set(['caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'script', 'style', 'template']),
  thead: new Set(['tr', 'script', 'style', 'template']),
  tbody: new Set(['tr', 'script', 'style', 'template']),
  tfoot: new Set(['tr', 'script', 'style', 'template']),
  tr: new Set(['td', 'th', 'script', 'style', 'template']),
};

/** Elements visited at most: the DOM walk's own bound (html-dom.ts MAX_NODES). */
const MAX_VISITED = 100_000;

/**
 * Moves content that sits directly in a table structure (a `<p>` between a `<table>` and its
 * rows, text inside a `<tr>`) to just before the table, as a browser's HTML parser does
 * ("foster parenting", HTML Living Standard 13.2.6.1). htmlparser2 keeps it where it is, and
 * the text renderer, which reads tables row by cell, then drops it: a notification template
 * that writes its paragraphs straight into a table would lose them.
 */
export function fosterParent(doc: Document): void {
  const stack: ChildNode[] = [...doc.children];
  let visited = 0;
  while (stack.length > 0 && visited++ < MAX_VISITED) {
    const node = stack.pop()!;
    if (!isTag(node)) continue;
    if (node.name === 'table') moveStrays(node, node);
    for (const child of node.children) stack.push(child);
  }
}

function moveStrays(table: Element, container: Element): void {
  const allowed = TABLE_CONTENT[container.name];
  if (!allowed) return;
  for (const child of [...container.children]) {
    if (isTag(child) && allowed.has(child.name)) {
      if (child.name !== 'td' && child.name !== 'th') moveStrays(table, child);
      continue;
    }
    if (isText(child) ? child.data.trim() === '' : !isTag(child)) continue;
    removeElement(child);
    prepend(table, child);
  }
}
