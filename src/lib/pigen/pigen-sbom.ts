/**
 * pi-gen's own SBOM (`B.sbom.xz`: syft's SPDX JSON, xz-compressed, when its
 * host had syft) is copied into the release as it is, so it is checked first:
 * a readable .xz whose content starts as an SPDX JSON document. The check reads
 * the whole file once through `xz --test` and only the first 64 KiB of its
 * content: bounded in memory whatever its size.
 */
import { once } from 'node:events';
import { PiImageError } from '../core/errors';
import { execCapture, execStream } from '../core/exec';
import { openRegularFile } from '../core/file-digest';
import type { Logger } from '../core/logger';

const HEAD_BYTES = 64 * 1024;

async function head(path: string, compressed: boolean, logger: Logger): Promise<Buffer> {
  if (!compressed) {
    const handle = await openRegularFile(path);
    try {
      const buffer = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }
  const { child, stop } = execStream('xz', ['--decompress', '--stdout', '--', path], { logger, stdin: 'ignore' });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of child.stdout) {
      chunks.push(c as Buffer);
      size += (c as Buffer).length;
      if (size >= HEAD_BYTES) break;
    }
  } finally {
    await stop();
  }
  if (child.exitCode === null) await once(child, 'close').catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, HEAD_BYTES);
}

export async function checkPiGenSbom(path: string, logger: Logger): Promise<void> {
  const compressed = path.endsWith('.xz');
  const remedy = '(remove it from the deploy directory to package without it)';
  if (compressed) {
    await (await openRegularFile(path)).close();
    const test = await execCapture('xz', ['--test', '--', path], { logger, allowFailure: true });
    if (test.code !== 0) throw new PiImageError('INPUT_INVALID', `pi-gen's SBOM ${path} is not a readable .xz file ${remedy}`);
  }
  const text = (await head(path, compressed, logger)).toString('utf8');
  if (!/^\s*\{/.test(text) || !/"spdxVersion"\s*:\s*"SPDX-/.test(text)) {
    throw new PiImageError('INPUT_INVALID', `pi-gen's SBOM ${path} is not an SPDX JSON document ${remedy}`);
  }
}
