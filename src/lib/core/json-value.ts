/**
 * Reading JSON that came from outside (a manifest, a statement, a registry's
 * answer) without trusting its shape: every access says what it expects and
 * gets undefined otherwise.
 */

/** The value as an object (not null, not an array), or undefined. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A member of a chain of objects, e.g. `member(s, 'predicate', 'buildDefinition')`. */
export function member(value: unknown, ...path: string[]): unknown {
  let at: unknown = value;
  for (const key of path) at = asObject(at)?.[key];
  return at;
}

/** JSON text as an object, or undefined when it is not one (not JSON, or an array, null, a number). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}
