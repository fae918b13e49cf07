/**
 * pi-image-build.json, written into deploy/ by `pi-image build` beside pi-gen's
 * outputs: what the .info cannot say. The .info's "Generated using" line holds
 * GIT_HASH, which pi-image sets to the recipe's commit (pi-gen's own default
 * would be pi-gen's commit), so neither commit can be read from it reliably.
 * Here each is named: the pi-gen commit that ran, the recipe commit and
 * whether its files were modified, and how the image was exported (layout,
 * identifiers, seed and epoch). `pi-image package` records it in metadata.json.
 */
import { PiImageError } from '../core/errors';
import { parseJsonObject } from '../core/json-value';

export const BUILD_RECORD_FILE = 'pi-image-build.json';

export interface RecordedPartition {
  number: number;
  label: string;
  fs: string;
  role: string;
  start: number;
  bytes: number;
  partUuid: string;
}

export interface RecordedExport {
  kind: 'rootless' | 'export-image';
  /** Rootless only: the layout and what identifies it. */
  layout: string | null;
  table: 'dos' | 'gpt' | null;
  diskId: string | null;
  seed: string | null;
  epoch: number | null;
  partitions: RecordedPartition[];
}

export interface BuildRecord {
  schemaVersion: 1;
  tool: { name: string; version: string };
  pigen: { repository: string; commit: string };
  recipe: { commit: string | null; modified: boolean | null };
  version: string;
  sourceDateEpoch: number | null;
  /** One per exported image, by IMG_FILENAME + suffix. */
  exports: Record<string, RecordedExport>;
}

function fail(source: string, what: string): never {
  throw new PiImageError('INPUT_INVALID', `${source}: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, source: string, field: string): string => (typeof v === 'string' && v.length < 4096 ? v : fail(source, `${field} is not a string`));
const strOrNull = (v: unknown, source: string, field: string): string | null => (v === null ? null : str(v, source, field));
const int = (v: unknown, source: string, field: string): number =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(source, `${field} is not a whole number`);

function parseExport(v: unknown, source: string, where: string): RecordedExport {
  if (!isObject(v)) fail(source, `${where} is not an object`);
  const kind = v.kind === 'rootless' || v.kind === 'export-image' ? v.kind : fail(source, `${where}.kind is not rootless or export-image`);
  const table = v.table === null || v.table === 'dos' || v.table === 'gpt' ? v.table : fail(source, `${where}.table is not dos, gpt or null`);
  if (!Array.isArray(v.partitions) || v.partitions.length > 128) fail(source, `${where}.partitions is not a list`);
  return {
    kind,
    layout: strOrNull(v.layout, source, `${where}.layout`),
    table,
    diskId: strOrNull(v.diskId, source, `${where}.diskId`),
    seed: strOrNull(v.seed, source, `${where}.seed`),
    epoch: v.epoch === null ? null : int(v.epoch, source, `${where}.epoch`),
    partitions: v.partitions.map((p, i) => {
      const at = `${where}.partitions[${i}]`;
      if (!isObject(p)) fail(source, `${at} is not an object`);
      return {
        number: int(p.number, source, `${at}.number`),
        label: str(p.label, source, `${at}.label`),
        fs: str(p.fs, source, `${at}.fs`),
        role: str(p.role, source, `${at}.role`),
        start: int(p.start, source, `${at}.start`),
        bytes: int(p.bytes, source, `${at}.bytes`),
        partUuid: str(p.partUuid, source, `${at}.partUuid`),
      };
    }),
  };
}

/** Reads a build record strictly: a field of the wrong kind is an error naming it, never a guess. */
export function parseBuildRecord(text: string, source: string): BuildRecord {
  const o = parseJsonObject(text) ?? fail(source, 'not a JSON object');
  if (o.schemaVersion !== 1) fail(source, `schemaVersion ${JSON.stringify(o.schemaVersion)} is not 1`);
  const tool = isObject(o.tool) ? o.tool : fail(source, 'tool is not an object');
  const pigen = isObject(o.pigen) ? o.pigen : fail(source, 'pigen is not an object');
  const recipe = isObject(o.recipe) ? o.recipe : fail(source, 'recipe is not an object');
  const exports = isObject(o.exports) ? o.exports : fail(source, 'exports is not an object');
  const modified =
    recipe.modified === null || typeof recipe.modified === 'boolean' ? recipe.modified : fail(source, 'recipe.modified is not true, false or null');
  return {
    schemaVersion: 1,
    tool: { name: str(tool.name, source, 'tool.name'), version: str(tool.version, source, 'tool.version') },
    pigen: { repository: str(pigen.repository, source, 'pigen.repository'), commit: str(pigen.commit, source, 'pigen.commit') },
    recipe: { commit: strOrNull(recipe.commit, source, 'recipe.commit'), modified },
    version: str(o.version, source, 'version'),
    sourceDateEpoch: o.sourceDateEpoch === null ? null : int(o.sourceDateEpoch, source, 'sourceDateEpoch'),
    exports: Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, parseExport(v, source, `exports.${k}`)])),
  };
}
