import { describe, expect, it } from 'vitest';
import { PiImageError } from '../core/errors';
import { checkExportPath, dnsmasqConf, exportsLine, netbootCmdline, netbootFstab, parseNetbootRequest, tftpDirectory } from './netboot-config';

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof PiImageError ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
  }
  return 'accepted';
};

const FSTAB = [
  'proc            /proc           proc    defaults          0       0',
  'PARTUUID=5eed1234-01  /boot/firmware  vfat    defaults          0       2',
  'PARTUUID=5eed1234-02  /               ext4    defaults,noatime  0       1',
  '# the DATA disk: never required to boot',
  'LABEL=OURBOX_DATA /var/lib/ourbox ext4 defaults,nofail,x-systemd.device-timeout=10s 0 2',
  '',
].join('\n');

describe('netboot configuration', () => {
  it("drops the local root and boot lines from fstab and keeps every other line (the DATA contract's) as it was", () => {
    const { text, dropped } = netbootFstab(FSTAB, '/boot/firmware');
    expect(dropped).toEqual([
      'PARTUUID=5eed1234-01  /boot/firmware  vfat    defaults          0       2',
      'PARTUUID=5eed1234-02  /               ext4    defaults,noatime  0       1',
    ]);
    expect(text.split('\n')).toEqual([FSTAB.split('\n')[0], FSTAB.split('\n')[3], FSTAB.split('\n')[4], '']);
  });

  it("puts the root on NFS in the image's own command line, its local root and first-boot resize gone, customisation kept", () => {
    const image =
      'console=serial0,115200 console=tty1 root=PARTUUID=5eed1234-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot ds=nocloud;i=x\n';
    expect(netbootCmdline(image, '192.168.1.10', '/srv/nfs/ourbox/')).toBe(
      'console=serial0,115200 console=tty1 quiet ds=nocloud;i=x root=/dev/nfs nfsroot=192.168.1.10:/srv/nfs/ourbox,vers=3 rw ip=dhcp rootwait\n',
    );
  });

  it('names the TFTP directory a board reads: its serial, or its MAC with dashes', () => {
    expect(tftpDirectory({ serial: '0x1A2B3C4D' })).toBe('1a2b3c4d');
    expect(tftpDirectory({ mac: 'DC:A6:32:01:02:03' })).toBe('dc-a6-32-01-02-03');
    expect(refusal(() => tftpDirectory({ serial: '../etc' }))).toMatch(/^INPUT_INVALID: serial: "\.\.\/etc" is not a board serial/);
    expect(refusal(() => tftpDirectory({ mac: 'dc:a6:32:01:02' }))).toMatch(/mac: .* is not a MAC address/);
  });

  it('writes the dnsmasq proxy DHCP and TFTP snippet and the exports line; refuses values that would change a line', () => {
    expect(dnsmasqConf({ tftpRoot: '/srv/tftp', subnet: '192.168.1.0', interface: 'eth0' })).toBe(
      [
        '# pi-image netboot: proxy DHCP (the network keeps its own DHCP server) and TFTP for Raspberry Pi network boot',
        'port=0',
        'interface=eth0',
        'bind-interfaces',
        'dhcp-range=192.168.1.0,proxy',
        'log-dhcp',
        'enable-tftp',
        'tftp-root=/srv/tftp',
        'pxe-service=0,"Raspberry Pi Boot"',
        '',
      ].join('\n'),
    );
    expect(exportsLine('/srv/nfs/ourbox', '192.168.1.0/24')).toBe('/srv/nfs/ourbox 192.168.1.0/24(rw,sync,no_subtree_check,no_root_squash)\n');
    expect(refusal(() => netbootCmdline('x', '10.0.0.1 evil=1', '/srv'))).toMatch(/server: "10\.0\.0\.1 evil=1" is not an IPv4 address or a host name/);
    expect(refusal(() => netbootCmdline('x', '10.0.0.1', '/srv/a,b'))).toMatch(/export path: "\/srv\/a,b" is not an absolute path/);
    expect(refusal(() => checkExportPath('/srv/../etc'))).toMatch(/no \.\./);
    expect(refusal(() => exportsLine('/srv', '*(rw) evil'))).toMatch(/clients: .* is not a host, network/);
    expect(refusal(() => dnsmasqConf({ tftpRoot: '/srv/tftp', subnet: '192.168.1.0\nconf-file=/x' }))).toMatch(/subnet: [^]* is not an IPv4 network address/);
  });
});

describe('the netboot request', () => {
  it('defaults to one board at the TFTP root, its root the export path, the network the server’s /24', () => {
    expect(parseNetbootRequest({ server: '192.168.7.3' }, 'tar.gz')).toEqual({
      server: '192.168.7.3',
      exportPath: '/srv/netboot/rootfs',
      tftpRoot: '/srv/netboot/tftp',
      rootfs: 'tar.gz',
      subnet: '192.168.7.0',
      interface: undefined,
      clients: '192.168.7.0/24',
      tftpPrefix: undefined,
      boards: [{ tftpDir: '', nfsRoot: '/srv/netboot/rootfs' }],
    });
  });

  it('gives each board a directory and a root of its own, by serial (TFTP_PREFIX=0) or MAC (2)', () => {
    const bySerial = parseNetbootRequest({ server: '10.0.0.1', exportPath: '/nfs/', serials: ['0xDEADBEEF', '0badcafe'] }, 'tar.zst');
    expect([bySerial.tftpPrefix, bySerial.boards]).toEqual([
      0,
      [
        { tftpDir: 'deadbeef', nfsRoot: '/nfs/deadbeef' },
        { tftpDir: '0badcafe', nfsRoot: '/nfs/0badcafe' },
      ],
    ]);
    const byMac = parseNetbootRequest({ server: '10.0.0.1', macs: ['DC:A6:32:00:00:01'] }, 'tar.zst');
    expect([byMac.tftpPrefix, byMac.boards]).toEqual([2, [{ tftpDir: 'dc-a6-32-00-00-01', nfsRoot: '/srv/netboot/rootfs/dc-a6-32-00-00-01' }]]);
  });

  it('refuses what is missing, mixed, repeated or would change a line', () => {
    expect(refusal(() => parseNetbootRequest({}, 'tar.gz'))).toMatch(/^INPUT_INVALID: --server: required/);
    expect(refusal(() => parseNetbootRequest({ server: 'nfs.lab' }, 'tar.gz'))).toMatch(/--subnet: required when --server is a host name/);
    expect(refusal(() => parseNetbootRequest({ server: '10.0.0.1', serials: ['12345678'], macs: ['dc:a6:32:00:00:01'] }, 'tar.gz'))).toMatch(/not both/);
    expect(refusal(() => parseNetbootRequest({ server: '10.0.0.1', serials: ['12345678', '0x12345678'] }, 'tar.gz'))).toMatch(/board 12345678 is given twice/);
    expect(refusal(() => parseNetbootRequest({ server: '10.0.0.1', rootfs: 'zip' }, 'tar.gz'))).toMatch(/--rootfs: "zip" is not one of/);
    expect(refusal(() => parseNetbootRequest({ server: '10.0.0.1', tftpRoot: '/srv/tftp\nport=53' }, 'tar.gz'))).toMatch(
      /^INPUT_INVALID: tftp root: "\/srv\/tftp\nport=53" is not an absolute path/,
    );
    expect(refusal(() => parseNetbootRequest({ server: '10.0.0.1', interface: 'eth0 --x' }, 'tar.gz'))).toMatch(
      /interface: "eth0 --x" is not an interface name/,
    );
  });
});
