/**
 * The cluster-node product's first-boot provisioning
 * (pigen/stages/stage-cluster-node). Two levels, both with real git, a real
 * bootstrap repository and Python's YAML reader:
 *
 * - the provision script run on this machine against a scratch root (fake
 *   /sys and /proc for the identity, a file:// repository): every outcome and
 *   the report each leaves, quickly;
 * - the boot test: the stage's own scripts installed into a copy of the real
 *   arm64 test image (loop device, chroot under qemu-user), booted three times
 *   under QEMU with user networking, reaching a git daemon on this machine's
 *   loopback: the first boot finds no entry for the node (failed report,
 *   system up), an operator's override on the boot partition names the commit
 *   that has it, the second boot provisions, the third does nothing.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
import { LoopDevices, loopDevicesUnavailable } from '../support/loop-devices';
import { cachedTestImage, REPO_ROOT, testImageUnavailable } from '../support/test-image';
import { missingTools, sh, skipReason } from '../support/tools';

const STAGE = join(REPO_ROOT, 'pigen/stages/stage-cluster-node');
const FILES = join(STAGE, '01-provisioning/files');
const PROVISION = join(FILES, 'provision');
const QEMU_MAC = '52:54:00:12:34:56';

const yamlMissing = spawnSync('python3', ['-c', 'import yaml']).status !== 0;
const hostWhy = missingTools(['git', 'python3', 'flock', 'timeout']).join(', ') || (yamlMissing ? 'python3-yaml' : undefined);
if (hostWhy) skipReason('the provision script on this machine', `missing: ${hostWhy}`);

/** A git repository with one commit per entry of `commits` (path → content); returns the commit ids. */
function bootstrapRepo(dir: string, commits: Record<string, string>[]): string[] {
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  return commits.map((files) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    git('add', '-A');
    git('commit', '-q', '-m', 'config');
    return git('rev-parse', 'HEAD');
  });
}

const nodesYaml = (entries: string): string => `nodes:\n${entries}`;
/** setup.sh counts its runs and records what it was given, under the (scratch or real) root. */
const SETUP = [
  '#!/bin/bash',
  'set -e',
  'dir="${CLUSTER_NODE_ROOT:-}/var/lib/cluster-node-test"',
  'mkdir -p "$dir"',
  'echo run >>"$dir/runs"',
  'printf "%s %s %s %s\\n" "$NODE_HOSTNAME" "$NODE_ROLE" "$NODE_ADDRESS" "$BOOTSTRAP_COMMIT" >"$dir/given"',
  '',
].join('\n');

describe.skipIf(hostWhy !== undefined)('the provision script, on a scratch root', () => {
  let work: string;
  let repo: string;
  let commits: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'provision-'));
    repo = join(work, 'bootstrap');
    commits = bootstrapRepo(repo, [
      // 0: this node is not listed
      { 'config/nodes.yaml': nodesYaml('  - mac: "dc:a6:32:00:00:09"\n    hostname: other\n    role: worker\n'), 'setup.sh': SETUP },
      // 1: listed by MAC
      { 'config/nodes.yaml': nodesYaml(`  - mac: "DC-A6-32-00-00-01"\n    hostname: node-1\n    role: control\n    address: 192.168.1.21/24\n`) },
      // 2: listed by serial only (the last 8 digits, as network boot names a board)
      { 'config/nodes.yaml': nodesYaml('  - serial: "0xabcdef01"\n    hostname: node-2\n    role: worker\n') },
      // 3: setup.sh fails
      {
        'config/nodes.yaml': nodesYaml(`  - mac: "dc:a6:32:00:00:01"\n    hostname: node-1\n    role: control\n`),
        'setup.sh': '#!/bin/bash\necho "disk not found" >&2\nexit 7\n',
      },
      // 4: a host name that would break a line
      { 'config/nodes.yaml': nodesYaml('  - mac: "dc:a6:32:00:00:01"\n    hostname: "node-1; reboot"\n    role: control\n') },
    ]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A scratch root as a node's: its NIC (or none), its serial, the image's bootstrap settings. */
  function node(name: string, options: { mac?: string; serial?: string; commit: string; url?: string }): string {
    const root = join(work, name);
    if (options.mac) {
      const nic = join(root, 'sys/class/net/eth0');
      mkdirSync(join(nic, 'device'), { recursive: true });
      writeFileSync(join(nic, 'type'), '1\n');
      writeFileSync(join(nic, 'address'), `${options.mac}\n`);
    }
    mkdirSync(join(root, 'sys/class/net/lo'), { recursive: true });
    writeFileSync(join(root, 'sys/class/net/lo/type'), '772\n');
    mkdirSync(join(root, 'proc'), { recursive: true });
    writeFileSync(join(root, 'proc/cpuinfo'), `processor\t: 0\n${options.serial ? `Serial\t\t: ${options.serial}\n` : ''}Model\t\t: Raspberry Pi 5\n`);
    mkdirSync(join(root, 'boot/firmware'), { recursive: true });
    mkdirSync(join(root, 'etc/cluster-node'), { recursive: true });
    writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tcluster-node\n');
    writeFileSync(
      join(root, 'etc/cluster-node/bootstrap.conf'),
      `# image\nBOOTSTRAP_URL=${options.url ?? `file://${repo}`}\nBOOTSTRAP_COMMIT=${options.commit}\n`,
    );
    return root;
  }
  const provision = (root: string) =>
    spawnSync('bash', [PROVISION], {
      encoding: 'utf8',
      env: { ...process.env, CLUSTER_NODE_ROOT: root, CLUSTER_NODE_LIB: FILES, CLUSTER_NODE_FETCH_ATTEMPTS: '1' },
    });
  const report = (root: string): Record<string, string> =>
    Object.fromEntries(
      readFileSync(join(root, 'boot/firmware/cluster-node-provision.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  const runs = (root: string): number =>
    existsSync(join(root, 'var/lib/cluster-node-test/runs')) ? readFileSync(join(root, 'var/lib/cluster-node-test/runs'), 'utf8').split('\n').length - 1 : 0;

  it('provisions a node found by its MAC, once: hostname, hosts, node.env, setup.sh with its settings, the mark and the report; a second run does nothing', () => {
    const root = node('by-mac', { mac: 'DC:A6:32:00:00:01', serial: '10000000abcdef01', commit: commits[1]! });
    let r = provision(root);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`CLUSTER-NODE-PROVISION: provisioned: hostname=node-1 role=control commit=${commits[1]}`);
    expect(readFileSync(join(root, 'etc/hostname'), 'utf8')).toBe('node-1\n');
    expect(readFileSync(join(root, 'etc/hosts'), 'utf8')).toBe('127.0.0.1\tlocalhost\n127.0.1.1\tnode-1\n');
    expect(readFileSync(join(root, 'etc/cluster-node/node.env'), 'utf8')).toContain(
      'NODE_ROLE=control\nNODE_ADDRESS=192.168.1.21/24\nNODE_MAC=dc:a6:32:00:00:01\n',
    );
    expect(readFileSync(join(root, 'var/lib/cluster-node-test/given'), 'utf8')).toBe(`node-1 control 192.168.1.21/24 ${commits[1]}\n`);
    expect(report(root)).toMatchObject({ status: 'provisioned', mac: 'dc:a6:32:00:00:01', serial: '10000000abcdef01', hostname: 'node-1', commit: commits[1] });
    expect(existsSync(join(root, 'var/lib/cluster-node/provisioned'))).toBe(true);
    const before = readFileSync(join(root, 'boot/firmware/cluster-node-provision.txt'), 'utf8');

    r = provision(root);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^CLUSTER-NODE-PROVISION: already provisioned \(.*hostname=node-1 .*\): nothing to do$/m);
    expect(runs(root)).toBe(1);
    expect(readFileSync(join(root, 'boot/firmware/cluster-node-provision.txt'), 'utf8')).toBe(before);
  });

  it('falls back to the board serial when no Ethernet interface is there', () => {
    const root = node('by-serial', { serial: '10000000ABCDEF01', commit: commits[2]! });
    const r = provision(root);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(report(root)).toMatchObject({ status: 'provisioned', mac: '', serial: '10000000abcdef01', hostname: 'node-2', role: 'worker' });
  });

  it('an unknown node fails with its report, no mark, and is retried at the next run, which an override on the boot partition lets succeed', () => {
    const root = node('unknown', { mac: 'dc:a6:32:00:00:01', commit: commits[0]! });
    let r = provision(root);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      'CLUSTER-NODE-PROVISION: FAILED: config/nodes.yaml: no entry for this node (mac dc:a6:32:00:00:01, serial none) (tried again at the next boot)',
    );
    expect(report(root)).toMatchObject({
      status: 'failed',
      reason: 'config/nodes.yaml: no entry for this node (mac dc:a6:32:00:00:01, serial none)',
      attempts: '1',
    });
    expect(existsSync(join(root, 'var/lib/cluster-node/provisioned'))).toBe(false);
    expect(readFileSync(join(root, 'etc/hosts'), 'utf8')).toContain('cluster-node');

    r = provision(root);
    expect([r.status, report(root).attempts]).toEqual([1, '2']);

    writeFileSync(join(root, 'boot/firmware/cluster-node-bootstrap.conf'), `BOOTSTRAP_COMMIT=${commits[1]}\r\n`);
    r = provision(root);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('overridden by');
    expect(report(root)).toMatchObject({ status: 'provisioned', commit: commits[1], hostname: 'node-1' });
  });

  it('an unreachable repository, a missing commit, a failing setup.sh, a bad override and a hostile nodes.yaml each leave a failed report naming why', () => {
    const cases: [string, { commit: string; url?: string; override?: string }, RegExp][] = [
      ['unreachable', { commit: commits[1]!, url: 'git://127.0.0.1:9/none.git' }, /^cannot fetch git:\/\/127\.0\.0\.1:9\/none\.git after 1 attempts: /],
      ['no-commit', { commit: 'f'.repeat(40) }, new RegExp(`^file://.* has no commit ${'f'.repeat(40)}`)],
      ['setup-fails', { commit: commits[3]! }, /^setup\.sh exited with 7 \(its output: .*setup\.log\)$/],
      [
        'bad-override',
        { commit: commits[1]!, override: 'BOOTSTRAP_BRANCH=main\n' },
        /cluster-node-bootstrap\.conf line 1: BOOTSTRAP_BRANCH is not BOOTSTRAP_URL or BOOTSTRAP_COMMIT$/,
      ],
      ['branch', { commit: commits[1]!, override: 'BOOTSTRAP_COMMIT=main\n' }, /^BOOTSTRAP_COMMIT "main" is not a full commit id/],
      ['url', { commit: commits[1]!, override: 'BOOTSTRAP_URL=https://x/$(reboot)\n' }, /^BOOTSTRAP_URL "https:\/\/x\/\$\(reboot\)" is not an https/],
      ['hostile-yaml', { commit: commits[4]! }, /^config\/nodes\.yaml: entry 1: hostname 'node-1; reboot' is not a host name/],
    ];
    for (const [name, options, reason] of cases) {
      const root = node(name, { mac: 'dc:a6:32:00:00:01', ...options });
      if (options.override) writeFileSync(join(root, 'boot/firmware/cluster-node-bootstrap.conf'), options.override);
      const r = provision(root);
      expect([name, r.status]).toEqual([name, 1]);
      expect([name, report(root).status, report(root).reason]).toEqual([name, 'failed', expect.stringMatching(reason)]);
      expect([name, existsSync(join(root, 'var/lib/cluster-node/provisioned'))]).toEqual([name, false]);
    }
    expect(readFileSync(join(work, 'setup-fails/boot/firmware/cluster-node-provision.txt'), 'utf8')).toContain('hostname=node-1');
  });

  it("the stage's host script installs the service and pins the commit, and refuses a branch or a URL that would break a line", () => {
    const rootfs = join(work, 'rootfs');
    mkdirSync(join(rootfs, 'etc/systemd/system'), { recursive: true });
    const stage = (env: Record<string, string>) =>
      spawnSync('bash', ['./00-run.sh'], { cwd: join(STAGE, '01-provisioning'), encoding: 'utf8', env: { ...process.env, ROOTFS_DIR: rootfs, ...env } });
    const good = { CLUSTER_BOOTSTRAP_URL: 'https://github.com/acme/cluster-bootstrap.git', CLUSTER_BOOTSTRAP_COMMIT: commits[1]! };
    for (let i = 0; i < 2; i++) expect(stage(good).status).toBe(0);
    expect(readFileSync(join(rootfs, 'etc/cluster-node/bootstrap.conf'), 'utf8')).toContain(
      `BOOTSTRAP_URL=${good.CLUSTER_BOOTSTRAP_URL}\nBOOTSTRAP_COMMIT=${commits[1]}\n`,
    );
    expect(readFileSync(join(rootfs, 'usr/lib/cluster-node/provision'))).toEqual(readFileSync(PROVISION));
    expect(readFileSync(join(rootfs, 'etc/systemd/system/cluster-node-provision.service'), 'utf8')).toContain('ExecStart=/usr/lib/cluster-node/provision');
    let r = stage({ ...good, CLUSTER_BOOTSTRAP_COMMIT: 'main' });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('is not a full commit id (40 hex digits): pin a commit, not a branch')]);
    r = stage({ ...good, CLUSTER_BOOTSTRAP_URL: 'https://x/a b' });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('is not an https, http, git, ssh or file URL')]);
  });
});

const bootWhy =
  hostWhy ??
  testImageUnavailable() ??
  loopDevicesUnavailable() ??
  (missingTools(['qemu-system-aarch64', 'chroot', 'git']).join(', ') || undefined) ??
  (process.arch === 'arm64' || existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64') ? undefined : 'no qemu-aarch64 binfmt (qemu-user-static) for the chroot');
if (bootWhy) skipReason('first-boot provisioning under QEMU', bootWhy);

/** A free port on the loopback. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(bootWhy !== undefined)('first-boot provisioning, booted under QEMU', () => {
  let work: string;
  let daemon: ChildProcess | undefined;
  afterAll(() => {
    daemon?.kill();
    rmSync(work, { recursive: true, force: true });
  });

  it('fails on an unknown node with the system up, provisions after an override on the boot partition, and does nothing at the next boot', async () => {
    work = mkdtempSync(join(tmpdir(), 'provision-boot-'));
    const serve = join(work, 'git');
    const repo = join(serve, 'bootstrap.git');
    const setup = SETUP.replace('echo run', 'echo "run $(date +%s)"');
    const [unknown, known] = bootstrapRepo(repo, [
      { 'config/nodes.yaml': nodesYaml('  - mac: "dc:a6:32:00:00:09"\n    hostname: other\n    role: worker\n'), 'setup.sh': setup },
      { 'config/nodes.yaml': nodesYaml(`  - mac: "${QEMU_MAC}"\n    hostname: node-7\n    role: worker\n    address: 10.0.2.15/24\n`) },
    ]);
    const port = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${serve}`, '--listen=127.0.0.1', `--port=${port}`, serve], {
      stdio: 'ignore',
    });
    // The guest reaches this machine's loopback at 10.0.2.2 (QEMU's user network).
    const url = `git://10.0.2.2:${port}/bootstrap.git`;

    // A copy of the test image with the stage's own scripts run into its root, as pi-gen runs them, and a wired network (DHCP).
    const img = join(work, 'cluster-node.img');
    sh('cp', ['--sparse=always', cachedTestImage()!.img, img]);
    const table = JSON.parse(sh('sfdisk', ['--json', img])) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const p = table.partitiontable.partitions[1]!;
    const loops = new LoopDevices();
    const mnt = join(work, 'root');
    mkdirSync(mnt);
    try {
      loops.mount(loops.attachRange(img, p.start * 512, p.size * 512, { writable: true }), mnt);
      const stage = spawnSync('bash', ['./00-run.sh'], {
        cwd: join(STAGE, '01-provisioning'),
        encoding: 'utf8',
        env: { ...process.env, ROOTFS_DIR: mnt, CLUSTER_BOOTSTRAP_URL: url, CLUSTER_BOOTSTRAP_COMMIT: unknown! },
      });
      expect(stage.status, stage.stderr).toBe(0);
      mkdirSync(join(mnt, 'etc/systemd/network'), { recursive: true });
      writeFileSync(join(mnt, 'etc/systemd/network/20-wired.network'), '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n');
      const enable = [
        readFileSync(join(STAGE, '01-provisioning/01-run-chroot.sh'), 'utf8'),
        'systemctl enable systemd-networkd.service systemd-networkd-wait-online.service',
      ].join('\n');
      const chroot = spawnSync('chroot', [mnt, '/bin/bash', '-e'], { input: enable, encoding: 'utf8' });
      expect(chroot.status, chroot.stderr).toBe(0);
    } finally {
      loops.release();
    }

    // What each boot must show, by the boot's name; the first also plays the operator, who names the commit that lists the node.
    const checks = join(work, 'checks');
    mkdirSync(checks);
    writeFileSync(
      join(checks, 'provisioning.sh'),
      [
        '#!/bin/sh',
        'fail=0',
        'report=/boot/firmware/cluster-node-provision.txt',
        'runs=$(cat /var/lib/cluster-node-test/runs 2>/dev/null | wc -l)',
        'log=$(journalctl -b -u cluster-node-provision.service --no-pager -o cat 2>&1)',
        'case "$PI_IMAGE_BOOT" in',
        'boot)',
        '  grep -qx "status=failed" $report || { echo "report: $(cat $report)"; fail=1; }',
        `  grep -qx "reason=config/nodes.yaml: no entry for this node (mac ${QEMU_MAC}, serial none)" $report || { echo "reason: $(grep reason= $report)"; fail=1; }`,
        '  [ ! -e /var/lib/cluster-node/provisioned ] || { echo "marked provisioned"; fail=1; }',
        `  printf 'BOOTSTRAP_COMMIT=${known}\\n' >/boot/firmware/cluster-node-bootstrap.conf`,
        '  ;;',
        'reboot-1)',
        '  grep -qx "status=provisioned" $report || { echo "report: $(cat $report)"; fail=1; }',
        '  [ "$(hostname)" = node-7 ] || { echo "hostname is $(hostname)"; fail=1; }',
        '  grep -qx "NODE_ROLE=worker" /etc/cluster-node/node.env || { echo "no role"; fail=1; }',
        '  [ "$runs" = 1 ] || { echo "setup.sh ran $runs times"; fail=1; }',
        '  ;;',
        'reboot-2)',
        '  [ "$runs" = 1 ] || { echo "setup.sh ran $runs times"; fail=1; }',
        '  echo "$log" | grep -q "already provisioned" || { echo "journal: $log"; fail=1; }',
        '  grep -qx "status=provisioned" $report || { echo "report: $(cat $report)"; fail=1; }',
        '  ;;',
        'esac',
        'exit $fail',
        '',
      ].join('\n'),
    );
    chmodSync(join(checks, 'provisioning.sh'), 0o755);

    const imageSha256 = sh('sha256sum', [img]).split(' ')[0];
    const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? tmpdir(), '.cache'), 'pi-image-release');
    const r = runPiImage([
      'smoke-test',
      img,
      '--checks',
      checks,
      '--network',
      '--reboots',
      '2',
      // The first boot's provisioning fails on purpose; the unit says so, the system is up.
      '--allow-failed',
      'cluster-node-provision.service',
      '--cache-dir',
      cacheDir,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { machine: { network: boolean }; boots: { name: string; checks: { name: string; passed: boolean }[] }[] };
    expect(report.machine.network).toBe(true);
    expect(report.boots.map((b) => [b.name, b.checks.find((c) => c.name === 'check:provisioning.sh')?.passed])).toEqual([
      ['boot', true],
      ['reboot-1', true],
      ['reboot-2', true],
    ]);
    const consoleLog = (boot: string) => readFileSync(join(`${img}.smoke-test`, `smoke-test.${boot}.console.log`), 'utf8');
    expect(consoleLog('boot')).toContain(`CLUSTER-NODE-PROVISION: FAILED: config/nodes.yaml: no entry for this node (mac ${QEMU_MAC}, serial none)`);
    expect(consoleLog('reboot-1')).toContain(`CLUSTER-NODE-PROVISION: provisioned: hostname=node-7 role=worker commit=${known}`);
    expect(consoleLog('reboot-2')).toMatch(/CLUSTER-NODE-PROVISION: already provisioned \(.*\): nothing to do/);
    // The image the boots started from is unchanged: they wrote to a copy.
    expect(sh('sha256sum', [img]).split(' ')[0]).toBe(imageSha256);
  });
});
