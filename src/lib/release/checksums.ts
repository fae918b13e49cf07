/** Checksum files in `sha256sum` format: "<hex>  <name>", names relative to the file's directory. */
import { PiImageError } from '../core/errors';

/** Names are release file names, checked before they get here; one that sha256sum would have to escape is a bug, not written. */
export function renderSha256Sums(entries: readonly { name: string; sha256: string }[]): string {
  return entries
    .map((e) => {
      if (/[\n\r\\]/.test(e.name) || !/^[0-9a-f]{64}$/.test(e.sha256))
        throw new PiImageError('INTERNAL', `cannot write a sha256sum line for ${JSON.stringify(e.name)}`);
      return `${e.sha256}  ${e.name}\n`;
    })
    .join('');
}
