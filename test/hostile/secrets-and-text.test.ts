/**
 * Secrets where they must never be, and untrusted text where it must stay
 * text: a password in an error, a secret given where it is printed, process
 * variables smuggled in as build settings, terminal escape sequences from a
 * build log or an image, Markdown from an .info or a release file on a
 * release page (rendered by marked, GitHub-flavoured, as the independent
 * reader).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked } from 'marked';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';
import { expectBounded, runBounded } from './support/bounded-cli';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', '/usr/bin/time']);
if (missing.length > 0) skipReason('hostile secrets and text', `missing tools: ${missing.join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'hostile-text-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ESC = '\u001b';
const SECRET = 'hunter2-Very-Secret';

describe.skipIf(missing.length > 0)('secrets stay secret', () => {
  const config = join(work, 'product.env');
  writeFileSync(config, 'IMG_NAME=product\nSTAGE_LIST=stage0\n');

  it('a first-user password with a newline is refused without printing it (before anything slow starts)', async () => {
    const run = await runBounded(['build', '--config', config, '--base-dir', work], {
      env: { PI_IMAGE_FIRST_USER_PASS: `${SECRET}\nsecond line` },
      timeoutMs: 30_000,
    });
    expect(expectBounded(run, 10)).toEqual([]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/FIRST_USER_PASS \(secret, not shown\): must be a single line \[INPUT_INVALID\]/);
    expect(run.stderr + run.stdout).not.toContain('hunter2');
  });

  it('FIRST_USER_PASS is refused in --set and in a config file, where values are printed and committed', async () => {
    const viaSet = await runBounded(['build', '--config', config, '--base-dir', work, '--set', `FIRST_USER_PASS=${SECRET}`], { timeoutMs: 30_000 });
    expect(viaSet.code, viaSet.stderr).toBe(2);
    expect(viaSet.stderr).toMatch(/FIRST_USER_PASS is a secret; .*PI_IMAGE_FIRST_USER_PASS/);
    expect(viaSet.stderr).not.toContain('hunter2');
    const leaky = join(work, 'leaky.env');
    writeFileSync(leaky, `IMG_NAME=product\nSTAGE_LIST=stage0\nFIRST_USER_PASS=${SECRET}\n`);
    const viaConfig = await runBounded(['build', '--config', leaky, '--base-dir', work], { timeoutMs: 30_000 });
    expect(viaConfig.code).toBe(2);
    expect(viaConfig.stderr).toMatch(/leaky\.env:3: FIRST_USER_PASS is a secret/);
    expect(viaConfig.stderr).not.toContain('hunter2');
  });

  it.each(['LD_AUDIT=/tmp/evil.so', 'PS4=$(touch /tmp/pwned)', 'PROMPT_COMMAND=id', 'BASH_ENV=/tmp/x', 'SHELLOPTS=xtrace', 'GCONV_PATH=/tmp'])(
    '--set %s is refused: it would change how bash or its programs behave',
    async (setting) => {
      const run = await runBounded(['build', '--config', config, '--base-dir', work, '--set', setting], { timeoutMs: 30_000 });
      expect(expectBounded(run, 10)).toEqual([]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`setting ${setting.split('=')[0]}: changes how bash or the programs pi-gen runs behave`));
    },
  );
});

describe.skipIf(missing.length > 0)('untrusted text stays text', () => {
  const deploy = join(work, 'deploy-text');
  const hostile = `${ESC}]0;pwned\u0007${ESC}[2J${ESC}[32mREADY${ESC}[0m`;
  const markdown = 'dev`|[click me](http://evil.example/steal) <img src=x onerror=alert(1)> **bold**';

  it('escape sequences from the image, the .info and build.log never reach the terminal; Markdown never leaves its text', async () => {
    mkdirSync(deploy);
    makeSmallImage(join(deploy, '2026-01-19-text.img'), {
      rootFiles: {
        'usr/lib/os-release': `PRETTY_NAME="Debian ${hostile}"\nID=debian\n`,
        'etc/ourbox/release': `OURBOX_PRODUCT=ourbox\nOURBOX_VARIANT="${markdown}"\nOURBOX_SKU=${hostile}\n`,
      },
    });
    const info = makeInfo(2)
      .replace('Test OS (dev) 2026-01-19', `Test OS [see](http://evil.example) ${hostile} 2026-01-19`)
      .replace('https://github.com/RPi-Distro/pi-gen,', '[x](http://evil.example/repo),');
    writeFileSync(join(deploy, '2026-01-19-text.info'), info);
    writeFileSync(
      join(deploy, 'build.log'),
      `[10:00:00] Begin /pi-gen/stage0\n[10:00:01] ${hostile}\n[10:00:02] Begin /pi-gen/st${ESC}[2Jage1\n[10:00:03] End /pi-gen/stage0\n`,
    );

    const inspect = await runBounded(['inspect', join(deploy, '2026-01-19-text.img')], { timeoutMs: 30_000 });
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('\\e]0;pwned');
    expect(inspect.stdout + inspect.stderr).not.toContain(ESC);
    expect(inspect.stdout + inspect.stderr).not.toContain('\u0007');

    const out = join(work, 'release-text');
    const pkg = await runBounded(['package', deploy, '--out', out, '--compression-level', '0'], { timeoutMs: 60_000 });
    expect(pkg.code, pkg.stderr).toBe(0);
    expect(pkg.stdout + pkg.stderr).not.toContain(ESC);

    const notes = readFileSync(join(out, 'RELEASE_NOTES.md'), 'utf8');
    expect(notes).not.toContain(ESC);
    const html = await marked.parse(notes, { gfm: true });
    // No link, image or HTML from the inputs: only the ones the notes write themselves.
    expect(html).not.toMatch(/href="http:\/\/evil\.example/);
    expect(html).not.toMatch(/<img/);
    expect(html).not.toMatch(/<strong>bold<\/strong>/);
    // The product table keeps two cells a row: the '|' inside the value did not open a third.
    const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => (m[1]!.match(/<t[dh]>/g) ?? []).length);
    expect(rows.slice(0, 4)).toEqual([2, 2, 2, 2]);
    // The value itself is all there, as text.
    expect(html).toContain('[click me](http://evil.example/steal)');
  });
});
