import { checkHttpUrl, readImagerSettings } from '../../lib/distribution/imager-settings';
import { writeImagerFeed } from '../../lib/distribution/write-imager-feed';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';

export const imagerFeedCommand: CliCommand = {
  name: 'imager-feed',
  summary: 'write a Raspberry Pi Imager feed (os_list JSON) for release directories, or add them to a channel feed',
  usage: 'pi-image imager-feed RELEASE_DIR... --url-base URL --out FILE [--config FILE] [--set IMAGER_*=…] [--merge FEED] [signer options]',
  help: `Writes a "custom repository" for Raspberry Pi Imager (its os_list JSON,
rpi-imager doc/json-schema/os-list-schema.json): one entry per release, with
the download URL (--url-base + the image's file name), the sizes and the
SHA-256 of the image Imager checks after writing (extract_sha256), the release
date, and init_format: the first-boot customisation the image really takes
(cloud-init seeded from the boot partition, Imager's firstrun.sh helper, or
none), recorded in the release's metadata when it was packaged. Entries are
grouped by channel (IMAGER_CHANNELS), newest first, IMAGER_KEEP per group.

Each release is checked first: against its signature with the signer options,
else every file against manifest.json (with a warning).

Product settings (IMAGER_* in the product config, or --set):
  IMAGER_ICON (required), IMAGER_DEVICES (required, e.g. pi5-64bit), IMAGER_NAME,
  IMAGER_DESCRIPTION, IMAGER_WEBSITE, IMAGER_ARCHITECTURE, IMAGER_CAPABILITIES,
  IMAGER_CHANNELS (default stable), IMAGER_KEEP (default 5). See docs/imager.md.

Options:
  --url-base URL          where the release's files are downloaded from, e.g.
                          https://github.com/OWNER/REPO/releases/download/v1.4.0/
  --out FILE              the feed to write (replaced whole, atomically)
  --config FILE           the product config holding the IMAGER_* settings
  --set IMAGER_KEY=VALUE  a setting (repeatable; after the config file)
  --merge FEED            add to this feed (the channel feed as published); its
                          other items are kept, each group keeps IMAGER_KEEP
  --json                  print what was added as JSON

${SIGNER_HELP}`,
  options: {
    ...SIGNER_OPTIONS,
    'url-base': { type: 'string' },
    out: { type: 'string' },
    config: { type: 'string' },
    set: { type: 'string', multiple: true },
    merge: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length === 0) throw usageError('imager-feed needs at least one RELEASE_DIR');
    if (!values['url-base']) throw usageError('--url-base is required: where Imager downloads the release files from');
    if (!values.out) throw usageError('--out is required: the feed file to write');
    const out = values.out as string;
    const urlBase = checkHttpUrl(values['url-base'] as string, '--url-base');
    const settings = await readImagerSettings(values.config as string | undefined, (values.set as string[] | undefined) ?? []);
    const policy = signerPolicyFromFlags(values);
    const result = await writeImagerFeed({
      releaseDirs: positionals,
      settings,
      urlBase,
      merge: values.merge as string | undefined,
      out,
      policy,
      trustedRoot: policy ? await loadTrustedRoot(values['trusted-root'] as string | undefined) : undefined,
      logger,
    });
    stdout(
      values.json
        ? `${JSON.stringify({ out, added: result.added, left: result.left }, null, 2)}\n`
        : `${out}: ${result.added.map((a) => `${a.name} ${a.version} (${a.channel}, init_format ${a.initFormat})`).join(', ') || 'nothing added'}\n`,
    );
    return 0;
  },
};
