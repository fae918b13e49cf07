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
export function checkExportPath(path: string, what = 'export path'): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(path) || path.split('/').some((p) => p === '..' || p === '.') || path.length > 255)
    fail(what, `"${path}" is not an absolute path of letters, digits, . _ - and / (no .., no spaces or commas)`);
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
  const tftpRoot = checkExportPath(options.tftpRoot, 'tftp root');
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

/** What the root file system is written as: a compressed tarball, or a directory tree to export as it is. */
export const ROOTFS_FORMATS = ['tar.gz', 'tar.zst', 'dir'] as const;
export type RootfsFormat = (typeof ROOTFS_FORMATS)[number];

/** One board's place: its TFTP directory (empty: the TFTP root) and the NFS path of its root. */
export interface NetbootBoard {
  tftpDir: string;
  nfsRoot: string;
}

export interface NetbootRequest {
  server: string;
  /** The NFS export holding the root (one board), or each board's root as a directory of it. */
  exportPath: string;
  /** Where the server keeps the TFTP tree (dnsmasq's tftp-root). */
  tftpRoot: string;
  rootfs: RootfsFormat;
  subnet: string;
  interface?: string | undefined;
  clients: string;
  /** TFTP_PREFIX the boards' EEPROM needs: 0 (serial), 2 (MAC), or undefined (the TFTP root, no prefix directory). */
  tftpPrefix?: 0 | 2 | undefined;
  boards: NetbootBoard[];
}

export interface NetbootRequestInput {
  server?: string | undefined;
  exportPath?: string | undefined;
  tftpRoot?: string | undefined;
  rootfs?: string | undefined;
  subnet?: string | undefined;
  interface?: string | undefined;
  clients?: string | undefined;
  serials?: readonly string[] | undefined;
  macs?: readonly string[] | undefined;
}

export const DEFAULT_EXPORT_PATH = '/srv/netboot/rootfs';
export const DEFAULT_TFTP_ROOT = '/srv/netboot/tftp';

/**
 * The export's settings, checked: a server, and either no board (one root, the
 * TFTP root) or boards by serial or by MAC (not both: one EEPROM setting,
 * TFTP_PREFIX, says which), each with a root of its own under the export path.
 */
export function parseNetbootRequest(input: NetbootRequestInput, defaultRootfs: RootfsFormat): NetbootRequest {
  if (!input.server) fail('--server', 'required: the address the boards reach the NFS and TFTP server at');
  const server = checkServer(input.server!);
  const exportPath = checkExportPath(input.exportPath ?? DEFAULT_EXPORT_PATH);
  const tftpRoot = checkExportPath(input.tftpRoot ?? DEFAULT_TFTP_ROOT, 'tftp root');
  const rootfs = (input.rootfs ?? defaultRootfs) as RootfsFormat;
  if (!ROOTFS_FORMATS.includes(rootfs)) fail('--rootfs', `"${input.rootfs}" is not one of ${ROOTFS_FORMATS.join(', ')}`);
  const ipv4 = /^(\d+)\.(\d+)\.(\d+)\.\d+$/.exec(server);
  const subnet = input.subnet ?? (ipv4 ? `${ipv4[1]}.${ipv4[2]}.${ipv4[3]}.0` : undefined);
  if (subnet === undefined) fail('--subnet', `required when --server is a host name (${server}): the network the boards are on, e.g. 192.168.1.0`);
  // Checked by dnsmasqConf and exportsLine, which refuse what would change their lines.
  const clients = input.clients ?? `${subnet}/24`;
  dnsmasqConf({ tftpRoot, subnet: subnet!, interface: input.interface });
  exportsLine(exportPath, clients);
  const serials = input.serials ?? [];
  const macs = input.macs ?? [];
  if (serials.length > 0 && macs.length > 0)
    fail('--serial/--mac', 'give boards by serial or by MAC, not both: the EEPROM setting TFTP_PREFIX says which the bootloader looks for');
  const ids = [...serials.map((serial) => tftpDirectory({ serial })), ...macs.map((mac) => tftpDirectory({ mac }))];
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) fail('--serial/--mac', `board ${twice} is given twice`);
  const boards =
    ids.length === 0 ? [{ tftpDir: '', nfsRoot: exportPath }] : ids.map((id) => ({ tftpDir: id, nfsRoot: `${exportPath === '/' ? '' : exportPath}/${id}` }));
  return {
    server,
    exportPath,
    tftpRoot,
    rootfs,
    subnet: subnet!,
    interface: input.interface,
    clients,
    tftpPrefix: serials.length > 0 ? 0 : macs.length > 0 ? 2 : undefined,
    boards,
  };
}

/** The product config's NETBOOT_* keys, as the request's inputs (options given on the command line win). */
const CONFIG_KEYS = {
  NETBOOT_SERVER: 'server',
  NETBOOT_EXPORT_PATH: 'exportPath',
  NETBOOT_TFTP_ROOT: 'tftpRoot',
  NETBOOT_ROOTFS: 'rootfs',
  NETBOOT_SUBNET: 'subnet',
  NETBOOT_INTERFACE: 'interface',
  NETBOOT_CLIENTS: 'clients',
} as const satisfies Record<string, keyof NetbootRequestInput>;

export function netbootInputFromConfig(values: Readonly<Record<string, string>>, where: string): NetbootRequestInput {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const field = (CONFIG_KEYS as Record<string, string>)[key];
    if (!field) fail(where, `${key} is not a netboot setting (${Object.keys(CONFIG_KEYS).join(', ')})`);
    input[field!] = value;
  }
  return input;
}
