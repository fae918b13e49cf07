/** RELEASE_NOTES.md: what a person needs on a release page. */
import { formatDuration } from '../pigen/build-log';
import { mdCode, mdText } from '../core/markdown-text';
import type { ReleaseMetadata } from './metadata';

export const RELEASE_NOTES_FILE = 'RELEASE_NOTES.md';

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

export function renderReleaseNotes(meta: ReleaseMetadata, files: { image: string; imageChecksum: string; rawChecksum: string; bmap: string }): string {
  const out: string[] = [];
  const product = meta.contents.root?.productRelease?.values;
  out.push(`# ${meta.name} ${meta.version}`, '');
  out.push(
    `Channel: **${meta.channel}** · built ${meta.created}` +
      (meta.build ? ` · pi-gen build ${meta.build.result} in ${formatDuration(meta.build.totalSeconds)}` : ''),
    '',
  );
  if (product && Object.keys(product).length > 0) {
    out.push('| Product | Value |', '|---|---|');
    for (const [k, v] of Object.entries(product)) out.push(`| ${mdText(k)} | ${mdCode(v)} |`);
    out.push('');
  }
  out.push('## Files', '', '| File | Size | sha256 |', '|---|---|---|');
  out.push(`| \`${meta.image.compressed.file}\` | ${size(meta.image.compressed.size)} | \`${meta.image.compressed.sha256}\` |`);
  out.push(`| \`${meta.image.raw.file}\` (inside, after \`xz -d\`) | ${size(meta.image.raw.size)} | \`${meta.image.raw.sha256}\` |`);
  out.push('');
  out.push('## Sources', '');
  // The .info's hash is GIT_HASH: the recipe's commit when pi-image built it, never shown as pi-gen's.
  out.push(
    `- pi-gen: ${mdText(meta.pigen.repository)}${meta.pigen.commit ? ` at ${mdCode(meta.pigen.commit)}` : ' (commit not recorded)'}, exported from ${mdCode(meta.pigen.exportedStage)}`,
  );
  if (meta.recipe.repository || meta.recipe.commit) {
    out.push(
      `- recipe: ${mdText(meta.recipe.repository ?? '(repository unknown)')} at ${mdCode(meta.recipe.commit ?? 'unknown')}${meta.recipe.ref ? ` (${mdText(meta.recipe.ref)})` : ''}` +
        (meta.recipe.modified ? ', **with uncommitted changes**' : ''),
    );
  }
  if (!meta.recipe.commit) {
    out.push(`- GIT_HASH in the .info: ${mdCode(meta.pigen.gitHash)} (the recipe's commit when pi-image built the image; pi-gen's own otherwise)`);
  }
  if (meta.export?.kind === 'rootless') {
    out.push(
      `- export: pi-image rootless, ${mdText(meta.export.layout ?? '')} layout (${meta.export.table === 'gpt' ? 'GPT' : 'MBR'} ${mdCode(meta.export.diskId ?? '')})` +
        (meta.export.epoch !== null ? `, reproducible from seed ${mdCode(meta.export.seed ?? '')} and SOURCE_DATE_EPOCH ${meta.export.epoch}` : ''),
    );
  }
  if (meta.updateBundle) {
    out.push(
      `- update bundle (slot ${meta.updateBundle.slot}): ${meta.updateBundle.parts.map((p) => `${mdCode(p.file)} (partition ${p.partition}, ${mdText(p.filesystem)}, names PARTUUID ${mdCode(p.partuuid)})`).join(', ')}`,
    );
  }
  if (meta.workflowRun.url) out.push(`- workflow run: ${mdText(meta.workflowRun.url)} (attempt ${mdText(meta.workflowRun.attempt ?? '1')})`);
  out.push(`- ${meta.packages.count} installed packages, listed in ${mdCode(meta.packages.sbom)} (SPDX 2.3)`);
  const os = meta.contents.root?.osRelease?.PRETTY_NAME;
  if (os) out.push(`- base system: ${mdText(os)}`);
  out.push('');
  if (meta.build && meta.build.stages.length > 0) {
    out.push('## Build stages', '', '| Stage | Started at | Duration | |', '|---|---|---|---|');
    for (const s of meta.build.stages) {
      const name = s.occurrence > 1 ? `${s.name} (${s.occurrence})` : s.name;
      out.push(`| ${mdText(name)} | +${formatDuration(s.startOffsetSeconds)} | ${formatDuration(s.durationSeconds)} | ${s.complete ? '' : 'incomplete'} |`);
    }
    out.push('');
  }
  out.push('## Verify', '', 'From the directory holding the downloaded files:', '', '```sh');
  out.push(`sha256sum -c ${files.imageChecksum}`);
  out.push(`xz -dk ${meta.image.compressed.file} && sha256sum -c ${files.rawChecksum}`);
  out.push('```', '');
  out.push('## Flash', '');
  out.push('Write the image to the **SYSTEM** disk only. Check the device name with `lsblk -o NAME,SIZE,MODEL,LABEL` first;');
  out.push('never write to the disk labelled `OURBOX_DATA`.', '', '```sh');
  out.push(`sudo bmaptool copy --bmap ${files.bmap} ${files.image} /dev/<system-disk>`);
  out.push('```', '');
  return out.join('\n');
}
