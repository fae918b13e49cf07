import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../lib/core/atomic-file';
import { PiImageError } from '../../lib/core/errors';
import { describeDisk } from '../../lib/device/disk-policy';
import { flash, type FlashPlan } from '../../lib/device/flash';
import { describePlan, describeReceipt } from '../../lib/device/flash-report';
import { DEFAULT_FLASH_POLICY_FILE, flashRules, loadFlashPolicy } from '../../lib/device/flash-policy';
import { openFlashSource } from '../../lib/device/flash-source';
import type { TargetSpec } from '../../lib/device/flash-target';
import { chooseFormat } from '../../lib/distribution/boot-seed';
import { customiseDisk } from '../../lib/distribution/customise-disk';
import { parseTarget } from '../../lib/oci/target';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand, CommandContext } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';
import { REGISTRY_HELP, REGISTRY_OPTIONS, storeOptions } from './registry-options';
import { CUSTOMISATION_HELP, CUSTOMISATION_OPTIONS, customisationFromFlags } from '../customisation-options';
import { describeSeed } from './customise-command';

export const flashCommand: CliCommand = {
  name: 'flash',
  summary: 'write a release to the SYSTEM disk, verified, never to a protected (DATA) disk',
  usage: 'pi-image flash SOURCE TARGET [options]\n       pi-image flash SOURCE --serial SERIAL | --wwn WWN [options]',
  help: `Writes SOURCE to the whole disk TARGET, as root. SOURCE is a release directory,
an OCI reference (pulled first, every digest checked), or an image (.img,
.img.xz, .img.gz, .zip) with NAME.bmap beside it when there is one. With signer
options (or a policy file that names a signer) the release's signature is
verified before any byte is written.

TARGET is a whole disk: /dev/nvme1n1, a /dev/disk/by-id/... link, or give
--serial or --wwn instead. Refused, each with its own code and a message
naming the disk, model and serial: a partition, a disk with anything mounted,
used as swap or held by device-mapper/md/LVM, the disk the running system is
on, a disk holding a protected label (OURBOX_DATA by default) or serial
anywhere, a read-only disk, a disk smaller than the image, anything that is
not a block device.

Only the block map's mapped ranges are written, in large direct writes; the
disk's first and last MiB are zeroed first and the image's partition table is
written last, so an interrupted flash leaves no half-image that boots. Then
every written range is read back from the disk and compared, and the
partitions and labels are checked. A receipt (JSON) records what was written
where.

With first-boot settings (--hostname, --user, ..., or --user-data), they are
checked before anything is written, and written into the disk's boot partition
once the image is on it and read back, as \`pi-image customise --disk\` writes
them (the receipt's "customisation" records the files).

${SIGNER_HELP}

Options:
  --serial SERIAL           the target is the disk with this serial
  --wwn WWN                 the target is the disk with this WWN
  --protect-label LABEL     never write a disk holding this file-system or partition label
                            (repeatable; OURBOX_DATA always)
  --protect-serial SERIAL   never write the disk with this serial (repeatable)
  --policy FILE             a flash policy (JSON: protectLabels, protectSerials,
                            requireSignature, signer); default ${DEFAULT_FLASH_POLICY_FILE}
                            when it exists
  --require-signature       refuse a source whose signature is not verified
  --yes                     do not ask (needed when not on a terminal); on a terminal the
                            disk's serial (or name) is typed back instead
  --no-verify               do not read the disk back
  --zero-unmapped           have the disk zero the image's span first (where it can without
                            writing the zeros), so unmapped blocks read as zeros
  --receipt FILE            write the receipt (JSON) to FILE
  --tmpdir DIR              where an OCI reference is pulled to
  --json                    print the receipt as JSON on stdout
${REGISTRY_HELP}

${CUSTOMISATION_HELP}`,
  options: {
    serial: { type: 'string' },
    wwn: { type: 'string' },
    'protect-label': { type: 'string', multiple: true },
    'protect-serial': { type: 'string', multiple: true },
    policy: { type: 'string' },
    'require-signature': { type: 'boolean' },
    yes: { type: 'boolean' },
    'no-verify': { type: 'boolean' },
    'zero-unmapped': { type: 'boolean' },
    receipt: { type: 'string' },
    tmpdir: { type: 'string' },
    json: { type: 'boolean' },
    ...SIGNER_OPTIONS,
    ...REGISTRY_OPTIONS,
    ...CUSTOMISATION_OPTIONS,
  },
  async run(context) {
    const { values, positionals, logger, env, stdout } = context;
    const serial = values.serial as string | undefined;
    const wwn = values.wwn as string | undefined;
    const named = [positionals[1] !== undefined, serial !== undefined, wwn !== undefined].filter(Boolean).length;
    if (positionals.length < 1 || positionals.length > 2) throw usageError('flash needs SOURCE and TARGET (or --serial / --wwn)');
    if (named !== 1) throw usageError('name the target disk once: TARGET, --serial or --wwn');
    const target: TargetSpec = serial !== undefined ? { serial } : wwn !== undefined ? { wwn } : { path: positionals[1]! };
    // First-boot settings are read and checked before anything is pulled or written.
    const customisation = await customisationFromFlags(values, false);

    const rules = flashRules(
      await loadFlashPolicy(values.policy as string | undefined),
      {
        signer: signerPolicyFromFlags(values),
        trustedRoot: values['trusted-root'] as string | undefined,
        protectLabels: (values['protect-label'] as string[] | undefined) ?? [],
        protectSerials: (values['protect-serial'] as string[] | undefined) ?? [],
        requireSignature: values['require-signature'] === true,
      },
      (option) => `--${option}`,
    );

    const sourceText = positionals[0]!;
    const oci = !existsSync(sourceText) ? parseTarget(sourceText, 'SOURCE') : undefined;
    const source = await openFlashSource(sourceText, {
      logger,
      verify: rules.signer ? { policy: rules.signer, trustedRoot: await loadTrustedRoot(rules.trustedRoot) } : undefined,
      requireSignature: rules.requireSignature,
      workDir: values.tmpdir as string | undefined,
      store: oci ? storeOptions(oci, values, env, logger, false) : undefined,
    });
    try {
      // Known from a release's metadata: an image that takes no customisation is refused before the flash, not after.
      const firstBoot = source.expected?.root?.firstBoot;
      if (customisation && firstBoot) chooseFormat(firstBoot, customisation.format, source.input, logger);
      const receipt = await flash({
        source,
        target,
        policy: { protectedLabels: rules.protectedLabels, protectedSerials: rules.protectedSerials },
        confirm: (plan) => confirm(plan, values.yes === true, context),
        verify: values['no-verify'] !== true,
        zeroUnmapped: values['zero-unmapped'] === true,
        logger,
      });
      const seed = customisation
        ? await customiseDisk({
            ...customisation,
            logger,
            disk: { path: receipt.target.path },
            policy: { protectedLabels: rules.protectedLabels, protectedSerials: rules.protectedSerials },
          }).catch((e: unknown) => {
            if (!(e instanceof PiImageError)) throw e;
            throw new PiImageError(
              e.code,
              `${receipt.target.path} holds the image, written and read back, but not the first-boot settings: ${e.message} (once that is put right, \`pi-image customise --disk ${receipt.target.path}\` writes them)`,
              { cause: e },
            );
          })
        : undefined;
      const record = seed ? { ...receipt, customisation: seed } : receipt;
      const receiptPath = values.receipt as string | undefined;
      if (receiptPath) await writeFileAtomic(receiptPath, `${JSON.stringify(record, null, 2)}\n`);
      stdout(values.json ? `${JSON.stringify(record, null, 2)}\n` : describeReceipt(receipt) + (seed ? describeSeed(receipt.target.path, seed) : ''));
      return 0;
    } finally {
      await source.cleanup();
    }
  },
};

async function confirm(plan: FlashPlan, yes: boolean, context: CommandContext): Promise<void> {
  context.logger.info(describePlan(plan));
  if (yes) return;
  if (!context.terminal) {
    throw new PiImageError('CONFIRMATION_REQUIRED', `not on a terminal: pass --yes to write ${describeDisk(plan.device)}`);
  }
  const expected = plan.device.serial ?? plan.device.name;
  const answer = await context.terminal.ask(`type the disk's ${plan.device.serial ? 'serial' : 'name'} (${expected}) to write it: `);
  if (answer.trim() !== expected) throw new PiImageError('CONFIRMATION_REQUIRED', `"${answer.trim()}" is not ${expected}: nothing written`);
}
