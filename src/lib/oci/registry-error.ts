/**
 * What went wrong talking to a registry, as data: the request, the status,
 * the registry's own error codes, and whether trying again can help. Retry
 * and "not found" decisions read these fields, never the message text.
 */
import { PiImageError, type ErrorCode } from '../core/errors';
import { printable } from '../core/terminal-text';

export type RegistryFailureKind =
  /** The registry answered with an error status. */
  | 'status'
  /** The connection failed, was refused or dropped. */
  | 'network'
  /** No answer within the response deadline, or the request's overall deadline passed. */
  | 'timeout'
  /** Bytes flowed slower than the low-speed limit for the whole window. */
  | 'stalled'
  /** The registry answered something a registry must not (no Location, a bad token reply). */
  | 'protocol';

export interface RegistryErrorDetails {
  method: string;
  url: string;
  kind: RegistryFailureKind;
  status?: number;
  /** The distribution spec's error codes from the body (`{"errors":[{"code":…}]}`). */
  codes: string[];
  retryable: boolean;
}

/** Statuses worth another try: the registry is busy or briefly failing. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export class RegistryError extends PiImageError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly details: RegistryErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'RegistryError';
  }
}

export function isRetryable(e: unknown): boolean {
  return e instanceof RegistryError && e.details.retryable;
}

export function hasStatus(e: unknown, status: number): boolean {
  return e instanceof RegistryError && e.details.status === status;
}

function requestLabel(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

/** The error codes and messages of a distribution error body, shown as text (bounded, control characters escaped). */
export function registryErrorSummary(body: string): { codes: string[]; text: string } {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (Array.isArray(parsed.errors)) {
      const text = (v: unknown): string => (typeof v === 'string' ? v : '');
      const errors = (parsed.errors as { code?: unknown; message?: unknown }[]).slice(0, 5).map((e) => ({ code: text(e.code), message: text(e.message) }));
      const codes = errors.map((e) => e.code).filter((c) => /^[A-Z_]{1,64}$/.test(c));
      return { codes, text: printable(errors.map((e) => `${e.code}: ${e.message}`).join('; ')).slice(0, 300) };
    }
  } catch {
    // not JSON: shown as text below
  }
  return { codes: [], text: printable(body).replace(/\s+/g, ' ').trim().slice(0, 200) };
}

export function statusError(method: string, url: URL, status: number, body: string, registry: string): RegistryError {
  const { codes, text } = registryErrorSummary(body);
  const denied = status === 401 || status === 403;
  const why = denied ? ' (check the credentials and their permissions on this repository)' : '';
  return new RegistryError(
    denied ? 'INPUT_INVALID' : 'REGISTRY_FAILED',
    `${requestLabel(method, url)} on ${registry}: ${status}${text ? ` ${text}` : ''}${why}`,
    {
      method,
      url: url.href,
      kind: 'status',
      status,
      codes,
      retryable: RETRYABLE_STATUS.has(status),
    },
  );
}

export function transportError(
  method: string,
  url: URL,
  kind: Exclude<RegistryFailureKind, 'status' | 'protocol'>,
  what: string,
  cause?: unknown,
): RegistryError {
  return new RegistryError('REGISTRY_FAILED', `${requestLabel(method, url)}: ${what}`, { method, url: url.href, kind, codes: [], retryable: true }, { cause });
}

export function protocolError(method: string, url: URL, what: string): RegistryError {
  return new RegistryError('REGISTRY_FAILED', `${requestLabel(method, url)}: ${what}`, {
    method,
    url: url.href,
    kind: 'protocol',
    codes: [],
    retryable: false,
  });
}
