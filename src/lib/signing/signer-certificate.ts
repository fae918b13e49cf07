/**
 * Who a Sigstore certificate says signed: the subject (for GitHub Actions the
 * URI of the workflow file that ran the job, at a ref), the OIDC issuer, and
 * Fulcio's extensions for CI identities (OIDs 1.3.6.1.4.1.57264.1.8–1.22,
 * DER UTF8Strings; see Fulcio's docs/oid-info.md). For a job in a reusable
 * workflow the subject and the build signer name the *called* workflow; the
 * repository whose code was built, its ref and commit, the caller's
 * workflow and the runner appear only in the extensions.
 */
import { X509Certificate } from '@sigstore/core';
import type { Bundle } from '@sigstore/bundle';
import { PiImageError } from '../core/errors';

const FULCIO = '1.3.6.1.4.1.57264.1';

export const FULCIO_EXTENSIONS = {
  issuer: `${FULCIO}.8`,
  buildSignerUri: `${FULCIO}.9`,
  buildSignerDigest: `${FULCIO}.10`,
  runnerEnvironment: `${FULCIO}.11`,
  sourceRepositoryUri: `${FULCIO}.12`,
  sourceRepositoryDigest: `${FULCIO}.13`,
  sourceRepositoryRef: `${FULCIO}.14`,
  sourceRepositoryIdentifier: `${FULCIO}.15`,
  sourceRepositoryOwnerUri: `${FULCIO}.16`,
  sourceRepositoryOwnerIdentifier: `${FULCIO}.17`,
  buildConfigUri: `${FULCIO}.18`,
  buildConfigDigest: `${FULCIO}.19`,
  buildTrigger: `${FULCIO}.20`,
  runInvocationUri: `${FULCIO}.21`,
  sourceRepositoryVisibility: `${FULCIO}.22`,
} as const;
/** The first issuer extension: a raw string, not DER. */
const ISSUER_V1 = `${FULCIO}.1`;

export type SignerExtension = Exclude<keyof typeof FULCIO_EXTENSIONS, 'issuer'>;

export interface Signer {
  /** The certificate's subject alternative name (URI or email). */
  subject: string;
  /** The OIDC issuer of the identity. */
  issuer: string;
  /** Fulcio's CI extensions present in the certificate. */
  extensions: Partial<Record<SignerExtension, string>>;
}

/** A DER-encoded UTF8String (tag 0x0C) or, leniently, any string type's bytes. */
function derString(value: Buffer): string {
  if (value.length < 2) return value.toString('utf8');
  const tag = value[0]!;
  let length = value[1]!;
  let offset = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || value.length < 2 + n) return '';
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + value[2 + i]!;
    offset = 2 + n;
  }
  if (![0x0c, 0x13, 0x16].includes(tag) || offset + length !== value.length) return value.toString('utf8');
  return value.subarray(offset).toString('utf8');
}

export function signerOfCertificate(der: Buffer): Signer {
  let cert: X509Certificate;
  try {
    cert = X509Certificate.parse(Buffer.from(der));
  } catch (e) {
    throw new PiImageError('BUNDLE_CORRUPT', `the signing certificate cannot be parsed: ${(e as Error).message}`, { cause: e });
  }
  const read = (oid: string): string | undefined => {
    const ext = cert.extension(oid);
    return ext ? derString(ext.value) : undefined;
  };
  const extensions: Signer['extensions'] = {};
  for (const [key, oid] of Object.entries(FULCIO_EXTENSIONS) as [keyof typeof FULCIO_EXTENSIONS, string][]) {
    if (key === 'issuer') continue;
    const value = read(oid);
    if (value !== undefined) extensions[key] = value;
  }
  const issuer = read(FULCIO_EXTENSIONS.issuer) ?? cert.extension(ISSUER_V1)?.value.toString('utf8') ?? '';
  return { subject: cert.subjectAltName ?? '', issuer, extensions };
}

/** The leaf certificate of a bundle (v0.3 has one certificate; older ones a chain). */
export function leafCertificate(bundle: Bundle): Buffer {
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'certificate') return Buffer.from(material.certificate.rawBytes);
  if (material.$case === 'x509CertificateChain' && material.x509CertificateChain.certificates[0]) {
    return Buffer.from(material.x509CertificateChain.certificates[0].rawBytes);
  }
  throw new PiImageError('BUNDLE_CORRUPT', 'the bundle holds a public key, not a Sigstore certificate: keyless signatures only');
}

export function signerOfBundle(bundle: Bundle): Signer {
  return signerOfCertificate(leafCertificate(bundle));
}

/** One line for logs and outputs: who, for which repository, at which ref and commit, where it ran. */
export function describeSigner(signer: Signer): string {
  const x = signer.extensions;
  const parts = [signer.subject || 'an unknown identity'];
  if (x.sourceRepositoryUri)
    parts.push(
      `for ${x.sourceRepositoryUri}${x.sourceRepositoryRef ? ` at ${x.sourceRepositoryRef}` : ''}${x.sourceRepositoryDigest ? ` (${x.sourceRepositoryDigest.slice(0, 12)})` : ''}`,
    );
  if (x.runnerEnvironment) parts.push(`on a ${x.runnerEnvironment} runner`);
  return parts.join(' ');
}

/** The signer as front ends report it (JSON output, action outputs): one flat record. */
export interface SignerSummary {
  identity: string;
  issuer: string;
  sourceRepository: string | null;
  sourceRepositoryId: string | null;
  sourceRef: string | null;
  sourceCommit: string | null;
  signerWorkflow: string | null;
  runner: string | null;
}

export function summariseSigner(signer: Signer): SignerSummary {
  const x = signer.extensions;
  return {
    identity: signer.subject,
    issuer: signer.issuer,
    sourceRepository: x.sourceRepositoryUri ?? null,
    sourceRepositoryId: x.sourceRepositoryIdentifier ?? null,
    sourceRef: x.sourceRepositoryRef ?? null,
    sourceCommit: x.sourceRepositoryDigest ?? null,
    signerWorkflow: x.buildSignerUri ?? null,
    runner: x.runnerEnvironment ?? null,
  };
}
