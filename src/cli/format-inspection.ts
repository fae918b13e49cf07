import type { ImageInspection } from '../lib/image/inspect';

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes % 1048576 === 0 ? 0 : 1)} MiB`;
}

/** The human form of `pi-image inspect`. */
export function formatInspection(name: string, r: ImageInspection): string {
  const out: string[] = [];
  out.push(`${name}: ${mib(r.sizeBytes)}, ${r.partitionTable.scheme.toUpperCase()} disk id ${r.partitionTable.diskId}`);
  out.push('');
  out.push('  #  start      size        type                     file system  label        role');
  for (const p of r.partitionTable.partitions) {
    out.push(
      `  ${String(p.number).padEnd(2)} ${mib(p.startBytes).padEnd(10)} ${mib(p.sizeBytes).padEnd(11)} ${`${p.type} ${p.typeName}`.slice(0, 24).padEnd(24)} ${p.filesystem.type.padEnd(12)} ${(p.filesystem.label ?? '').padEnd(12)} ${p.role ?? ''}`.trimEnd(),
    );
  }
  if (r.slots) {
    const slot = (s: { boot: number; root?: number }): string => `boot ${s.boot}, root ${s.root ?? '(not found)'}`;
    out.push(
      '',
      `A/B slots (autoboot.txt in partition ${r.slots.autoboot.partition}): A: ${slot(r.slots.a)}${r.slots.b ? `; B (tryboot): ${slot(r.slots.b)}` : ''}`,
    );
  }
  if (r.boot) {
    out.push('', `boot (partition ${r.boot.partition}): ${r.boot.files.filter((f) => !f.directory).length} files`);
    if (r.boot.cmdlineTxt !== undefined) out.push(`  cmdline.txt: ${r.boot.cmdlineTxt.trim()}`);
    if (r.boot.configTxt !== undefined) {
      const settings = r.boot.configTxt.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
      out.push(`  config.txt: ${settings.join('; ')}`);
    }
  }
  if (r.root) {
    out.push('', `root (partition ${r.root.partition}):`);
    if (r.root.osRelease?.PRETTY_NAME) out.push(`  os: ${r.root.osRelease.PRETTY_NAME}`);
    if (r.root.hostname) out.push(`  hostname: ${r.root.hostname}`);
    if (r.root.productRelease) {
      out.push(`  ${r.root.productRelease.path}:`);
      for (const [k, v] of Object.entries(r.root.productRelease.values)) out.push(`    ${k}=${v}`);
    }
    if (r.root.fstab) {
      out.push('  fstab:');
      for (const e of r.root.fstab) out.push(`    ${e.spec} ${e.file} ${e.vfstype} ${e.options} ${e.freq} ${e.passno}`);
    }
    out.push(`  enabled units: ${r.root.enabledUnits.map((u) => `${u.unit} (${u.wantedBy})`).join(', ') || 'none'}`);
    if (r.root.maskedUnits.length > 0) out.push(`  masked units: ${r.root.maskedUnits.join(', ')}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
