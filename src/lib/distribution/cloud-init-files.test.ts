import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PiImageError } from '../core/errors';
import { checkInstanceIdUnused, existingInstanceIds, lintCloudInitFiles } from './cloud-init-files';
import { CUSTOMISATION_MARK, renderSeed } from './customisation';

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof PiImageError ? `${e.code}: ${e.message}` : `not coded: ${String(e)}`;
  }
  return 'accepted';
};
const userData = (text: string): string => refusal(() => lintCloudInitFiles({ bytes: Buffer.from(text), name: 'my-user-data' }));
const networkConfig = (text: string): string =>
  refusal(() => lintCloudInitFiles({ bytes: Buffer.from('#cloud-config\nhostname: a\n'), name: 'ud' }, { bytes: Buffer.from(text), name: 'my-network' }));

describe('lintCloudInitFiles', () => {
  it('takes a cloud-config user-data as given, with its top-level keys, and a network-config of version 1 or 2', () => {
    const text = '#cloud-config\r\nhostname: node-1\r\nusers:\r\n  - name: alice\r\n';
    const files = lintCloudInitFiles({ bytes: Buffer.from(text), name: 'u' }, { bytes: Buffer.from('network:\n  version: 2\n'), name: 'n' });
    expect(files).toEqual({ userData: text, userDataKeys: ['hostname', 'users'], networkConfig: 'network:\n  version: 2\n' });
    expect(networkConfig('version: 1\nconfig: []\n')).toBe('accepted');
  });

  it('refuses what cloud-init would skip or misread, naming the file and the line', () => {
    expect(userData('hostname: a\n')).toMatch(/^INPUT_INVALID: my-user-data: its first line is "hostname: a", not #cloud-config/);
    expect(userData('#!/bin/sh\necho hi\n')).toMatch(/first line is a script, not #cloud-config/);
    expect(userData('Content-Type: multipart/mixed\n')).toMatch(/first line is a MIME multi-part/);
    expect(userData('')).toMatch(/my-user-data: is empty/);
    expect(userData('#cloud-config\nhostname: a\nhostname: b\n')).toMatch(/my-user-data: not valid YAML at line 3: Map keys must be unique/);
    expect(userData('#cloud-config\nusers:\n  - name: a\n bad: [\n')).toMatch(/my-user-data: not valid YAML at line \d/);
    expect(userData('#cloud-config\n- a\n- b\n')).toMatch(/its top level is not a mapping/);
    expect(userData('#cloud-config\na: 1\n---\nb: 2\n')).toMatch(/holds 2 YAML documents/);
    expect(refusal(() => lintCloudInitFiles({ bytes: Buffer.from([0x23, 0xff, 0xfe]), name: 'bin' }))).toMatch(/bin: is not UTF-8 text/);
    expect(networkConfig('network:\n  version: 3\n')).toMatch(/^INPUT_INVALID: my-network: network config version 3: cloud-init reads version 1 or 2/);
    expect(networkConfig('ethernets: {}\n')).toMatch(/my-network: network config version null/);
    expect(networkConfig('network: [1]\n')).toMatch(/my-network: `network:` is not a mapping/);
  });

  it('bounds an alias bomb instead of expanding it', () => {
    const bomb = ['#cloud-config', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    expect(userData(`${bomb.join('\n')}\n`)).toMatch(/^INPUT_INVALID: my-user-data: its YAML cannot be expanded: Excessive alias count/);
  });
});

describe('instance ids', () => {
  it("finds the id in meta-data and in cmdline.txt's ds=nocloud, and refuses to reuse one", () => {
    expect(existingInstanceIds('instance-id: "abc"\nlocal-hostname: x\n', 'console=tty1 root=/dev/x ds=nocloud;i=def;s=file:///x/')).toEqual(['abc', 'def']);
    expect(existingInstanceIds(undefined, 'console=tty1')).toEqual([]);
    expect(refusal(() => checkInstanceIdUnused('abc', ['abc'], 'img partition 1'))).toMatch(
      /instance id: abc is already the instance id on img partition 1: cloud-init applies a customisation once per id/,
    );
    expect(refusal(() => checkInstanceIdUnused('new', ['abc'], 'x'))).toBe('accepted');
  });
});

describe('a given user-data as a seed', () => {
  it('is written unchanged with meta-data and the NoCloud argument; its network-config marked; refused for the systemd hook', () => {
    const files = lintCloudInitFiles(
      { bytes: Buffer.from('#cloud-config\nhostname: n\n'), name: 'u' },
      { bytes: Buffer.from('version: 2\nethernets: {eth0: {dhcp4: true}}\n'), name: 'n' },
    );
    const seed = renderSeed({ kind: 'cloud-init', files }, 'cloudinit', 'id-1');
    const byName = Object.fromEntries(seed.files.map((f) => [f.name, f.content]));
    expect(byName['user-data']).toBe('#cloud-config\nhostname: n\n');
    expect(parse(byName['meta-data']!)).toEqual({ 'instance-id': 'id-1' });
    expect(byName['network-config']).toBe(`# ${CUSTOMISATION_MARK}\nversion: 2\nethernets: {eth0: {dhcp4: true}}\n`);
    expect(parse(byName['network-config']!)).toEqual({ version: 2, ethernets: { eth0: { dhcp4: true } } });
    expect(seed.cmdlineAppend).toBe(' ds=nocloud;i=id-1');
    expect(refusal(() => renderSeed({ kind: 'cloud-init', files }, 'systemd', 'id-1'))).toMatch(/user-data: the image takes the systemd first-run hook/);
  });
});
