/**
 * The pi-gen settings this project writes into a config file, checked before
 * pi-gen sees them. Each check names the setting; values pi-gen cannot take
 * (a hostname with a space, a user name pi-gen's own regex refuses, a stage
 * path with whitespace that `for STAGE_DIR in $STAGE_LIST` would split) are
 * refused here with the reason, instead of failing forty minutes into a build.
 */
import { PiImageError } from '../core/errors';
import { IMAGE_COMPRESSIONS, isImageCompression, type ImageCompression } from '../image/compression';
import { SHELL_NAME, type ConfigEntry } from './config-file';

/** Typed settings, by the name a user types (CLI flag and action input). */
export interface PiGenSettings {
  imgName: string;
  release?: string | undefined;
  deployCompression?: ImageCompression | undefined;
  compressionLevel?: number | undefined;
  targetHostname?: string | undefined;
  localeDefault?: string | undefined;
  keyboardKeymap?: string | undefined;
  keyboardLayout?: string | undefined;
  timezoneDefault?: string | undefined;
  firstUserName?: string | undefined;
  firstUserPass?: string | undefined;
  disableFirstBootUserRename?: boolean | undefined;
  passwordlessSudo?: boolean | undefined;
  enableSsh?: boolean | undefined;
  pubkeySshFirstUser?: string | undefined;
  pubkeyOnlySsh?: boolean | undefined;
  wpaCountry?: string | undefined;
  aptProxy?: string | undefined;
  enableCloudInit?: boolean | undefined;
  piGenRelease?: string | undefined;
  /** Absolute paths of the stages, in order. */
  stageList: string[];
  /** Any other pi-gen (or product) variable, written as given after the checks. */
  extra?: Record<string, string> | undefined;
}

/** Variables the wrapper itself owns or pi-gen computes: not settable through `extra`. */
const RESERVED = new Set([
  'BASE_DIR',
  'SCRIPT_DIR',
  'WORK_DIR',
  'DEPLOY_DIR',
  'LOG_FILE',
  'STAGE',
  'STAGE_DIR',
  'STAGE_WORK_DIR',
  'PREV_STAGE',
  'PREV_STAGE_DIR',
  'ROOTFS_DIR',
  'PREV_ROOTFS_DIR',
  'EXPORT_DIR',
  'EXPORT_ROOTFS_DIR',
  'EXPORT_DIRS',
  'EXPORT_CONFIG_DIR',
  'STAGE_LIST',
  'IMG_DATE',
  'IMG_FILENAME',
  'ARCHIVE_FILENAME',
  'GIT_HASH',
  'CONTINUE',
  'CONTAINER_NAME',
  'PRESERVE_CONTAINER',
  'PIGEN_DOCKER_OPTS',
  'DOCKER',
]);

/**
 * Variables that change how bash, the dynamic loader or the tools pi-gen runs
 * behave: set in pi-gen's config they would run code or change what runs
 * (PS4 under `set -x`, PROMPT_COMMAND, BASH_ENV, LD_AUDIT, GCONV_PATH…).
 * A build setting has no business there.
 */
const PROCESS_VARIABLES = new Set([
  'PATH',
  'HOME',
  'IFS',
  'SHELL',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'EXECIGNORE',
  'FIGNORE',
  'HISTFILE',
  'INPUTRC',
  'BASH_XTRACEFD',
  'BASH_LOADABLES_PATH',
  'BASH_COMPAT',
  'POSIXLY_CORRECT',
  'TMOUT',
  'TMPDIR',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'RESOLV_HOST_CONF',
  'LOCALDOMAIN',
  'NODE_OPTIONS',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'RUBYOPT',
  'RUBYLIB',
  'OPENSSL_CONF',
  'SSLKEYLOGFILE',
  'GIT_DIR',
  'GIT_CONFIG',
  'GIT_CONFIG_GLOBAL',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_EXEC_PATH',
  'DEBIAN_FRONTEND',
  'DPKG_ROOT',
  'APT_CONFIG',
  'SUDO_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
]);
const PROCESS_PREFIXES = ['LD_', 'BASH_FUNC_', 'MALLOC_', 'GLIBC_', 'GIT_CONFIG_', 'DYLD_'];

export function isProcessVariable(name: string): boolean {
  return PROCESS_VARIABLES.has(name) || PROCESS_PREFIXES.some((p) => name.startsWith(p));
}

/** Removed from pi-gen: setting them does nothing, so a user should hear it. */
const REMOVED: Record<string, string> = {
  USE_QCOW2: 'pi-gen removed USE_QCOW2 in 2024; builds use plain directories now',
  WPA_ESSID: 'pi-gen removed WPA_ESSID in 2023; configure Wi-Fi with NetworkManager in a stage or cloud-init',
  WPA_PASSWORD: 'pi-gen removed WPA_PASSWORD in 2023; configure Wi-Fi with NetworkManager in a stage or cloud-init',
};

/** Typed setting → pi-gen variable. */
export const TYPED_VARIABLES: Record<Exclude<keyof PiGenSettings, 'stageList' | 'extra'>, string> = {
  imgName: 'IMG_NAME',
  release: 'RELEASE',
  deployCompression: 'DEPLOY_COMPRESSION',
  compressionLevel: 'COMPRESSION_LEVEL',
  targetHostname: 'TARGET_HOSTNAME',
  localeDefault: 'LOCALE_DEFAULT',
  keyboardKeymap: 'KEYBOARD_KEYMAP',
  keyboardLayout: 'KEYBOARD_LAYOUT',
  timezoneDefault: 'TIMEZONE_DEFAULT',
  firstUserName: 'FIRST_USER_NAME',
  firstUserPass: 'FIRST_USER_PASS',
  disableFirstBootUserRename: 'DISABLE_FIRST_BOOT_USER_RENAME',
  passwordlessSudo: 'PASSWORDLESS_SUDO',
  enableSsh: 'ENABLE_SSH',
  pubkeySshFirstUser: 'PUBKEY_SSH_FIRST_USER',
  pubkeyOnlySsh: 'PUBKEY_ONLY_SSH',
  wpaCountry: 'WPA_COUNTRY',
  aptProxy: 'APT_PROXY',
  enableCloudInit: 'ENABLE_CLOUD_INIT',
  piGenRelease: 'PI_GEN_RELEASE',
};

/** Settings whose values are secrets: masked in logs, never printed. */
export const SECRET_VARIABLES = new Set(['FIRST_USER_PASS']);

/** A refusal naming the setting; a secret's value is never shown, in part or whole. */
const bad = (setting: string, value: string, why: string, secret = false): PiImageError =>
  new PiImageError(
    'INPUT_INVALID',
    `${setting} ${secret ? '(secret, not shown)' : JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}: ${why}`,
  );

function oneLine(setting: string, value: string, secret = false): void {
  if (/[\r\n]/.test(value)) throw bad(setting, value, 'must be a single line', secret);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(value)) throw bad(setting, value, 'must not contain control characters', secret);
}

function match(setting: string, value: string, re: RegExp, why: string): void {
  oneLine(setting, value);
  if (!re.test(value)) throw bad(setting, value, why);
}

const bool = (v: boolean): string => (v ? '1' : '0');

/**
 * Checks every setting but the stage list (which needs pi-gen's checkout to
 * resolve): run before anything slow, so a bad value fails at once.
 */
export function checkSettings(settings: Omit<PiGenSettings, 'stageList'>, names: Partial<Record<keyof PiGenSettings, string>> = {}): void {
  // Named as pi-gen names them unless the caller says otherwise (an action's input names).
  const label = (k: keyof PiGenSettings): string =>
    names[k] ?? (TYPED_VARIABLES as Partial<Record<keyof PiGenSettings, string>>)[k] ?? (k === 'extra' ? 'setting' : k);
  const s = settings;
  match(label('imgName'), s.imgName, /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, 'use letters, digits, ".", "_", "+" and "-": it becomes file and directory names');
  if (s.release !== undefined) match(label('release'), s.release, /^[a-z][a-z0-9-]*$/, 'must be a Debian suite name such as trixie or bookworm');
  if (s.deployCompression !== undefined && !isImageCompression(s.deployCompression)) {
    throw bad(label('deployCompression'), s.deployCompression, `must be one of ${IMAGE_COMPRESSIONS.join(', ')}`);
  }
  if (s.compressionLevel !== undefined && !(Number.isInteger(s.compressionLevel) && s.compressionLevel >= 0 && s.compressionLevel <= 9)) {
    throw bad(label('compressionLevel'), String(s.compressionLevel), 'must be a whole number from 0 to 9');
  }
  if (s.targetHostname !== undefined) {
    match(
      label('targetHostname'),
      s.targetHostname,
      /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/,
      'must be a host name: letters, digits and inner hyphens, at most 63',
    );
  }
  if (s.localeDefault !== undefined)
    match(label('localeDefault'), s.localeDefault, /^[A-Za-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[A-Za-z]+)?$/, 'must be a locale such as en_GB.UTF-8');
  if (s.keyboardKeymap !== undefined) match(label('keyboardKeymap'), s.keyboardKeymap, /^[a-z0-9_-]{1,32}$/, 'must be a keymap such as gb or us');
  if (s.keyboardLayout !== undefined) oneLine(label('keyboardLayout'), s.keyboardLayout);
  if (s.timezoneDefault !== undefined)
    match(label('timezoneDefault'), s.timezoneDefault, /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, 'must be a tz database name such as Europe/London');
  if (s.firstUserName !== undefined) match(label('firstUserName'), s.firstUserName, /^[a-z][-a-z0-9_]*$/, 'pi-gen requires ^[a-z][-a-z0-9_]*$');
  if (s.firstUserPass !== undefined) {
    oneLine(label('firstUserPass'), s.firstUserPass, true);
  }
  if (s.disableFirstBootUserRename && !s.firstUserPass) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${label('disableFirstBootUserRename')} needs ${label('firstUserPass')}: pi-gen refuses to ship a default user without a password`,
    );
  }
  if (s.pubkeySshFirstUser !== undefined) {
    for (const line of s.pubkeySshFirstUser.split('\n').filter((l) => l.trim() !== '')) {
      if (!/^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$/.test(line.trim())) {
        throw bad(label('pubkeySshFirstUser'), line, 'is not an OpenSSH public key line');
      }
    }
  }
  if (s.pubkeyOnlySsh && !s.pubkeySshFirstUser) {
    throw new PiImageError('INPUT_INVALID', `${label('pubkeyOnlySsh')} needs ${label('pubkeySshFirstUser')}: without a key nobody could log in`);
  }
  if (s.wpaCountry !== undefined) match(label('wpaCountry'), s.wpaCountry, /^[A-Z]{2}$/, 'must be a two-letter ISO 3166 country code such as GB');
  if (s.aptProxy !== undefined) match(label('aptProxy'), s.aptProxy, /^https?:\/\/[^\s'"`$\\]+$/, 'must be an http(s) URL');
  if (s.piGenRelease !== undefined) oneLine(label('piGenRelease'), s.piGenRelease);
  const typed = new Set(Object.values(TYPED_VARIABLES));
  for (const [name, value] of Object.entries(s.extra ?? {})) {
    const where = `${label('extra')} ${name}`;
    if (!SHELL_NAME.test(name)) throw new PiImageError('INPUT_INVALID', `${where}: not a shell variable name`);
    if (REMOVED[name]) throw new PiImageError('INPUT_INVALID', `${where}: ${REMOVED[name]}`);
    if (RESERVED.has(name)) throw new PiImageError('INPUT_INVALID', `${where}: set by pi-image or pi-gen itself, not by a config`);
    if (isProcessVariable(name))
      throw new PiImageError('INPUT_INVALID', `${where}: changes how bash or the programs pi-gen runs behave (it could run code), not a build setting`);
    if (typed.has(name)) throw new PiImageError('INPUT_INVALID', `${where}: use the typed setting for it, which is checked`);
    if (value.includes('\0')) throw bad(where, value, 'must not contain a NUL byte');
  }
}

/** Checks the settings and returns the config entries, in a stable order. */
export function piGenConfigEntries(settings: PiGenSettings, names: Partial<Record<keyof PiGenSettings, string>> = {}): ConfigEntry[] {
  const label = (k: keyof PiGenSettings): string => names[k] ?? (k === 'stageList' ? 'STAGE_LIST' : k);
  const s = settings;
  checkSettings(s, names);
  if (s.stageList.length === 0) throw new PiImageError('INPUT_INVALID', `${label('stageList')} is empty: name at least one stage`);
  for (const stage of s.stageList) {
    if (!stage.startsWith('/')) throw bad(label('stageList'), stage, 'must be an absolute path');
    if (/\s/.test(stage)) throw bad(label('stageList'), stage, 'must not contain whitespace: pi-gen splits STAGE_LIST on spaces');
    oneLine(label('stageList'), stage);
  }

  const entries: ConfigEntry[] = [];
  for (const [key, variable] of Object.entries(TYPED_VARIABLES) as [keyof typeof TYPED_VARIABLES, string][]) {
    const value = s[key];
    if (value === undefined) continue;
    entries.push({
      name: variable,
      value: typeof value === 'boolean' ? bool(value) : String(value),
      ...(SECRET_VARIABLES.has(variable) ? { comment: `${variable}: secret, masked in logs` } : {}),
    });
  }
  entries.push({ name: 'STAGE_LIST', value: s.stageList.join(' ') });
  for (const [name, value] of Object.entries(s.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) entries.push({ name, value });
  return entries;
}
