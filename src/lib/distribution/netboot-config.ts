/**
 * What a network-booted Raspberry Pi (4 or 5, EEPROM bootloader) needs besides
 * the root file system, as pure functions of checked inputs: the NFS root's
 * fstab (no local root or boot line: the root comes over NFS and the firmware
 * over TFTP; every other line, the DATA contract's among them, kept), the
 * kernel command line (the image's own, its root and first-boot resize
 * replaced by the NFS root), the TFTP directory a board looks in, and the
 * server's dnsmasq (proxy DHCP + TFTP) and /etc/exports snippets.
 *
 * Values reach these files only after a check: a server address, an export
 * path or a MAC address with a space, a comma or a newline would change what
 * the line means.
 */
import { PiImageError } from '../core/errors';

const fail = (what: string, message: string): never => {
  throw new PiImageError('INPUT_INVALID', `${what}: ${message}`);
};

/** An IPv4 address or a host name: what nfsroot= takes before its colon. */
export function checkServer(server: string): string {
  const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
  const host = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
  if (!ipv4.test(server) && !host.test(server)) fail('server', `"${server}" is not an IPv4 address or a host name`);
  return server;
}

/** An absolute export path without the characters nfsroot= and /etc/exports give a meaning (comma, space, colon, quotes). */
export function checkExportPath(path: string): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(path) || path.split('/').some((p) => p === '..' || p === '.') || path.length > 255)
    fail('export path', `"${path}" is not an absolute path of letters, digits, . _ - and / (no .., no spaces or commas)`);
  return path.replace(/\/+$/, '') || '/';
}

/** The directory a board reads from TFTP: its serial (TFTP_PREFIX=0) or its MAC address (TFTP_PREFIX=2, dashes). */
export function tftpDirectory(id: { serial: string } | { mac: string }): string {
  if ('serial' in id) {
    const serial = id.serial.toLowerCase().replace(/^0x/, '');
    if (!/^[0-9a-f]{8}$/.test(serial)) fail('serial', `"${id.serial}" is not a board serial (8 hex digits, as in /proc/cpuinfo's last 8)`);
    return serial;
  }
  const mac = id.mac.toLowerCase().replace(/[:-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(mac)) fail('mac', `"${id.mac}" is not a MAC address`);
  return mac.match(/../g)!.join('-');
}

/** The fstab of an NFS root: the lines for / and for the boot partition's mount point dropped, every other line kept as it was. */
export function netbootFstab(fstab: string, bootMount: string | undefined): { text: string; dropped: string[] } {
  const dropped: string[] = [];
  const kept = fstab.split('\n').filter((line) => {
    const fields = line.trim().split(/\s+/);
    if (line.trim().startsWith('#') || fields.length < 2) return true;
    const mount = fields[1]!.replace(/\/+$/, '') || '/';
    if (mount === '/' || (bootMount !== undefined && mount === bootMount)) {
      dropped.push(line.trim());
      return false;
    }
    return true;
  });
  return { text: kept.join('\n'), dropped };
}

/** Arguments of the image's cmdline.txt that name or prepare a local root: replaced by the NFS root's. */
const LOCAL_ROOT = /^(root|rootfstype|rootflags|nfsroot|ip|init|resize|fsck\.repair|fsck\.mode)=|^(rootwait|ro|rw|resize)$/;

/** The image's kernel command line with its root on NFS (version 3, as the Raspberry Pi documentation serves it). */
export function netbootCmdline(cmdline: string, server: string, exportPath: string): string {
  checkServer(server);
  const path = checkExportPath(exportPath);
  const kept = cmdline
    .trim()
    .split(/\s+/)
    .filter((a) => a !== '' && !LOCAL_ROOT.test(a));
  return `${[...kept, 'root=/dev/nfs', `nfsroot=${server}:${path},vers=3`, 'rw', 'ip=dhcp', 'rootwait'].join(' ')}\n`;
}

/** dnsmasq as a proxy DHCP server beside the network's own, and its TFTP server: the Raspberry Pi bootloader asks for "Raspberry Pi Boot". */
export function dnsmasqConf(options: { tftpRoot: string; subnet: string; interface?: string | undefined }): string {
  const tftpRoot = checkExportPath(options.tftpRoot);
  if (!/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(options.subnet))
    fail('subnet', `"${options.subnet}" is not an IPv4 network address (e.g. 192.168.1.0)`);
  if (options.interface !== undefined && !/^[A-Za-z0-9._-]{1,15}$/.test(options.interface))
    fail('interface', `"${options.interface}" is not an interface name`);
  return [
    '# pi-image netboot: proxy DHCP (the network keeps its own DHCP server) and TFTP for Raspberry Pi network boot',
    'port=0',
    ...(options.interface ? [`interface=${options.interface}`, 'bind-interfaces'] : []),
    `dhcp-range=${options.subnet},proxy`,
    'log-dhcp',
    'enable-tftp',
    `tftp-root=${tftpRoot}`,
    'pxe-service=0,"Raspberry Pi Boot"',
    '',
  ].join('\n');
}

/** The /etc/exports line for the NFS root: read-write, root not squashed (the system's own files are root's). */
export function exportsLine(exportPath: string, clients: string): string {
  const path = checkExportPath(exportPath);
  if (!/^[A-Za-z0-9.*/:-]{1,64}$/.test(clients)) fail('clients', `"${clients}" is not a host, network (192.168.1.0/24) or *`);
  return `${path} ${clients}(rw,sync,no_subtree_check,no_root_squash)\n`;
}
