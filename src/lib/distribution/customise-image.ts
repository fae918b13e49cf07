/**
 * `pi-image customise IMAGE.img`: the first-boot seed (boot-seed.ts) written
 * into a raw image file. A compressed image is refused: it would have to be
 * decompressed, customised and compressed again, which is the user's choice.
 */
import { PiImageError } from '../core/errors';
import { FileByteSource } from '../image/byte-source';
import { detectCompression } from '../image/compression';
import { writeSeed, type SeedOptions, type SeedResult } from './boot-seed';

export async function customiseImage(image: string, options: SeedOptions): Promise<SeedResult> {
  if ((await detectCompression(image)) !== 'none')
    throw new PiImageError('INPUT_INVALID', `${image} is compressed: customise writes into a raw image (.img) or a flashed disk; decompress it first`);
  return writeSeed({ name: image, path: image, open: () => FileByteSource.open(image) }, options);
}
