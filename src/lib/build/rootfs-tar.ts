/**
 * The tar options that carry a root file system whole: numeric owners (the
 * host's names mean nothing for the image's ids), extended attributes (file
 * capabilities such as ping's cap_net_raw) and ACLs. Used by the stage cache
 * and for the trees copied out of a build container.
 */
export const ROOTFS_TAR_OPTIONS: readonly string[] = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls'];
