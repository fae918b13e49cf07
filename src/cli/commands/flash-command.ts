import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../../lib/core/atomic-file';
import { PiImageError } from '../../lib/core/errors';
import { readSmallFile } from '../../lib/core/small-file';
import { describeDisk, DEFAULT_PROTECTED_LABELS } from '../../lib/device/disk-policy';
import { flash, type FlashPlan, type FlashReceipt } from '../../lib/device/flash';
import { DEFAULT_FLASH_POLICY_FILE, parseFlashPolicy, type FlashPolicyFile } from '../../lib/device/flash-policy';
import { openFlashSource } from '../../lib/device/flash-source';
import type { TargetSpec } from '../../lib/device/flash-target';
import { parseTarget } from '../../lib/oci/target';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand, CommandContext } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';
import { REGISTRY_HELP, REGISTRY_OPTIONS, storeOptions } from './registry-options';

const MiB = 1024 * 1024;

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
${REGISTRY_HELP}`,
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
  },
  async run(context) {
    const { values, positionals, logger, env, stdout } = context;
    const serial = values.serial as string | undefined;
    const wwn = values.wwn as string | undefined;
    const named = [positionals[1] !== undefined, serial !== undefined, wwn !== undefined].filter(Boolean).length;
    if (positionals.length < 1 || positionals.length > 2) throw usageError('flash needs SOURCE and TARGET (or --serial / --wwn)');
    if (named !== 1) throw usageError('name the target disk once: TARGET, --serial or --wwn');
    const target: TargetSpec = serial !== undefined ? { serial } : wwn !== undefined ? { wwn } : { path: positionals[1]! };

    const policyFile = await readPolicy(values.policy as string | undefined);
    const flagPolicy = signerPolicyFromFlags(values);
    if (flagPolicy && policyFile?.signer) throw usageError(`the policy file names the signer: give signer options only when it names none`);
    const signer = policyFile?.signer ?? flagPolicy;
    const requireSignature = values['require-signature'] === true || policyFile?.requireSignature === true;
    if (requireSignature && !signer)
      throw usageError('--require-signature needs to know whose signature to accept: --repository OWNER/NAME (and --signer-workflow)');
    const trustedRootPath = (values['trusted-root'] as string | undefined) ?? policyFile?.trustedRoot;

    const sourceText = positionals[0]!;
    const oci = !existsSync(sourceText) ? parseTarget(sourceText, 'SOURCE') : undefined;
    const source = await openFlashSource(sourceText, {
      logger,
      verify: signer ? { policy: signer, trustedRoot: await loadTrustedRoot(trustedRootPath) } : undefined,
      requireSignature,
      workDir: values.tmpdir as string | undefined,
      store: oci ? storeOptions(oci, values, env, logger, false) : undefined,
    });
    try {
      const receipt = await flash({
        source,
        target,
        policy: {
          protectedLabels: [...DEFAULT_PROTECTED_LABELS, ...(policyFile?.protectLabels ?? []), ...((values['protect-label'] as string[] | undefined) ?? [])],
          protectedSerials: [...(policyFile?.protectSerials ?? []), ...((values['protect-serial'] as string[] | undefined) ?? [])],
        },
        confirm: (plan) => confirm(plan, values.yes === true, context),
        verify: values['no-verify'] !== true,
        zeroUnmapped: values['zero-unmapped'] === true,
        logger,
      });
      const receiptPath = values.receipt as string | undefined;
      if (receiptPath) await writeFileAtomic(receiptPath, `${JSON.stringify(receipt, null, 2)}\n`);
      stdout(values.json ? `${JSON.stringify(receipt, null, 2)}\n` : summary(receipt));
      return 0;
    } finally {
      await source.cleanup();
    }
  },
};

/** The policy file given, or the device's default one when it exists. */
async function readPolicy(path: string | undefined): Promise<FlashPolicyFile | undefined> {
  const file = path ?? (existsSync(DEFAULT_FLASH_POLICY_FILE) ? DEFAULT_FLASH_POLICY_FILE : undefined);
  if (!file) return undefined;
  return parseFlashPolicy((await readSmallFile(file, 1024 * 1024)).toString('utf8'), file);
}

function planText(plan: FlashPlan): string {
  const { source, device, facts } = plan;
  const lines = [
    `about to write ${source.release ? `${source.release.name} ${source.release.version} (${source.release.channel})` : source.imagePath}`,
    `  image: ${(source.imageSize / MiB).toFixed(0)} MiB, ${(plan.bytesToWrite / MiB).toFixed(0)} MiB to write in ${plan.ranges.length} ranges; checked against ${source.checkedAgainst === 'nothing' ? 'nothing' : `its ${source.checkedAgainst}`}${source.verified ? `, signed by ${source.verified.signer.subject}` : ''}`,
    `  onto:  ${describeDisk(device)}`,
    `  which now holds: ${
      facts.labels.partitions.length === 0
        ? 'no partitions or file systems found'
        : facts.labels.partitions
            .map(
              (p) =>
                `${p.number === undefined ? 'whole disk' : `partition ${p.number}`} ${p.fsType ?? '?'}${p.label ? ` "${p.label}"` : ''}${p.partLabel ? ` [${p.partLabel}]` : ''}`,
            )
            .join(', ')
    }`,
    '  everything on it will be lost.',
  ];
  return `${lines.join('\n')}\n`;
}

async function confirm(plan: FlashPlan, yes: boolean, context: CommandContext): Promise<void> {
  context.logger.info(planText(plan).trimEnd());
  if (yes) return;
  if (!context.terminal) {
    throw new PiImageError('CONFIRMATION_REQUIRED', `not on a terminal: pass --yes to write ${describeDisk(plan.device)}`);
  }
  const expected = plan.device.serial ?? plan.device.name;
  const answer = await context.terminal.ask(`type the disk's ${plan.device.serial ? 'serial' : 'name'} (${expected}) to write it: `);
  if (answer.trim() !== expected) throw new PiImageError('CONFIRMATION_REQUIRED', `"${answer.trim()}" is not ${expected}: nothing written`);
}

function summary(r: FlashReceipt): string {
  return [
    `flashed ${r.source.release ? `${r.source.release.name} ${r.source.release.version}` : r.source.image} onto ${r.target.path} (serial ${r.target.serial ?? 'none'})`,
    `  written: ${(r.written.bytes / MiB).toFixed(0)} MiB in ${r.written.ranges} ranges, ${r.written.seconds} s${r.written.directIo ? '' : ' (page cache)'}`,
    `  read back: ${r.verification.readBack}${r.verification.readBack === 'passed' ? ` (${(r.verification.bytesRead / MiB).toFixed(0)} MiB, ${r.verification.seconds} s)` : ''}`,
    `  partitions: ${r.verification.partitions.map((p) => `${p.number} ${p.type}${p.label ? ` "${p.label}"` : ''}`).join(', ')}`,
    '',
  ].join('\n');
}
