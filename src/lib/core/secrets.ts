/**
 * The one secret scrubber: every value registered here (a registry password,
 * a token, the first user's password) is replaced by `***` in every line the
 * process prints, final error messages included. Front ends pass all their
 * output through `scrubSecrets`; the library registers secrets as soon as it
 * holds them, in the forms they may be printed in (as given, URL-encoded,
 * and as the base64 of a Basic `user:password` pair).
 */

const secrets = new Set<string>();
const listeners: ((secret: string) => void)[] = [];
/** Shorter values would blank out ordinary words. */
const MIN_SECRET_LENGTH = 4;

function add(value: string): void {
  if (secrets.has(value)) return;
  secrets.add(value);
  for (const l of listeners) l(value);
}

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) add(encoded);
}

/** Calls `listener` with every secret registered, now and later (the Actions adapter masks them in the runner too). */
export function onSecretRegistered(listener: (secret: string) => void): void {
  listeners.push(listener);
  for (const s of secrets) listener(s);
}

/** A Basic pair: the password, and the header value that carries both. */
export function registerBasicCredentials(username: string, password: string): void {
  registerSecret(password);
  registerSecret(Buffer.from(`${username}:${password}`).toString('base64'));
}

export function scrubSecrets(text: string): string {
  let out = text;
  // Longest first: a secret that contains another is hidden whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
