/**
 * pi-gen names its files after IMG_DATE (the build day) unless told otherwise.
 * A release's files must be named after the version being built, so the same
 * version built on another day has the same names: IMG_FILENAME and
 * ARCHIVE_FILENAME come from IMG_NAME and the version; IMG_DATE (shown in the
 * image's issue.txt and .info) comes from SOURCE_DATE_EPOCH when set.
 */
import { checkSafeName } from '../core/safe-name';

export interface ImageNames {
  IMG_DATE: string;
  IMG_FILENAME: string;
  ARCHIVE_FILENAME: string;
}

export function imageNames(imgName: string, version: string, buildDate: Date): ImageNames {
  checkSafeName(version, 'version');
  const base = `${imgName}-${version}`;
  return { IMG_DATE: buildDate.toISOString().slice(0, 10), IMG_FILENAME: base, ARCHIVE_FILENAME: `image_${base}` };
}
