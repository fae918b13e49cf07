/** The OurBox Mini storage contract, as the tests expect to find it (one definition for all of them). */
export const DATA_FSTAB_LINE = 'LABEL=OURBOX_DATA /var/lib/ourbox ext4 defaults,noatime,nofail,x-systemd.device-timeout=10 0 2';

/** The same line as pi-image inspect parses it. */
export const DATA_FSTAB_ENTRY = {
  spec: 'LABEL=OURBOX_DATA',
  file: '/var/lib/ourbox',
  vfstype: 'ext4',
  options: 'defaults,noatime,nofail,x-systemd.device-timeout=10',
  freq: 0,
  passno: 2,
};
