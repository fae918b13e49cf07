/**
 * Text from inputs (the .info file, the image's release file, os-release,
 * the recipe's repository and ref) placed in Markdown stays text: it cannot
 * start a link, an image, HTML, emphasis or a table cell of its own, or leave
 * its code span.
 */

/**
 * Plain text: every character Markdown or GitHub's renderer treats specially
 * is escaped, ':', '.' and '@' included, so that no bare URL, www. name or
 * address becomes a link (GitHub's autolinks read the raw text).
 */
export function mdText(value: string): string {
  return oneLine(value)
    .replace(/[\\`*_{}[\]()#+\-.!|~>:@]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/&(?!lt;)/g, '&amp;');
}

/** A code span that holds any text: fenced with more backticks than the text has in a row. */
export function mdCode(value: string): string {
  const text = oneLine(value);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || longest > 0 ? ' ' : '';
  // A pipe ends a table cell even inside a code span in GitHub's tables.
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`;
}

function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return value.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
}
