import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { bootMachine, qemuArgs, type MachineSpec } from './qemu';

const spec: MachineSpec = {
  kernel: '/k/vmlinuz',
  initrd: '/k/initrd',
  append: 'console=ttyAMA0',
  systemDisk: '/images/a,b.img',
  dataDisk: '/tmp/data.img',
  accel: 'tcg',
  cpus: 2,
  memoryMiB: 1024,
};

describe('the QEMU command line', () => {
  it('virt with TCG or KVM, the image copy-on-write, commas in paths doubled, the data disk second', () => {
    const args = qemuArgs(spec);
    expect(args.slice(0, 6)).toEqual(['-M', 'virt,gic-version=max', '-accel', 'tcg', '-cpu', 'cortex-a72']);
    expect(args).toContain('if=none,id=system,format=raw,snapshot=on,file=/images/a,,b.img');
    expect(args.indexOf('if=none,id=system,format=raw,snapshot=on,file=/images/a,,b.img')).toBeLessThan(
      args.indexOf('if=none,id=data,format=raw,file=/tmp/data.img'),
    );
    expect(args).toEqual(expect.arrayContaining(['-no-reboot', '-nodefaults', '-serial', 'stdio', '-monitor', 'none']));
    expect(qemuArgs({ ...spec, accel: 'kvm', dataDisk: undefined }).join(' ')).toMatch(/^-M virt,gic-version=max -accel kvm -cpu host .*/);
    expect(qemuArgs({ ...spec, dataDisk: undefined }).join(' ')).not.toContain('id=data');
  });
});

/**
 * The watchdogs, with a stand-in for qemu-system-aarch64 on PATH: a shell
 * script that prints what a console would, then stalls, runs on, panics or
 * exits. The real QEMU runs in test/integration/smoke-test.test.ts.
 */
describe('the boot watch', () => {
  let dir: string;
  const path = process.env.PATH;
  const fake = (script: string): void => {
    const file = join(dir, 'qemu-system-aarch64');
    writeFileSync(file, `#!/bin/sh\necho $$ > "${dir}/pid"\n${script}\n`);
    chmodSync(file, 0o755);
  };
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const pid = (): number => Number(readFileSync(join(dir, 'pid'), 'utf8'));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-watch-'));
    process.env.PATH = `${dir}:${path}`;
  });
  afterAll(() => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a silent console: stalled, and the machine stopped', async () => {
    fake('echo "[    0.000000] Booting Linux on physical CPU 0x0"; exec sleep 100');
    const run = await bootMachine(spec, 'n1', { timeLimit: 60, stallLimit: 1 }, () => undefined, new MemoryLogger());
    expect(run.outcome).toEqual({ kind: 'stalled', seconds: 1 });
    expect(run.watch.times.kernel).toBeDefined();
    expect(run.seconds).toBeLessThan(10);
    expect(alive(pid())).toBe(false);
  });

  it('a console that never stops and never finishes: the time limit', async () => {
    fake('while true; do echo still booting; sleep 0.1; done');
    const run = await bootMachine(spec, 'n1', { timeLimit: 1, stallLimit: 30 }, () => undefined, new MemoryLogger());
    expect(run.outcome).toEqual({ kind: 'timeout' });
    expect(alive(pid())).toBe(false);
  });

  it('a kernel panic ends it at once; every byte of the console is passed on for the log', async () => {
    fake('echo "[    3.1] Kernel panic - not syncing: VFS: Unable to mount root fs"; exec sleep 100');
    let log = '';
    const run = await bootMachine(spec, 'n1', { timeLimit: 60, stallLimit: 30 }, (t) => (log += t), new MemoryLogger());
    expect(run.outcome).toMatchObject({ kind: 'panic', line: expect.stringMatching(/^Kernel panic - not syncing: VFS/) as unknown });
    expect(log).toContain('Unable to mount root fs');
    expect(alive(pid())).toBe(false);
  });

  it("the probe's report ends it; a machine that stops before that says so", async () => {
    fake('echo "PI-IMAGE-PROBE:n1:start"; echo "PI-IMAGE-PROBE:n1:multi-user=active"; echo "PI-IMAGE-PROBE:n1:done"; exec sleep 100');
    const done = await bootMachine(spec, 'n1', { timeLimit: 60, stallLimit: 30 }, () => undefined, new MemoryLogger());
    expect(done.outcome).toEqual({ kind: 'probe-done' });
    expect(done.watch.report.multiUser).toBe('active');
    fake('echo "[    0.0] Booting Linux on physical CPU 0x0"; exit 3');
    const exited = await bootMachine(spec, 'n1', { timeLimit: 60, stallLimit: 30 }, () => undefined, new MemoryLogger());
    expect(exited.outcome).toEqual({ kind: 'exited', code: 3 });
  });

  it('a machine that cannot start is a tool failure naming what QEMU said, not a verdict on the image', async () => {
    fake('echo "qemu-system-aarch64: failed to initialize kvm: Permission denied" >&2; exit 1');
    await expect(bootMachine({ ...spec, accel: 'kvm' }, 'n1', { timeLimit: 60, stallLimit: 30 }, () => undefined, new MemoryLogger())).rejects.toMatchObject({
      code: 'EXEC_FAILED',
      message: expect.stringMatching(/stopped \(exit 1\) before the kernel started: qemu-system-aarch64: failed to initialize kvm/) as unknown,
    });
  });
});
