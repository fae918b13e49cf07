/** Test support: a sysfs tree as the kernel lays it out for an NVMe disk with two partitions (one held by dm-0) and a loop device. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function makeSysfsFixture(root: string, extra: { serialTwin?: boolean } = {}): void {
  const file = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  };
  const nvme = 'devices/pci0000:00/nvme/nvme1/nvme1n1';
  file(`${nvme}/dev`, '259:3');
  file(`${nvme}/size`, '976773168');
  file(`${nvme}/ro`, '0');
  file(`${nvme}/removable`, '0');
  file(`${nvme}/wwid`, 'eui.0025385b21404321');
  file(`${nvme}/queue/logical_block_size`, '512');
  file(`${nvme}/queue/write_zeroes_max_bytes`, '131072');
  file(`${nvme}/device/model`, 'Samsung SSD 980 1TB   ');
  file(`${nvme}/device/serial`, 'S64DNX0R123456');
  mkdirSync(join(root, nvme, 'holders'), { recursive: true });
  for (const [n, start, holder] of [
    [1, 2048, undefined],
    [2, 1050624, 'dm-0'],
  ] as const) {
    file(`${nvme}/nvme1n1p${n}/dev`, `259:${3 + n}`);
    file(`${nvme}/nvme1n1p${n}/partition`, String(n));
    file(`${nvme}/nvme1n1p${n}/start`, String(start));
    file(`${nvme}/nvme1n1p${n}/size`, '1048576');
    mkdirSync(join(root, nvme, `nvme1n1p${n}`, 'holders'), { recursive: true });
    if (holder) mkdirSync(join(root, nvme, `nvme1n1p${n}`, 'holders', holder));
  }
  const dm = 'devices/virtual/block/dm-0';
  file(`${dm}/dev`, '253:0');
  file(`${dm}/size`, '1048576');
  mkdirSync(join(root, dm, 'slaves'), { recursive: true });
  symlinkSync(join(root, nvme, 'nvme1n1p2'), join(root, dm, 'slaves', 'nvme1n1p2'));
  const loop = 'devices/virtual/block/loop3';
  file(`${loop}/dev`, '7:3');
  file(`${loop}/size`, '131072');
  file(`${loop}/loop/backing_file`, '/tmp/sys.img');
  mkdirSync(join(root, 'class', 'block'), { recursive: true });
  mkdirSync(join(root, 'dev', 'block'), { recursive: true });
  for (const [name, path, devno] of [
    ['nvme1n1', nvme, '259:3'],
    ['nvme1n1p1', `${nvme}/nvme1n1p1`, '259:4'],
    ['nvme1n1p2', `${nvme}/nvme1n1p2`, '259:5'],
    ['dm-0', dm, '253:0'],
    ['loop3', loop, '7:3'],
  ] as const) {
    symlinkSync(join(root, path), join(root, 'class', 'block', name));
    symlinkSync(join(root, path), join(root, 'dev', 'block', devno));
  }
  if (extra.serialTwin) {
    const twin = 'devices/pci0000:00/nvme/nvme2/nvme2n1';
    file(`${twin}/dev`, '259:9');
    file(`${twin}/size`, '1000');
    file(`${twin}/device/serial`, 'S64DNX0R123456');
    symlinkSync(join(root, twin), join(root, 'class', 'block', 'nvme2n1'));
    symlinkSync(join(root, twin), join(root, 'dev', 'block', '259:9'));
  }
}
