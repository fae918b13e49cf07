import { dirname, join, resolve } from 'node:path';
import { parseKeyValueList } from '../../lib/core/values';
import { OciLayout } from '../../lib/oci/layout';
import { openStore } from '../../lib/oci/open-store';
import { copyLayoutReleases } from '../../lib/publishing/copy-layout';
import { FORMATS, publishRelease, type PublishFormat } from '../../lib/publishing/publish';
import { parseTarget, type Target } from '../../lib/oci/target';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { REGISTRY_HELP, REGISTRY_OPTIONS, storeOptions } from './registry-options';

function isLayoutSource(source: string): Target | undefined {
  if (source.startsWith('oci:')) return parseTarget(source, 'source');
  return OciLayout.isLayoutDir(source) ? { kind: 'layout', dir: source } : undefined;
}

export const publishCommand: CliCommand = {
  name: 'publish',
  summary: 'publish a release directory to an OCI registry or an OCI layout on disk',
  usage: 'pi-image publish RELEASE_DIR [TARGET] [options]\n       pi-image publish oci:LAYOUT[:TAG] TARGET [options]',
  help: `Publishes the release as an OCI image (format "image", the default: its one
layer holds the files under /artifact, so docker create + docker cp work) or as
an OCI artifact (format "artifact": one blob per file, as oras pull expects).
Tags: the version, the channel (nightly or stable) and a build tag (date and
the recipe's short commit). A version or build tag already pointing at another
release is refused unless --force. When the release is signed, its Sigstore
bundle is attached to the manifest digest (referrers API, or the sha256-<hex>
tag where the registry has none). The pinned reference name@sha256:... is
printed and written to os-artifact.ref in the release directory.

TARGET is a registry repository (ghcr.io/OWNER/NAME) or an OCI image layout
(oci:DIR, or a path). Default: the layout oci-layout beside RELEASE_DIR.
Given an OCI layout instead of a release directory, the releases in it (or
the one TAG) are copied to TARGET unchanged, signatures included.

Options:
  --format image|artifact   how the release is laid out (default: image)
  --tag TAG                 another tag (repeatable)
  --annotation KEY=VALUE    another manifest annotation (repeatable)
  --force                   move version and build tags that point at another release
  --no-signature            do not attach the Sigstore bundle
  --mount-from REPO         mount blobs from this repository of the same registry (repeatable)
  --chunk-size MIB          upload in chunks of this size (GHCR takes at most 4)
  --json                    print the result as JSON
${REGISTRY_HELP}`,
  options: {
    format: { type: 'string' },
    tag: { type: 'string', multiple: true },
    annotation: { type: 'string', multiple: true },
    force: { type: 'boolean' },
    'no-signature': { type: 'boolean' },
    'mount-from': { type: 'string', multiple: true },
    'chunk-size': { type: 'string' },
    json: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length < 1 || positionals.length > 2) throw usageError('publish needs RELEASE_DIR and optionally TARGET');
    const source = positionals[0]!;
    const format = (values.format as string | undefined) ?? 'image';
    if (!(FORMATS as readonly string[]).includes(format)) throw usageError(`--format "${format}": use ${FORMATS.join(' or ')}`);
    let chunkSize: number | undefined;
    if (values['chunk-size'] !== undefined) {
      const mib = Number(values['chunk-size']);
      if (!Number.isFinite(mib) || mib <= 0 || mib > 1024)
        throw usageError(`--chunk-size "${String(values['chunk-size'])}": a size in MiB, above 0 and at most 1024`);
      chunkSize = Math.round(mib * 1024 * 1024);
    }
    const targetText = positionals[1] ?? `oci:${join(dirname(resolve(source)), 'oci-layout')}`;
    const target = parseTarget(targetText, 'TARGET');
    const options = storeOptions(target, values, env, logger, true);
    options.chunkSize = chunkSize;
    options.mountFrom = (values['mount-from'] as string[] | undefined) ?? [];
    const { store } = await openStore(target, options);

    const layoutSource = isLayoutSource(source);
    if (layoutSource?.kind === 'layout') {
      const notForCopies = ['format', 'tag', 'annotation', 'no-signature'].filter((o) => values[o] !== undefined);
      if (notForCopies.length > 0) {
        throw usageError(`${notForCopies.map((o) => `--${o}`).join(', ')}: a layout's releases are copied as they are (tags, format and signatures included)`);
      }
      const copied = await copyLayoutReleases({ layoutDir: layoutSource.dir, tag: layoutSource.tag, sink: store, force: values.force === true, logger });
      stdout(values.json ? `${JSON.stringify({ copied }, null, 2)}\n` : copied.map((c) => `${c.reference}\n`).join(''));
      return 0;
    }

    const result = await publishRelease({
      releaseDir: source,
      store,
      format: format as PublishFormat,
      extraTags: (values.tag as string[] | undefined) ?? [],
      annotations: parseKeyValueList((values.annotation as string[] | undefined) ?? [], '--annotation'),
      force: values.force === true,
      attachSignature: values['no-signature'] !== true,
      logger,
    });
    stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.reference}\n`);
    return 0;
  },
};
