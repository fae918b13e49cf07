import { describe, expect, it } from 'vitest';
import type { ProbeReport } from './console-watch';
import type { BootOutcome } from './qemu';
import { failureMessage, judgeBoot, SMOKE_TEST_SCHEMA_VERSION, type BootResult, type SmokeTestReport } from './smoke-test';

const DONE: BootOutcome = { kind: 'probe-done' };

function report(change: Partial<ProbeReport> = {}): ProbeReport {
  return { jobsPending: 0, pendingJobs: [], multiUser: 'active', failedUnits: [], dataFstab: undefined, dataMounted: undefined, checks: [], ...change };
}

const plain = { dataDisk: false, allowFailedUnits: [] as string[], expectChecks: [] as string[] };

describe('judging one boot from what the probe reported', () => {
  it.each<[string, BootOutcome]>([
    ['a timeout', { kind: 'timeout' }],
    ['a stall', { kind: 'stalled', seconds: 120 }],
    ['QEMU exiting', { kind: 'exited', code: 1 }],
    ['a panic', { kind: 'panic', line: 'Kernel panic - not syncing' }],
    ['emergency mode', { kind: 'emergency', line: 'You are in emergency mode' }],
    ['the initramfs failing', { kind: 'init-failed', reason: 'no root' }],
  ])('after %s the probe never reported: multi-user fails and nothing else is judged', (_what, outcome) => {
    // Even a report that looks good (from before the end) does not count.
    const checks = judgeBoot(report({ failedUnits: ['x.service'] }), outcome, { ...plain, dataLabel: 'DATA', dataDisk: true, expectChecks: ['10-a'] });
    expect(checks).toEqual([{ name: 'multi-user', passed: false, detail: 'the probe never reported' }]);
  });

  it('passes a boot that reached multi-user with no failed units', () => {
    expect(judgeBoot(report(), DONE, plain)).toEqual([
      { name: 'multi-user', passed: true, detail: 'multi-user.target is active' },
      { name: 'failed-units', passed: true, detail: 'no failed units' },
      { name: 'jobs-finished', passed: true, detail: "every boot job finished (a nofail line's device may still be awaited)" },
    ]);
  });

  it('fails a boot whose jobs were still queued when the probe stopped waiting, naming them', () => {
    const last = judgeBoot(report({ jobsPending: 2, pendingJobs: ['app.service', 'late.mount'] }), DONE, plain).at(-1);
    expect(last).toEqual({ name: 'jobs-finished', passed: false, detail: '2 jobs still queued when the probe stopped waiting: app.service, late.mount' });
    expect(judgeBoot(report({ jobsPending: undefined }), DONE, plain).at(-1)).toMatchObject({ name: 'jobs-finished', passed: false });
  });

  it.each([
    ['activating', 'multi-user.target is activating'],
    ['inactive', 'multi-user.target is inactive'],
    [undefined, 'multi-user.target is unknown'],
  ])('fails multi-user when the target is %s', (state, detail) => {
    expect(judgeBoot(report({ multiUser: state }), DONE, plain)[0]).toEqual({ name: 'multi-user', passed: false, detail });
  });

  it('passes failed units that are all allowed, naming them', () => {
    const checks = judgeBoot(report({ failedUnits: ['rpi-eeprom-update.service', 'bluetooth.service'] }), DONE, {
      ...plain,
      allowFailedUnits: ['bluetooth.service', 'rpi-eeprom-update.service', 'other.service'],
    });
    expect(checks[1]).toEqual({ name: 'failed-units', passed: true, detail: 'no failed units (allowed: rpi-eeprom-update.service, bluetooth.service)' });
  });

  it('fails on a failed unit not allowed, naming only those', () => {
    const checks = judgeBoot(report({ failedUnits: ['bluetooth.service', 'data.mount', 'app.service'] }), DONE, {
      ...plain,
      allowFailedUnits: ['bluetooth.service'],
    });
    expect(checks[1]).toEqual({ name: 'failed-units', passed: false, detail: 'failed: data.mount, app.service' });
  });

  it('judges no DATA disk when no label is given, whatever the probe said about one', () => {
    const checks = judgeBoot(report({ dataFstab: '/data', dataMounted: '/elsewhere' }), DONE, { ...plain, dataDisk: true });
    expect(checks.map((c) => c.name)).toEqual(['multi-user', 'failed-units', 'jobs-finished']);
  });

  describe('with a DATA disk attached', () => {
    const withDisk = { ...plain, dataLabel: 'OURBOX_DATA', dataDisk: true };
    const judge = (r: Partial<ProbeReport>, dataMount?: string) =>
      judgeBoot(report(r), DONE, { ...withDisk, dataMount }).find((c) => c.name === 'data-disk-mounted');

    it('passes when it is mounted where its fstab line says', () => {
      expect(judge({ dataFstab: '/data', dataMounted: '/data' })).toEqual({
        name: 'data-disk-mounted',
        passed: true,
        detail: 'LABEL=OURBOX_DATA is mounted at /data',
      });
    });

    it('fails when it is mounted elsewhere than its fstab line says', () => {
      expect(judge({ dataFstab: '/data', dataMounted: '/mnt' })).toEqual({
        name: 'data-disk-mounted',
        passed: false,
        detail: 'LABEL=OURBOX_DATA is mounted at /mnt, not at /data',
      });
    });

    it('passes when it is mounted where --data-mount says, and fails when only fstab agrees', () => {
      expect(judge({ dataFstab: '/srv/data', dataMounted: '/srv/data' }, '/srv/data')).toMatchObject({ passed: true });
      expect(judge({ dataFstab: '/data', dataMounted: '/data' }, '/srv/data')).toEqual({
        name: 'data-disk-mounted',
        passed: false,
        detail: 'LABEL=OURBOX_DATA is mounted at /data, not at /srv/data',
      });
    });

    it('fails when it is not mounted, saying where fstab would have put it', () => {
      expect(judge({ dataFstab: '/data', dataMounted: undefined })).toEqual({
        name: 'data-disk-mounted',
        passed: false,
        detail: 'LABEL=OURBOX_DATA is not mounted (fstab says /data)',
      });
    });

    it('fails when fstab has no line for it, even if something mounted it', () => {
      for (const dataMounted of [undefined, '/data']) {
        expect(judge({ dataFstab: undefined, dataMounted }, '/data')).toEqual({
          name: 'data-disk-mounted',
          passed: false,
          detail: '/etc/fstab has no line for LABEL=OURBOX_DATA',
        });
      }
    });
  });

  describe('without the DATA disk', () => {
    const withoutDisk = { ...plain, dataLabel: 'OURBOX_DATA', dataDisk: false };

    it('passes when the system reached multi-user and nothing is mounted as the disk', () => {
      const checks = judgeBoot(report({ dataFstab: '/data' }), DONE, withoutDisk);
      expect(checks.map((c) => c.name)).toEqual(['multi-user', 'failed-units', 'data-disk-absent', 'jobs-finished']);
      expect(checks[2]).toEqual({ name: 'data-disk-absent', passed: true, detail: 'without a LABEL=OURBOX_DATA disk the system reached multi-user' });
    });

    it('fails when something is mounted as the disk anyway', () => {
      expect(judgeBoot(report({ dataFstab: '/data', dataMounted: '/data' }), DONE, withoutDisk)[2]).toEqual({
        name: 'data-disk-absent',
        passed: false,
        detail: 'without a LABEL=OURBOX_DATA disk the system reached multi-user but something is mounted as it at /data',
      });
    });

    it('fails when the system did not reach multi-user', () => {
      const checks = judgeBoot(report({ multiUser: 'activating' }), DONE, withoutDisk);
      expect(checks.find((c) => c.name === 'data-disk-absent')?.passed).toBe(false);
      expect(checks.find((c) => c.name === 'multi-user')?.passed).toBe(false);
    });
  });

  describe("the product's checks", () => {
    const probeChecks = [
      { name: '10-version', exitCode: 0, output: ['ignored output of a passing check'] },
      { name: '20-service', exitCode: 3, output: ['app.service is not running', 'see journalctl'] },
      { name: '30-silent', exitCode: 1, output: [] },
      { name: '90-unexpected', exitCode: 1, output: [] },
    ];
    const checks = judgeBoot(report({ checks: probeChecks }), DONE, { ...plain, expectChecks: ['10-version', '20-service', '30-silent', '40-missing'] });

    it('judges each expected check, in the order expected, and no other', () => {
      expect(checks.slice(2, -1)).toEqual([
        { name: 'check:10-version', passed: true, detail: 'passed' },
        { name: 'check:20-service', passed: false, detail: 'exited with 3: app.service is not running | see journalctl' },
        { name: 'check:30-silent', passed: false, detail: 'exited with 1' },
        { name: 'check:40-missing', passed: false, detail: 'did not report' },
      ]);
    });

    it('does not pass a check whose exit code could not be read', () => {
      const [, , c] = judgeBoot(report({ checks: [{ name: 'x', exitCode: Number.NaN, output: [] }] }), DONE, { ...plain, expectChecks: ['x'] });
      expect(c).toMatchObject({ name: 'check:x', passed: false });
    });
  });
});

function boot(change: Partial<BootResult> = {}): BootResult {
  return {
    name: 'boot',
    dataDisk: false,
    passed: true,
    ended: 'the checks ran',
    seconds: 42.5,
    times: { kernel: 0.5, multiUser: 30.1, checksDone: 40 },
    checks: [
      { name: 'multi-user', passed: true, detail: 'multi-user.target is active' },
      { name: 'failed-units', passed: true, detail: 'no failed units' },
    ],
    consoleLog: { file: 'appliance.boot.console.log', size: 10, sha256: 'a'.repeat(64) },
    lastLines: ['line one', 'line two'],
    ...change,
  };
}

function smokeReport(boots: BootResult[]): SmokeTestReport {
  return {
    schemaVersion: SMOKE_TEST_SCHEMA_VERSION,
    passed: boots.every((b) => b.passed),
    startedAt: '2026-01-19T00:00:00.000Z',
    seconds: 50,
    image: { file: 'appliance.img.xz', rawSize: 1024, rawSha256: 'b'.repeat(64) },
    machine: { emulator: 'QEMU emulator version 8.2.2', machine: 'virt', accel: 'tcg', cpus: 2, memoryMiB: 1024, cpu: 'cortex-a72' },
    kernel: { version: '6.1.0-9-arm64', package: 'linux-image-6.1.0-9-arm64 1', busybox: 'busybox-static 1', commandLine: 'console=ttyAMA0' },
    deviceTimeouts: { scale: 1, devices: [] },
    expectedVersion: null,
    dataLabel: null,
    dataMount: null,
    boots,
  };
}

describe("a failed boot test's message", () => {
  it('names the image, why the boot ended, each failed check, and the last console lines', () => {
    const failed = boot({
      passed: false,
      ended: 'the kernel panicked: Kernel panic - not syncing',
      checks: [
        { name: 'multi-user', passed: false, detail: 'the probe never reported' },
        { name: 'failed-units', passed: true, detail: 'no failed units' },
        { name: 'check:10-version', passed: false, detail: 'did not report' },
      ],
    });
    expect(failureMessage(smokeReport([failed]), 'out/appliance.img.xz')).toBe(
      [
        'out/appliance.img.xz failed the boot test: the kernel panicked: Kernel panic - not syncing',
        '  multi-user: the probe never reported',
        '  check:10-version: did not report',
        '  last console lines (appliance.boot.console.log):',
        '    line one',
        '    line two',
      ].join('\n'),
    );
  });

  it('names the boot that failed when there were two', () => {
    const first = boot({ name: 'with-data-disk', dataDisk: true, consoleLog: { file: 'a.with-data-disk.console.log', size: 1, sha256: 'c'.repeat(64) } });
    const second = boot({
      name: 'without-data-disk',
      passed: false,
      ended: 'systemd went to emergency mode',
      checks: [{ name: 'data-disk-absent', passed: false, detail: 'no' }],
      consoleLog: { file: 'a.without-data-disk.console.log', size: 1, sha256: 'd'.repeat(64) },
      lastLines: [],
    });
    const message = failureMessage(smokeReport([first, second]), 'appliance.img.xz');
    expect(message).toBe(
      [
        'appliance.img.xz failed the boot test (without-data-disk): systemd went to emergency mode',
        '  data-disk-absent: no',
        '  last console lines (a.without-data-disk.console.log):',
      ].join('\n'),
    );
  });

  it('names a lone boot other than "boot"', () => {
    const only = boot({ name: 'with-data-disk', passed: false, checks: [] });
    expect(failureMessage(smokeReport([only]), 'x.img').split('\n')[0]).toBe('x.img failed the boot test (with-data-disk): the checks ran');
  });

  it('says the test did not finish when no boot failed', () => {
    expect(failureMessage({ ...smokeReport([boot()]), passed: false }, 'x.img')).toBe('x.img: the boot test did not finish');
    expect(failureMessage(smokeReport([]), 'x.img')).toBe('x.img: the boot test did not finish');
  });
});
