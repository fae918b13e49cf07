/**
 * What each partition of a Raspberry Pi image is for, read from the image
 * itself: a FAT partition holding autoboot.txt is the common boot partition
 * whose `boot_partition` (and `[tryboot]` `boot_partition`) name slot A's and
 * slot B's boot partitions; each boot partition's cmdline.txt names its root
 * by PARTUUID. Without autoboot.txt there is one slot: the first FAT boot
 * partition and the root its cmdline.txt names. The same words are used by the
 * export's layouts (what a partition was made for) and by inspect (what it is).
 */

export const PARTITION_ROLES = {
  autoboot: 'common boot (autoboot.txt)',
  boot: 'boot (slot A)',
  root: 'root (slot A)',
  'boot-b': 'boot (slot B)',
  'root-b': 'root (slot B)',
  data: 'data',
  empty: 'empty',
} as const;

export type PartitionContent = keyof typeof PARTITION_ROLES;

export interface Autoboot {
  /** [all] (or no section) boot_partition: slot A. */
  bootPartition?: number;
  /** [tryboot] boot_partition: slot B. */
  trybootPartition?: number;
  tryboot: boolean;
}

/** Reads the settings of autoboot.txt this project relies on; unknown lines are ignored, as the firmware does. */
export function parseAutoboot(text: string): Autoboot {
  const result: Autoboot = { tryboot: false };
  let section = 'all';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      continue;
    }
    const m = /^([a-z_]+)\s*=\s*(\S+)$/i.exec(line);
    if (!m) continue;
    const [key, value] = [m[1]!.toLowerCase(), m[2]!];
    if (key === 'tryboot_a_b' && section === 'all') result.tryboot = value === '1';
    if (key === 'boot_partition' && /^\d{1,3}$/.test(value)) {
      if (section === 'tryboot') result.trybootPartition = Number(value);
      else if (section === 'all') result.bootPartition = Number(value);
    }
  }
  return result;
}

/** The PARTUUID a cmdline.txt mounts as root, lower case; undefined when it names root otherwise. */
export function rootPartuuid(cmdline: string): string | undefined {
  return /(?:^|\s)root=PARTUUID=([0-9A-Fa-f-]+)(?:\s|$)/.exec(cmdline)?.[1]?.toLowerCase();
}
