import { describe, expect, it } from 'vitest';
import { ConsoleWatch } from './console-watch';

const NONCE = '0123456789abcdef';
const probe = (text: string, nonce = NONCE): string => `PI-IMAGE-PROBE:${nonce}:${text}`;
const init = (text: string, nonce = NONCE): string => `PI-IMAGE-INIT:${nonce}:${text}`;

/** Feeds `text` in chunks of the given sizes, cycling through them, all at `seconds`. */
function feedInChunks(watch: ConsoleWatch, text: string, sizes: readonly number[], seconds = 0): void {
  let at = 0;
  for (let i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length]!;
    watch.feed(text.slice(at, at + size), seconds);
    at += size;
  }
}

/** The ways one console text is cut: whole, byte by byte, and uneven chunks that split lines, CRLF pairs and escape codes. */
const SPLITS: readonly (readonly number[])[] = [[1_000_000], [1], [2, 3, 5, 7, 11], [13, 1, 64, 2], [4096]];

/** Every split of `text` gives the same watch state as every other. */
function watchesOf(text: string): ConsoleWatch[] {
  return SPLITS.map((sizes) => {
    const w = new ConsoleWatch(NONCE);
    feedInChunks(w, text, sizes);
    return w;
  });
}

/** A whole boot as systemd and the probe print it: CRLF line ends, colour codes, markers. */
const BOOT = [
  '[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x410fd083]',
  init('start'),
  init('switch'),
  '[    2.100000] systemd[1]: systemd 252.22-1~deb12u1 running in system mode (+PAM +AUDIT)',
  '',
  'Welcome to \x1b[1mDebian GNU/Linux 12 (bookworm)\x1b[0m!',
  '[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mmulti-user.target\x1b[0m - Multi-User System.',
  probe('start'),
  probe('jobs-pending=0'),
  probe('multi-user=active'),
  probe('failed-unit=rpi-eeprom-update.service'),
  probe('failed-unit=bluetooth.service'),
  probe('data-fstab=/data'),
  probe('data-mounted=/data'),
  probe('check-output=10-version:expected 1.2.3'),
  probe('check-output=10-version:found 1.2.2: wrong'),
  probe('check=10-version:1'),
  probe('check=20-ok:0'),
  probe('done'),
]
  .map((l) => `${l}\r\n`)
  .join('');

describe("the boot test's console reader", () => {
  it.each(SPLITS.map((s) => [s.join(',')]))('collects the probe reports however the text is cut (chunks of %s)', (sizes) => {
    const w = new ConsoleWatch(NONCE);
    feedInChunks(w, BOOT, sizes.split(',').map(Number));
    expect(w.end).toEqual({ kind: 'probe-done' });
    expect(w.report).toEqual({
      jobsPending: 0,
      pendingJobs: [],
      multiUser: 'active',
      failedUnits: ['rpi-eeprom-update.service', 'bluetooth.service'],
      dataFstab: '/data',
      dataMounted: '/data',
      checks: [
        { name: '10-version', exitCode: 1, output: ['expected 1.2.3', 'found 1.2.2: wrong'] },
        { name: '20-ok', exitCode: 0, output: [] },
      ],
    });
    expect(w.lines).toBe(19);
    // Colour codes and carriage returns are gone from what is kept.
    expect(w.tail).toContain('[  OK  ] Reached target multi-user.target - Multi-User System.');
    expect(w.tail).toContain('Welcome to Debian GNU/Linux 12 (bookworm)!');
    expect(w.tail.some((l) => l.includes('\r') || l.includes('\x1b'))).toBe(false);
    expect(w.tail).toHaveLength(18);
  });

  it('notes when each milestone was reached: the time of the feed that completed its line', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed('[    0.000000] Booting Linux on physical CPU 0x0\n', 1.5);
    const switchLine = `${init('switch')}\n`;
    w.feed(`${init('start')}\n${switchLine.slice(0, 20)}`, 3);
    w.feed(switchLine.slice(20), 4);
    w.feed('systemd[1]: systemd 252.22-1~deb12u1 running in system mode (+PAM)\n', 5);
    w.feed(`${probe('start')}\n`, 20);
    w.feed(`${probe('done')}\n`, 31);
    expect(w.times).toEqual({ kernel: 1.5, initramfs: 3, switchRoot: 4, systemd: 5, multiUser: 20, checksDone: 31 });
  });

  it('takes "Welcome to" as systemd starting, and keeps the first time of each milestone', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed('Welcome to Debian GNU/Linux 12 (bookworm)!\n', 7);
    w.feed('Booting Linux on physical CPU 0x0\nBooting Linux on physical CPU 0x0\n', 8);
    w.feed('Welcome to Debian GNU/Linux 12 (bookworm)!\n', 9);
    expect(w.times).toEqual({ systemd: 7, kernel: 8 });
  });

  it('reads a marker after other console text on the same line', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed(`[   12.345678] random: crng init done\x1b[0m${probe('multi-user=degraded')}\r\n`, 1);
    w.feed(`login: ${probe('failed-unit=x.service')}\n`, 1);
    expect(w.report.multiUser).toBe('degraded');
    expect(w.report.failedUnits).toEqual(['x.service']);
  });

  it('ignores markers with another nonce: an earlier boot, or text that imitates the probe', () => {
    const w = new ConsoleWatch(NONCE);
    const other = 'fedcba9876543210';
    w.feed(
      [
        probe('start', other),
        probe('multi-user=active', other),
        probe('failed-unit=a.service', other),
        init('failed=nope', other),
        probe('done', other),
        probe('multi-user'),
      ]
        .map((l) => `${l}\n`)
        .join(''),
      5,
    );
    expect(w.end).toBeUndefined();
    expect(w.times.multiUser).toBeUndefined();
    expect(w.report.failedUnits).toEqual([]);
    // `multi-user` without a value is read as the empty string, not as active.
    expect(w.report.multiUser).toBe('');
  });

  it('reads "none" for the DATA disk as no fstab line and nothing mounted', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed(`${probe('data-fstab=/data')}\n${probe('data-mounted=/data')}\n`, 1);
    w.feed(`${probe('data-fstab=none')}\n${probe('data-mounted=none')}\n`, 1);
    expect(w.report.dataFstab).toBeUndefined();
    expect(w.report.dataMounted).toBeUndefined();
  });

  it('gives a check the output lines printed under its name, and none of another check', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed(
      [probe('check-output=a:line: with colons'), probe('check-output=b:b says'), probe('check-output=a:'), probe('check=a:0'), probe('check=b:127')]
        .map((l) => `${l}\n`)
        .join(''),
      1,
    );
    expect(w.report.checks).toEqual([
      { name: 'a', exitCode: 0, output: ['line: with colons', ''] },
      { name: 'b', exitCode: 127, output: ['b says'] },
    ]);
  });

  it('keeps at most 20 output lines of a check and 100 failed units', () => {
    const w = new ConsoleWatch(NONCE);
    let text = '';
    for (let i = 0; i < 30; i++) text += `${probe(`check-output=noisy:line ${i}`)}\n`;
    for (let i = 0; i < 150; i++) text += `${probe(`failed-unit=u${i}.service`)}\n`;
    text += `${probe('check=noisy:3')}\n`;
    w.feed(text, 1);
    expect(w.report.checks[0]!.output).toHaveLength(20);
    expect(w.report.checks[0]!.output[19]).toBe('line 19');
    expect(w.report.failedUnits).toHaveLength(100);
    expect(w.report.failedUnits[99]).toBe('u99.service');
  });

  it('ends with a kernel panic, keeping the panic text', () => {
    for (const w of watchesOf('[    3.210000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r\nmore\r\n')) {
      expect(w.end).toEqual({ kind: 'panic', line: 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)' });
    }
  });

  it.each([
    [
      'the target, in colour',
      '[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39memergency.target\x1b[0m - Emergency Mode.',
      '[  OK  ] Reached target emergency.target - Emergency Mode.',
    ],
    [
      'the service',
      '[\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39memergency.service\x1b[0m - Emergency Shell.',
      '[  OK  ] Started emergency.service - Emergency Shell.',
    ],
    [
      'the shell prompt',
      'You are in emergency mode. After logging in, type "journalctl -xb" to view',
      'You are in emergency mode. After logging in, type "journalctl -xb" to view',
    ],
    ['rescue mode', '[  OK  ] Reached target rescue.target - Rescue Mode.', '[  OK  ] Reached target rescue.target - Rescue Mode.'],
  ])('ends in emergency mode: %s', (_what, line, seen) => {
    for (const w of watchesOf(`  ${line}  \r\n`)) expect(w.end).toEqual({ kind: 'emergency', line: seen });
  });

  it('does not take other targets, or a line merely mentioning emergency, as emergency mode', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed('[  OK  ] Reached target multi-user.target - Multi-User System.\nemergency.target is a unit\n', 1);
    expect(w.end).toBeUndefined();
  });

  it("ends when the boot test's initramfs says it failed, with its reason", () => {
    for (const w of watchesOf(`${init('start')}\n${init('failed=the root device /dev/vda2 never appeared')}\r\n`)) {
      expect(w.end).toEqual({ kind: 'init-failed', reason: 'the root device /dev/vda2 never appeared' });
    }
  });

  it.each([
    ['the probe finished', probe('done')],
    ['a panic', 'Kernel panic - not syncing: Attempted to kill init!'],
    ['emergency mode', 'You are in emergency mode.'],
    ['the initramfs failed', init('failed=no /sbin/init')],
  ])('once ended (%s), later lines change neither the end, the report nor the times, but are kept in the tail', (_what, first) => {
    const w = new ConsoleWatch(NONCE);
    w.feed(`${first}\n`, 10);
    const end = w.end;
    const times = { ...w.times };
    expect(end).toBeDefined();
    const later = [
      'Kernel panic - not syncing: later',
      'You are in emergency mode.',
      init('failed=later'),
      probe('start'),
      probe('multi-user=active'),
      probe('failed-unit=late.service'),
      probe('done'),
      'Booting Linux on physical CPU 0x0',
    ];
    w.feed(later.map((l) => `${l}\n`).join(''), 20);
    expect(w.end).toEqual(end);
    expect(w.times).toEqual(times);
    expect(w.report.failedUnits).toEqual([]);
    expect(w.report.multiUser).toBeUndefined();
    expect(w.tail.slice(-later.length)).toEqual(later);
  });

  it('keeps the last 40 non-empty lines in the tail', () => {
    const w = new ConsoleWatch(NONCE);
    let text = '';
    for (let i = 1; i <= 100; i++) text += `line ${i}\r\n\r\n   \n`;
    feedInChunks(w, text, [9, 4]);
    expect(w.tail).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 61}`));
    expect(w.lines).toBe(300);
  });

  it('does not keep a line without an end in memory: it is cut into pieces of at most 4096 characters', () => {
    const w = new ConsoleWatch(NONCE);
    const chunk = 'x'.repeat(1000);
    for (let i = 0; i < 1000; i++) w.feed(chunk, 1);
    // Well over a megabyte fed without a newline: lines were let out on the way, none longer than the limit.
    expect(w.lines).toBeGreaterThanOrEqual(200);
    expect(w.tail).toHaveLength(40);
    expect(w.tail.every((l) => l.length <= 4096)).toBe(true);
    expect((w as unknown as { partial: string }).partial.length).toBeLessThanOrEqual(4096);
    // The reader still works afterwards.
    w.feed(`\n${probe('done')}\n`, 2);
    expect(w.end).toEqual({ kind: 'probe-done' });
  });

  it('cuts a very long line fed at once to 4096 characters', () => {
    const w = new ConsoleWatch(NONCE);
    w.feed(`${'y'.repeat(100_000)}\n`, 1);
    expect(w.tail).toEqual(['y'.repeat(4096)]);
  });
});
