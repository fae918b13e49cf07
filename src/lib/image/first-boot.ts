/**
 * Which first-boot customisation an image can take, decided from what its root
 * file system really holds, never assumed: the value of Raspberry Pi Imager's
 * `init_format` (rpi-imager doc/json-schema/os-list-schema.json), which tells
 * Imager what to write on the boot partition.
 *
 * - `rpi-preseed`: rpi-preseed reads rpi-preseed.toml from the boot partition.
 * - `cloudinit-rpi`: cloud-init, seeded (NoCloud) from the boot partition, with
 *   its Raspberry Pi module (cc_raspberry_pi: the `rpi:` keys Imager writes).
 * - `cloudinit`: cloud-init seeded from the boot partition, without that module.
 * - `systemd`: Imager's firstrun.sh, started by `systemd.run=` on the kernel
 *   command line, needs raspberrypi-sys-mods' imager_custom and the boot
 *   partition mounted at /boot or /boot/firmware.
 * - `none`: none of these; Imager then offers no customisation.
 */
export const INIT_FORMATS = ['systemd', 'cloudinit', 'cloudinit-rpi', 'rpi-preseed', 'none'] as const;
export type InitFormat = (typeof INIT_FORMATS)[number];

export interface FirstBootSupport {
  initFormat: InitFormat;
  /** What was found (or missing), one line each: the reasons for the choice. */
  evidence: string[];
}

/** Read access to the root file system (the ext4 reader, or a map in tests). */
export interface RootFiles {
  exists(path: string): Promise<boolean>;
  /** A small text file; undefined when absent or not a regular file. */
  readText(path: string): Promise<string | undefined>;
  /** Names in a directory; undefined when absent. */
  list(path: string): Promise<string[] | undefined>;
}

const CLOUD_INIT = '/usr/bin/cloud-init';
const CLOUD_CFG_DIR = '/etc/cloud/cloud.cfg.d';
const RPI_MODULE = '/usr/lib/python3/dist-packages/cloudinit/config/cc_raspberry_pi.py';
const IMAGER_CUSTOM = '/usr/lib/raspberrypi-sys-mods/imager_custom';
const USERCONF = '/usr/lib/userconf-pi/userconf';
const PRESEED = ['/usr/bin/rpi-preseed', '/usr/lib/rpi-preseed'];

/** A cloud-init setting pointing NoCloud at the boot partition (seedfrom file:///boot/firmware or /boot). */
const BOOT_SEED = /^\s*seedfrom:\s*["']?file:\/\/\/boot(\/firmware)?\/?["']?\s*$/m;
/** A datasource_list that leaves NoCloud out makes the seed unused. */
const DATASOURCES = /^\s*datasource_list:\s*\[([^\]]*)\]/m;

async function cloudInitSeed(root: RootFiles): Promise<{ seeded: boolean; evidence: string[] }> {
  const files = ['/etc/cloud/cloud.cfg', ...((await root.list(CLOUD_CFG_DIR)) ?? []).filter((n) => n.endsWith('.cfg')).map((n) => `${CLOUD_CFG_DIR}/${n}`)];
  let seedFile: string | undefined;
  let datasources: { file: string; list: string[] } | undefined;
  // cloud-init reads cloud.cfg, then cloud.cfg.d/*.cfg in name order: a later setting wins.
  for (const file of files.sort((a, b) => (a === '/etc/cloud/cloud.cfg' ? -1 : b === '/etc/cloud/cloud.cfg' ? 1 : a < b ? -1 : 1))) {
    const text = await root.readText(file);
    if (text === undefined) continue;
    if (BOOT_SEED.test(text)) seedFile = file;
    const m = DATASOURCES.exec(text);
    if (m) datasources = { file, list: m[1]!.split(',').map((s) => s.trim().replace(/^["']|["']$/g, '')) };
  }
  if (!seedFile)
    return {
      seeded: false,
      evidence: [`cloud-init is installed, but no ${CLOUD_CFG_DIR}/*.cfg points NoCloud at the boot partition (seedfrom: file:///boot/firmware)`],
    };
  if (datasources && !datasources.list.some((d) => d.toLowerCase() === 'nocloud'))
    return { seeded: false, evidence: [`${seedFile} seeds NoCloud from the boot partition, but ${datasources.file} leaves NoCloud out of datasource_list`] };
  return { seeded: true, evidence: [`${seedFile} seeds NoCloud from the boot partition`] };
}

export async function detectFirstBoot(root: RootFiles, fstab: readonly { file: string }[] | undefined): Promise<FirstBootSupport> {
  const evidence: string[] = [];
  for (const p of PRESEED) {
    if (await root.exists(p)) return { initFormat: 'rpi-preseed', evidence: [`${p} (rpi-preseed reads rpi-preseed.toml from the boot partition)`] };
  }
  if (await root.exists(CLOUD_INIT)) {
    const seed = await cloudInitSeed(root);
    evidence.push(`${CLOUD_INIT} (cloud-init)`, ...seed.evidence);
    if (seed.seeded) {
      if (await root.exists(RPI_MODULE)) return { initFormat: 'cloudinit-rpi', evidence: [...evidence, `${RPI_MODULE} (the rpi: keys)`] };
      return { initFormat: 'cloudinit', evidence: [...evidence, `no ${RPI_MODULE}: Imager's rpi: keys would be ignored`] };
    }
  }
  if (await root.exists(IMAGER_CUSTOM)) {
    const bootMount = fstab?.find((e) => e.file === '/boot' || e.file === '/boot/firmware');
    if (bootMount) {
      evidence.push(`${IMAGER_CUSTOM} (firstrun.sh's helper)`, `fstab mounts the boot partition at ${bootMount.file}`);
      if (!(await root.exists(USERCONF))) evidence.push(`no ${USERCONF}: firstrun.sh cannot set up the first user`);
      return { initFormat: 'systemd', evidence };
    }
    evidence.push(`${IMAGER_CUSTOM}, but fstab mounts no boot partition at /boot or /boot/firmware (firstrun.sh lives there)`);
  }
  if (evidence.length === 0)
    evidence.push(`none of cloud-init (${CLOUD_INIT}), rpi-preseed, raspberrypi-sys-mods' imager_custom: Imager offers no customisation`);
  return { initFormat: 'none', evidence };
}
