import { openImageForReading } from '../../lib/image/random-access-image';
import { inspectImage } from '../../lib/image/inspect';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { formatInspection } from '../format-inspection';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'read partitions, boot files and system facts out of an image, without mounting it',
  usage: 'pi-image inspect IMAGE [--json]',
  help: `Reads IMAGE (.img, .img.xz, .img.gz or pi-gen's .zip) without mounting it and
without root: the partition table (MBR, and GPT when present), each partition's
file system and label; from the FAT boot partition its files, config.txt and
cmdline.txt; from the ext4 root /etc/os-release, the product's release file,
/etc/fstab and the enabled systemd units. A compressed image is decompressed
once into a sparse temporary file (under --tmpdir), removed afterwards.

Options:
  --json                    print everything as JSON on stdout
  --product-release FILE    the product's KEY=VALUE file (default: /etc/ourbox/release)
  --tmpdir DIR              where a compressed image is unpacked (default: the system's)`,
  options: {
    json: { type: 'boolean' },
    'product-release': { type: 'string' },
    tmpdir: { type: 'string' },
  },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length !== 1) throw usageError('inspect needs exactly one IMAGE');
    const opened = await openImageForReading(positionals[0]!, logger, values.tmpdir as string | undefined);
    try {
      const release = values['product-release'] as string | undefined;
      const report = await inspectImage(opened.source, release ? { productReleaseFile: release } : {});
      stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspection(positionals[0]!, report));
    } finally {
      await opened.close();
    }
    return 0;
  },
};
