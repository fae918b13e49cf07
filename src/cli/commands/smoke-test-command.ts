import { bootTest, DEFAULT_DEBIAN_SUITE } from '../../lib/boot/boot-test';
import { parseBootTestInputs } from '../../lib/boot/boot-test-inputs';
import { defaultCacheDir } from '../../lib/core/cache-dir';
import { DEFAULT_DEBIAN_KEYRING, DEFAULT_DEBIAN_MIRROR } from '../../lib/boot/debian-archive';
import type { CliCommand } from '../command';
import { usageError } from '../command';

export const smokeTestCommand: CliCommand = {
  name: 'smoke-test',
  summary: 'boot a release under QEMU and check it from inside; add the evidence to the release',
  usage: 'pi-image smoke-test RELEASE_DIR|IMAGE [options]',
  help: `Boots the image under qemu-system-aarch64 -M virt (KVM on an arm64 host that
allows it, else TCG emulation) with Debian's generic arm64 kernel and an
initramfs pi-image makes, on the image's own root file system. The image is
never changed (a copy-on-write overlay takes every write); no root, no loop
devices, no mounts. A probe (in a tmpfs, not in the image) runs once
multi-user.target is reached and reports over the serial console: the target
reached, the failed units, the DATA disk's mount, and each check script.

Fails (exit 1, BOOT_TEST_FAILED) with the reason and the console's last lines
when the kernel panics, systemd goes to emergency mode, the console is silent
too long, the time limit passes or a check fails. For a release directory
that passes, smoke-test.json and the console logs are added to the release
(listed in manifest.json, so a signature covers them) and RELEASE_NOTES.md
gets a "Boot test" section; run it before signing. Otherwise the evidence is
written to --evidence-dir (default: SOURCE.smoke-test beside the source).

The kernel and busybox come from Debian's packages for the image's release
(its os-release VERSION_CODENAME, else ${DEFAULT_DEBIAN_SUITE}), checked as apt checks
them (InRelease's signature with gpgv and the Debian archive keyring, then
sha256 all the way down) and cached in ~/.cache/pi-image-release.

Options:
  --checks DIR            check scripts run inside the booted system (each gets
                          PI_IMAGE_EXPECTED_VERSION, PI_IMAGE_DATA_LABEL, PI_IMAGE_DATA_DISK,
                          PI_IMAGE_BOOT;
                          exit 0 passes)
  --data-label LABEL      boot twice: with a disk holding an ext4 labelled LABEL (fstab's
                          line for it must be mounted from it), and without (the system
                          must still reach multi-user)
  --data-mount PATH       where the DATA disk must be mounted (default: where fstab says)
  --allow-failed UNIT     a unit allowed to fail under emulation (repeatable)
  --network               give the machine QEMU's user-mode network (DHCP; the
                          host's loopback is 10.0.2.2 from inside)
  --reboots N             boot N times more (reboot-1, reboot-2…), each seeing what
                          the boots before wrote (a writable copy of the image;
                          the image is not changed): first-boot services must
                          not run again. Checks get PI_IMAGE_BOOT (boot,
                          with-data-disk, reboot-1…)
  --time-limit S          the whole of one boot and its checks (default 300)
  --stall S               console silent this long: stalled (default 120)
  --accel kvm|tcg|auto    how to run the machine (default auto)
  --cpus N                virtual CPUs (default 2)
  --memory MIB            memory (default 1024)
  --expected-version V    the version the checks expect (a release's own by default)
  --evidence-dir DIR      where evidence goes when it does not go into the release
  --mirror URL            Debian mirror (default ${DEFAULT_DEBIAN_MIRROR})
  --suite NAME            Debian suite of the kernel
  --keyring FILE          keyring for InRelease (default ${DEFAULT_DEBIAN_KEYRING})
  --kernel-deb FILE       a Debian kernel package (.deb) to boot instead of the suite's
  --cache-dir DIR         where packages and the boot kit are cached
  --json                  print the report as JSON`,
  options: {
    checks: { type: 'string' },
    'data-label': { type: 'string' },
    'data-mount': { type: 'string' },
    'allow-failed': { type: 'string', multiple: true },
    network: { type: 'boolean' },
    reboots: { type: 'string' },
    'time-limit': { type: 'string' },
    stall: { type: 'string' },
    accel: { type: 'string' },
    cpus: { type: 'string' },
    memory: { type: 'string' },
    'expected-version': { type: 'string' },
    'evidence-dir': { type: 'string' },
    mirror: { type: 'string' },
    suite: { type: 'string' },
    keyring: { type: 'string' },
    'kernel-deb': { type: 'string' },
    'cache-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 1) throw usageError('smoke-test needs exactly one RELEASE_DIR or IMAGE');
    // The command's options are the boot test's inputs by name (cache-dir and json are the command's own).
    const parsed = parseBootTestInputs(values, (name) => `--${name}`);
    const result = await bootTest({
      ...parsed,
      source: positionals[0]!,
      cacheDir: (values['cache-dir'] as string | undefined) ?? defaultCacheDir(env),
      logger,
    });
    const r = result.report;
    stdout(
      values.json
        ? `${JSON.stringify(r, null, 2)}\n`
        : `${[
            `boot test passed: ${r.boots.map((b) => `${b.name} (multi-user at ${b.times.multiUser?.toFixed(1) ?? '?'} s, ${b.checks.length} checks)`).join(', ')}`,
            `evidence: ${result.evidence}`,
          ].join('\n')}\n`,
    );
    return 0;
  },
};
