/** Checksum files in `sha256sum` format: "<hex>  <name>", names relative to the file's directory. */
export function renderSha256Sums(entries: readonly { name: string; sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.name}\n`).join('');
}

export function parseSha256Sums(text: string): { name: string; sha256: string }[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(l);
      if (!m) throw new Error(`not a sha256sum line: ${l}`);
      return { sha256: m[1]!, name: m[2]! };
    });
}
