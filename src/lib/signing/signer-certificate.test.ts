import { generateKeyPairSync } from 'node:crypto';
import { initializeCA } from '@sigstore/mock';
import { describe, expect, it } from 'vitest';
import { describeSigner, FULCIO_EXTENSIONS, signerOfCertificate, summariseSigner } from './signer-certificate';

/** A certificate as Fulcio issues one, from the mock certificate authority of @sigstore/mock. */
async function certificate(subject: string, extensions: { oid: string; value: string; legacy?: boolean }[]): Promise<Buffer> {
  const ca = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.from((await ca.issueCertificate({ publicKey: new Uint8Array(der), subjectAltName: subject, extensions })).buffer);
}

describe('signerOfCertificate', () => {
  it("reads the subject, the issuer and Fulcio's GitHub extensions (DER UTF8Strings)", async () => {
    const der = await certificate('https://github.com/pi-org/pi-image-release/.github/workflows/pipeline.yml@refs/tags/v1', [
      { oid: '1.3.6.1.4.1.57264.1.1', value: 'https://token.actions.githubusercontent.com', legacy: true },
      { oid: FULCIO_EXTENSIONS.issuer, value: 'https://token.actions.githubusercontent.com' },
      { oid: FULCIO_EXTENSIONS.buildSignerUri, value: 'https://github.com/pi-org/pi-image-release/.github/workflows/pipeline.yml@refs/tags/v1' },
      { oid: FULCIO_EXTENSIONS.sourceRepositoryUri, value: 'https://github.com/acme/appliance' },
      { oid: FULCIO_EXTENSIONS.sourceRepositoryRef, value: 'refs/heads/main' },
      { oid: FULCIO_EXTENSIONS.sourceRepositoryDigest, value: '0123456789abcdef0123456789abcdef01234567' },
      { oid: FULCIO_EXTENSIONS.runnerEnvironment, value: 'github-hosted' },
      // A value long enough for DER's long length form.
      { oid: FULCIO_EXTENSIONS.buildConfigUri, value: `https://github.com/acme/appliance/.github/workflows/${'r'.repeat(150)}.yml@refs/heads/main` },
    ]);
    const signer = signerOfCertificate(der);
    expect(signer).toEqual({
      subject: 'https://github.com/pi-org/pi-image-release/.github/workflows/pipeline.yml@refs/tags/v1',
      issuer: 'https://token.actions.githubusercontent.com',
      extensions: {
        buildSignerUri: 'https://github.com/pi-org/pi-image-release/.github/workflows/pipeline.yml@refs/tags/v1',
        sourceRepositoryUri: 'https://github.com/acme/appliance',
        sourceRepositoryRef: 'refs/heads/main',
        sourceRepositoryDigest: '0123456789abcdef0123456789abcdef01234567',
        runnerEnvironment: 'github-hosted',
        buildConfigUri: `https://github.com/acme/appliance/.github/workflows/${'r'.repeat(150)}.yml@refs/heads/main`,
      },
    });
    expect(describeSigner(signer)).toBe(
      'https://github.com/pi-org/pi-image-release/.github/workflows/pipeline.yml@refs/tags/v1 for https://github.com/acme/appliance at refs/heads/main (0123456789ab) on a github-hosted runner',
    );
    expect(summariseSigner(signer)).toMatchObject({
      sourceRepository: 'https://github.com/acme/appliance',
      signerWorkflow: signer.extensions.buildSignerUri,
      runner: 'github-hosted',
    });
  });

  it('reads the first, raw issuer extension when the DER one is absent, and names no GitHub facts it does not have', async () => {
    const signer = signerOfCertificate(
      await certificate('ci@example.com', [{ oid: '1.3.6.1.4.1.57264.1.1', value: 'https://accounts.example.com', legacy: true }]),
    );
    expect(signer).toEqual({ subject: 'ci@example.com', issuer: 'https://accounts.example.com', extensions: {} });
  });

  it('refuses bytes that are not a certificate', () => {
    expect(() => signerOfCertificate(Buffer.from('not a certificate'))).toThrow(expect.objectContaining({ code: 'BUNDLE_CORRUPT' }));
  });
});
