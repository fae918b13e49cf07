/** Checksum files in `sha256sum` format: "<hex>  <name>", names relative to the file's directory. */
export function renderSha256Sums(entries: readonly { name: string; sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.name}\n`).join('');
}
