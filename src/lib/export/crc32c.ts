/**
 * CRC-32C (Castagnoli) as ext4 uses it: the raw register update, with no
 * inversion on the way in or out (the kernel's crc32c_le), so a checksum can
 * be continued over several pieces from any seed.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = crc >>> 0;
  for (const b of data) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** The standard CRC-32C (inverted in and out): "123456789" gives 0xe3069283. */
export function crc32c(data: Uint8Array): number {
  return (crc32cUpdate(0xffffffff, data) ^ 0xffffffff) >>> 0;
}
