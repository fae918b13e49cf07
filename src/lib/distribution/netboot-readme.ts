/**
 * The README a netboot export carries: what is in the directory and the
 * commands that serve it, with this export's own paths and addresses.
 */
import type { NetbootRequest } from './netboot-config';

export interface NetbootReadmeFacts {
  request: NetbootRequest;
  release: { name: string; version: string; imageSha256: string };
  rootfsFile: string;
}

const extract = (file: string, into: string): string =>
  file === 'rootfs'
    ? `sudo mkdir -p ${into} && sudo cp -a rootfs/. ${into}/`
    : `sudo mkdir -p ${into} && sudo tar --extract --numeric-owner --same-owner --preserve-permissions --xattrs --xattrs-include='*'${file.endsWith('.zst') ? ' --zstd' : ' --gzip'} --file ${file} --directory ${into}`;

export function netbootReadme(facts: NetbootReadmeFacts): string {
  const { request: r, release } = facts;
  const tftp = (b: { tftpDir: string }): string => (b.tftpDir ? `${r.tftpRoot}/${b.tftpDir}` : r.tftpRoot);
  const prefix =
    r.tftpPrefix === undefined
      ? 'no prefix directory: the boot files are at the TFTP root, for one board (or boards that share everything)'
      : `TFTP_PREFIX=${r.tftpPrefix} (${r.tftpPrefix === 0 ? 'a directory per board serial' : 'a directory per board MAC address'})`;
  return `# Network boot: ${release.name} ${release.version}

Written by \`pi-image netboot\` from the release's image (sha256 ${release.imageSha256}),
verified before anything was read out of it. \`netboot.json\` lists every file with its digest.

| Here | What it is | On the server |
|---|---|---|
| \`${facts.rootfsFile}\` | the image's root file system, fstab without the local root and boot lines | ${r.boards.map((b) => `\`${b.nfsRoot}\``).join(', ')} (NFS) |
| \`tftp/\` | the image's boot partition, byte for byte, with an NFS-root \`cmdline.txt\` | \`${r.tftpRoot}\` (TFTP) |
| \`dnsmasq.conf\` | proxy DHCP (your network keeps its DHCP server) and TFTP | \`/etc/dnsmasq.d/pi-netboot.conf\` |
| \`exports\` | the NFS export of each root | appended to \`/etc/exports\` |

Boards: ${prefix}.

## Serve it (Debian or Raspberry Pi OS server at ${r.server})

\`\`\`sh
sudo apt-get install dnsmasq nfs-kernel-server
${r.boards.map((b) => extract(facts.rootfsFile, b.nfsRoot)).join('\n')}
sudo mkdir -p ${r.tftpRoot} && sudo cp -r tftp/. ${r.tftpRoot}/
sudo cp dnsmasq.conf /etc/dnsmasq.d/pi-netboot.conf && sudo systemctl restart dnsmasq
cat exports | sudo tee -a /etc/exports && sudo exportfs -ra
\`\`\`

Each board needs a root of its own: an NFS root is written to while the system runs.

## The boards (Raspberry Pi 5 or 4)

Network boot is set in the bootloader's EEPROM (\`sudo rpi-eeprom-config --edit\` on the board):

\`\`\`
BOOT_ORDER=0xf21${r.tftpPrefix === undefined ? '' : `\nTFTP_PREFIX=${r.tftpPrefix}`}
\`\`\`

(0xf21: the SD card first, then the network, repeated.) The board asks for "Raspberry Pi Boot"
by DHCP, reads its files over TFTP${r.tftpPrefix === undefined ? '' : ' from its own directory'}, and mounts its root from
${r.boards.map((b) => `\`${r.server}:${b.nfsRoot}\` (TFTP \`${tftp(b)}\`)`).join(', ')}.

## What differs from the disk image

- No local root and no boot partition: \`/boot/firmware\` is an empty directory of the NFS root.
  A kernel or firmware update on the board does not reach the TFTP tree: update by exporting the next release.
- First-boot settings on the image's boot partition (cloud-init's user-data) are in the TFTP tree,
  where the running system does not read them.
- Mounts other than root and boot (the DATA disk's) are kept as the image has them.
`;
}
