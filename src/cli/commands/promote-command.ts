import { PiImageError } from '../../lib/core/errors';
import { promoteRelease, promotionsOf } from '../../lib/distribution/promote';
import { openStore } from '../../lib/oci/open-store';
import { parseTarget } from '../../lib/oci/target';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';
import { REGISTRY_HELP, REGISTRY_OPTIONS, storeOptions } from './registry-options';

export const promoteCommand: CliCommand = {
  name: 'promote',
  summary: 'move a channel tag (stable) to a published release, by digest, after checking its signature and boot test',
  usage: 'pi-image promote REF --channel stable --repository OWNER/NAME [--signer-workflow WORKFLOW] [options]',
  help: `Moves the channel tag to the release REF names, in the same repository, without
rebuilding or uploading it again: the tag then points at the same manifest
digest, and the signature attached to that digest travels with it.

Refused (nothing moved) unless the release verifies against the signer options
(pi-image verify's checks: the Sigstore bundle attached in the registry, the
signer, manifest.json, every file: the release is pulled into a temporary
directory for this, and removed) and carries the boot test's evidence
(smoke-test.json, under the signature) showing that this image passed.

The promotion is recorded next to the release, as an artifact referring to it
(what, to which channel, from which digest before, when, signed by whom): a log,
listed by --history, not a signed statement.

Rollback is the same command with the previous release's digest.

REF: ghcr.io/OWNER/NAME:TAG or ...@sha256:DIGEST, or oci:DIR:TAG for a layout.

${SIGNER_HELP}

Options:
  --channel TAG                     the tag to move (stable, or another channel of yours)
  --history                         list the promotions recorded for REF instead
  --tmpdir DIR                      where the release is pulled to be checked
  --json                            print the result as JSON
${REGISTRY_HELP}`,
  options: {
    channel: { type: 'string' },
    history: { type: 'boolean' },
    tmpdir: { type: 'string' },
    json: { type: 'boolean' },
    ...SIGNER_OPTIONS,
    ...REGISTRY_OPTIONS,
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 1) throw usageError('promote needs exactly one REF');
    const target = parseTarget(positionals[0]!, 'REF');
    const history = values.history === true;
    if (!history && !values.channel) throw usageError('--channel is required: the tag to move (e.g. stable)');
    const policy = signerPolicyFromFlags(values);
    if (!history && !policy)
      throw usageError('promote checks the signature first: say whose to accept: --repository OWNER/NAME (and --signer-workflow), or --certificate-identity');
    const { store, reference } = await openStore(target, storeOptions(target, values, env, logger, false));
    if (!reference) throw new PiImageError('USAGE', `REF "${positionals[0]}" names no tag or digest (add :TAG or @sha256:...)`);
    if (history) {
      const digest = reference.startsWith('sha256:') ? reference : await store.resolveTag(reference);
      if (!digest) throw new PiImageError('INPUT_INVALID', `${store.label} has no tag "${reference}"`);
      const records = await promotionsOf(store, digest);
      stdout(
        values.json
          ? `${JSON.stringify(records, null, 2)}\n`
          : records.length === 0
            ? `${store.pinned(digest)}: no promotion recorded\n`
            : records.map((r) => `${r.promotedAt} ${r.name} ${r.version} → ${r.channel}${r.previous ? ` (was ${r.previous})` : ''}\n`).join(''),
      );
      return 0;
    }
    const result = await promoteRelease({
      store,
      reference,
      channel: values.channel as string,
      policy: policy!,
      trustedRoot: await loadTrustedRoot(values['trusted-root'] as string | undefined),
      tmpdir: values.tmpdir as string | undefined,
      logger,
    });
    const r = result.record;
    stdout(
      values.json
        ? `${JSON.stringify({ moved: result.moved, record: result.record, recordDigest: result.recordDigest }, null, 2)}\n`
        : result.moved
          ? `${store.label}:${r.channel} → ${r.digest} (${r.name} ${r.version}, boot test passed, signed by ${r.signer})\n`
          : `${store.label}:${r.channel} already points at ${r.digest} (${r.name} ${r.version})\n`,
    );
    return 0;
  },
};
