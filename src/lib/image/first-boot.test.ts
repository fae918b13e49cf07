import { describe, expect, it } from 'vitest';
import { cloudInitArguments, detectFirstBoot, isFirstBootArgument, type RootFiles } from './first-boot';

/** A root file system as a map of path → content (directories implied by their files). */
function tree(files: Record<string, string>): RootFiles {
  return {
    exists: async (path) => path in files || Object.keys(files).some((f) => f.startsWith(`${path}/`)),
    readText: async (path) => files[path],
    list: async (path) => {
      const names = Object.keys(files)
        .filter((f) => f.startsWith(`${path}/`))
        .map((f) => f.slice(path.length + 1).split('/')[0]!);
      return names.length > 0 ? [...new Set(names)] : undefined;
    },
  };
}

const BOOT_FSTAB = { fstab: [{ file: '/' }, { file: '/boot/firmware' }] };
// As Raspberry Pi's rpi-cloud-init-mods ships it (pi-gen 372e5636, stage2/04-cloud-init/files/99_raspberry-pi.cfg).
const RPI_CFG = 'datasource_list: [ NoCloud, None ]\ndatasource:\n  NoCloud:\n    seedfrom: file:///boot/firmware\n';
const CLOUD_INIT = { '/usr/bin/cloud-init': '#!/usr/bin/python3\n', '/etc/cloud/cloud.cfg': 'users:\n  - default\n' };
const RPI_MODULE = '/usr/lib/python3/dist-packages/cloudinit/config/cc_raspberry_pi.py';

describe('detectFirstBoot', () => {
  it('finds cloud-init seeded from the boot partition, with the Raspberry Pi module: cloudinit-rpi', async () => {
    const r = await detectFirstBoot(tree({ ...CLOUD_INIT, '/etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg': RPI_CFG, [RPI_MODULE]: '' }), BOOT_FSTAB);
    expect(r.initFormat).toBe('cloudinit-rpi');
    expect(r.evidence.join('\n')).toMatch(/99_raspberry-pi\.cfg seeds NoCloud from the boot partition/);
  });

  it('without the module: cloudinit, and says the rpi: keys would be ignored', async () => {
    const r = await detectFirstBoot(
      tree({ ...CLOUD_INIT, '/etc/cloud/cloud.cfg.d/90-seed.cfg': 'datasource:\n  NoCloud:\n    seedfrom: "file:///boot/firmware/"\n' }),
      BOOT_FSTAB,
    );
    expect(r.initFormat).toBe('cloudinit');
    expect(r.evidence.join('\n')).toMatch(/rpi: keys would be ignored/);
  });

  it('never assumes: cloud-init with no seed on the boot partition, or NoCloud left out of the data sources, is none', async () => {
    const unseeded = await detectFirstBoot(tree({ ...CLOUD_INIT, [RPI_MODULE]: '' }), BOOT_FSTAB);
    expect(unseeded.initFormat).toBe('none');
    expect(unseeded.evidence.join('\n')).toMatch(/no \/etc\/cloud\/cloud\.cfg\.d\/\*\.cfg points NoCloud at the boot partition/);
    const excluded = await detectFirstBoot(
      tree({ ...CLOUD_INIT, '/etc/cloud/cloud.cfg.d/10-seed.cfg': RPI_CFG, '/etc/cloud/cloud.cfg.d/99-ec2.cfg': 'datasource_list: [ Ec2, None ]\n' }),
      BOOT_FSTAB,
    );
    expect(excluded.initFormat).toBe('none');
    expect(excluded.evidence.join('\n')).toMatch(/99-ec2\.cfg leaves NoCloud out of datasource_list/);
  });

  it("finds Imager's firstrun.sh route (imager_custom; the boot partition at /boot, or at /boot/firmware with imager_fixup): systemd", async () => {
    const custom = { '/usr/lib/raspberrypi-sys-mods/imager_custom': '#!/bin/sh\n' };
    const atBoot = await detectFirstBoot(tree(custom), { fstab: [{ file: '/' }, { file: '/boot' }] });
    expect(atBoot.initFormat).toBe('systemd');
    expect(atBoot.evidence.join('\n')).toMatch(/no \/usr\/lib\/userconf-pi\/userconf: firstrun\.sh cannot set up the first user/);
    // Imager starts /boot/firstrun.sh: at /boot/firmware only raspberrypi-sys-mods' initramfs fix-up finds it.
    const noFixup = await detectFirstBoot(tree(custom), BOOT_FSTAB);
    expect(noFixup.initFormat).toBe('none');
    expect(noFixup.evidence.join('\n')).toMatch(/no initramfs script imager_fixup/);
    const fixup = await detectFirstBoot(tree({ ...custom, '/usr/share/initramfs-tools/scripts/init-premount/imager_fixup': '' }), BOOT_FSTAB);
    expect(fixup.initFormat).toBe('systemd');
    expect((await detectFirstBoot(tree(custom), { fstab: [{ file: '/' }] })).initFormat).toBe('none');
  });

  it('reads block-style data source lists, and refuses a seed elsewhere than the boot mount, a disabled or masked cloud-init, an A/B image', async () => {
    const seeded = { ...CLOUD_INIT, '/etc/cloud/cloud.cfg.d/99_raspberry-pi.cfg': RPI_CFG, [RPI_MODULE]: '' };
    const block = await detectFirstBoot(tree({ ...seeded, '/etc/cloud/cloud.cfg.d/99z-ec2.cfg': 'datasource_list:\n  - Ec2\n  - None\n' }), BOOT_FSTAB);
    expect(block.initFormat).toBe('none');
    expect(block.evidence.join('\n')).toMatch(/99z-ec2\.cfg leaves NoCloud out of datasource_list/);
    const elsewhere = await detectFirstBoot(tree(seeded), { fstab: [{ file: '/' }, { file: '/boot' }] });
    expect(elsewhere.initFormat).toBe('none');
    expect(elsewhere.evidence.join('\n')).toMatch(/seeds NoCloud from \/boot\/firmware, but the boot partition \(where Imager writes\) is mounted at \/boot/);
    expect((await detectFirstBoot(tree({ ...seeded, '/etc/cloud/cloud-init.disabled': '' }), BOOT_FSTAB)).initFormat).toBe('none');
    expect((await detectFirstBoot(tree(seeded), { ...BOOT_FSTAB, maskedUnits: ['cloud-init.service'] })).evidence.join('\n')).toMatch(
      /cloud-init\.service masked/,
    );
    const ab = await detectFirstBoot(tree(seeded), { ...BOOT_FSTAB, abSlots: true });
    expect(ab).toEqual({ initFormat: 'none', evidence: [expect.stringMatching(/an A\/B image: Imager writes .* first FAT partition/)] });
    expect((await detectFirstBoot(tree(seeded), BOOT_FSTAB)).initFormat).toBe('cloudinit-rpi');
  });

  it('prefers rpi-preseed, and says none with the reason when nothing is there', async () => {
    expect((await detectFirstBoot(tree({ '/usr/bin/rpi-preseed': '', '/usr/lib/raspberrypi-sys-mods/imager_custom': '' }), BOOT_FSTAB)).initFormat).toBe(
      'rpi-preseed',
    );
    const none = await detectFirstBoot(tree({ '/etc/hostname': 'x\n' }), BOOT_FSTAB);
    expect(none).toEqual({ initFormat: 'none', evidence: [expect.stringMatching(/Imager offers no customisation/)] });
  });
});

describe('first-boot arguments of cmdline.txt', () => {
  const customised =
    'console=serial0,115200 console=tty1 root=PARTUUID=5eed1234-02 rootfstype=ext4 init=/usr/lib/raspberrypi-sys-mods/firstboot rootwait ' +
    'cfg80211.ieee80211_regdom=GB ds=nocloud;i=pi-image-1 systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target';

  it("knows a customisation's own arguments, and no others", () => {
    const own = customised.split(' ').filter(isFirstBootArgument);
    expect(own).toEqual([
      'cfg80211.ieee80211_regdom=GB',
      'ds=nocloud;i=pi-image-1',
      'systemd.run=/boot/firstrun.sh',
      'systemd.run_success_action=reboot',
      'systemd.unit=kernel-command-line.target',
    ]);
    expect(isFirstBootArgument('systemd.unit=multi-user.target')).toBe(false);
  });

  it("carries cloud-init's seed and the regulatory domain to a boot test, not the first-run hook that reboots, nor root= or init=", () => {
    expect(cloudInitArguments(`${customised}\n`)).toEqual(['cfg80211.ieee80211_regdom=GB', 'ds=nocloud;i=pi-image-1']);
    expect(cloudInitArguments('console=tty1 root=/dev/mmcblk0p2 rootwait\n')).toEqual([]);
  });
});
