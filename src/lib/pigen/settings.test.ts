import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProductConfig, splitAssignment } from './product-config';
import { piGenConfigEntries, TYPED_VARIABLES, type PiGenSettings } from './settings';

const base: PiGenSettings = { imgName: 'ourbox-mini', stageList: ['/pi-gen/stage0', '/work/stages/stage-ourbox-mini'] };
const entries = (s: Partial<PiGenSettings>) => piGenConfigEntries({ ...base, ...s });

describe('pi-gen settings', () => {
  it('writes typed settings under their pi-gen names, booleans as 1/0, STAGE_LIST space-separated', () => {
    const e = entries({ enableSsh: true, passwordlessSudo: false, compressionLevel: 9, targetHostname: 'box-1', extra: { OURBOX_SKU: 'TOO-OBX-MINI-01' } });
    expect(e).toEqual([
      { name: 'IMG_NAME', value: 'ourbox-mini' },
      { name: 'COMPRESSION_LEVEL', value: '9' },
      { name: 'TARGET_HOSTNAME', value: 'box-1' },
      { name: 'PASSWORDLESS_SUDO', value: '0' },
      { name: 'ENABLE_SSH', value: '1' },
      { name: 'STAGE_LIST', value: '/pi-gen/stage0 /work/stages/stage-ourbox-mini' },
      { name: 'OURBOX_SKU', value: 'TOO-OBX-MINI-01' },
    ]);
  });

  it('maps every typed setting to a distinct pi-gen variable', () => {
    const names = Object.values(TYPED_VARIABLES);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    [{ imgName: 'my image' }, /IMG_NAME "my image": use letters, digits/],
    [{ imgName: '../x' }, /IMG_NAME/],
    [{ targetHostname: 'box_1' }, /TARGET_HOSTNAME "box_1": must be a host name/],
    [{ targetHostname: 'a\nb' }, /TARGET_HOSTNAME .*must be a single line/],
    [{ firstUserName: 'Root' }, /FIRST_USER_NAME "Root": pi-gen requires/],
    [{ localeDefault: 'en_GB.UTF-8; rm -rf /' }, /LOCALE_DEFAULT .* must be a locale/],
    [{ timezoneDefault: 'Europe/London$(id)' }, /TIMEZONE_DEFAULT/],
    [{ wpaCountry: 'gb' }, /WPA_COUNTRY "gb": must be a two-letter/],
    [{ aptProxy: 'ftp://proxy' }, /APT_PROXY "ftp:\/\/proxy": must be an http\(s\) URL/],
    [{ aptProxy: 'http://x/`id`' }, /APT_PROXY/],
    [{ keyboardLayout: 'English\n(US)' }, /KEYBOARD_LAYOUT .*single line/],
    [{ deployCompression: 'bz2' as never }, /DEPLOY_COMPRESSION "bz2": must be one of zip, gz, xz, none/],
    [{ compressionLevel: 10 }, /COMPRESSION_LEVEL "10"/],
    [{ disableFirstBootUserRename: true }, /DISABLE_FIRST_BOOT_USER_RENAME needs FIRST_USER_PASS/],
    [{ pubkeyOnlySsh: true }, /PUBKEY_ONLY_SSH needs PUBKEY_SSH_FIRST_USER/],
    [{ pubkeySshFirstUser: 'not a key' }, /is not an OpenSSH public key line/],
    [{ firstUserPass: 'two\nlines' }, /^FIRST_USER_PASS \(secret, not shown\): must be a single line$/],
    [{ firstUserPass: 'bell\u0007hunter2' }, /^FIRST_USER_PASS \(secret, not shown\): must not contain control characters$/],
    [{ stageList: [] }, /STAGE_LIST is empty/],
    [{ stageList: ['stage0'] }, /STAGE_LIST "stage0": must be an absolute path/],
    [{ stageList: ['/my stages/a'] }, /must not contain whitespace: pi-gen splits STAGE_LIST/],
    [{ extra: { 'BAD-NAME': 'x' } }, /setting BAD-NAME: not a shell variable name/],
    [{ extra: { WORK_DIR: '/tmp' } }, /setting WORK_DIR: set by pi-image or pi-gen itself/],
    [{ extra: { IMG_FILENAME: 'x' } }, /setting IMG_FILENAME: set by pi-image/],
    [{ extra: { TARGET_HOSTNAME: 'x' } }, /setting TARGET_HOSTNAME: use the typed setting/],
    [{ extra: { WPA_PASSWORD: 'x' } }, /WPA_PASSWORD: pi-gen removed WPA_PASSWORD in 2023/],
    [{ extra: { USE_QCOW2: '1' } }, /USE_QCOW2 in 2024/],
    ...[
      'LD_PRELOAD',
      'LD_AUDIT',
      'BASH_ENV',
      'PS4',
      'PROMPT_COMMAND',
      'SHELLOPTS',
      'BASH_FUNC_x%%',
      'GCONV_PATH',
      'PATH',
      'IFS',
      'NODE_OPTIONS',
      'MALLOC_CHECK_',
    ].map((name): [Partial<PiGenSettings>, RegExp] => [
      { extra: { [name.replace('%%', '')]: 'x' } },
      /changes how bash or the programs pi-gen runs behave|not a shell variable name/,
    ]),
  ])('refuses %o, naming the setting', (setting, message) => {
    expect(() => entries(setting)).toThrow(message);
  });

  it('never shows a secret value, whatever is wrong with it', () => {
    for (const value of ['two\nlines hunter2', 'tab\u0001hunter2']) {
      expect(() => entries({ firstUserPass: value })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
    }
  });

  it('accepts values pi-gen takes, hostile or not, for free-text settings (quoting makes them safe)', () => {
    const e = entries({ keyboardLayout: `English (US) "quoted" $(id) \`id\` 'single'`, piGenRelease: 'OurBox OS $HOME', extra: { NOTE: 'multi\nline ok' } });
    expect(e.find((x) => x.name === 'KEYBOARD_LAYOUT')!.value).toBe(`English (US) "quoted" $(id) \`id\` 'single'`);
    expect(e.find((x) => x.name === 'NOTE')!.value).toBe('multi\nline ok');
  });

  it('accepts several SSH keys, one per line', () => {
    const keys = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx user@a\necdsa-sha2-nistp256 AAAAE2VjZHNh= b';
    expect(entries({ pubkeySshFirstUser: keys, pubkeyOnlySsh: true }).find((x) => x.name === 'PUBKEY_SSH_FIRST_USER')!.value).toBe(keys);
  });
});

describe('product config files', () => {
  it('reads the OurBox Mini config', () => {
    const text = readFileSync(new URL('../../../pigen/config/ourbox-mini.env', import.meta.url), 'utf8');
    const c = parseProductConfig(text, 'pigen/config/ourbox-mini.env');
    expect(c.settings).toMatchObject({
      imgName: 'ourbox-mini',
      targetHostname: 'ourbox-mini',
      deployCompression: 'xz',
      compressionLevel: 6,
      enableSsh: true,
      keyboardLayout: 'English (US)',
    });
    expect(c.stages).toEqual(['stage0', 'stage1', 'stage2', 'pigen/stages/stage-ourbox-mini']);
    expect(c.overrides).toBe('pigen/overrides');
    expect(c.extra).toEqual({ OURBOX_PRODUCT: 'ourbox', OURBOX_DEVICE: 'mini', OURBOX_TARGET: 'rpi', OURBOX_SKU: 'TOO-OBX-MINI-01', OURBOX_VARIANT: 'prod' });
    expect(() => piGenConfigEntries({ ...c.settings, imgName: c.settings.imgName!, stageList: ['/a'], extra: c.extra })).not.toThrow();
  });

  it('reads the cluster-node config: its stage, and the bootstrap repository for the stage (not for pi-gen)', () => {
    const text = readFileSync(new URL('../../../pigen/config/cluster-node.env', import.meta.url), 'utf8');
    const c = parseProductConfig(text, 'pigen/config/cluster-node.env');
    expect(c.settings).toMatchObject({ imgName: 'cluster-node', targetHostname: 'cluster-node', deployCompression: 'xz' });
    expect(c.stages).toEqual(['stage0', 'stage1', 'stage2', 'pigen/stages/stage-cluster-node']);
    expect(c.extra).toEqual({
      CLUSTER_BOOTSTRAP_URL: 'https://github.com/acme/cluster-bootstrap.git',
      CLUSTER_BOOTSTRAP_COMMIT: expect.stringMatching(/^[0-9a-f]{40}$/) as unknown,
    });
    expect(c.netboot).toBeUndefined();
    expect(() => piGenConfigEntries({ ...c.settings, imgName: c.settings.imgName!, stageList: ['/a'], extra: c.extra })).not.toThrow();
  });

  it("keeps NETBOOT_* for pi-image netboot, out of pi-gen's config", () => {
    const c = parseProductConfig('IMG_NAME=x\nNETBOOT_SERVER=10.0.0.1\n', 'x.env');
    expect([c.netboot, c.extra]).toEqual([{ NETBOOT_SERVER: '10.0.0.1' }, {}]);
  });

  it.each([
    ['NAME value', /x.env:1: expected KEY=VALUE/],
    ['A=1\nA=2', /x.env:2: A is set twice/],
    ['A=$(id)', /x.env:1: A looks like shell code/],
    ['A=`id`', /looks like shell code/],
    ['A="open', /x.env:1: unbalanced " quote/],
    ['ENABLE_SSH=maybe', /x.env:1: ENABLE_SSH "maybe" must be true or false \(or 1 or 0\)/],
    ['COMPRESSION_LEVEL=high', /COMPRESSION_LEVEL "high" must be 0-9/],
    ['FIRST_USER_PASS=hunter2', /x.env:1: FIRST_USER_PASS is a secret; .*PI_IMAGE_FIRST_USER_PASS/],
    ['root:$y$j9T$hunter2hash:19000:0:99999:7:::', /^x.env:1: expected KEY=VALUE \(a shell variable name, "=", the value\): not a pi-gen config line$/],
  ])('refuses %j, naming file and line', (text, message) => {
    expect(() => parseProductConfig(text, 'x.env')).toThrow(message);
  });

  it('reads quoted values, export prefixes and comments', () => {
    const c = parseProductConfig('# c\nexport IMG_NAME="my-image"\nKEYBOARD_LAYOUT=\'English (UK)\'\n', 'x.env');
    expect(c.settings).toEqual({ imgName: 'my-image', keyboardLayout: 'English (UK)' });
  });

  it('splits KEY=VALUE settings at the first =', () => {
    expect(splitAssignment('A=b=c', 's')).toEqual(['A', 'b=c']);
    expect(() => splitAssignment('=x', 'setting 2')).toThrow(/setting 2: expected KEY=VALUE/);
  });
});
