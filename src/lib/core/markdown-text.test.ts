import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { mdCode, mdText } from './markdown-text';

const html = (md: string): string => (marked.parse(md, { gfm: true }) as string).trim();

describe('Markdown from inputs stays text (checked by rendering it with marked)', () => {
  it.each([
    '[click](http://evil.example)',
    '![img](http://evil.example/x.png)',
    '<img src=x onerror=alert(1)>',
    '**bold** _em_ ~~strike~~',
    '# heading',
    '`code` and ``more``',
    'https://autolink.example but no [link]',
    'a | b | c',
    '\\[escaped\\]',
  ])('text %j renders as itself', (value) => {
    const out = html(`| k | v |\n|---|---|\n| key | ${mdText(value)} |`);
    expect(out).not.toMatch(/<a |<img|<strong|<em|<del|<h1|<code/);
    expect((out.match(/<td>/g) ?? []).length).toBe(2);
    expect(
      out
        .replace(/<[^>]+>/g, '')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"'),
    ).toContain(value.replace(/\s+/g, ' '));
  });

  it.each(['plain', 'has `one` backtick', '``two``', '`starts', 'ends`', 'pipe | inside', '[x](http://e)'])('code span %j holds the text whole', (value) => {
    const out = html(`| k | v |\n|---|---|\n| key | ${mdCode(value)} |`);
    expect((out.match(/<td>/g) ?? []).length).toBe(2);
    expect(out).not.toMatch(/<a /);
    const code = /<code>([\s\S]*?)<\/code>/.exec(out)?.[1] ?? '';
    expect(
      code
        .replace(/&amp;/g, '&')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .trim(),
    ).toBe(value.trim());
  });

  it('puts everything on one line', () => {
    expect(mdText('a\nb')).toBe('a b');
    expect(mdCode('a\r\nb')).toBe('`a b`');
  });
});
