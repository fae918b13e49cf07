/** Validates release files against the JSON Schemas in docs/schemas. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { REPO_ROOT } from './test-image';

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv);

const load = (name: string) => ajv.compile(JSON.parse(readFileSync(join(REPO_ROOT, 'docs/schemas', name), 'utf8')));
const validators = { manifest: load('manifest.schema.json'), metadata: load('metadata.schema.json') };

/** Returns the schema errors, [] when valid. */
export function schemaErrors(kind: keyof typeof validators, value: unknown): string[] {
  const validate = validators[kind];
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
