/**
 * What a Linux kernel module (`.ko`, an ELF relocatable object) says about
 * itself in its `.modinfo` section: its name and the modules it depends on.
 * Debian's kernel packages ship no modules.dep (depmod makes it on install),
 * so the initramfs builder resolves dependencies from here. Bounded: every
 * offset and size is checked against the file before it is read.
 */
import { PiImageError } from '../core/errors';

export interface ModuleInfo {
  name: string;
  depends: string[];
}

/** Module names compare with `-` and `_` as one (the kernel's own rule). */
export const moduleKey = (name: string): string => name.replace(/-/g, '_');

export function readModuleInfo(elf: Buffer, where: string): ModuleInfo {
  const bad = (what: string): PiImageError => new PiImageError('INPUT_INVALID', `${where}: not a kernel module: ${what}`);
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw bad('no ELF header');
  if (elf[4] !== 2 || elf[5] !== 1) throw bad('not a 64-bit little-endian ELF');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shentsize < 64 || shnum === 0 || shstrndx >= shnum || shoff + shnum * shentsize > elf.length) throw bad('section headers outside the file');
  const section = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    const offset = Number(elf.readBigUInt64LE(at + 0x18));
    const size = Number(elf.readBigUInt64LE(at + 0x20));
    if (offset + size > elf.length) throw bad(`section ${i} outside the file`);
    return { name: elf.readUInt32LE(at), offset, size };
  };
  const names = section(shstrndx);
  const nameOf = (at: number): string => {
    const start = names.offset + at;
    const end = elf.indexOf(0, start);
    if (at >= names.size || end < 0 || end > names.offset + names.size) throw bad('a section name outside its table');
    return elf.toString('latin1', start, end);
  };
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameOf(s.name) !== '.modinfo') continue;
    const fields = elf
      .toString('utf8', s.offset, s.offset + s.size)
      .split('\0')
      .filter(Boolean);
    const value = (key: string): string | undefined => fields.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1);
    const name = value('name');
    if (!name) throw bad('.modinfo names no module');
    const depends = (value('depends') ?? '').split(',').filter(Boolean);
    return { name: moduleKey(name), depends: depends.map(moduleKey) };
  }
  throw bad('no .modinfo section');
}

/**
 * The modules to load for `wanted`, dependencies first, each once; modules
 * built into the kernel are skipped. `info` answers for every module found.
 */
export function loadOrder(wanted: readonly string[], info: ReadonlyMap<string, ModuleInfo>, builtin: ReadonlySet<string>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const key = moduleKey(name);
    if (builtin.has(key) || state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') throw new PiImageError('INPUT_INVALID', `kernel modules depend on each other in a loop: ${[...path, key].join(' → ')}`);
    const m = info.get(key);
    if (!m)
      throw new PiImageError(
        'INPUT_INVALID',
        `the kernel package has no module ${key}${path.length > 0 ? ` (needed by ${path.at(-1)})` : ''}, and it is not built in`,
      );
    state.set(key, 'visiting');
    for (const d of m.depends) visit(d, [...path, key]);
    state.set(key, 'done');
    order.push(key);
  };
  for (const w of wanted) visit(w, []);
  return order;
}
