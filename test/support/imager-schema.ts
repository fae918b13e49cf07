/**
 * Raspberry Pi Imager's own os_list schema (test/fixtures/rpi-imager, source
 * noted there) as an oracle for the feeds pi-image writes. The schema checks
 * inline subitems only as an array, so each subitem is also checked as an
 * os_list entry of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { REPO_ROOT } from './test-image';

// Imager's schema is draft-07 and written loosely ($id fragments, examples): checked as Imager's
// authors meant it, not held to Ajv's strict mode.
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/rpi-imager/os-list-schema.json'), 'utf8')));

function errorsOf(value: unknown, where: string): string[] {
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${where}${e.instancePath} ${e.message}`);
}

/** Schema errors of a feed and of every inline subitem; [] when valid. */
export function imagerFeedErrors(feed: { os_list: unknown[] }): string[] {
  const errors = errorsOf(feed, '');
  feed.os_list.forEach((item, i) => {
    const subitems = (item as { subitems?: unknown[] }).subitems ?? [];
    subitems.forEach((sub, j) => errors.push(...errorsOf({ os_list: [sub] }, `/os_list/${i}/subitems/${j}`)));
  });
  return errors;
}
