import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from './cli';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env: {} }, out, err };
}

describe('pi-image CLI', () => {
  it('prints help listing every command, exit 0', async () => {
    const c = capture();
    expect(await runCli(['--help'], c.io)).toBe(0);
    for (const cmd of COMMANDS) expect(c.out.join('')).toMatch(new RegExp(`  ${cmd.name} +${cmd.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('prints each command its own help', async () => {
    for (const cmd of COMMANDS) {
      const c = capture();
      expect(await runCli([cmd.name, '--help'], c.io)).toBe(0);
      expect(c.out.join('')).toContain(`Usage: ${cmd.usage}`);
      // Every option the command parses is documented in its help.
      for (const option of Object.keys(cmd.options)) expect(c.out.join(''), `${cmd.name} --${option}`).toContain(`--${option}`);
    }
  });

  it('says what is wrong with usage, exit 2', async () => {
    const unknown = capture();
    expect(await runCli(['frobnicate'], unknown.io)).toBe(2);
    expect(unknown.err.join('')).toContain('unknown command "frobnicate"');
    const bare = capture();
    expect(await runCli([], bare.io)).toBe(2);
    const badFlag = capture();
    expect(await runCli(['inspect', '--nope', 'x.img'], badFlag.io)).toBe(2);
    expect(badFlag.err.join('')).toMatch(/Unknown option '--nope'[\s\S]*Usage: pi-image inspect/);
    const missing = capture();
    expect(await runCli(['inspect'], missing.io)).toBe(2);
    expect(missing.err.join('')).toContain('inspect needs exactly one IMAGE');
  });

  it('names a missing input file, exit 2', async () => {
    const c = capture();
    expect(await runCli(['inspect', '/nonexistent/x.img'], c.io)).toBe(2);
    expect(c.err.join('')).toContain('image /nonexistent/x.img cannot be read');
    const p = capture();
    expect(await runCli(['package', '/nonexistent/deploy', '--out', '/tmp/never-written'], p.io)).toBe(2);
    expect(p.err.join('')).toContain('deploy directory /nonexistent/deploy cannot be read');
  });

  it('prints its version', async () => {
    const c = capture();
    expect(await runCli(['--version'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/^\d+\.\d+\.\d+/);
  });
});
