import { describe, expect, it } from 'vitest';
import { printable, quoteUntrusted } from './terminal-text';

describe('printable', () => {
  it.each([
    ['\u001b]0;title\u0007', '\\e]0;title\\x07'],
    ['\u001b[2J\u001b[32mREADY\u001b[0m', '\\e[2J\\e[32mREADY\\e[0m'],
    ['carriage\roverwrite', 'carriage\\roverwrite'],
    ['c1 \u009b CSI', 'c1 \\x9b CSI'],
    ['del\u007f', 'del\\x7f'],
    ['lines\nand\ttabs stay', 'lines\nand\ttabs stay'],
    ['ünïcödé and emoji 🍓 stay', 'ünïcödé and emoji 🍓 stay'],
  ])('%j → %j', (input, output) => {
    expect(printable(input)).toBe(output);
  });

  it('quotes untrusted text on one bounded line', () => {
    expect(quoteUntrusted('a\nb\u001b', 10)).toBe('"a\\\\nb\\\\e"');
    expect(quoteUntrusted('x'.repeat(200), 5)).toBe('"xxxxx…"');
  });
});
