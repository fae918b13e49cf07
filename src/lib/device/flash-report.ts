/** A flash's plan and receipt as people read them (the CLI's terminal, an action's log and summary). */
import { describeDisk } from './disk-policy';
import type { FlashPlan, FlashReceipt } from './flash';

const MiB = 1024 * 1024;

/** What is about to be written where, for a person to check before agreeing. */
export function describePlan(plan: FlashPlan): string {
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
  return lines.join('\n');
}

/** The receipt in a few lines. */
export function describeReceipt(r: FlashReceipt): string {
  return [
    `flashed ${r.source.release ? `${r.source.release.name} ${r.source.release.version}` : r.source.image} onto ${r.target.path} (serial ${r.target.serial ?? 'none'})`,
    `  written: ${(r.written.bytes / MiB).toFixed(0)} MiB in ${r.written.ranges} ranges, ${r.written.seconds} s${r.written.directIo ? '' : ' (page cache)'}`,
    `  read back: ${r.verification.readBack}${r.verification.readBack === 'passed' ? ` (${(r.verification.bytesRead / MiB).toFixed(0)} MiB, ${r.verification.seconds} s)` : ''}`,
    `  partitions: ${r.verification.partitions.map((p) => `${p.number} ${p.type}${p.label ? ` "${p.label}"` : ''}`).join(', ')}`,
    '',
  ].join('\n');
}
