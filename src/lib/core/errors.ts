/**
 * One error type for the whole library, with a closed set of codes.
 * Only the outermost runner (CLI or action entry) turns it into an exit code or
 * a failed step; everything below throws.
 */

/** Codes for mistakes the user can fix: a bad input, a missing or malformed file. */
export const USER_ERROR_CODES = [
  'USAGE',
  'INPUT_INVALID',
  'DEPLOY_NOT_FOUND',
  'DEPLOY_NO_IMAGE',
  'DEPLOY_AMBIGUOUS',
  'DEPLOY_NO_INFO',
  'IMAGE_CORRUPT',
  'IMAGE_EMPTY',
  'IMAGE_NOT_DISK',
  'LOG_INVALID',
  'INFO_INVALID',
  'OUTPUT_EXISTS',
  /** A flash target that is not there, or not a block device. */
  'DISK_NOT_FOUND',
  'DISK_NOT_BLOCK_DEVICE',
  /** A partition given where a whole disk belongs. */
  'DISK_NOT_WHOLE',
  /** Mounted, used as swap, or held by device-mapper, md or LVM. */
  'DISK_IN_USE',
  /** The disk the running system lives on. */
  'DISK_SYSTEM',
  /** A disk holding a protected label or serial (OURBOX_DATA). */
  'DISK_PROTECTED',
  'DISK_READ_ONLY',
  'DISK_TOO_SMALL',
  /** Not on a terminal and no --yes; or the serial typed back did not match. */
  'CONFIRMATION_REQUIRED',
] as const;

/** Codes for failures that are not the user's input: a tool missing, I/O, a bug. */
export const FAILURE_CODES = [
  'TOOL_MISSING',
  'PREFLIGHT_FAILED',
  'BUILD_FAILED',
  'SIGNING_FAILED',
  'EXEC_FAILED',
  'IO_FAILED',
  /** A registry (or the network to it) failed: an error status, a dropped or stalled connection, a deadline passed. */
  'REGISTRY_FAILED',
  'FS_UNSUPPORTED',
  /** The target changed between its checks and its opening (another disk under the same name). */
  'DISK_CHANGED',
  /** What was read back from the disk is not what was written. */
  'DISK_VERIFY_FAILED',
  /** A package archive (Debian's mirror) could not be reached, or answered with an error. */
  'FETCH_FAILED',
  /** The image did not boot, or booted and broke one of its checks. */
  'BOOT_TEST_FAILED',
  'INTERNAL',
] as const;

/** Codes for a release that fails verification: each tamper case has its own. */
export const VERIFY_CODES = [
  'SIGNATURE_MISSING',
  'BUNDLE_CORRUPT',
  'SIGNATURE_INVALID',
  'IDENTITY_MISMATCH',
  'ISSUER_MISMATCH',
  /** Built from another repository than the policy names (a stranger calling the same reusable workflow). */
  'REPOSITORY_MISMATCH',
  'SOURCE_REF_MISMATCH',
  'SIGNER_WORKFLOW_MISMATCH',
  /** Signed on a self-hosted runner where a GitHub-hosted one is required. */
  'RUNNER_MISMATCH',
  'RELEASE_MISMATCH',
  /** The signed statement lacks what a release signature must have, or disagrees with the signed manifest. */
  'STATEMENT_INVALID',
  /** manifest.json is not the one that was signed. */
  'MANIFEST_MODIFIED',
  'FILE_MODIFIED',
  'FILE_MISSING',
  'FILE_UNSIGNED',
  /** A release without the boot test's evidence (smoke-test.json under its signature), or evidence of another image. */
  'BOOT_EVIDENCE_MISSING',
  /** Bytes from a registry or an OCI layout that do not match their digest or size. */
  'DIGEST_MISMATCH',
  /** An archive entry that would escape its directory: absolute, `..`, a link out, a device. */
  'UNSAFE_ARCHIVE',
] as const;

export type UserErrorCode = (typeof USER_ERROR_CODES)[number];
export type FailureCode = (typeof FAILURE_CODES)[number] | (typeof VERIFY_CODES)[number];
export type ErrorCode = UserErrorCode | FailureCode;

export class PiImageError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PiImageError';
    this.code = code;
  }

  /** True when the user can fix it by changing an input (exit code 2). */
  get isUserError(): boolean {
    return (USER_ERROR_CODES as readonly string[]).includes(this.code);
  }
}

/** Exit codes shared by every front end. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USER_ERROR = 2;

export function exitCodeFor(error: unknown): number {
  return error instanceof PiImageError && error.isUserError ? EXIT_USER_ERROR : EXIT_FAILURE;
}

/** The message a front end shows: code and text, then the causes, one per line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const head = error instanceof PiImageError ? `${error.message} [${error.code}]` : error.message;
  const causes: string[] = [];
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    causes.push(`  caused by: ${cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : JSON.stringify(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return [head, ...causes].join('\n');
}
