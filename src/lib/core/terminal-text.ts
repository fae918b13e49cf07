/**
 * Text from inputs (a build log, an .info file, an image's /etc/os-release, a
 * registry's error body) may hold terminal escape sequences: a title change,
 * a cleared screen, a fake green "ready". Everything the process prints goes
 * through `printable`, which shows control characters as escapes instead of
 * sending them to the terminal. Newlines and tabs stay. Secrets are scrubbed
 * first, so text cut short or reflowed afterwards cannot keep half a secret
 * that the final scrub would no longer recognise.
 */
import { scrubSecrets } from './secrets';

// C0 controls but \t and \n, DEL, and the C1 controls (U+0080–U+009F, which include CSI and OSC).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function printable(text: string): string {
  return scrubSecrets(text).replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return '\\r';
    if (c === '\u001b') return '\\e';
    return `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** One line of untrusted text for a message: printable, and at most `max` characters. */
export function quoteUntrusted(text: string, max = 120): string {
  const line = printable(text).replace(/\n/g, '\\n');
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}
