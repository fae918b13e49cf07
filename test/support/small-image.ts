/**
 * Small real disk images made in a second with the real tools (mkfs.vfat,
 * mtools, mkfs.ext4 -d, sfdisk): laid out like pi-gen's export-image, for the
 * tests that need many images or broken ones. No root needed.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_FSTAB_LINE } from './ourbox-contract';
import { sh } from './tools';

export const SMALL_IMAGE_TOOLS = ['mkfs.vfat', 'mcopy', 'mmd', 'mkfs.ext4', 'sfdisk', 'dd'];

export interface SmallImageOptions {
  /** FAT type of the boot partition. */
  fat?: 12 | 16 | 32;
  bootMiB?: number;
  rootMiB?: number;
  /** Extra files in the root file system, path → content. */
  rootFiles?: Record<string, string>;
  /** Adds to the root file system's tree before mkfs.ext4 -d copies it (devices, capabilities, links: needs root). */
  prepareRoot?: (root: string) => void;
  /** Many files in one directory, to make ext4 use an htree index. */
  bigDirectory?: number;
  /** ext4 creation features, e.g. "^64bit" or "^metadata_csum". */
  ext4Features?: string;
  gpt?: boolean;
  /** ext4 block size (mkfs.ext4 -b). */
  ext4BlockSize?: 1024 | 4096;
  /** Edits the boot (FAT) file system image before it goes into the disk image. */
  patchBoot?: (fsImage: string) => void;
  /** Edits the root file system image before it goes into the disk image (crafting damaged structures). */
  patchRoot?: (fsImage: string) => void;
  /** Edits the whole disk image at the end (crafting damaged partition tables). */
  patchDisk?: (diskImage: string) => void;
}

const MiB = 1024 * 1024;

export function makeSmallImage(path: string, options: SmallImageOptions = {}): void {
  const work = mkdtempSync(join(tmpdir(), 'small-image-'));
  const boot = join(work, 'boot');
  const root = join(work, 'root');
  const bootMiB = options.bootMiB ?? 40;
  const rootMiB = options.rootMiB ?? 24;
  mkdirSync(join(boot, 'overlays'), { recursive: true });
  writeFileSync(join(boot, 'config.txt'), 'arm_64bit=1\n# comment\ndtparam=pciex1\n');
  writeFileSync(join(boot, 'cmdline.txt'), 'console=tty1 root=PARTUUID=0badcafe-02 rootwait\n');
  writeFileSync(join(boot, 'overlays', 'A Long File Name For LFN.dtbo'), Buffer.alloc(5000, 7));
  writeFileSync(join(boot, 'kernel8.img'), Buffer.alloc(70_000, 1));

  for (const d of [
    'etc/ourbox',
    'etc/systemd/system/multi-user.target.wants',
    'etc/systemd/system/timers.target.wants',
    'usr/lib',
    'var/lib/ourbox',
    'lib/systemd/system',
  ]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  writeFileSync(join(root, 'usr/lib/os-release'), 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_CODENAME=trixie\n');
  symlinkSync('../usr/lib/os-release', join(root, 'etc/os-release'));
  writeFileSync(join(root, 'etc/ourbox/release'), 'OURBOX_PRODUCT=ourbox\nOURBOX_DEVICE=mini\nOURBOX_SKU="TOO-OBX-MINI-01"\n');
  writeFileSync(join(root, 'etc/hostname'), 'small\n');
  writeFileSync(join(root, 'etc/fstab'), `proc /proc proc defaults 0 0\n${DATA_FSTAB_LINE}\n`);
  writeFileSync(join(root, 'lib/systemd/system/fstrim.timer'), '[Timer]\n');
  writeFileSync(join(root, 'lib/systemd/system/ssh.service'), '[Service]\n');
  symlinkSync('/lib/systemd/system/fstrim.timer', join(root, 'etc/systemd/system/timers.target.wants/fstrim.timer'));
  symlinkSync('/lib/systemd/system/ssh.service', join(root, 'etc/systemd/system/multi-user.target.wants/ssh.service'));
  symlinkSync('/dev/null', join(root, 'etc/systemd/system/bluetooth.service'));
  for (const [p, content] of Object.entries(options.rootFiles ?? {})) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  options.prepareRoot?.(root);
  if (options.bigDirectory) {
    mkdirSync(join(root, 'big'));
    for (let i = 0; i < options.bigDirectory; i++) writeFileSync(join(root, 'big', `file-with-a-longish-name-${i}`), String(i));
  }

  const bootFs = join(work, 'boot.fat');
  const rootFs = join(work, 'root.ext4');
  sh('truncate', ['-s', `${bootMiB}M`, bootFs]);
  sh('mkfs.vfat', ['-F', String(options.fat ?? 32), '-n', 'bootfs', ...(options.fat === 32 || !options.fat ? ['-s', '1'] : []), bootFs]);
  sh('mmd', ['-i', bootFs, '::/overlays']);
  sh('mcopy', ['-i', bootFs, join(boot, 'config.txt'), join(boot, 'cmdline.txt'), join(boot, 'kernel8.img'), '::/']);
  sh('mcopy', ['-i', bootFs, join(boot, 'overlays', 'A Long File Name For LFN.dtbo'), '::/overlays/']);
  options.patchBoot?.(bootFs);
  sh('truncate', ['-s', `${rootMiB}M`, rootFs]);
  sh(
    'mkfs.ext4',
    [
      '-q',
      '-L',
      'rootfs',
      ...(options.ext4Features ? ['-O', options.ext4Features] : []),
      ...(options.ext4BlockSize ? ['-b', String(options.ext4BlockSize)] : []),
      '-d',
      root,
      rootFs,
    ],
    {
      env: { ...process.env, E2FSPROGS_FAKE_TIME: '1768780800' },
    },
  );
  options.patchRoot?.(rootFs);

  const bootStart = 8;
  const rootStart = bootStart + bootMiB;
  const total = rootStart + rootMiB + (options.gpt ? 1 : 0);
  sh('truncate', ['-s', `${total}M`, path]);
  const table = options.gpt
    ? `label: gpt\nunit: sectors\n\nstart=${(bootStart * MiB) / 512}, size=${(bootMiB * MiB) / 512}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="boot"\nstart=${(rootStart * MiB) / 512}, size=${(rootMiB * MiB) / 512}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n`
    : `label: dos\nlabel-id: 0x0badcafe\nunit: sectors\n\nstart=${(bootStart * MiB) / 512}, size=${(bootMiB * MiB) / 512}, type=c\nstart=${(rootStart * MiB) / 512}, size=${(rootMiB * MiB) / 512}, type=83\n`;
  const tableFile = join(work, 'table');
  writeFileSync(tableFile, table);
  sh('sh', ['-c', 'sfdisk --quiet "$1" < "$2"', 'sh', path, tableFile]);
  sh('dd', [`if=${bootFs}`, `of=${path}`, 'bs=1M', `seek=${bootStart}`, 'conv=notrunc,sparse', 'status=none']);
  sh('dd', [`if=${rootFs}`, `of=${path}`, 'bs=1M', `seek=${rootStart}`, 'conv=notrunc,sparse', 'status=none']);
  sh('rm', ['-rf', work]);
  options.patchDisk?.(path);
}

/** A pi-gen style .info with `count` installed packages. */
export function makeInfo(count: number, stage = 'stage-ourbox-mini'): string {
  const rows = Array.from({ length: count }, (_, i) => `ii  pkg-${i}${' '.repeat(20)}1.${i}-1${' '.repeat(20)}arm64        package number ${i}`);
  return [
    'Test OS (dev) 2026-01-19',
    `Generated using pi-gen, https://github.com/RPi-Distro/pi-gen, ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5, ${stage}`,
    '',
    'Packages:',
    'Desired=Unknown/Install/Remove/Purge/Hold',
    '| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend',
    '|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)',
    '||/ Name           Version      Architecture Description',
    '+++-==============-============-============-=================================',
    ...rows,
    '',
  ].join('\n');
}
