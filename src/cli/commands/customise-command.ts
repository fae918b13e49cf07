import { flashRules, loadFlashPolicy } from '../../lib/device/flash-policy';
import type { TargetSpec } from '../../lib/device/flash-target';
import type { SeedResult } from '../../lib/distribution/boot-seed';
import { customiseDisk } from '../../lib/distribution/customise-disk';
import { customiseImage } from '../../lib/distribution/customise-image';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { CUSTOMISATION_HELP, CUSTOMISATION_OPTIONS, customisationFromFlags } from '../customisation-options';

export function describeSeed(target: string, result: SeedResult): string {
  const removed = result.removed.length > 0 ? `; removed the earlier ${result.removed.join(', ')}` : '';
  return `${target}: ${result.format} customisation in partition ${result.partition}: ${result.files.map((f) => f.name).join(', ')} (read back)${removed}\n`;
}

export const customiseCommand: CliCommand = {
  name: 'customise',
  summary: "write first-boot settings (hostname, user, SSH key, Wi-Fi, or a user-data) into an image's or a flashed disk's boot partition, without mounting it",
  usage:
    'pi-image customise IMAGE.img [--hostname NAME] [--user NAME --ssh-key-file FILE] [--user-data FILE] [options]\n' +
    '       pi-image customise --disk DISK | --serial SERIAL [settings] [options]',
  help: `Writes the first-boot customisation Raspberry Pi Imager would write into the
first FAT partition of a raw image, or of a flashed disk, without mounting it
(mtools), in the format the image really takes (its init_format, read from its
root file system: cloud-init seeded from the boot partition, or Imager's
firstrun.sh route), then reads every file back and compares it. Running it
again replaces the earlier customisation. A compressed image is refused:
decompress it first.

A disk (--disk, --serial) is checked as flash checks it: a partition, a disk
with anything mounted, the running system's disk, a disk holding a protected
label (OURBOX_DATA always) or serial, a read-only disk are refused. It is held
exclusively while the files are written, and read back from the disk itself.

${CUSTOMISATION_HELP}

Options:
  --disk DISK               customise the flashed disk DISK (/dev/nvme0n1, a /dev/disk/by-id link)
  --serial SERIAL           ... or the disk with this serial
  --protect-label LABEL     never write a disk holding this label (repeatable; OURBOX_DATA always)
  --protect-serial SERIAL   never write the disk with this serial (repeatable)
  --policy FILE             a flash policy (JSON) whose protections apply too
  --json                    print what was written as JSON`,
  options: {
    ...CUSTOMISATION_OPTIONS,
    disk: { type: 'string' },
    serial: { type: 'string' },
    'protect-label': { type: 'string', multiple: true },
    'protect-serial': { type: 'string', multiple: true },
    policy: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, stdout }) {
    const disk = values.disk as string | undefined;
    const serial = values.serial as string | undefined;
    const named = [positionals.length > 0, disk !== undefined, serial !== undefined].filter(Boolean).length;
    if (positionals.length > 1 || named !== 1) throw usageError('customise needs exactly one IMAGE, --disk DISK or --serial SERIAL');
    const asked = (await customisationFromFlags(values, true))!;
    const options = { ...asked, logger };
    let result: SeedResult;
    let target: string;
    if (positionals.length === 1) {
      if (values['protect-label'] || values['protect-serial'] || values.policy)
        throw usageError('--protect-label, --protect-serial and --policy are for a disk');
      target = positionals[0]!;
      result = await customiseImage(target, options);
    } else {
      const spec: TargetSpec = disk !== undefined ? { path: disk } : { serial: serial! };
      const rules = flashRules(
        await loadFlashPolicy(values.policy as string | undefined),
        {
          signer: undefined,
          trustedRoot: undefined,
          protectLabels: (values['protect-label'] as string[] | undefined) ?? [],
          protectSerials: (values['protect-serial'] as string[] | undefined) ?? [],
          requireSignature: false,
        },
        (option) => `--${option}`,
      );
      target = disk ?? `serial ${serial}`;
      result = await customiseDisk({
        ...options,
        disk: spec,
        policy: { protectedLabels: rules.protectedLabels, protectedSerials: rules.protectedSerials },
      });
    }
    stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : describeSeed(target, result));
    return 0;
  },
};
