import { describe, expect, it } from 'vitest';
import { parseBootTestInputs, type BootTestInputValues } from './boot-test-inputs';

const flag = (n: string): string => `--${n}`;
const parse = (v: BootTestInputValues) => parseBootTestInputs(v, flag);

describe("the boot test's inputs", () => {
  it('leaves every setting unset when none is given, with no failed units allowed', () => {
    expect(parse({})).toEqual({
      checksDir: undefined,
      dataLabel: undefined,
      dataMount: undefined,
      allowFailedUnits: [],
      network: false,
      reboots: undefined,
      timeLimitSeconds: undefined,
      stallSeconds: undefined,
      accel: undefined,
      cpus: undefined,
      memoryMiB: undefined,
      mirror: undefined,
      suite: undefined,
      keyring: undefined,
      kernelDeb: undefined,
      expectedVersion: undefined,
      evidenceDir: undefined,
    });
  });

  it('reads every setting, trimmed, numbers as numbers, the mirror without trailing slashes', () => {
    expect(
      parse({
        checks: ' pigen/checks ',
        'data-label': 'OURBOX_DATA',
        'data-mount': '/srv/data',
        'allow-failed': ['bluetooth.service'],
        network: 'true',
        reboots: '2',
        'time-limit': '600',
        stall: ' 90 ',
        accel: 'tcg',
        cpus: '4',
        memory: '2048',
        mirror: 'https://deb.debian.org/debian//',
        suite: 'bookworm',
        keyring: '/usr/share/keyrings/debian-archive-keyring.gpg',
        'kernel-deb': 'linux-image.deb',
        'expected-version': '1.2.3',
        'evidence-dir': 'evidence',
      }),
    ).toEqual({
      checksDir: 'pigen/checks',
      dataLabel: 'OURBOX_DATA',
      dataMount: '/srv/data',
      allowFailedUnits: ['bluetooth.service'],
      network: true,
      reboots: 2,
      timeLimitSeconds: 600,
      stallSeconds: 90,
      accel: 'tcg',
      cpus: 4,
      memoryMiB: 2048,
      mirror: 'https://deb.debian.org/debian',
      suite: 'bookworm',
      keyring: '/usr/share/keyrings/debian-archive-keyring.gpg',
      kernelDeb: 'linux-image.deb',
      expectedVersion: '1.2.3',
      evidenceDir: 'evidence',
    });
  });

  it('takes empty and blank values as not given', () => {
    const parsed = parse({ checks: '', 'data-label': '   ', 'data-mount': '', accel: ' ', cpus: '', 'time-limit': '\t', mirror: '', suite: ' ' });
    expect(parsed).toMatchObject({
      checksDir: undefined,
      dataLabel: undefined,
      dataMount: undefined,
      accel: undefined,
      cpus: undefined,
      timeLimitSeconds: undefined,
    });
    expect(parsed.mirror).toBeUndefined();
    expect(parsed.suite).toBeUndefined();
  });

  it.each([
    ['auto', undefined],
    ['kvm', 'kvm'],
    ['tcg', 'tcg'],
  ])('reads accel %s as %s (auto: left to the runner)', (accel, want) => {
    expect(parse({ accel }).accel).toBe(want);
  });

  it('accepts the bounds of each number', () => {
    expect(parse({ 'time-limit': '30', stall: '10', cpus: '1', memory: '256' })).toMatchObject({
      timeLimitSeconds: 30,
      stallSeconds: 10,
      cpus: 1,
      memoryMiB: 256,
    });
    expect(parse({ 'time-limit': '86400', stall: '86400', cpus: '8', memory: '16384' })).toMatchObject({
      timeLimitSeconds: 86400,
      stallSeconds: 86400,
      cpus: 8,
      memoryMiB: 16384,
    });
  });

  it('splits allowed failed units on commas and spaces, across several values', () => {
    expect(
      parse({ 'allow-failed': ['a.service, b.mount', ' c@tty1.service\nd.socket ,, ', '', 'systemd-fsck@dev-disk-by\\x2dlabel-DATA.service'] })
        .allowFailedUnits,
    ).toEqual(['a.service', 'b.mount', 'c@tty1.service', 'd.socket', 'systemd-fsck@dev-disk-by\\x2dlabel-DATA.service']);
  });

  it.each<[string, BootTestInputValues, RegExp]>([
    ['a label too long for ext4', { 'data-label': 'A'.repeat(17) }, /^--data-label "A{17}" is not an ext4 label/],
    ['a label with a space', { 'data-label': 'MY DATA' }, /^--data-label "MY DATA" is not an ext4 label/],
    ['a label with a slash', { 'data-label': 'a/b' }, /^--data-label "a\/b" is not an ext4 label/],
    ['a relative mount point', { 'data-label': 'DATA', 'data-mount': 'data' }, /^--data-mount "data" is not an absolute path/],
    ['a mount point with ..', { 'data-label': 'DATA', 'data-mount': '/srv/../etc' }, /^--data-mount "\/srv\/\.\.\/etc" is not an absolute path/],
    ['a mount point with a space', { 'data-label': 'DATA', 'data-mount': '/srv/my data' }, /^--data-mount "\/srv\/my data" is not an absolute path/],
    ['a mount point without a label', { 'data-mount': '/data' }, /^--data-mount needs --data-label$/],
    ['a unit without a type', { 'allow-failed': ['bluetooth'] }, /^--allow-failed "bluetooth" is not a systemd unit name/],
    ['a unit of no known type', { 'allow-failed': ['a.service, b.conf'] }, /^--allow-failed "b\.conf" is not a systemd unit name/],
    ['a unit with a slash', { 'allow-failed': ['../x.service'] }, /^--allow-failed "\.\.\/x\.service" is not a systemd unit name/],
    ['an unknown accelerator', { accel: 'hvf' }, /^--accel "hvf" must be kvm, tcg or auto$/],
    ['an accelerator in capitals', { accel: 'KVM' }, /^--accel "KVM" must be kvm, tcg or auto$/],
    ['an ftp mirror', { mirror: 'ftp://deb.debian.org/debian' }, /^--mirror "ftp:\/\/deb\.debian\.org\/debian" is not an http\(s\) URL$/],
    ['a mirror with a space', { mirror: 'http://deb.debian.org/ debian' }, /^--mirror ".*" is not an http\(s\) URL$/],
    ['a mirror that is a path', { mirror: '/srv/mirror' }, /^--mirror "\/srv\/mirror" is not an http\(s\) URL$/],
    ['a suite in capitals', { suite: 'Bookworm' }, /^--suite "Bookworm" is not a Debian suite name$/],
    ['a one-letter suite', { suite: 'b' }, /^--suite "b" is not a Debian suite name$/],
    ['a suite with a slash', { suite: 'bookworm/updates' }, /^--suite "bookworm\/updates" is not a Debian suite name$/],
    ['a time limit under 30 s', { 'time-limit': '29' }, /^--time-limit "29" must be a whole number from 30 to 86400$/],
    ['a time limit over a day', { 'time-limit': '86401' }, /^--time-limit "86401" must be a whole number from 30 to 86400$/],
    ['a time limit with a unit', { 'time-limit': '5m' }, /^--time-limit "5m" must be a whole number/],
    ['a stall limit under 10 s', { stall: '9' }, /^--stall "9" must be a whole number from 10 to 86400$/],
    ['no CPUs', { cpus: '0' }, /^--cpus "0" must be a whole number from 1 to 8$/],
    ['nine CPUs', { cpus: '9' }, /^--cpus "9" must be a whole number from 1 to 8$/],
    ['a fractional CPU count', { cpus: '1.5' }, /^--cpus "1\.5" must be a whole number/],
    ['too little memory', { memory: '255' }, /^--memory "255" must be a whole number from 256 to 16384$/],
    ['too much memory', { memory: '16385' }, /^--memory "16385" must be a whole number from 256 to 16384$/],
  ])('refuses %s, naming the input', (_what, values, message) => {
    let error: unknown;
    try {
      parse(values);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'INPUT_INVALID', message: expect.stringMatching(message) });
  });

  it('names inputs the way the front end does', () => {
    const actionName = (n: string): string => `input "${n.replace(/-/g, '_')}"`;
    expect(() => parseBootTestInputs({ 'data-mount': '/data' }, actionName)).toThrow('input "data_mount" needs input "data_label"');
    expect(() => parseBootTestInputs({ cpus: '99' }, actionName)).toThrow(/^input "cpus" "99" must be a whole number/);
  });

  it('cuts long bad values in its messages', () => {
    expect(() => parse({ mirror: `ftp://${'x'.repeat(500)}` })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^--mirror "ftp:\/\/x{54}" is not/) }),
    );
  });
});
