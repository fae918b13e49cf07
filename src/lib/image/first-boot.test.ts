import { describe, expect, it } from 'vitest';
import { detectFirstBoot, type RootFiles } from './first-boot';

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

const BOOT_FSTAB = [{ file: '/' }, { file: '/boot/firmware' }];
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
      tree({ ...CLOUD_INIT, '/etc/cloud/cloud.cfg.d/90-seed.cfg': 'datasource:\n  NoCloud:\n    seedfrom: "file:///boot/"\n' }),
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

  it("finds Imager's firstrun.sh route (imager_custom, the boot partition mounted): systemd; warns without userconf", async () => {
    const r = await detectFirstBoot(tree({ '/usr/lib/raspberrypi-sys-mods/imager_custom': '#!/bin/sh\n' }), BOOT_FSTAB);
    expect(r.initFormat).toBe('systemd');
    expect(r.evidence.join('\n')).toMatch(/no \/usr\/lib\/userconf-pi\/userconf: firstrun\.sh cannot set up the first user/);
    const unmounted = await detectFirstBoot(tree({ '/usr/lib/raspberrypi-sys-mods/imager_custom': '' }), [{ file: '/' }]);
    expect(unmounted.initFormat).toBe('none');
  });

  it('prefers rpi-preseed, and says none with the reason when nothing is there', async () => {
    expect((await detectFirstBoot(tree({ '/usr/bin/rpi-preseed': '', '/usr/lib/raspberrypi-sys-mods/imager_custom': '' }), BOOT_FSTAB)).initFormat).toBe(
      'rpi-preseed',
    );
    const none = await detectFirstBoot(tree({ '/etc/hostname': 'x\n' }), BOOT_FSTAB);
    expect(none).toEqual({ initFormat: 'none', evidence: [expect.stringMatching(/Imager offers no customisation/)] });
  });
});
