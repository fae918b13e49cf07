import { hasZstd } from '../../lib/core/file-sink';
import { netbootInputFromConfig, parseNetbootRequest } from '../../lib/distribution/netboot-config';
import { readProductConfigFile } from '../../lib/pigen/product-config';
import { exportNetboot } from '../../lib/distribution/netboot-export';
import { loadTrustedRoot } from '../../lib/signing/trusted-root';
import type { CliCommand } from '../command';
import { usageError } from '../command';
import { SIGNER_HELP, SIGNER_OPTIONS, signerPolicyFromFlags } from '../signer-options';

export const netbootCommand: CliCommand = {
  name: 'netboot',
  summary: "export a release's image for network boot: the root file system for NFS, the boot files for TFTP, the server's settings",
  usage: 'pi-image netboot RELEASE_DIR --out DIR --server ADDRESS [--serial SERIAL... | --mac MAC...] [--rootfs tar.zst|tar.gz|dir] [signer options]',
  help: `Writes what a Raspberry Pi 5 or 4 needs to boot RELEASE_DIR's image from the
network (diskless: reboot instead of reflash), read out of the image without
mounting it. The release is checked first: against its signature with the
signer options, else every file against manifest.json (with a warning); then
the decompressed image against the manifest's digest.

DIR (new; written whole or not at all) holds:
  rootfs.tar.zst      the root file system: owners, modes, links, devices,
  (or .tar.gz, or     extended attributes and file capabilities kept; fstab
  rootfs/)            without the local root and boot lines (the rest kept)
  tftp/               the boot partition, byte for byte, with a cmdline.txt
                      whose root is NFS: root=/dev/nfs nfsroot=SERVER:PATH,vers=3
                      rw ip=dhcp rootwait; tftp/SERIAL/ or tftp/MAC/ per board
  dnsmasq.conf        proxy DHCP (the network keeps its own) and TFTP
  exports             the /etc/exports line of each board's root
  README.md           how to serve it, with these paths
  netboot.json        every file with its digest, and the image's

Options:
  --out DIR             the export (must not exist, or be empty)
  --server ADDRESS      the NFS and TFTP server's address as the boards reach it
  --serial SERIAL       a board by serial (8 hex digits; TFTP_PREFIX=0); repeatable
  --mac MAC             a board by MAC address (TFTP_PREFIX=2); repeatable
                        Without boards, the boot files are at the TFTP root.
  --export-path PATH    the NFS root on the server (default /srv/netboot/rootfs);
                        with boards, each board's root is PATH/SERIAL or PATH/MAC
  --tftp-root PATH      the TFTP directory on the server (default /srv/netboot/tftp)
  --rootfs FORMAT       tar.zst (default where Node has zstd: 22.15+), tar.gz, or
                        dir: a directory tree to export as it is (needs root)
  --subnet NETWORK      the boards' network for proxy DHCP (default: the
                        server's /24, e.g. 192.168.1.0)
  --interface NAME      the server's interface dnsmasq answers on
  --clients SPEC        who may mount the roots (default: NETWORK/24)
  --tmpdir DIR          where the image is decompressed (default: beside --out)
  --config FILE         the product config: NETBOOT_SERVER, NETBOOT_EXPORT_PATH,
                        NETBOOT_TFTP_ROOT, NETBOOT_ROOTFS, NETBOOT_SUBNET,
                        NETBOOT_INTERFACE, NETBOOT_CLIENTS (the options win)
  --json                print netboot.json's summary on stdout

See docs/netboot.md.

${SIGNER_HELP}`,
  options: {
    ...SIGNER_OPTIONS,
    out: { type: 'string' },
    server: { type: 'string' },
    serial: { type: 'string', multiple: true },
    mac: { type: 'string', multiple: true },
    'export-path': { type: 'string' },
    'tftp-root': { type: 'string' },
    rootfs: { type: 'string' },
    subnet: { type: 'string' },
    interface: { type: 'string' },
    clients: { type: 'string' },
    tmpdir: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length !== 1) throw usageError('netboot needs exactly one RELEASE_DIR');
    if (!values.out) throw usageError('--out is required: the directory to write the export to');
    const configFile = values.config as string | undefined;
    const fromConfig = configFile ? netbootInputFromConfig((await readProductConfigFile(configFile, configFile)).netboot ?? {}, configFile) : {};
    const given = Object.fromEntries(
      Object.entries({
        server: values.server as string | undefined,
        exportPath: values['export-path'] as string | undefined,
        tftpRoot: values['tftp-root'] as string | undefined,
        rootfs: values.rootfs as string | undefined,
        subnet: values.subnet as string | undefined,
        interface: values.interface as string | undefined,
        clients: values.clients as string | undefined,
        serials: values.serial as string[] | undefined,
        macs: values.mac as string[] | undefined,
      }).filter(([, v]) => v !== undefined),
    );
    const request = parseNetbootRequest({ ...fromConfig, ...given }, hasZstd() ? 'tar.zst' : 'tar.gz');
    if (request.rootfs === 'tar.gz' && values.rootfs === undefined && fromConfig.rootfs === undefined)
      logger.info(`this Node (${process.version}) has no zstd: the root file system is written as tar.gz`);
    const policy = signerPolicyFromFlags(values);
    const result = await exportNetboot({
      releaseDir: positionals[0]!,
      out: values.out as string,
      request,
      policy,
      trustedRoot: policy ? await loadTrustedRoot(values['trusted-root'] as string | undefined) : undefined,
      workDir: values.tmpdir as string | undefined,
      logger,
    });
    stdout(
      values.json
        ? `${JSON.stringify({ out: result.out, release: result.release, image: result.image, rootfs: result.rootfs, boards: result.boards }, null, 2)}\n`
        : `${result.out}: ${result.release.name} ${result.release.version}, ${result.rootfs.path} (${result.rootfs.entries} entries), tftp/ (${result.boot.length} boot files, ${result.boards.length} board${result.boards.length === 1 ? '' : 's'}); serve it as its README.md says\n`,
    );
    return 0;
  },
};
