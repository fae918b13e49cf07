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

/** NoCloud's seedfrom: where cloud-init looks for user-data (file:///boot/firmware/ on Raspberry Pi OS). */
const SEED_FROM = /^\s*seedfrom:\s*["']?file:\/\/(\/[^"'\s]*?)\/?["']?\s*$/m;
/** datasource_list in flow form ([ NoCloud, None ]) or block form (- NoCloud lines after it). */
const DATASOURCES_FLOW = /^\s*datasource_list:\s*\[([^\]]*)\]/m;
const DATASOURCES_BLOCK = /^([ \t]*)datasource_list:[ \t]*\n((?:\1[ \t]*-[ \t]*\S.*(?:\n|$))+)/m;
const CLOUD_INIT_DISABLED = '/etc/cloud/cloud-init.disabled';
const CLOUD_INIT_UNITS = ['cloud-init.service', 'cloud-init-local.service', 'cloud-init-main.service'];
/** Where initramfs scripts live: raspberrypi-sys-mods' imager_fixup (firstrun.sh moved to /boot/firmware) is one. */
const INITRAMFS_SCRIPTS = ['/usr/share/initramfs-tools/scripts', '/etc/initramfs-tools/scripts'];

const unquote = (s: string): string => s.trim().replace(/^["']|["']$/g, '');

function datasources(text: string): string[] | undefined {
  const flow = DATASOURCES_FLOW.exec(text);
  if (flow) return flow[1]!.split(',').map(unquote);
  const block = DATASOURCES_BLOCK.exec(text);
  if (block)
    return block[2]!
      .split('\n')
      .map((l) => unquote(l.replace(/^\s*-\s*/, '')))
      .filter(Boolean);
  return undefined;
}

/** What else the detection needs to know of the image. */
export interface ImageFacts {
  /** fstab entries (the boot partition's mount point). */
  fstab?: readonly { file: string }[] | undefined;
  /** Units masked in /etc/systemd/system. */
  maskedUnits?: readonly string[];
  /** An A/B image (autoboot.txt): Imager writes to the first FAT partition, which the running slot does not read. */
  abSlots?: boolean;
}

async function cloudInitSeed(root: RootFiles, bootMount: string | undefined): Promise<{ seeded: boolean; evidence: string[] }> {
  const files = ['/etc/cloud/cloud.cfg', ...((await root.list(CLOUD_CFG_DIR)) ?? []).filter((n) => n.endsWith('.cfg')).map((n) => `${CLOUD_CFG_DIR}/${n}`)];
  let seed: { file: string; path: string } | undefined;
  let sources: { file: string; list: string[] } | undefined;
  // cloud-init reads cloud.cfg, then cloud.cfg.d/*.cfg in name order: a later setting wins.
  for (const file of files.sort((a, b) => (a === '/etc/cloud/cloud.cfg' ? -1 : b === '/etc/cloud/cloud.cfg' ? 1 : a < b ? -1 : 1))) {
    const text = await root.readText(file);
    if (text === undefined) continue;
    const m = SEED_FROM.exec(text);
    if (m) seed = { file, path: m[1]!.replace(/\/+$/, '') || '/' };
    const list = datasources(text);
    if (list) sources = { file, list };
  }
  if (!seed)
    return {
      seeded: false,
      evidence: [`cloud-init is installed, but no ${CLOUD_CFG_DIR}/*.cfg points NoCloud at the boot partition (seedfrom: file:///boot/firmware)`],
    };
  if (seed.path !== bootMount)
    return {
      seeded: false,
      evidence: [
        `${seed.file} seeds NoCloud from ${seed.path}, but ${bootMount ? `the boot partition (where Imager writes) is mounted at ${bootMount}` : 'fstab mounts no boot partition there'}`,
      ],
    };
  if (sources && !sources.list.some((d) => d.toLowerCase() === 'nocloud'))
    return { seeded: false, evidence: [`${seed.file} seeds NoCloud from the boot partition, but ${sources.file} leaves NoCloud out of datasource_list`] };
  return { seeded: true, evidence: [`${seed.file} seeds NoCloud from the boot partition (${bootMount})`] };
}

async function hasImagerFixup(root: RootFiles): Promise<boolean> {
  for (const dir of INITRAMFS_SCRIPTS) {
    for (const phase of (await root.list(dir)) ?? []) {
      if ((await root.list(`${dir}/${phase}`))?.includes('imager_fixup')) return true;
    }
  }
  return false;
}

export async function detectFirstBoot(root: RootFiles, facts: ImageFacts = {}): Promise<FirstBootSupport> {
  if (facts.abSlots)
    return {
      initFormat: 'none',
      evidence: [
        'an A/B image: Imager writes its customisation to the first FAT partition (the common one with autoboot.txt), which the running slot does not read',
      ],
    };
  const evidence: string[] = [];
  const bootMount = facts.fstab?.find((e) => e.file === '/boot' || e.file === '/boot/firmware')?.file;
  for (const p of PRESEED) {
    if (await root.exists(p)) return { initFormat: 'rpi-preseed', evidence: [`${p} (rpi-preseed reads rpi-preseed.toml from the boot partition)`] };
  }
  if (await root.exists(CLOUD_INIT)) {
    const masked = CLOUD_INIT_UNITS.filter((u) => facts.maskedUnits?.includes(u));
    const seed = (await root.exists(CLOUD_INIT_DISABLED))
      ? { seeded: false, evidence: [`${CLOUD_INIT_DISABLED}: cloud-init does not run`] }
      : masked.length > 0
        ? { seeded: false, evidence: [`${masked.join(', ')} masked: cloud-init does not run`] }
        : await cloudInitSeed(root, bootMount);
    evidence.push(`${CLOUD_INIT} (cloud-init)`, ...seed.evidence);
    if (seed.seeded) {
      if (await root.exists(RPI_MODULE)) return { initFormat: 'cloudinit-rpi', evidence: [...evidence, `${RPI_MODULE} (the rpi: keys)`] };
      return { initFormat: 'cloudinit', evidence: [...evidence, `no ${RPI_MODULE}: Imager's rpi: keys would be ignored`] };
    }
  }
  if (await root.exists(IMAGER_CUSTOM)) {
    // Imager starts systemd.run=/boot/firstrun.sh: with the boot partition at /boot/firmware, only
    // raspberrypi-sys-mods' imager_fixup (in the initramfs) rewrites that path.
    const fixup = bootMount === '/boot/firmware' && (await hasImagerFixup(root));
    if (bootMount === '/boot' || fixup) {
      evidence.push(
        `${IMAGER_CUSTOM} (firstrun.sh's helper)`,
        `fstab mounts the boot partition at ${bootMount}${fixup ? ', and the initramfs script imager_fixup points firstrun.sh there' : ''}`,
      );
      if (!(await root.exists(USERCONF))) evidence.push(`no ${USERCONF}: firstrun.sh cannot set up the first user`);
      return { initFormat: 'systemd', evidence };
    }
    evidence.push(
      bootMount
        ? `${IMAGER_CUSTOM}, but the boot partition is at ${bootMount} and no initramfs script imager_fixup moves Imager's /boot/firstrun.sh there`
        : `${IMAGER_CUSTOM}, but fstab mounts no boot partition at /boot or /boot/firmware (firstrun.sh lives there)`,
    );
  }
  if (evidence.length === 0)
    evidence.push(`none of cloud-init (${CLOUD_INIT}), rpi-preseed, raspberrypi-sys-mods' imager_custom: Imager offers no customisation`);
  return { initFormat: 'none', evidence };
}

/**
 * Kernel command line arguments a first-boot customisation puts on
 * cmdline.txt (Raspberry Pi Imager's, or pi-image customise's): cloud-init's
 * NoCloud seed (`ds=nocloud;i=ID`), the Wi-Fi regulatory domain, and the
 * systemd first-run hook. A new customisation replaces them.
 */
const FIRST_BOOT_ARGUMENT =
  /^(ds=nocloud(;.*)?|cfg80211\.ieee80211_regdom=.*|systemd\.run=.*|systemd\.run_success_action=.*|systemd\.unit=kernel-command-line\.target)$/;

export function isFirstBootArgument(argument: string): boolean {
  return FIRST_BOOT_ARGUMENT.test(argument);
}

/**
 * The first-boot arguments of a cmdline.txt that a boot test carries onto its
 * own kernel command line: cloud-init's seed and the regulatory domain. Not
 * the systemd first-run hook: it runs firstrun.sh instead of the normal boot
 * and reboots, which a single boot under test cannot follow.
 */
export function cloudInitArguments(cmdline: string): string[] {
  return cmdline
    .trim()
    .split(/\s+/)
    .filter((a) => isFirstBootArgument(a) && !a.startsWith('systemd.'));
}
