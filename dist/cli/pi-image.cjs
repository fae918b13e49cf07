#!/usr/bin/env node
"use strict";
var __defProp = Object.defineProperty;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });

// src/cli/cli.ts
var import_node_util = require("node:util");

// src/lib/core/errors.ts
var USER_ERROR_CODES = [
  "USAGE",
  "INPUT_INVALID",
  "DEPLOY_NOT_FOUND",
  "DEPLOY_NO_IMAGE",
  "DEPLOY_AMBIGUOUS",
  "DEPLOY_NO_INFO",
  "IMAGE_CORRUPT",
  "IMAGE_EMPTY",
  "IMAGE_NOT_DISK",
  "LOG_INVALID",
  "INFO_INVALID",
  "OUTPUT_EXISTS"
];
var PiImageError = class extends Error {
  static {
    __name(this, "PiImageError");
  }
  code;
  constructor(code, message, options) {
    super(message, options);
    this.name = "PiImageError";
    this.code = code;
  }
  /** True when the user can fix it by changing an input (exit code 2). */
  get isUserError() {
    return USER_ERROR_CODES.includes(this.code);
  }
};
var EXIT_FAILURE = 1;
var EXIT_USER_ERROR = 2;
function exitCodeFor(error) {
  return error instanceof PiImageError && error.isUserError ? EXIT_USER_ERROR : EXIT_FAILURE;
}
__name(exitCodeFor, "exitCodeFor");
function describeError(error) {
  if (!(error instanceof Error)) return String(error);
  const head = error instanceof PiImageError ? `${error.message} [${error.code}]` : error.message;
  const causes = [];
  let cause = error.cause;
  for (let depth = 0; cause !== void 0 && depth < 5; depth++) {
    causes.push(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : void 0;
  }
  return [head, ...causes].join("\n");
}
__name(describeError, "describeError");

// package.json
var version = "0.0.0-development";

// src/lib/version.ts
var TOOL_VERSION = version;
var TOOL_NAME = "pi-image-release";

// src/cli/commands/build-command.ts
var import_node_os = require("node:os");
var import_node_path8 = require("node:path");

// src/lib/build/build.ts
var import_promises6 = require("node:fs/promises");
var import_node_path5 = require("node:path");

// src/lib/core/exec.ts
var import_node_child_process = require("node:child_process");
function commandLine(cmd, args) {
  return [cmd, ...args].map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
}
__name(commandLine, "commandLine");
function spawnError(cmd, error) {
  if (error.code === "ENOENT") {
    return new PiImageError("TOOL_MISSING", `${cmd} is not installed or not on PATH`, { cause: error });
  }
  return new PiImageError("EXEC_FAILED", `could not start ${cmd}: ${error.message}`, { cause: error });
}
__name(spawnError, "spawnError");
function execCapture(cmd, args, options) {
  options.logger.debug(`$ ${commandLine(cmd, args)}`);
  return new Promise((resolve7, reject) => {
    const child = (0, import_node_child_process.spawn)(cmd, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", (e) => reject(spawnError(cmd, e)));
    child.on("close", (code, signal) => {
      const result = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8")
      };
      if (result.code !== 0 && !options.allowFailure) {
        const why = signal ? `was killed by ${signal}` : `exited with ${result.code}`;
        reject(new PiImageError("EXEC_FAILED", `${commandLine(cmd, args)} ${why}: ${result.stderr.trim().slice(-2e3)}`));
      } else {
        resolve7(result);
      }
    });
  });
}
__name(execCapture, "execCapture");
function execStream(cmd, args, options) {
  options.logger.debug(`$ ${commandLine(cmd, args)}`);
  const child = (0, import_node_child_process.spawn)(cmd, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin, "pipe", "pipe"]
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr = (stderr + d.toString("utf8")).slice(-4e3);
  });
  const done = new Promise((resolve7, reject) => {
    child.on("error", (e) => reject(spawnError(cmd, e)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve7();
      else {
        const why = signal ? `was killed by ${signal}` : `exited with ${code}`;
        reject(new PiImageError("EXEC_FAILED", `${commandLine(cmd, args)} ${why}: ${stderr.trim()}`));
      }
    });
  });
  done.catch(() => {
  });
  return { child, done };
}
__name(execStream, "execStream");
function execFollow(cmd, args, options) {
  options.logger.info(`$ ${commandLine(cmd, args)}`);
  return new Promise((resolve7, reject) => {
    const child = (0, import_node_child_process.spawn)(cmd, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", options.onOutput);
    child.stderr.setEncoding("utf8").on("data", options.onOutput);
    child.on("error", (e) => reject(spawnError(cmd, e)));
    child.on("close", (code, signal) => resolve7(code ?? (signal ? 128 : 1)));
  });
}
__name(execFollow, "execFollow");

// src/lib/pigen/config-file.ts
function shellQuote(value) {
  if (value.includes("\0")) throw new PiImageError("INPUT_INVALID", "a value cannot contain a NUL byte");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
__name(shellQuote, "shellQuote");
var SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
function renderPiGenConfig(entries, header) {
  const seen = /* @__PURE__ */ new Set();
  const lines = header.split("\n").filter((l) => l !== "").map((l) => `# ${l}`);
  for (const e of entries) {
    if (!SHELL_NAME.test(e.name)) throw new PiImageError("INPUT_INVALID", `"${e.name}" is not a valid pi-gen variable name`);
    if (seen.has(e.name)) throw new PiImageError("INPUT_INVALID", `${e.name} is set twice`);
    seen.add(e.name);
    if (e.comment) lines.push(`# ${e.comment.replace(/\n/g, " ")}`);
    lines.push(`export ${e.name}=${shellQuote(e.value)}`);
  }
  return `${lines.join("\n")}
`;
}
__name(renderPiGenConfig, "renderPiGenConfig");

// src/lib/pigen/deploy-layout.ts
var import_promises = require("node:fs/promises");
var import_node_path = require("node:path");
function classifyImageName(name) {
  const strip = /* @__PURE__ */ __name((s) => s.replace(/^image_/, ""), "strip");
  let m;
  if (m = /^(.+)\.img\.xz$/.exec(name)) return { compression: "xz", base: strip(m[1]) };
  if (m = /^(.+)\.img\.gz$/.exec(name)) return { compression: "gz", base: strip(m[1]) };
  if (m = /^(.+)\.zip$/.exec(name)) return { compression: "zip", base: strip(m[1]) };
  if (m = /^(.+)\.img$/.exec(name)) return { compression: "none", base: m[1] };
  return void 0;
}
__name(classifyImageName, "classifyImageName");
async function isFile(path) {
  try {
    return (await (0, import_promises.stat)(path)).isFile();
  } catch {
    return false;
  }
}
__name(isFile, "isFile");
async function findDeployOutputs(deployDir, options = {}) {
  const dir = (0, import_node_path.resolve)(deployDir);
  let names;
  try {
    if (!(await (0, import_promises.stat)(dir)).isDirectory()) throw new Error("not a directory");
    names = (await (0, import_promises.readdir)(dir)).sort();
  } catch (e) {
    throw new PiImageError("DEPLOY_NOT_FOUND", `deploy directory ${deployDir} cannot be read: ${e.message}`, { cause: e });
  }
  let image;
  if (options.image) {
    const path = (0, import_node_path.resolve)(dir, options.image);
    const kind = classifyImageName((0, import_node_path.basename)(path));
    if (!kind) {
      throw new PiImageError("INPUT_INVALID", `image ${options.image}: not a pi-gen image name (expected .zip, .img.gz, .img.xz or .img)`);
    }
    if (!await isFile(path)) throw new PiImageError("DEPLOY_NO_IMAGE", `image ${options.image} does not exist`);
    image = { path, ...kind };
  } else {
    const candidates = [];
    for (const name of names) {
      const kind = classifyImageName(name);
      if (kind && await isFile((0, import_node_path.join)(dir, name))) candidates.push({ path: (0, import_node_path.join)(dir, name), ...kind });
    }
    if (candidates.length === 0) {
      throw new PiImageError(
        "DEPLOY_NO_IMAGE",
        `no pi-gen image in ${deployDir} (looked for image_*.zip, *.img.gz, *.img.xz, *.img); it holds: ${names.join(", ") || "nothing"}`
      );
    }
    if (candidates.length > 1) {
      throw new PiImageError(
        "DEPLOY_AMBIGUOUS",
        `${candidates.length} images in ${deployDir}: ${candidates.map((c) => (0, import_node_path.basename)(c.path)).join(", ")}; choose one with --image (or SKIP_IMAGES the stages you do not ship)`
      );
    }
    image = candidates[0];
  }
  let info;
  if (options.info) {
    info = (0, import_node_path.resolve)(dir, options.info);
    if (!await isFile(info)) throw new PiImageError("DEPLOY_NO_INFO", `info file ${options.info} does not exist`);
  } else if (names.includes(`${image.base}.info`)) {
    info = (0, import_node_path.join)(dir, `${image.base}.info`);
  } else {
    const infos = names.filter((n) => n.endsWith(".info"));
    if (infos.length === 1) info = (0, import_node_path.join)(dir, infos[0]);
    else {
      throw new PiImageError(
        "DEPLOY_NO_INFO",
        infos.length === 0 ? `no ${image.base}.info in ${deployDir}: pi-gen writes one beside every image` : `no ${image.base}.info in ${deployDir} and several others (${infos.join(", ")}); choose one with --info`
      );
    }
  }
  let buildLog;
  if (options.buildLog) {
    buildLog = (0, import_node_path.resolve)(options.buildLog);
    if (!await isFile(buildLog)) throw new PiImageError("INPUT_INVALID", `build log ${options.buildLog} does not exist`);
  } else if (await isFile((0, import_node_path.join)(dir, "build.log"))) {
    buildLog = (0, import_node_path.join)(dir, "build.log");
  }
  const layout = { dir, image, info };
  if (buildLog) layout.buildLog = buildLog;
  if (names.includes(`${image.base}.bmap`)) layout.pigenBmap = (0, import_node_path.join)(dir, `${image.base}.bmap`);
  const sbom = names.find((n) => n === `${image.base}.sbom` || n === `${image.base}.sbom.xz`);
  if (sbom) layout.pigenSbom = (0, import_node_path.join)(dir, sbom);
  return layout;
}
__name(findDeployOutputs, "findDeployOutputs");

// src/lib/pigen/image-names.ts
function imageNames(imgName, version2, buildDate) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/.test(version2)) {
    throw new PiImageError("INPUT_INVALID", `version "${version2}" cannot be used in file names: use letters, digits, '.', '_', '+' and '-'`);
  }
  const base = `${imgName}-${version2}`;
  return { IMG_DATE: buildDate.toISOString().slice(0, 10), IMG_FILENAME: base, ARCHIVE_FILENAME: `image_${base}` };
}
__name(imageNames, "imageNames");

// src/lib/pigen/settings.ts
var RESERVED = /* @__PURE__ */ new Set([
  "BASE_DIR",
  "SCRIPT_DIR",
  "WORK_DIR",
  "DEPLOY_DIR",
  "LOG_FILE",
  "STAGE",
  "STAGE_DIR",
  "STAGE_WORK_DIR",
  "PREV_STAGE",
  "PREV_STAGE_DIR",
  "ROOTFS_DIR",
  "PREV_ROOTFS_DIR",
  "EXPORT_DIR",
  "EXPORT_ROOTFS_DIR",
  "EXPORT_DIRS",
  "STAGE_LIST",
  "IMG_DATE",
  "IMG_FILENAME",
  "ARCHIVE_FILENAME",
  "GIT_HASH",
  "CONTINUE",
  "CONTAINER_NAME",
  "PRESERVE_CONTAINER",
  "PIGEN_DOCKER_OPTS",
  "DOCKER",
  "PATH",
  "HOME",
  "IFS",
  "SHELL",
  "BASH_ENV",
  "ENV",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH"
]);
var REMOVED = {
  USE_QCOW2: "pi-gen removed USE_QCOW2 in 2024; builds use plain directories now",
  WPA_ESSID: "pi-gen removed WPA_ESSID in 2023; configure Wi-Fi with NetworkManager in a stage or cloud-init",
  WPA_PASSWORD: "pi-gen removed WPA_PASSWORD in 2023; configure Wi-Fi with NetworkManager in a stage or cloud-init"
};
var TYPED_VARIABLES = {
  imgName: "IMG_NAME",
  release: "RELEASE",
  deployCompression: "DEPLOY_COMPRESSION",
  compressionLevel: "COMPRESSION_LEVEL",
  targetHostname: "TARGET_HOSTNAME",
  localeDefault: "LOCALE_DEFAULT",
  keyboardKeymap: "KEYBOARD_KEYMAP",
  keyboardLayout: "KEYBOARD_LAYOUT",
  timezoneDefault: "TIMEZONE_DEFAULT",
  firstUserName: "FIRST_USER_NAME",
  firstUserPass: "FIRST_USER_PASS",
  disableFirstBootUserRename: "DISABLE_FIRST_BOOT_USER_RENAME",
  passwordlessSudo: "PASSWORDLESS_SUDO",
  enableSsh: "ENABLE_SSH",
  pubkeySshFirstUser: "PUBKEY_SSH_FIRST_USER",
  pubkeyOnlySsh: "PUBKEY_ONLY_SSH",
  wpaCountry: "WPA_COUNTRY",
  aptProxy: "APT_PROXY",
  enableCloudInit: "ENABLE_CLOUD_INIT",
  piGenRelease: "PI_GEN_RELEASE"
};
var SECRET_VARIABLES = /* @__PURE__ */ new Set(["FIRST_USER_PASS"]);
var bad = /* @__PURE__ */ __name((setting, value, why) => new PiImageError("INPUT_INVALID", `${setting} ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}\u2026` : value)}: ${why}`), "bad");
function oneLine(setting, value) {
  if (/[\r\n]/.test(value)) throw bad(setting, value, "must be a single line");
  if (/[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(value)) throw bad(setting, value, "must not contain control characters");
}
__name(oneLine, "oneLine");
function match(setting, value, re, why) {
  oneLine(setting, value);
  if (!re.test(value)) throw bad(setting, value, why);
}
__name(match, "match");
var bool = /* @__PURE__ */ __name((v) => v ? "1" : "0", "bool");
function piGenConfigEntries(settings, names = {}) {
  const label = /* @__PURE__ */ __name((k) => names[k] ?? k, "label");
  const s = settings;
  match(label("imgName"), s.imgName, /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/, 'use letters, digits, ".", "_", "+" and "-": it becomes file and directory names');
  if (s.release !== void 0) match(label("release"), s.release, /^[a-z][a-z0-9-]*$/, "must be a Debian suite name such as trixie or bookworm");
  if (s.deployCompression !== void 0 && !["zip", "gz", "xz", "none"].includes(s.deployCompression)) {
    throw bad(label("deployCompression"), s.deployCompression, "must be one of zip, gz, xz, none");
  }
  if (s.compressionLevel !== void 0 && !(Number.isInteger(s.compressionLevel) && s.compressionLevel >= 0 && s.compressionLevel <= 9)) {
    throw bad(label("compressionLevel"), String(s.compressionLevel), "must be a whole number from 0 to 9");
  }
  if (s.targetHostname !== void 0) {
    match(label("targetHostname"), s.targetHostname, /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, "must be a host name: letters, digits and inner hyphens, at most 63");
  }
  if (s.localeDefault !== void 0) match(label("localeDefault"), s.localeDefault, /^[A-Za-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[A-Za-z]+)?$/, "must be a locale such as en_GB.UTF-8");
  if (s.keyboardKeymap !== void 0) match(label("keyboardKeymap"), s.keyboardKeymap, /^[a-z0-9_-]{1,32}$/, "must be a keymap such as gb or us");
  if (s.keyboardLayout !== void 0) oneLine(label("keyboardLayout"), s.keyboardLayout);
  if (s.timezoneDefault !== void 0) match(label("timezoneDefault"), s.timezoneDefault, /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/, "must be a tz database name such as Europe/London");
  if (s.firstUserName !== void 0) match(label("firstUserName"), s.firstUserName, /^[a-z][-a-z0-9_]*$/, "pi-gen requires ^[a-z][-a-z0-9_]*$");
  if (s.firstUserPass !== void 0) {
    oneLine(label("firstUserPass"), s.firstUserPass);
  }
  if (s.disableFirstBootUserRename && !s.firstUserPass) {
    throw new PiImageError("INPUT_INVALID", `${label("disableFirstBootUserRename")} needs ${label("firstUserPass")}: pi-gen refuses to ship a default user without a password`);
  }
  if (s.pubkeySshFirstUser !== void 0) {
    for (const line of s.pubkeySshFirstUser.split("\n").filter((l) => l.trim() !== "")) {
      if (!/^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( .*)?$/.test(line.trim())) {
        throw bad(label("pubkeySshFirstUser"), line, "is not an OpenSSH public key line");
      }
    }
  }
  if (s.pubkeyOnlySsh && !s.pubkeySshFirstUser) {
    throw new PiImageError("INPUT_INVALID", `${label("pubkeyOnlySsh")} needs ${label("pubkeySshFirstUser")}: without a key nobody could log in`);
  }
  if (s.wpaCountry !== void 0) match(label("wpaCountry"), s.wpaCountry, /^[A-Z]{2}$/, "must be a two-letter ISO 3166 country code such as GB");
  if (s.aptProxy !== void 0) match(label("aptProxy"), s.aptProxy, /^https?:\/\/[^\s'"`$\\]+$/, "must be an http(s) URL");
  if (s.piGenRelease !== void 0) oneLine(label("piGenRelease"), s.piGenRelease);
  if (s.stageList.length === 0) throw new PiImageError("INPUT_INVALID", `${label("stageList")} is empty: name at least one stage`);
  for (const stage of s.stageList) {
    if (!stage.startsWith("/")) throw bad(label("stageList"), stage, "must be an absolute path");
    if (/\s/.test(stage)) throw bad(label("stageList"), stage, "must not contain whitespace: pi-gen splits STAGE_LIST on spaces");
    oneLine(label("stageList"), stage);
  }
  const entries = [];
  for (const [key, variable] of Object.entries(TYPED_VARIABLES)) {
    const value = s[key];
    if (value === void 0) continue;
    entries.push({
      name: variable,
      value: typeof value === "boolean" ? bool(value) : String(value),
      ...SECRET_VARIABLES.has(variable) ? { comment: `${variable}: secret, masked in logs` } : {}
    });
  }
  entries.push({ name: "STAGE_LIST", value: s.stageList.join(" ") });
  const typed = new Set(Object.values(TYPED_VARIABLES));
  for (const [name, value] of Object.entries(s.extra ?? {}).sort(([a], [b]) => a < b ? -1 : 1)) {
    const where = `${label("extra")} ${name}`;
    if (!SHELL_NAME.test(name)) throw new PiImageError("INPUT_INVALID", `${where}: not a shell variable name`);
    if (REMOVED[name]) throw new PiImageError("INPUT_INVALID", `${where}: ${REMOVED[name]}`);
    if (RESERVED.has(name)) throw new PiImageError("INPUT_INVALID", `${where}: set by pi-image or pi-gen itself, not by a config`);
    if (typed.has(name)) throw new PiImageError("INPUT_INVALID", `${where}: use the typed setting for it, which is checked`);
    if (value.includes("\0")) throw bad(where, value, "must not contain a NUL byte");
    entries.push({ name, value });
  }
  return entries;
}
__name(piGenConfigEntries, "piGenConfigEntries");

// src/lib/pigen/stage-list.ts
var import_promises2 = require("node:fs/promises");
var import_node_path2 = require("node:path");
var CONTAINER_PIGEN_DIR = "/pi-gen";
async function isDir(path) {
  try {
    return (await (0, import_promises2.stat)(path)).isDirectory();
  } catch {
    return false;
  }
}
__name(isDir, "isDir");
async function filesUnder(dir, prefix = "") {
  const out = [];
  for (const e of await (0, import_promises2.readdir)((0, import_node_path2.join)(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...await filesUnder(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}
__name(filesUnder, "filesUnder");
var UPSTREAM = /^(stage\d+|export-image|export-noobs)$/;
async function resolveStageList(specs, options) {
  if (specs.length === 0) throw new PiImageError("INPUT_INVALID", "stage list is empty: name at least one stage");
  const warnings = [];
  const stages = [];
  const names = /* @__PURE__ */ new Set();
  const overrides = options.overridesDir ? (0, import_node_path2.resolve)(options.baseDir, options.overridesDir) : void 0;
  if (overrides && !await isDir(overrides)) throw new PiImageError("INPUT_INVALID", `overrides directory ${options.overridesDir} does not exist`);
  for (const spec of specs) {
    if (/\s/.test(spec)) throw new PiImageError("INPUT_INVALID", `stage "${spec}": paths with whitespace break pi-gen's STAGE_LIST`);
    const upstream = UPSTREAM.test(spec);
    const hostPath = upstream ? (0, import_node_path2.join)(options.pigenDir, spec) : (0, import_node_path2.isAbsolute)(spec) ? spec : (0, import_node_path2.resolve)(options.baseDir, spec);
    if (!await isDir(hostPath)) {
      throw new PiImageError("INPUT_INVALID", upstream ? `stage ${spec} is not in pi-gen at ${options.pigenDir}` : `stage ${spec} is not a directory (${hostPath})`);
    }
    const name = (0, import_node_path2.basename)(hostPath);
    if (names.has(name)) throw new PiImageError("INPUT_INVALID", `stage ${name} appears twice; pi-gen keys its work directories by stage name`);
    names.add(name);
    const overrideDir = overrides ? (0, import_node_path2.join)(overrides, name) : void 0;
    if (overrideDir && await isDir(overrideDir)) {
      if (!upstream) throw new PiImageError("INPUT_INVALID", `overrides for ${name}: overrides apply to pi-gen's own stages; change your stage ${spec} itself`);
      const copy = (0, import_node_path2.join)(options.workDir, "stages", name);
      await (0, import_promises2.cp)(hostPath, copy, { recursive: true, preserveTimestamps: true, force: true });
      const files = await filesUnder(overrideDir);
      for (const f of files) await (0, import_promises2.cp)((0, import_node_path2.join)(overrideDir, f), (0, import_node_path2.join)(copy, f), { preserveTimestamps: true, force: true });
      stages.push({ name, hostPath: copy, buildPath: copy, upstream, mount: options.runtime === "container", overridden: files });
      continue;
    }
    const buildPath = upstream && options.runtime === "container" ? `${CONTAINER_PIGEN_DIR}/${spec}` : hostPath;
    stages.push({ name, hostPath, buildPath, upstream, mount: options.runtime === "container" && !upstream, overridden: [] });
  }
  if (overrides) {
    for (const e of await (0, import_promises2.readdir)(overrides, { withFileTypes: true })) {
      if (e.isDirectory() && !names.has(e.name)) warnings.push(`overrides for ${e.name} are not used: ${e.name} is not in the stage list`);
    }
  }
  return { stages, warnings };
}
__name(resolveStageList, "resolveStageList");

// src/lib/build/apt-proxy.ts
var import_node_crypto = require("node:crypto");
var import_node_fs = require("node:fs");
var import_promises3 = require("node:fs/promises");
var import_node_http = require("node:http");
var import_node_path3 = require("node:path");
var PACKAGE_FILE = /\.(u|d)?deb$/;
var HOP_HEADERS = /* @__PURE__ */ new Set(["connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
function cachePathFor(cacheDir, url) {
  if (url.protocol !== "http:" || url.search || !PACKAGE_FILE.test(url.pathname)) return void 0;
  let segments;
  try {
    segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return void 0;
  }
  const host = url.host.toLowerCase();
  const safe = /* @__PURE__ */ __name((s) => s !== "." && s !== ".." && /^[A-Za-z0-9._+~%:-]+$/.test(s), "safe");
  if (!/^[a-z0-9.-]+(:\d+)?$/.test(host) || segments.length === 0 || !segments.every(safe)) return void 0;
  return (0, import_node_path3.join)(cacheDir, host.replace(":", "_"), ...segments);
}
__name(cachePathFor, "cachePathFor");
function forwardHeaders(headers, dropRange) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === void 0 || HOP_HEADERS.has(k) || dropRange && (k === "range" || k === "if-range")) continue;
    out[k] = v;
  }
  return out;
}
__name(forwardHeaders, "forwardHeaders");
async function startAptProxy(options) {
  const { logger } = options;
  const stats = { hits: 0, stored: 0, passedThrough: 0, refused: 0 };
  await (0, import_promises3.mkdir)(options.cacheDir, { recursive: true });
  const refuse = /* @__PURE__ */ __name((res, code, why) => {
    stats.refused++;
    res.writeHead(code, { "content-type": "text/plain" }).end(`${why}
`);
  }, "refuse");
  const serveCached = /* @__PURE__ */ __name(async (res, path, head) => {
    try {
      const s = await (0, import_promises3.stat)(path);
      if (!s.isFile()) return false;
      stats.hits++;
      res.writeHead(200, { "content-length": String(s.size), "content-type": "application/vnd.debian.binary-package", "x-cache": "HIT" });
      if (head) res.end();
      else (0, import_node_fs.createReadStream)(path).pipe(res);
      return true;
    } catch {
      return false;
    }
  }, "serveCached");
  const handle = /* @__PURE__ */ __name(async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, "only GET and HEAD are proxied");
    if (!req.url || req.url.startsWith("/")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("pi-image apt proxy\n");
      return;
    }
    let url2;
    try {
      url2 = new URL(req.url);
    } catch {
      return refuse(res, 400, "not an absolute URL");
    }
    if (url2.protocol !== "http:") return refuse(res, 400, "only http URLs are proxied");
    const cachePath = cachePathFor(options.cacheDir, url2);
    const head = req.method === "HEAD";
    if (cachePath && await serveCached(res, cachePath, head)) return;
    const upstream = (0, import_node_http.request)(url2, { method: req.method, headers: { ...forwardHeaders(req.headers, !!cachePath), host: url2.host }, timeout: options.upstreamTimeoutMs ?? 6e4 });
    upstream.on("timeout", () => upstream.destroy(new Error("upstream timed out")));
    upstream.on("error", (e) => {
      if (!res.headersSent) refuse(res, 502, `upstream: ${e.message}`);
      else res.destroy(e);
    });
    upstream.on("response", (up) => {
      const headers = forwardHeaders(up.headers, false);
      res.writeHead(up.statusCode ?? 502, headers);
      if (!cachePath || up.statusCode !== 200 || head) {
        stats.passedThrough++;
        up.pipe(res);
        return;
      }
      const expected = up.headers["content-length"] ? Number(up.headers["content-length"]) : void 0;
      const temp = (0, import_node_path3.join)(options.cacheDir, `.partial-${(0, import_node_crypto.randomBytes)(6).toString("hex")}`);
      const file = (0, import_node_fs.createWriteStream)(temp);
      let length = 0;
      let failed = false;
      up.on("data", (chunk) => {
        length += chunk.length;
      });
      up.pipe(res);
      up.pipe(file);
      const abandon = /* @__PURE__ */ __name(() => {
        failed = true;
        file.destroy();
        void (0, import_promises3.rm)(temp, { force: true });
      }, "abandon");
      up.on("aborted", abandon);
      up.on("error", () => {
        abandon();
        res.destroy();
      });
      file.on("error", abandon);
      file.on("finish", async () => {
        if (failed || expected !== void 0 && length !== expected) {
          logger.warn(`apt proxy: ${url2.href} ended after ${length} of ${expected ?? "?"} bytes; not cached`);
          await (0, import_promises3.rm)(temp, { force: true });
          return;
        }
        try {
          await (0, import_promises3.mkdir)((0, import_node_path3.dirname)(cachePath), { recursive: true });
          await (0, import_promises3.rename)(temp, cachePath);
          stats.stored++;
        } catch (e) {
          logger.warn(`apt proxy: could not store ${url2.href}: ${e.message}`);
          await (0, import_promises3.rm)(temp, { force: true });
        }
      });
    });
    req.pipe(upstream);
  }, "handle");
  const server = (0, import_node_http.createServer)((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) refuse(res, 500, e.message);
      else res.destroy();
    });
  });
  server.on("connect", (_req, socket) => {
    stats.refused++;
    socket.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
  });
  await new Promise((resolve7, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve7());
  });
  const port = server.address().port;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  logger.info(`apt cache proxy at ${url}, package files kept in ${options.cacheDir}`);
  return {
    url,
    port,
    stats,
    close: /* @__PURE__ */ __name(() => new Promise((resolve7) => {
      server.close(() => resolve7());
      server.closeAllConnections();
    }), "close")
  };
}
__name(startAptProxy, "startAptProxy");

// src/lib/build/buildkit.ts
var import_node_child_process2 = require("node:child_process");
var realBuildkitDeps = /* @__PURE__ */ __name((onPath) => ({
  probe: /* @__PURE__ */ __name(async () => false, "probe"),
  startDaemon: /* @__PURE__ */ __name((argv) => {
    const child = (0, import_node_child_process2.spawn)(argv[0], argv.slice(1), { detached: true, stdio: "ignore" });
    child.on("error", () => {
    });
    child.unref();
  }, "startDaemon"),
  sleep: /* @__PURE__ */ __name((ms) => new Promise((r) => setTimeout(r, ms)), "sleep"),
  onPath
}), "realBuildkitDeps");
async function ensureBuildkit(sudo, deps, logger) {
  const workers = /* @__PURE__ */ __name(() => deps.probe(sudo[0] ?? "buildctl", [...sudo.slice(1), ...sudo.length > 0 ? ["buildctl"] : [], "debug", "workers"]), "workers");
  if (await workers()) {
    logger.info("buildkitd answers");
    return;
  }
  if (!deps.onPath("buildkitd")) {
    throw new PiImageError("TOOL_MISSING", "runtime nerdctl needs BuildKit for `nerdctl build`: install buildkit (buildkitd, buildctl) or choose another runtime");
  }
  logger.info("starting buildkitd for nerdctl build");
  deps.startDaemon([...sudo, "buildkitd"]);
  for (let i = 0; i < 30; i++) {
    await deps.sleep(1e3);
    if (await workers()) return;
  }
  throw new PiImageError("EXEC_FAILED", "buildkitd did not answer within 30 s after starting it (check `sudo buildkitd` by hand)");
}
__name(ensureBuildkit, "ensureBuildkit");

// src/lib/build/emulation.ts
var import_node_fs3 = require("node:fs");
var import_promises5 = require("node:fs/promises");
var import_node_path4 = require("node:path");

// src/lib/build/preflight.ts
var import_node_fs2 = require("node:fs");
var import_promises4 = require("node:fs/promises");
var realHost = {
  arch: process.arch,
  freeBytes: /* @__PURE__ */ __name(async (path) => {
    const s = await (0, import_promises4.statfs)(path);
    return s.bavail * s.bsize;
  }, "freeBytes"),
  exists: /* @__PURE__ */ __name((path) => (0, import_node_fs2.existsSync)(path), "exists"),
  read: /* @__PURE__ */ __name((path) => {
    try {
      return (0, import_node_fs2.readFileSync)(path, "utf8");
    } catch {
      return void 0;
    }
  }, "read"),
  onPath: /* @__PURE__ */ __name((tool) => (process.env.PATH ?? "").split(":").filter(Boolean).some((dir) => (0, import_node_fs2.existsSync)(`${dir}/${tool}`)), "onPath")
};
function isArmHost(arch) {
  return arch === "arm64" || arch === "arm";
}
__name(isArmHost, "isArmHost");
function parseDepends(text2) {
  return text2.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean).map((l) => {
    const [tool, pkg] = l.split(":", 2);
    return { tool, pkg: pkg ?? tool };
  });
}
__name(parseDepends, "parseDepends");
async function preflight(options, host = realHost) {
  const results = [];
  const free = await host.freeBytes(options.workDir);
  const freeGiB = free / 2 ** 30;
  results.push({
    check: "disk space",
    ok: freeGiB >= options.minFreeGiB,
    detail: `${freeGiB.toFixed(1)} GiB free at ${options.workDir}, ${options.minFreeGiB} GiB needed`,
    fix: "free space (on GitHub runners: sudo rm -rf /usr/local/lib/android /opt/hostedtoolcache /usr/share/dotnet), or build on a larger disk (work-dir)"
  });
  results.push({
    check: "loop devices",
    ok: host.exists("/dev/loop-control"),
    detail: host.exists("/dev/loop-control") ? "/dev/loop-control present" : "no /dev/loop-control: export-image cannot attach the image",
    fix: "sudo modprobe loop (and run containers --privileged, as build-docker.sh does)"
  });
  if (!isArmHost(host.arch)) {
    const mounted = host.exists("/proc/sys/fs/binfmt_misc/status");
    const entry = host.read("/proc/sys/fs/binfmt_misc/qemu-aarch64") ?? "";
    const ok = mounted && /^enabled/m.test(entry);
    results.push({
      check: "arm64 emulation (binfmt_misc)",
      ok,
      detail: !mounted ? "binfmt_misc is not mounted" : ok ? `qemu-aarch64 registered (${/interpreter (\S+)/.exec(entry)?.[1] ?? "interpreter unknown"})` : "no enabled qemu-aarch64 entry",
      fix: "sudo apt-get install qemu-user-static binfmt-support && sudo update-binfmts --enable qemu-aarch64"
    });
  }
  if (options.native && options.dependsFile) {
    const text2 = host.read(options.dependsFile);
    if (text2 !== void 0) {
      const provided = new Set(options.provided ?? []);
      const missing = parseDepends(text2).filter((d) => !provided.has(d.tool) && !host.onPath(d.tool));
      results.push({
        check: "pi-gen's dependencies",
        ok: missing.length === 0,
        detail: missing.length === 0 ? "all tools in pi-gen/depends found" : `missing: ${missing.map((m) => m.tool).join(", ")}`,
        fix: `sudo apt-get install ${[...new Set(missing.map((m) => m.pkg))].join(" ")}`
      });
    }
  }
  return results;
}
__name(preflight, "preflight");

// src/lib/build/emulation.ts
var STATIC_DIRS = ["/usr/bin", "/usr/local/bin"];
function findStatic(name) {
  for (const dir of STATIC_DIRS) if ((0, import_node_fs3.existsSync)((0, import_node_path4.join)(dir, name))) return (0, import_node_path4.join)(dir, name);
  return void 0;
}
__name(findStatic, "findStatic");
async function ensureEmulation(options) {
  const { logger } = options;
  if (isArmHost(options.arch)) {
    logger.info(`host is ${options.arch}: no emulation needed`);
    return [];
  }
  const root = /* @__PURE__ */ __name((cmd, args) => execCapture(options.asRoot[0] ?? cmd, options.asRoot.length > 0 ? [...options.asRoot.slice(1), cmd, ...args] : args, { logger }), "root");
  if (!findStatic("qemu-aarch64-static")) {
    if (!options.install) {
      throw new PiImageError("TOOL_MISSING", "qemu-aarch64-static is not installed: sudo apt-get install qemu-user-static binfmt-support");
    }
    logger.info("installing qemu-user-static and binfmt-support for arm64 emulation");
    await root("apt-get", ["update", "-qq"]);
    await root("env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "qemu-user-static", "binfmt-support"]);
  }
  if (!(0, import_node_fs3.existsSync)("/proc/sys/fs/binfmt_misc/status")) {
    logger.info("mounting binfmt_misc");
    await root("mount", ["-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"]);
  }
  for (const arch of ["aarch64", "arm"]) {
    const entry = `/proc/sys/fs/binfmt_misc/qemu-${arch}`;
    if (!(0, import_node_fs3.existsSync)(entry)) {
      if ((0, import_node_fs3.existsSync)("/usr/sbin/update-binfmts")) await root("update-binfmts", ["--enable", `qemu-${arch}`]);
      else if ((0, import_node_fs3.existsSync)("/usr/lib/systemd/systemd-binfmt")) await root("/usr/lib/systemd/systemd-binfmt", []);
    }
  }
  if (!(0, import_node_fs3.existsSync)("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    throw new PiImageError("TOOL_MISSING", "qemu-aarch64 could not be registered with binfmt_misc: sudo update-binfmts --enable qemu-aarch64");
  }
  await (0, import_promises5.rm)(options.shimDir, { recursive: true, force: true });
  await (0, import_promises5.mkdir)(options.shimDir, { recursive: true });
  for (const arch of ["aarch64", "arm"]) {
    const target = findStatic(`qemu-${arch}-static`);
    if (target) await (0, import_promises5.symlink)(target, (0, import_node_path4.join)(options.shimDir, `qemu-${arch}`));
  }
  logger.info("arm64 emulation ready (qemu-user-static via binfmt_misc)");
  return [options.shimDir];
}
__name(ensureEmulation, "ensureEmulation");

// src/lib/pigen/build-log.ts
var CLOCK = /^\[(\d{2}):(\d{2}):(\d{2})\] (.*)$/;
var RFC3339 = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\] (.*)$/;
function readStamp(line) {
  const clock = CLOCK.exec(line);
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3])];
    if (h > 23 || m > 59 || s > 60) return void 0;
    return { raw: `${clock[1]}:${clock[2]}:${clock[3]}`, seconds: h * 3600 + m * 60 + s, absolute: false, text: clock[4] };
  }
  const iso = RFC3339.exec(line);
  if (iso) {
    const ms = Date.parse(iso[1]);
    if (Number.isNaN(ms)) return void 0;
    return { raw: iso[1], seconds: Math.floor(ms / 1e3), absolute: true, text: iso[2] };
  }
  return void 0;
}
__name(readStamp, "readStamp");
function lastComponent(path) {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}
__name(lastComponent, "lastComponent");
function parseBuildLog(text2, source = "build.log") {
  const lines = text2.split(/\r?\n/);
  const warnings = [];
  const events = [];
  const entries = [];
  const stack = [];
  const seen = /* @__PURE__ */ new Map();
  let first;
  let dayOffset = 0;
  let previous = -1;
  let lastOffset = 0;
  let result = "unknown";
  let beginEndLines = 0;
  const close = /* @__PURE__ */ __name((entry, offset, complete) => {
    entry.durationSeconds = offset - entry.startOffsetSeconds;
    entry.complete = complete;
  }, "close");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    const stamp = readStamp(line);
    if (!stamp) {
      warnings.push(`${source}:${index + 1}: not a pi-gen log line: ${line.slice(0, 120)}`);
      return;
    }
    first ??= stamp;
    let offset;
    if (stamp.absolute) {
      offset = first.absolute ? stamp.seconds - first.seconds : 0;
    } else {
      if (previous >= 0 && stamp.seconds + dayOffset < previous) dayOffset += 86400;
      offset = stamp.seconds + dayOffset - (first.absolute ? 0 : first.seconds);
      previous = stamp.seconds + dayOffset;
    }
    if (offset < 0) {
      warnings.push(`${source}:${index + 1}: timestamp goes backwards`);
      offset = lastOffset;
    }
    lastOffset = Math.max(lastOffset, offset);
    const begin = /^Begin (.+)$/.exec(stamp.text);
    const end = /^End (.+)$/.exec(stamp.text);
    if (begin) {
      beginEndLines++;
      const path = begin[1].trim();
      const occurrence = (seen.get(path) ?? 0) + 1;
      seen.set(path, occurrence);
      const entry = {
        path,
        name: lastComponent(path),
        depth: stack.length,
        occurrence,
        startOffsetSeconds: offset,
        durationSeconds: 0,
        complete: false,
        children: []
      };
      (stack.length > 0 ? stack[stack.length - 1].children : entries).push(entry);
      stack.push(entry);
    } else if (end) {
      beginEndLines++;
      const path = end[1].trim();
      const at = stack.map((e) => e.path).lastIndexOf(path);
      if (at < 0) {
        warnings.push(`${source}:${index + 1}: End without Begin: ${path}`);
        return;
      }
      while (stack.length - 1 > at) close(stack.pop(), offset, false);
      close(stack.pop(), offset, true);
    } else if (stamp.text === "Build finished") {
      result = "finished";
    } else if (stamp.text.startsWith("Build failed")) {
      result = "failed";
      events.push({ offsetSeconds: offset, message: stamp.text });
    } else {
      events.push({ offsetSeconds: offset, message: stamp.text });
    }
  });
  if (!first || beginEndLines === 0) {
    throw new PiImageError("LOG_INVALID", `${source} is not a pi-gen build log: no "[HH:MM:SS] Begin \u2026" lines found`);
  }
  while (stack.length > 0) close(stack.pop(), lastOffset, false);
  if (result === "unknown" && entries.some((e) => !e.complete)) result = "failed";
  return { startedAt: first.raw, totalSeconds: lastOffset, result, entries, events, warnings };
}
__name(parseBuildLog, "parseBuildLog");
function flattenTimeline(entries) {
  const out = [];
  const walk = /* @__PURE__ */ __name((list) => {
    for (const e of list) {
      out.push(e);
      walk(e.children);
    }
  }, "walk");
  walk(entries);
  return out;
}
__name(flattenTimeline, "flattenTimeline");
function stagesOf(timeline) {
  if (timeline.entries.length === 1 && timeline.entries[0].children.length > 0) {
    return timeline.entries[0].children;
  }
  return timeline.entries;
}
__name(stagesOf, "stagesOf");
function failedStep(timeline) {
  const open5 = flattenTimeline(timeline.entries).filter((e) => !e.complete);
  return open5[open5.length - 1];
}
__name(failedStep, "failedStep");
function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor(seconds % 3600 / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}
__name(formatDuration, "formatDuration");

// src/lib/build/log-follower.ts
var LOG_LINE = /^\[(\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T[^\]]+)\] /;
var MARK = /^\[[^\]]+\] (Begin|End) (.+)$/;
var BuildLogFollower = class {
  constructor(logger) {
    this.logger = logger;
  }
  logger;
  static {
    __name(this, "BuildLogFollower");
  }
  logLines = [];
  open = [];
  group;
  partial = "";
  /** Feeds a chunk of output (any split); complete lines are handled at once. */
  write(chunk) {
    const text2 = this.partial + chunk;
    const lines = text2.split("\n");
    this.partial = lines.pop();
    for (const line of lines) this.line(line.replace(/\r$/, ""));
  }
  /** Flushes a last line without a newline and closes an open group. */
  end() {
    if (this.partial) this.line(this.partial);
    this.partial = "";
    this.closeGroup();
  }
  closeGroup() {
    if (this.group !== void 0) this.logger.endGroup?.();
    this.group = void 0;
  }
  line(line) {
    const mark = MARK.exec(line);
    if (LOG_LINE.test(line)) this.logLines.push(line);
    if (mark) {
      const [, kind, path] = mark;
      if (kind === "Begin") {
        this.open.push(path);
        if (this.open.length === 2) {
          this.closeGroup();
          this.group = path.split("/").pop();
          this.logger.startGroup?.(`pi-gen ${this.group}`);
        }
      } else {
        const at = this.open.lastIndexOf(path);
        if (at >= 0) this.open.length = at;
      }
    }
    this.logger.info(line);
    if (mark && mark[1] === "End" && this.open.length === 1) this.closeGroup();
  }
  /** pi-gen's log lines seen so far, as build.log holds them. */
  buildLog() {
    return this.logLines.length > 0 ? `${this.logLines.join("\n")}
` : "";
  }
  /** What went wrong, in a sentence, from the log seen so far. */
  explainFailure() {
    let timeline;
    try {
      timeline = parseBuildLog(this.buildLog(), "build output");
    } catch {
      return "pi-gen failed before its first stage began (see the output above: configuration, dependencies or the container engine)";
    }
    const step = failedStep(timeline);
    const parts = [];
    if (step) {
      const stages = timeline.entries[0]?.children ?? [];
      const stage = stages.find((s) => step.path === s.path || step.path.startsWith(`${s.path}/`));
      parts.push(stage && stage !== step ? `pi-gen failed in stage ${stage.name}, step ${step.path.slice(stage.path.length + 1)}` : `pi-gen failed in ${step.path}`);
    } else {
      parts.push("pi-gen failed after its last stage ended");
    }
    const bootstrap = timeline.events.find((e) => e.message.startsWith("bootstrap failed"));
    if (bootstrap) {
      const m = /check (\S+debootstrap\.log)/.exec(bootstrap.message);
      parts.push(`debootstrap failed: read ${m ? m[1] : "debootstrap.log in the stage work directory"}`);
    }
    return parts.join("; ");
  }
};

// src/lib/build/runtime.ts
var RUNTIMES = ["docker", "podman", "nerdctl", "native"];
var DETECTION_ORDER = RUNTIMES;
function parseRuntime(value, input = "runtime") {
  if (value === "" || value === "auto") return "auto";
  if (RUNTIMES.includes(value)) return value;
  throw new PiImageError("INPUT_INVALID", `${input} "${value}" is not one of: auto, ${RUNTIMES.join(", ")}`);
}
__name(parseRuntime, "parseRuntime");
async function containerCommand(cli, probe) {
  if (await probe(cli, ["info"])) return [cli];
  if (await probe("sudo", ["-n", cli, "info"])) return ["sudo", cli];
  return void 0;
}
__name(containerCommand, "containerCommand");
async function nativeCommand(isRoot, probe) {
  if (isRoot) return [];
  if (await probe("sudo", ["-n", "true"])) return ["sudo", "-E"];
  return void 0;
}
__name(nativeCommand, "nativeCommand");
async function resolveRuntime(requested, probe, isRoot) {
  if (requested === "native") {
    const command = await nativeCommand(isRoot, probe);
    if (!command) throw new PiImageError("INPUT_INVALID", "runtime native runs pi-gen as root: run as root or give this user passwordless sudo");
    return { runtime: "native", command };
  }
  if (requested !== "auto") {
    const command = await containerCommand(requested, probe);
    if (!command) {
      throw new PiImageError(
        "TOOL_MISSING",
        `runtime ${requested}: \`${requested} info\` fails, with and without sudo; install ${requested} and start its daemon${requested === "nerdctl" ? " (containerd, and buildkitd for builds)" : ""}`
      );
    }
    return { runtime: requested, command };
  }
  for (const runtime of DETECTION_ORDER) {
    const command = runtime === "native" ? await nativeCommand(isRoot, probe) : await containerCommand(runtime, probe);
    if (command) return { runtime, command };
  }
  throw new PiImageError("TOOL_MISSING", "no way to run pi-gen: none of docker, podman, nerdctl answers, and this user is neither root nor has passwordless sudo");
}
__name(resolveRuntime, "resolveRuntime");
function containerName(parts) {
  const joined = parts.filter((p) => !!p).join("-").replace(/[^a-zA-Z0-9_.-]+/g, "-").replace(/^[^a-zA-Z0-9]+/, "").replace(/-+/g, "-").slice(0, 120);
  return `pigen-${joined || "build"}`;
}
__name(containerName, "containerName");
var containerCommands = {
  /** Lists containers named exactly `name` (running or not). */
  exists: /* @__PURE__ */ __name((command, name) => [...command, "ps", "-a", "--filter", `name=^${name}$`, "--format", "{{.Names}}"], "exists"),
  running: /* @__PURE__ */ __name((command, name) => [...command, "ps", "--filter", `name=^${name}$`, "--format", "{{.Names}}"], "running"),
  remove: /* @__PURE__ */ __name((command, name) => [...command, "rm", "-f", "-v", name], "remove")
};
function leftoverDecision(exists2, running, resume, name) {
  if (running) {
    throw new PiImageError("INPUT_INVALID", `a build is already running in container ${name}; wait for it or stop it first`);
  }
  if (!exists2) return resume ? { action: "fresh", message: `nothing to continue: no container ${name}; starting a fresh build` } : { action: "fresh" };
  if (resume) return { action: "continue", message: `continuing the interrupted build in container ${name} (pi-gen CONTINUE=1)` };
  return { action: "remove", message: `removing container ${name} left by an earlier build (set continue to resume it instead)` };
}
__name(leftoverDecision, "leftoverDecision");

// src/lib/build/build.ts
function runArgv(argv, logger, allowFailure = false) {
  return execCapture(argv[0], argv.slice(1), { logger, allowFailure });
}
__name(runArgv, "runArgv");
async function exists(path) {
  try {
    await (0, import_promises6.stat)(path);
    return true;
  } catch {
    return false;
  }
}
__name(exists, "exists");
function defaultProbe(logger) {
  return async (cmd, args) => {
    try {
      return (await execCapture(cmd, args, { logger, allowFailure: true })).code === 0;
    } catch {
      return false;
    }
  };
}
__name(defaultProbe, "defaultProbe");
function buildConfigEntries(options, stages, native, workDir) {
  const date = options.sourceDateEpoch !== void 0 ? new Date(options.sourceDateEpoch * 1e3) : /* @__PURE__ */ new Date();
  const names = imageNames(options.settings.imgName, options.version, date);
  const entries = piGenConfigEntries({ ...options.settings, stageList: stages.map((s) => s.buildPath) });
  entries.push(
    { name: "IMG_DATE", value: names.IMG_DATE },
    { name: "IMG_FILENAME", value: names.IMG_FILENAME },
    { name: "ARCHIVE_FILENAME", value: names.ARCHIVE_FILENAME },
    { name: "PI_IMAGE_VERSION", value: options.version }
  );
  if (options.recipeGitHash) {
    entries.push({ name: "GIT_HASH", value: options.recipeGitHash }, { name: "PI_IMAGE_RECIPE_GIT_HASH", value: options.recipeGitHash });
  } else {
    entries.push({ name: "GIT_HASH", value: "unknown" });
  }
  if (native) {
    entries.push({ name: "WORK_DIR", value: (0, import_node_path5.join)(workDir, "work") }, { name: "DEPLOY_DIR", value: (0, import_node_path5.join)(workDir, "deploy") });
  }
  return entries;
}
__name(buildConfigEntries, "buildConfigEntries");
async function runBuild(options) {
  const { logger } = options;
  const workDir = (0, import_node_path5.resolve)(options.workDir);
  await (0, import_promises6.mkdir)(workDir, { recursive: true });
  const probe = options.probe ?? defaultProbe(logger);
  const runtime = await resolveRuntime(options.runtime, probe, options.isRoot);
  const native = runtime.runtime === "native";
  logger.info(`runtime: ${runtime.runtime}${runtime.command.length > 0 ? ` (${runtime.command.join(" ")})` : ""}`);
  for (const script of [native ? "build.sh" : "build-docker.sh", "depends"]) {
    if (!await exists((0, import_node_path5.join)(options.pigenDir, script))) {
      throw new PiImageError("INPUT_INVALID", `${options.pigenDir} is not a pi-gen checkout: it has no ${script}`);
    }
  }
  if (/\s/.test((0, import_node_path5.resolve)(options.pigenDir))) {
    throw new PiImageError("INPUT_INVALID", `pi-gen's path ${options.pigenDir} contains a space; pi-gen (debootstrap) cannot build there`);
  }
  const { stages, warnings } = await resolveStageList(options.stages, {
    pigenDir: (0, import_node_path5.resolve)(options.pigenDir),
    baseDir: options.baseDir,
    runtime: native ? "native" : "container",
    overridesDir: options.overridesDir,
    workDir
  });
  for (const w of warnings) logger.warn(w);
  for (const s of stages) {
    logger.info(`stage ${s.name}: ${s.buildPath}${s.overridden.length > 0 ? ` (overrides: ${s.overridden.join(", ")})` : ""}`);
  }
  const proxy = await startBuildAptProxy(options, runtime);
  try {
    return await buildWith(options, runtime, stages, workDir, proxy);
  } finally {
    if (proxy) {
      await proxy.close();
      logger.info(`apt cache: ${proxy.stats.hits} package files from the cache, ${proxy.stats.stored} downloaded and kept`);
    }
  }
}
__name(runBuild, "runBuild");
async function startBuildAptProxy(options, runtime) {
  const { logger } = options;
  if (!options.aptCacheDir) return void 0;
  if (options.settings.aptProxy) {
    logger.warn(`APT_PROXY is set (${options.settings.aptProxy}): the apt cache is not used`);
    return void 0;
  }
  let host;
  if (runtime.runtime === "native") host = "127.0.0.1";
  else if (runtime.runtime === "docker") {
    const r = await runArgv([...runtime.command, "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"], logger, true);
    if (r.code === 0 && /^\d+\.\d+\.\d+\.\d+$/.test(r.stdout.trim())) host = r.stdout.trim();
  }
  if (!host) {
    logger.warn(`apt cache: no address where a ${runtime.runtime} build can reach this host; building without it`);
    return void 0;
  }
  return startAptProxy({ cacheDir: options.aptCacheDir, host, port: 0, logger });
}
__name(startBuildAptProxy, "startBuildAptProxy");
async function buildWith(options, runtime, stages, workDir, proxy) {
  const { logger } = options;
  const native = runtime.runtime === "native";
  const withProxy = proxy ? { ...options, settings: { ...options.settings, aptProxy: proxy.url } } : options;
  const entries = buildConfigEntries(withProxy, stages, native, workDir);
  for (const e of entries) if (SECRET_VARIABLES.has(e.name) && e.value) logger.mask?.(e.value);
  const configPath = (0, import_node_path5.join)(workDir, "config");
  await (0, import_promises6.writeFile)(configPath, renderPiGenConfig(entries, `pi-gen config written by ${TOOL_NAME} ${TOOL_VERSION}; values are quoted, edit the inputs instead`), {
    mode: 384
  });
  logger.info(`config: ${configPath} (${entries.length} settings)`);
  const asRoot = options.isRoot ? [] : ["sudo"];
  const pathDirs = await ensureEmulation({ arch: options.arch, asRoot, install: options.installEmulation ?? false, shimDir: (0, import_node_path5.join)(workDir, "bin"), logger });
  const checks = await preflight({
    workDir,
    minFreeGiB: options.minFreeGiB ?? 10,
    native,
    dependsFile: (0, import_node_path5.join)(options.pigenDir, "depends"),
    provided: pathDirs.length > 0 ? ["qemu-arm", "qemu-aarch64"] : []
  });
  for (const c of checks) logger.info(`preflight: ${c.ok ? "ok  " : "FAIL"} ${c.check}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new PiImageError("PREFLIGHT_FAILED", `preflight failed:
${failed.map((c) => `  ${c.check}: ${c.detail}
    fix: ${c.fix}`).join("\n")}`);
  }
  if (runtime.runtime === "nerdctl") {
    const probe = options.probe ?? defaultProbe(logger);
    await ensureBuildkit(runtime.command.slice(0, -1), { ...realBuildkitDeps(realHost.onPath), probe }, logger);
  }
  const env = { ...process.env, PATH: [...pathDirs, process.env.PATH ?? ""].join(":") };
  let cmd;
  let args;
  let cwd;
  if (native) {
    const buildSh = ["bash", "-e", (0, import_node_path5.join)(options.pigenDir, "build.sh"), "-c", configPath];
    [cmd, args] = runtime.command.length > 0 ? [runtime.command[0], [...runtime.command.slice(1), ...buildSh]] : [buildSh[0], buildSh.slice(1)];
    cwd = options.pigenDir;
  } else {
    const listed = /* @__PURE__ */ __name(async (argv) => (await runArgv(argv, logger)).stdout.trim() !== "", "listed");
    const decision = leftoverDecision(
      await listed(containerCommands.exists(runtime.command, options.containerName)),
      await listed(containerCommands.running(runtime.command, options.containerName)),
      options.resume ?? false,
      options.containerName
    );
    if (decision.message) logger.info(decision.message);
    if (decision.action === "remove") await runArgv(containerCommands.remove(runtime.command, options.containerName), logger);
    const mounts = stages.filter((s) => s.mount).flatMap((s) => ["-v", `${s.hostPath}:${s.buildPath}:ro`]);
    env.DOCKER = runtime.command.join(" ");
    env.CONTAINER_NAME = options.containerName;
    env.CONTINUE = decision.action === "continue" ? "1" : "0";
    env.PRESERVE_CONTAINER = "1";
    env.PIGEN_DOCKER_OPTS = mounts.join(" ");
    [cmd, args] = ["bash", [(0, import_node_path5.join)(options.pigenDir, "build-docker.sh"), "-c", configPath]];
    cwd = workDir;
    options.onContainer?.(runtime, options.containerName);
  }
  const follower = new BuildLogFollower(logger);
  const code = await execFollow(cmd, args, { logger, cwd, env, onOutput: /* @__PURE__ */ __name((t) => follower.write(t), "onOutput") });
  follower.end();
  const deployDir = (0, import_node_path5.join)(workDir, "deploy");
  await (0, import_promises6.mkdir)(deployDir, { recursive: true });
  const buildLog = (0, import_node_path5.join)(deployDir, "build.log");
  const nativeLog = (0, import_node_path5.join)(workDir, "work", "build.log");
  if (native && await exists(nativeLog)) await (0, import_promises6.copyFile)(nativeLog, buildLog);
  else if (!await exists(buildLog)) await (0, import_promises6.writeFile)(buildLog, follower.buildLog());
  if (code !== 0) {
    throw new PiImageError("BUILD_FAILED", `${follower.explainFailure()} (exit code ${code}); full log: ${buildLog}`);
  }
  let imagePath;
  try {
    imagePath = (await findDeployOutputs(deployDir)).image.path;
  } catch (e) {
    logger.warn(`pi-gen exported no image (no stage has EXPORT_IMAGE, or all have SKIP_IMAGES): ${e.message}`);
  }
  const result = {
    runtime,
    deployDir,
    imagePath,
    buildLog,
    configPath,
    pigenCommit: options.pigenCommit,
    workTree: (0, import_node_path5.join)(workDir, "work"),
    stages
  };
  if (!native) result.containerName = options.containerName;
  return result;
}
__name(buildWith, "buildWith");
async function removeBuildContainer(runtime, name, logger) {
  if (runtime.runtime === "native") return;
  for (const n of [name, `${name}_cont`]) await runArgv(containerCommands.remove(runtime.command, n), logger, true);
}
__name(removeBuildContainer, "removeBuildContainer");

// src/lib/build/build-request.ts
var import_promises8 = require("node:fs/promises");
var import_node_path7 = require("node:path");

// vendor/pi-gen.json
var pi_gen_default = {
  repository: "https://github.com/RPi-Distro/pi-gen",
  branch: "arm64",
  commit: "ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5",
  tag: "2026-06-18-raspios-trixie-arm64"
};

// src/lib/pigen/pin.ts
var PI_GEN_PIN = pi_gen_default;

// src/lib/pigen/product-config.ts
var BOOLEAN_KEYS = /* @__PURE__ */ new Set(["disableFirstBootUserRename", "passwordlessSudo", "enableSsh", "pubkeyOnlySsh", "enableCloudInit"]);
var BY_VARIABLE = new Map(Object.entries(TYPED_VARIABLES).map(([k, v]) => [v, k]));
function parseFlag(value, where) {
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new PiImageError("INPUT_INVALID", `${where}: "${value}" must be 1 or 0 (or true or false)`);
}
__name(parseFlag, "parseFlag");
function unquote(raw, where) {
  const v = raw.trim();
  if (v.startsWith('"') || v.startsWith("'")) {
    const q = v[0];
    if (v.length < 2 || !v.endsWith(q)) throw new PiImageError("INPUT_INVALID", `${where}: unbalanced ${q} quote`);
    const inner = v.slice(1, -1);
    if (inner.includes(q)) throw new PiImageError("INPUT_INVALID", `${where}: a quoted value cannot contain its own quote`);
    return inner;
  }
  return v;
}
__name(unquote, "unquote");
function applySetting(config, key, value, where) {
  if (!SHELL_NAME.test(key)) throw new PiImageError("INPUT_INVALID", `${where}: "${key}" is not a variable name`);
  if (key === "STAGE_LIST") {
    config.stages = value.split(/\s+/).filter(Boolean);
    return;
  }
  if (key === "OVERRIDES") {
    config.overrides = value;
    return;
  }
  const typed = BY_VARIABLE.get(key);
  if (!typed) {
    config.extra[key] = value;
    return;
  }
  const s = config.settings;
  if (BOOLEAN_KEYS.has(typed)) s[typed] = parseFlag(value, `${where}: ${key}`);
  else if (typed === "compressionLevel") {
    if (!/^\d$/.test(value)) throw new PiImageError("INPUT_INVALID", `${where}: COMPRESSION_LEVEL "${value}" must be 0-9`);
    s[typed] = Number(value);
  } else if (typed === "deployCompression") s[typed] = value;
  else s[typed] = value;
}
__name(applySetting, "applySetting");
function splitAssignment(text2, where) {
  const at = text2.indexOf("=");
  if (at <= 0) throw new PiImageError("INPUT_INVALID", `${where}: expected KEY=VALUE, found "${text2.slice(0, 80)}"`);
  return [text2.slice(0, at).trim(), text2.slice(at + 1)];
}
__name(splitAssignment, "splitAssignment");
function parseProductConfig(text2, source) {
  const config = { settings: {}, extra: {} };
  const seen = /* @__PURE__ */ new Set();
  text2.split(/\r?\n/).forEach((line, index) => {
    const where = `${source}:${index + 1}`;
    if (line.trim() === "" || line.trim().startsWith("#")) return;
    const m = /^\s*(?:export\s+)?([^=\s]+)=(.*)$/.exec(line);
    if (!m || !SHELL_NAME.test(m[1])) {
      throw new PiImageError("INPUT_INVALID", `${where}: expected KEY=VALUE, found "${line.slice(0, 80)}"`);
    }
    const key = m[1];
    if (seen.has(key)) throw new PiImageError("INPUT_INVALID", `${where}: ${key} is set twice`);
    seen.add(key);
    const value = unquote(m[2], where);
    if (/\$\(|`|\$\{/.test(value)) {
      throw new PiImageError("INPUT_INVALID", `${where}: ${key} looks like shell code; this file is data, nothing in it is expanded`);
    }
    applySetting(config, key, value, where);
  });
  return config;
}
__name(parseProductConfig, "parseProductConfig");

// src/lib/build/pigen-checkout.ts
var import_node_fs4 = require("node:fs");
var import_promises7 = require("node:fs/promises");
var import_node_path6 = require("node:path");
async function headCommit(dir, logger) {
  if (!(0, import_node_fs4.existsSync)((0, import_node_path6.join)(dir, ".git"))) return void 0;
  const r = await execCapture("git", ["-C", dir, "rev-parse", "HEAD"], { logger, allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : void 0;
}
__name(headCommit, "headCommit");
async function locatePiGen(options) {
  const { logger, pin } = options;
  if (options.explicitDir) {
    const dir2 = (0, import_node_path6.resolve)(options.explicitDir);
    if (!(0, import_node_fs4.existsSync)((0, import_node_path6.join)(dir2, "build.sh"))) throw new PiImageError("INPUT_INVALID", `pi-gen directory ${options.explicitDir} has no build.sh`);
    const commit2 = await headCommit(dir2, logger) ?? "unknown";
    if (commit2 !== pin.commit) logger.warn(`pi-gen at ${dir2} is ${commit2 === "unknown" ? "not a git checkout" : `at ${commit2}`}; the pinned commit is ${pin.commit}`);
    return { dir: dir2, commit: commit2, source: "explicit" };
  }
  if (options.submoduleDir && (0, import_node_fs4.existsSync)((0, import_node_path6.join)(options.submoduleDir, "build.sh"))) {
    const dir2 = (0, import_node_path6.resolve)(options.submoduleDir);
    const commit2 = await headCommit(dir2, logger) ?? pin.commit;
    if (commit2 !== pin.commit) logger.warn(`vendor/pi-gen is at ${commit2}, not the pinned ${pin.commit}: run git submodule update`);
    return { dir: dir2, commit: commit2, source: "submodule" };
  }
  const repository = options.repository ?? pin.repository;
  const ref = options.ref ?? pin.commit;
  const dir = (0, import_node_path6.join)((0, import_node_path6.resolve)(options.cacheDir), `pi-gen-${ref.replace(/[^A-Za-z0-9._-]/g, "_")}`);
  if (!(0, import_node_fs4.existsSync)((0, import_node_path6.join)(dir, "build.sh"))) {
    logger.info(`checking out pi-gen ${ref} from ${repository} into ${dir}`);
    await (0, import_promises7.rm)(dir, { recursive: true, force: true });
    await (0, import_promises7.mkdir)(dir, { recursive: true });
    const git = /* @__PURE__ */ __name((args) => execCapture("git", ["-C", dir, ...args], { logger }), "git");
    await git(["init", "-q"]);
    await git(["fetch", "-q", "--depth", "1", repository, ref]);
    await git(["checkout", "-q", "FETCH_HEAD"]);
  }
  const commit = await headCommit(dir, logger) ?? "unknown";
  if (options.ref === void 0 && commit !== pin.commit) {
    throw new PiImageError("EXEC_FAILED", `pi-gen checkout at ${dir} is ${commit}, expected the pinned ${pin.commit}`);
  }
  return { dir, commit, source: "clone" };
}
__name(locatePiGen, "locatePiGen");

// src/lib/build/build-request.ts
async function recipeCommit(baseDir, logger) {
  try {
    const r = await execCapture("git", ["-C", baseDir, "rev-parse", "HEAD"], { logger, allowFailure: true });
    return r.code === 0 && /^[0-9a-f]{40}$/.test(r.stdout.trim()) ? r.stdout.trim() : void 0;
  } catch {
    return void 0;
  }
}
__name(recipeCommit, "recipeCommit");
async function prepareBuild(request2) {
  const { logger } = request2;
  const baseDir = (0, import_node_path7.resolve)(request2.baseDir);
  let config = { settings: {}, extra: {} };
  if (request2.configFile) {
    const path = (0, import_node_path7.resolve)(baseDir, request2.configFile);
    let text2;
    try {
      text2 = await (0, import_promises8.readFile)(path, "utf8");
    } catch (e) {
      throw new PiImageError("INPUT_INVALID", `config ${request2.configFile} cannot be read: ${e.message}`, { cause: e });
    }
    config = parseProductConfig(text2, request2.configFile);
  }
  request2.settings.forEach((line, i) => {
    const where = `setting ${i + 1}`;
    const [key, value] = splitAssignment(line, where);
    applySetting(config, key, value, `${where} (${key})`);
  });
  if (request2.firstUserPass) config.settings.firstUserPass = request2.firstUserPass;
  const imgName = config.settings.imgName;
  if (!imgName) throw new PiImageError("INPUT_INVALID", "IMG_NAME is not set: put it in the config file or pass IMG_NAME=\u2026 as a setting");
  if (!config.stages || config.stages.length === 0) {
    throw new PiImageError("INPUT_INVALID", "STAGE_LIST is not set: put it in the config file (e.g. STAGE_LIST=stage0 stage1 stage2 pigen/stages/my-stage)");
  }
  const checkout = await locatePiGen({
    explicitDir: request2.pigenDir,
    submoduleDir: (0, import_node_path7.join)(baseDir, "vendor/pi-gen"),
    cacheDir: request2.cacheDir,
    pin: PI_GEN_PIN,
    repository: request2.pigenRepository,
    ref: request2.pigenRef,
    logger
  });
  logger.info(`pi-gen: ${checkout.dir} at ${checkout.commit} (${checkout.source})`);
  return {
    pigenDir: checkout.dir,
    pigenCommit: checkout.commit,
    baseDir,
    workDir: (0, import_node_path7.resolve)(baseDir, request2.workDir),
    runtime: request2.runtime,
    settings: { ...config.settings, imgName, extra: config.extra },
    stages: config.stages,
    overridesDir: config.overrides,
    version: request2.version,
    recipeGitHash: request2.recipeGitHash ?? await recipeCommit(baseDir, logger),
    sourceDateEpoch: request2.sourceDateEpoch,
    resume: request2.resume,
    containerName: containerName(request2.containerNameParts ?? [imgName]),
    minFreeGiB: request2.minFreeGiB,
    installEmulation: request2.installEmulation,
    aptCacheDir: request2.aptCacheDir ? (0, import_node_path7.resolve)(baseDir, request2.aptCacheDir) : void 0,
    isRoot: request2.isRoot,
    arch: request2.arch,
    logger
  };
}
__name(prepareBuild, "prepareBuild");

// src/lib/release/manifest.ts
var MANIFEST_FILE = "manifest.json";
var MANIFEST_SCHEMA_VERSION = 1;
var CHANNELS = ["nightly", "stable"];
function sortFiles(files) {
  return [...files].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
__name(sortFiles, "sortFiles");
function renderJson(value) {
  return `${JSON.stringify(value, null, 2)}
`;
}
__name(renderJson, "renderJson");

// src/lib/release/package-options.ts
var DEFAULT_VERSION = "dev";
var DEFAULT_CHANNEL = "nightly";
var DEFAULT_COMPRESSION_LEVEL = 6;
var SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
function checkReleaseName(value, input = "name") {
  if (!SAFE_NAME.test(value) || value.includes("..")) {
    throw new PiImageError(
      "INPUT_INVALID",
      `${input} "${value}" cannot be used in file names: use letters, digits, '.', '_', '+' and '-' (at most 128, starting with a letter or digit)`
    );
  }
  return value;
}
__name(checkReleaseName, "checkReleaseName");
function checkChannel(value, input = "channel") {
  if (!CHANNELS.includes(value)) {
    throw new PiImageError("INPUT_INVALID", `${input} "${value}" is not one of: ${CHANNELS.join(", ")}`);
  }
  return value;
}
__name(checkChannel, "checkChannel");
function checkIntegerInRange(value, min, max, input) {
  const n = typeof value === "number" ? value : /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PiImageError("INPUT_INVALID", `${input} "${value}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}
__name(checkIntegerInRange, "checkIntegerInRange");
function parseSourceDateEpoch(value) {
  if (value === void 0 || value.trim() === "") return void 0;
  if (!/^\d+$/.test(value.trim())) {
    throw new PiImageError("INPUT_INVALID", `SOURCE_DATE_EPOCH "${value}" must be a whole number of seconds since 1970-01-01`);
  }
  return Number(value.trim());
}
__name(parseSourceDateEpoch, "parseSourceDateEpoch");
function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
__name(isoSeconds, "isoSeconds");
function defaultReleaseName(imageBase) {
  return imageBase.replace(/^\d{4}-\d{2}-\d{2}-/, "");
}
__name(defaultReleaseName, "defaultReleaseName");

// src/cli/command.ts
function usageError(message) {
  return new PiImageError("USAGE", message);
}
__name(usageError, "usageError");

// src/cli/commands/build-command.ts
var buildCommand = {
  name: "build",
  summary: "build an image with upstream pi-gen and your own stages",
  usage: "pi-image build --config FILE [--version V] [--runtime R] [--set KEY=VALUE]... [options]",
  help: `Runs pi-gen at the pinned commit (vendor/pi-gen, PI_GEN_DIR, or a checkout it
makes itself) with the settings and stages of a product config file (KEY=VALUE
lines, see pigen/config/ourbox-mini.env). Every value is checked and quoted
into pi-gen's config. File names come from IMG_NAME and the version, not the
date. Output is followed live, folded by stage; a failure names the stage and
step. deploy/ (image, .info, build.log) ends up in the work directory, ready
for 'pi-image package'.

Options:
  --config FILE             product config (KEY=VALUE; STAGE_LIST, OVERRIDES and pi-gen variables)
  --set KEY=VALUE           override or add a variable (repeatable); typed ones are checked
  --version V               version being built: file names, PI_IMAGE_VERSION (default: dev)
  --runtime R               auto (default), docker, podman, nerdctl or native
  --work-dir DIR            config, work tree and deploy/ (default: build)
  --base-dir DIR            where relative stage paths start (default: the current directory)
  --pigen-dir DIR           use this pi-gen checkout (default: PI_GEN_DIR, then vendor/pi-gen)
  --pigen-repository URL    clone from here when no checkout is given (default: the pinned one)
  --pigen-ref REF           clone this ref instead of the pinned commit
  --recipe-git-hash SHA     the recipe commit recorded in the image (default: git rev-parse HEAD)
  --continue                resume an interrupted container build (pi-gen CONTINUE=1)
  --keep-container          leave the build container for inspection
  --min-free-gb N           preflight: free space needed in the work directory (default: 10)
  --install-emulation       apt-get install qemu-user-static when missing (x86 hosts)
  --apt-cache DIR           keep downloaded .deb files in DIR for the next build (an apt proxy
                            on this host, given to pi-gen as APT_PROXY; native and docker)

The first user's password is read from PI_IMAGE_FIRST_USER_PASS, never from
the command line. SOURCE_DATE_EPOCH sets IMG_DATE.`,
  options: {
    config: { type: "string" },
    set: { type: "string", multiple: true },
    version: { type: "string" },
    runtime: { type: "string" },
    "work-dir": { type: "string" },
    "base-dir": { type: "string" },
    "pigen-dir": { type: "string" },
    "pigen-repository": { type: "string" },
    "pigen-ref": { type: "string" },
    "recipe-git-hash": { type: "string" },
    continue: { type: "boolean" },
    "keep-container": { type: "boolean" },
    "min-free-gb": { type: "string" },
    "install-emulation": { type: "boolean" },
    "apt-cache": { type: "string" }
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length > 0) throw usageError(`build takes no positional arguments (got ${positionals.join(" ")})`);
    const str = /* @__PURE__ */ __name((k) => values[k], "str");
    if (!str("config") && !(values.set ?? []).length) throw usageError("build needs --config FILE (or --set for every setting)");
    const options = await prepareBuild({
      configFile: str("config"),
      settings: values.set ?? [],
      version: checkReleaseName(str("version") ?? DEFAULT_VERSION, "version"),
      runtime: parseRuntime(str("runtime") ?? "auto", "--runtime"),
      workDir: str("work-dir") ?? "build",
      baseDir: str("base-dir") ?? process.cwd(),
      pigenDir: str("pigen-dir") ?? env.PI_GEN_DIR,
      pigenRepository: str("pigen-repository"),
      pigenRef: str("pigen-ref"),
      cacheDir: (0, import_node_path8.join)(env.XDG_CACHE_HOME ?? (0, import_node_path8.join)((0, import_node_os.homedir)(), ".cache"), "pi-image-release"),
      recipeGitHash: str("recipe-git-hash"),
      resume: values.continue === true,
      minFreeGiB: str("min-free-gb") === void 0 ? void 0 : checkIntegerInRange(str("min-free-gb"), 0, 1e5, "--min-free-gb"),
      installEmulation: values["install-emulation"] === true,
      aptCacheDir: str("apt-cache"),
      firstUserPass: env.PI_IMAGE_FIRST_USER_PASS,
      sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
      isRoot: typeof process.getuid === "function" && process.getuid() === 0,
      arch: process.arch,
      logger
    });
    let runtime;
    try {
      const result = await runBuild({ ...options, onContainer: /* @__PURE__ */ __name((r) => runtime = r, "onContainer") });
      stdout(`${JSON.stringify({ deployDir: result.deployDir, image: result.imagePath ?? null, buildLog: result.buildLog, pigenCommit: result.pigenCommit }, null, 2)}
`);
    } finally {
      if (runtime && values["keep-container"] !== true) await removeBuildContainer(runtime, options.containerName, logger);
    }
    return 0;
  }
};

// src/lib/image/open-image.ts
var import_promises14 = require("node:fs/promises");
var import_node_os2 = require("node:os");
var import_node_path10 = require("node:path");

// src/lib/image/byte-source.ts
var import_promises9 = require("node:fs/promises");
var FileByteSource = class _FileByteSource {
  constructor(name, size2, fh) {
    this.name = name;
    this.size = size2;
    this.fh = fh;
  }
  name;
  size;
  fh;
  static {
    __name(this, "FileByteSource");
  }
  static async open(path) {
    const fh = await (0, import_promises9.open)(path, "r");
    const { size: size2 } = await fh.stat();
    return new _FileByteSource(path, size2, fh);
  }
  async read(offset, length) {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new PiImageError("IMAGE_CORRUPT", `${this.name}: read of ${length} bytes at ${offset} is past the end (${this.size} bytes)`);
    }
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }
  close() {
    return this.fh.close();
  }
};
var SliceByteSource = class {
  constructor(parent, offset, size2, name) {
    this.parent = parent;
    this.offset = offset;
    this.size = size2;
    this.name = name;
    if (offset + size2 > parent.size) {
      throw new PiImageError("IMAGE_CORRUPT", `${name} (${size2} bytes at ${offset}) lies past the end of ${parent.name}`);
    }
  }
  parent;
  offset;
  size;
  name;
  static {
    __name(this, "SliceByteSource");
  }
  read(offset, length) {
    if (offset < 0 || offset + length > this.size) {
      return Promise.reject(new PiImageError("IMAGE_CORRUPT", `${this.name}: read of ${length} bytes at ${offset} is past its end`));
    }
    return this.parent.read(this.offset + offset, length);
  }
};

// src/lib/image/image-source.ts
var import_node_fs6 = require("node:fs");
var import_promises11 = require("node:fs/promises");
var import_node_path9 = require("node:path");
var import_node_zlib2 = require("node:zlib");

// src/lib/image/zip-reader.ts
var import_node_fs5 = require("node:fs");
var import_promises10 = require("node:fs/promises");
var import_node_stream = require("node:stream");
var import_node_zlib = require("node:zlib");
var EOCD = 101010256;
var ZIP64_LOCATOR = 117853008;
var ZIP64_EOCD = 101075792;
var CENTRAL = 33639248;
var LOCAL = 67324752;
var MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;
function corrupt(file, what) {
  return new PiImageError("IMAGE_CORRUPT", `${file}: not a readable zip archive: ${what}`);
}
__name(corrupt, "corrupt");
function u64(buf, at) {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("64-bit value too large");
  return Number(v);
}
__name(u64, "u64");
async function listZipEntries(file) {
  const fh = await (0, import_promises10.open)(file, "r");
  try {
    const { size: size2 } = await fh.stat();
    if (size2 < 22) throw corrupt(file, `only ${size2} bytes`);
    const tailLength = Math.min(size2, 22 + 65535 + 20);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, size2 - tailLength);
    let at = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) throw corrupt(file, "no end-of-central-directory record (truncated?)");
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (count === 65535 || cdSize === 4294967295 || cdOffset === 4294967295) {
      if (at < 20 || tail.readUInt32LE(at - 20) !== ZIP64_LOCATOR) throw corrupt(file, "ZIP64 locator missing");
      const z64At = u64(tail, at - 20 + 8);
      const z64 = Buffer.alloc(56);
      await fh.read(z64, 0, 56, z64At);
      if (z64.readUInt32LE(0) !== ZIP64_EOCD) throw corrupt(file, "ZIP64 end record missing");
      count = u64(z64, 32);
      cdSize = u64(z64, 40);
      cdOffset = u64(z64, 48);
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset + cdSize > size2) throw corrupt(file, "central directory out of bounds");
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const entries = [];
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw corrupt(file, `central directory entry ${n} is damaged`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const entry = {
        name: cd.toString("utf8", p + 46, p + 46 + nameLength),
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        uncompressedSize: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42)
      };
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 1) {
          let q = e + 4;
          if (entry.uncompressedSize === 4294967295) entry.uncompressedSize = u64(cd, q), q += 8;
          if (entry.compressedSize === 4294967295) entry.compressedSize = u64(cd, q), q += 8;
          if (entry.localHeaderOffset === 4294967295) entry.localHeaderOffset = u64(cd, q);
        }
        e += 4 + len;
      }
      entries.push(entry);
      p = extraEnd + commentLength;
    }
    return entries;
  } finally {
    await fh.close();
  }
}
__name(listZipEntries, "listZipEntries");
var ZipEntryCheck = class extends import_node_stream.Transform {
  constructor(file, entry) {
    super();
    this.file = file;
    this.entry = entry;
  }
  file;
  entry;
  static {
    __name(this, "ZipEntryCheck");
  }
  crc = 0;
  length = 0;
  _transform(chunk, _enc, done) {
    this.crc = (0, import_node_zlib.crc32)(chunk, this.crc);
    this.length += chunk.length;
    done(null, chunk);
  }
  _flush(done) {
    if (this.length !== this.entry.uncompressedSize) {
      done(corrupt(this.file, `${this.entry.name} is ${this.length} bytes, the directory says ${this.entry.uncompressedSize}`));
    } else if (this.crc >>> 0 !== this.entry.crc32 >>> 0) {
      done(corrupt(this.file, `${this.entry.name} fails its CRC-32 check`));
    } else done();
  }
};
async function openZipEntry(file, entry, highWaterMark = 1 << 20) {
  const fh = await (0, import_promises10.open)(file, "r");
  const header = Buffer.alloc(30);
  try {
    await fh.read(header, 0, 30, entry.localHeaderOffset);
  } finally {
    await fh.close();
  }
  if (header.readUInt32LE(0) !== LOCAL) throw corrupt(file, `local header of ${entry.name} is damaged`);
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (entry.method !== 0 && entry.method !== 8) {
    throw corrupt(file, `${entry.name} uses compression method ${entry.method}; only stored and deflate are supported`);
  }
  const raw = entry.compressedSize === 0 ? import_node_stream.Readable.from([]) : (0, import_node_fs5.createReadStream)(file, { start, end: start + entry.compressedSize - 1, highWaterMark });
  const check = new ZipEntryCheck(file, entry);
  const forward = /* @__PURE__ */ __name((e) => {
    check.destroy(e.message.includes("unexpected end") ? corrupt(file, `${entry.name} is truncated`) : corrupt(file, e.message));
  }, "forward");
  raw.on("error", forward);
  if (entry.method === 8) {
    const inflate = (0, import_node_zlib.createInflateRaw)({ chunkSize: 1 << 20 });
    inflate.on("error", forward);
    raw.pipe(inflate).pipe(check);
  } else {
    raw.pipe(check);
  }
  return check;
}
__name(openZipEntry, "openZipEntry");

// src/lib/image/image-source.ts
var READ_CHUNK = 1 << 20;
async function xzUncompressedSize(path, logger) {
  const r = await execCapture("xz", ["--robot", "--list", "--", path], { logger, allowFailure: true });
  if (r.code !== 0) {
    throw new PiImageError("IMAGE_CORRUPT", `${path}: not a readable .xz file: ${r.stderr.trim().replace(/^xz: /, "")}`);
  }
  const totals = r.stdout.split("\n").find((l) => l.startsWith("totals	"));
  const size2 = totals ? Number(totals.split("	")[4]) : NaN;
  return Number.isFinite(size2) ? size2 : void 0;
}
__name(xzUncompressedSize, "xzUncompressedSize");
async function openRawImage(path, compression, logger) {
  const name = (0, import_node_path9.basename)(path);
  switch (compression) {
    case "none": {
      const { size: size2 } = await (0, import_promises11.stat)(path);
      return { stream: (0, import_node_fs6.createReadStream)(path, { highWaterMark: READ_CHUNK }), expectedSize: size2, innerName: name, done: Promise.resolve() };
    }
    case "gz": {
      const gunzip = (0, import_node_zlib2.createGunzip)({ chunkSize: READ_CHUNK });
      const file = (0, import_node_fs6.createReadStream)(path, { highWaterMark: READ_CHUNK });
      file.on("error", (e) => gunzip.destroy(e));
      file.pipe(gunzip);
      return { stream: gunzip, expectedSize: void 0, innerName: name.replace(/\.gz$/, ""), done: Promise.resolve() };
    }
    case "xz": {
      const expectedSize = await xzUncompressedSize(path, logger);
      const { child, done } = execStream("xz", ["--decompress", "--stdout", "--threads=0", "--", path], { logger, stdin: "ignore" });
      const named = done.catch((e) => {
        throw new PiImageError("IMAGE_CORRUPT", `${path}: not a readable .xz file (truncated or damaged)`, { cause: e });
      });
      named.catch(() => {
      });
      return { stream: child.stdout, expectedSize, innerName: name.replace(/\.xz$/, ""), done: named };
    }
    case "zip": {
      const entries = await listZipEntries(path);
      const images = entries.filter((e) => /\.img$/.test(e.name) && !e.name.endsWith("/"));
      if (images.length !== 1) {
        throw new PiImageError(
          images.length === 0 ? "IMAGE_NOT_DISK" : "DEPLOY_AMBIGUOUS",
          `${path}: expected one .img inside, found ${images.length}: ${entries.map((e) => e.name).join(", ") || "an empty archive"}`
        );
      }
      const entry = images[0];
      if (entry.name.includes("/") || entry.name.includes("\\")) {
        throw new PiImageError("IMAGE_CORRUPT", `${path}: the image entry ${entry.name} has a directory part; pi-gen writes a bare name`);
      }
      return {
        stream: await openZipEntry(path, entry, READ_CHUNK),
        expectedSize: entry.uncompressedSize,
        innerName: entry.name,
        done: Promise.resolve()
      };
    }
  }
}
__name(openRawImage, "openRawImage");

// src/lib/image/raw-image-pass.ts
var import_node_crypto3 = require("node:crypto");
var import_node_fs7 = require("node:fs");
var import_promises12 = require("node:fs/promises");
var import_node_events = require("node:events");
var import_node_stream2 = require("node:stream");
var import_promises13 = require("node:stream/promises");

// src/lib/image/bmap.ts
var import_node_crypto2 = require("node:crypto");
var BMAP_BLOCK_SIZE = 4096;
var BlockMapBuilder = class {
  constructor(blockSize = BMAP_BLOCK_SIZE) {
    this.blockSize = blockSize;
  }
  blockSize;
  static {
    __name(this, "BlockMapBuilder");
  }
  ranges = [];
  block = 0;
  mapped = 0;
  open;
  /** Adds `count` consecutive blocks whose bytes are `data` (the last one may be short). */
  addMapped(data, count) {
    if (!this.open) this.open = { first: this.block, hash: (0, import_node_crypto2.createHash)("sha256") };
    this.open.hash.update(data);
    this.block += count;
    this.mapped += count;
  }
  addUnmapped(count) {
    this.closeRange();
    this.block += count;
  }
  closeRange() {
    if (!this.open) return;
    this.ranges.push({ first: this.open.first, last: this.block - 1, sha256: this.open.hash.digest("hex") });
    this.open = void 0;
  }
  finish(imageSize) {
    this.closeRange();
    const blocksCount = Math.ceil(imageSize / this.blockSize);
    if (blocksCount !== this.block) {
      throw new PiImageError("INTERNAL", `block map saw ${this.block} blocks, image has ${blocksCount}`);
    }
    return { imageSize, blockSize: this.blockSize, blocksCount, mappedBlocksCount: this.mapped, ranges: this.ranges };
  }
};
function humanSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) v /= 1024, u++;
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[u]}`;
}
__name(humanSize, "humanSize");
var ZERO_CHECKSUM = "0".repeat(64);
function renderBmap(map) {
  const percent = map.blocksCount === 0 ? 0 : map.mappedBlocksCount * 100 / map.blocksCount;
  const lines = [
    '<?xml version="1.0" ?>',
    // No double hyphen may appear inside an XML comment.
    "<!-- Block map written by pi-image (pi-image-release) in bmap-tools format 2.0.",
    "     Only the listed blocks hold data; the rest are zeros and need not be",
    "     written. Flash it with bmaptool copy, giving this file as the bmap. -->",
    '<bmap version="2.0">',
    `    <!-- Image size: ${humanSize(map.imageSize)} -->`,
    `    <ImageSize> ${map.imageSize} </ImageSize>`,
    `    <BlockSize> ${map.blockSize} </BlockSize>`,
    `    <BlocksCount> ${map.blocksCount} </BlocksCount>`,
    `    <!-- Mapped: ${humanSize(map.mappedBlocksCount * map.blockSize)} or ${percent.toFixed(1)}% -->`,
    `    <MappedBlocksCount> ${map.mappedBlocksCount} </MappedBlocksCount>`,
    "    <ChecksumType> sha256 </ChecksumType>",
    "    <!-- sha256 of this file with the value below replaced by 64 zeros -->",
    `    <BmapFileChecksum> ${ZERO_CHECKSUM} </BmapFileChecksum>`,
    "    <BlockMap>",
    ...map.ranges.map((r) => `        <Range chksum="${r.sha256}"> ${r.first === r.last ? r.first : `${r.first}-${r.last}`} </Range>`),
    "    </BlockMap>",
    "</bmap>",
    ""
  ];
  const withZeros = lines.join("\n");
  const checksum = (0, import_node_crypto2.createHash)("sha256").update(withZeros).digest("hex");
  return withZeros.replace(`<BmapFileChecksum> ${ZERO_CHECKSUM} </BmapFileChecksum>`, `<BmapFileChecksum> ${checksum} </BmapFileChecksum>`);
}
__name(renderBmap, "renderBmap");

// src/lib/image/raw-image-pass.ts
var ZERO_BLOCK = Buffer.alloc(BMAP_BLOCK_SIZE);
var HashingPassThrough = class extends import_node_stream2.Transform {
  static {
    __name(this, "HashingPassThrough");
  }
  hash = (0, import_node_crypto3.createHash)("sha256");
  size = 0;
  _transform(chunk, _enc, done) {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
};
async function rawImagePass(source, options) {
  const { logger, sourceName } = options;
  const BS = BMAP_BLOCK_SIZE;
  const hash = (0, import_node_crypto3.createHash)("sha256");
  const bmap = new BlockMapBuilder(BS);
  let size2 = 0;
  let carry;
  let head = options.checkHead ? Buffer.alloc(0) : void 0;
  let sparse;
  let xz;
  if (options.xz) {
    const level = options.xz.level;
    const threads = options.xz.threads === 1 ? "+1" : String(options.xz.threads);
    const { child, done } = execStream("xz", ["--compress", "--stdout", `-${level}`, `--threads=${threads}`, "--check=crc64"], {
      logger,
      stdin: "pipe"
    });
    const counter = new HashingPassThrough();
    const out = (0, import_promises13.pipeline)(child.stdout, counter, (0, import_node_fs7.createWriteStream)(options.xz.path));
    out.catch(() => {
    });
    const stdin = child.stdin;
    stdin.on("error", () => {
    });
    xz = { stdin, done, out, counter, kill: /* @__PURE__ */ __name(() => child.kill("SIGKILL"), "kill") };
  }
  const waitDrain = /* @__PURE__ */ __name(async () => {
    await Promise.race([
      (0, import_node_events.once)(xz.stdin, "drain"),
      xz.done.then(() => {
        throw new PiImageError("EXEC_FAILED", "xz exited before the image was fully written to it");
      })
    ]);
  }, "waitDrain");
  const blocks = /* @__PURE__ */ __name(async (data, offset) => {
    const n = Math.ceil(data.length / BS);
    let i = 0;
    while (i < n) {
      const zero = data.subarray(i * BS, (i + 1) * BS).equals(ZERO_BLOCK.subarray(0, Math.min(BS, data.length - i * BS)));
      let j = i + 1;
      while (j < n && data.subarray(j * BS, (j + 1) * BS).equals(ZERO_BLOCK.subarray(0, Math.min(BS, data.length - j * BS))) === zero) j++;
      if (zero) bmap.addUnmapped(j - i);
      else {
        const segment = data.subarray(i * BS, Math.min(j * BS, data.length));
        bmap.addMapped(segment, j - i);
        if (sparse) await sparse.write(segment, 0, segment.length, offset + i * BS);
      }
      i = j;
    }
  }, "blocks");
  try {
    if (options.sparseCopy) sparse = await (0, import_promises12.open)(options.sparseCopy, "w");
    let blockOffset = 0;
    for await (const piece of source) {
      const chunk = piece;
      if (head && head.length < 65536) {
        head = Buffer.concat([head, chunk.subarray(0, 65536 - head.length)]);
        if (head.length >= 65536) {
          options.checkHead(head);
          head = void 0;
        }
      }
      size2 += chunk.length;
      hash.update(chunk);
      if (xz && !xz.stdin.write(chunk)) await waitDrain();
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      const whole = data.length - data.length % BS;
      await blocks(data.subarray(0, whole), blockOffset);
      blockOffset += whole;
      carry = whole < data.length ? Buffer.from(data.subarray(whole)) : void 0;
      logger.progress(`reading ${sourceName}`, size2, options.expectedSize);
    }
    if (size2 === 0) throw new PiImageError("IMAGE_EMPTY", `${sourceName}: the image is empty (0 bytes)`);
    if (head) options.checkHead(head);
    if (carry) await blocks(carry, blockOffset);
    if (options.expectedSize !== void 0 && size2 !== options.expectedSize) {
      throw new PiImageError("IMAGE_CORRUPT", `${sourceName}: read ${size2} bytes, expected ${options.expectedSize}`);
    }
    if (xz) {
      xz.stdin.end();
      await xz.done;
      await xz.out;
    }
    if (sparse) {
      await sparse.truncate(size2);
    }
  } catch (error) {
    xz?.kill();
    if (error instanceof PiImageError) throw error;
    throw new PiImageError("IMAGE_CORRUPT", `${sourceName}: cannot be read to the end: ${error.message}`, { cause: error });
  } finally {
    await sparse?.close();
  }
  const result = { raw: { size: size2, sha256: hash.digest("hex") }, bmap: bmap.finish(size2) };
  if (xz) result.compressed = { size: xz.counter.size, sha256: xz.counter.hash.digest("hex") };
  return result;
}
__name(rawImagePass, "rawImagePass");
async function digestFile(path, copyTo) {
  const counter = new HashingPassThrough();
  const input = (0, import_node_fs7.createReadStream)(path, { highWaterMark: 1 << 20 });
  const sink = copyTo ? (0, import_node_fs7.createWriteStream)(copyTo) : new import_node_stream2.Writable({
    write(_chunk, _enc, done) {
      done();
    }
  });
  await (0, import_promises13.pipeline)(input, counter, sink);
  return { size: counter.size, sha256: counter.hash.digest("hex") };
}
__name(digestFile, "digestFile");

// src/lib/image/open-image.ts
async function detectCompression(path) {
  let head;
  try {
    const fh = await (0, import_promises14.open)(path, "r");
    try {
      head = Buffer.alloc(6);
      const { bytesRead } = await fh.read(head, 0, 6, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new PiImageError("INPUT_INVALID", `image ${path} cannot be read: ${e.message}`, { cause: e });
  }
  if (head.length === 0) throw new PiImageError("IMAGE_EMPTY", `${path}: the image is empty (0 bytes)`);
  if (head.equals(Buffer.from([253, 55, 122, 88, 90, 0]))) return "xz";
  if (head[0] === 31 && head[1] === 139) return "gz";
  if (head.subarray(0, 4).equals(Buffer.from([80, 75, 3, 4])) || head.subarray(0, 4).equals(Buffer.from([80, 75, 5, 6]))) return "zip";
  return "none";
}
__name(detectCompression, "detectCompression");
async function openImageForReading(path, logger, workDir = (0, import_node_os2.tmpdir)()) {
  const compression = await detectCompression(path);
  if (compression === "none") {
    const source = await FileByteSource.open(path);
    return { source, compression, close: /* @__PURE__ */ __name(() => source.close(), "close") };
  }
  const dir = await (0, import_promises14.mkdtemp)((0, import_node_path10.join)(workDir, "pi-image-"));
  try {
    const raw = (0, import_node_path10.join)(dir, "image.img");
    logger.info(`decompressing ${path} (${compression}) into a sparse temporary file`);
    const opened = await openRawImage(path, compression, logger);
    const pass = await rawImagePass(opened.stream, { logger, sourceName: path, expectedSize: opened.expectedSize, sparseCopy: raw });
    await opened.done;
    const source = await FileByteSource.open(raw);
    return {
      source,
      compression,
      pass,
      async close() {
        await source.close();
        await (0, import_promises14.rm)(dir, { recursive: true, force: true });
      }
    };
  } catch (e) {
    await (0, import_promises14.rm)(dir, { recursive: true, force: true });
    throw e;
  }
}
__name(openImageForReading, "openImageForReading");

// src/lib/image/ext4.ts
var EXT4_MAGIC = 61267;
var INCOMPAT_64BIT = 128;
var EXTENTS_FL = 524288;
var INLINE_DATA_FL = 268435456;
var S_IFMT = 61440;
var S_IFDIR = 16384;
var S_IFLNK = 40960;
var S_IFREG = 32768;
var ROOT_INODE = 2;
var MAX_SYMLINK_HOPS = 40;
var Ext4FileSystem = class _Ext4FileSystem {
  constructor(src, blockSize, kind, label, uuid, inodesPerGroup, inodeSize, descSize, is64, firstDataBlock, groupCount) {
    this.src = src;
    this.blockSize = blockSize;
    this.kind = kind;
    this.label = label;
    this.uuid = uuid;
    this.inodesPerGroup = inodesPerGroup;
    this.inodeSize = inodeSize;
    this.descSize = descSize;
    this.is64 = is64;
    this.firstDataBlock = firstDataBlock;
    this.groupCount = groupCount;
  }
  src;
  blockSize;
  kind;
  label;
  uuid;
  inodesPerGroup;
  inodeSize;
  descSize;
  is64;
  firstDataBlock;
  groupCount;
  static {
    __name(this, "Ext4FileSystem");
  }
  static looksLikeExt(superblock) {
    return superblock.length >= 1024 && superblock.readUInt16LE(56) === EXT4_MAGIC;
  }
  static async open(src) {
    const sb = await src.read(1024, 1024);
    if (!_Ext4FileSystem.looksLikeExt(sb)) throw new PiImageError("IMAGE_CORRUPT", `${src.name}: not an ext2/3/4 file system`);
    const blockSize = 1024 << sb.readUInt32LE(24);
    const blocksCount = sb.readUInt32LE(4) + (sb.readUInt32LE(96) & INCOMPAT_64BIT ? sb.readUInt32LE(336) * 2 ** 32 : 0);
    const blocksPerGroup = sb.readUInt32LE(32);
    const inodesPerGroup = sb.readUInt32LE(40);
    const revLevel = sb.readUInt32LE(76);
    const inodeSize = revLevel >= 1 ? sb.readUInt16LE(88) : 128;
    const incompat = sb.readUInt32LE(96);
    const is64 = (incompat & INCOMPAT_64BIT) !== 0;
    const descSize = is64 ? sb.readUInt16LE(254) || 64 : 32;
    if (blockSize > 65536 || blocksPerGroup === 0 || inodesPerGroup === 0 || inodeSize < 128) {
      throw new PiImageError("IMAGE_CORRUPT", `${src.name}: ext superblock has implausible geometry`);
    }
    const label = sb.toString("utf8", 120, 136).replace(/\0.*$/s, "") || void 0;
    const u = sb.subarray(104, 120).toString("hex");
    const uuid = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
    const firstDataBlock = sb.readUInt32LE(20);
    const groupCount = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
    const compat = sb.readUInt32LE(92);
    const kind = incompat & (64 | 512 | INCOMPAT_64BIT) ? "ext4" : compat & 4 ? "ext3" : "ext2";
    return new _Ext4FileSystem(src, blockSize, kind, label, uuid, inodesPerGroup, inodeSize, descSize, is64, firstDataBlock, groupCount);
  }
  async readBlocks(block, count = 1) {
    return this.src.read(block * this.blockSize, count * this.blockSize);
  }
  async inode(number) {
    const group = Math.floor((number - 1) / this.inodesPerGroup);
    if (number < 1 || group >= this.groupCount) throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: inode ${number} out of range`);
    const index = (number - 1) % this.inodesPerGroup;
    const gdtBlock = this.firstDataBlock + 1;
    const desc = await this.src.read(gdtBlock * this.blockSize + group * this.descSize, this.descSize);
    const tableLo = desc.readUInt32LE(8);
    const tableHi = this.is64 && this.descSize >= 64 ? desc.readUInt32LE(40) : 0;
    const table = tableLo + tableHi * 2 ** 32;
    const raw = await this.src.read(table * this.blockSize + index * this.inodeSize, this.inodeSize);
    const mode = raw.readUInt16LE(0);
    const size2 = raw.readUInt32LE(4) + raw.readUInt32LE(108) * 2 ** 32;
    return { number, mode, size: size2, flags: raw.readUInt32LE(32), block: Buffer.from(raw.subarray(40, 100)) };
  }
  /** The file system blocks holding an inode's data, in order, as [logical, physical, count] runs. */
  async extents(inode) {
    if (inode.flags & EXTENTS_FL) {
      const out = [];
      const walk = /* @__PURE__ */ __name(async (node, depthGuard) => {
        if (node.readUInt16LE(0) !== 62218) throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: inode ${inode.number} has a damaged extent tree`);
        if (depthGuard > 5) throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: inode ${inode.number} extent tree too deep`);
        const entries = node.readUInt16LE(2);
        const depth = node.readUInt16LE(6);
        for (let i = 0; i < entries; i++) {
          const e = 12 + i * 12;
          if (depth === 0) {
            const logical = node.readUInt32LE(e);
            let len = node.readUInt16LE(e + 4);
            const uninitialized = len > 32768;
            if (uninitialized) len -= 32768;
            const physical = node.readUInt16LE(e + 6) * 2 ** 32 + node.readUInt32LE(e + 8);
            out.push([logical, uninitialized ? -1 : physical, len]);
          } else {
            const child = node.readUInt32LE(e + 4) + node.readUInt16LE(e + 8) * 2 ** 32;
            await walk(await this.readBlocks(child), depthGuard + 1);
          }
        }
      }, "walk");
      await walk(inode.block, 0);
      return out;
    }
    const perBlock = this.blockSize / 4;
    const total = Math.ceil(inode.size / this.blockSize);
    const list = [];
    const indirect = /* @__PURE__ */ __name(async (block, level) => {
      if (block === 0 || list.length >= total) return;
      const data = await this.readBlocks(block);
      for (let i = 0; i < perBlock && list.length < total; i++) {
        const b = data.readUInt32LE(i * 4);
        if (level === 1) list.push(b);
        else await indirect(b, level - 1);
      }
    }, "indirect");
    for (let i = 0; i < 12 && list.length < total; i++) list.push(inode.block.readUInt32LE(i * 4));
    await indirect(inode.block.readUInt32LE(48), 1);
    await indirect(inode.block.readUInt32LE(52), 2);
    await indirect(inode.block.readUInt32LE(56), 3);
    return list.map((b, i) => [i, b === 0 ? -1 : b, 1]);
  }
  /** Reads an inode's data, up to `maxBytes`. */
  async readInode(inode, maxBytes = 1 << 20) {
    const length = Math.min(inode.size, maxBytes);
    if (inode.flags & INLINE_DATA_FL) {
      if (inode.size > 60) throw new PiImageError("FS_UNSUPPORTED", `${this.src.name}: inode ${inode.number} keeps more than 60 bytes inline`);
      return inode.block.subarray(0, length);
    }
    const out = Buffer.alloc(length);
    for (const [logical, physical, count] of await this.extents(inode)) {
      const start = logical * this.blockSize;
      if (start >= length) continue;
      const bytes = Math.min(count * this.blockSize, length - start);
      if (physical >= 0) (await this.src.read(physical * this.blockSize, bytes)).copy(out, start);
    }
    return out;
  }
  async readDirectory(inode) {
    if ((inode.mode & S_IFMT) !== S_IFDIR) throw new PiImageError("INTERNAL", `inode ${inode.number} is not a directory`);
    const data = await this.readInode(inode, 64 * 1024 * 1024);
    const entries = [];
    let at = 0;
    while (at + 8 <= data.length) {
      const ino = data.readUInt32LE(at);
      const recLen = data.readUInt16LE(at + 4);
      const nameLen = data[at + 6];
      if (recLen < 8 || at + recLen > data.length) {
        at = (Math.floor(at / this.blockSize) + 1) * this.blockSize;
        continue;
      }
      if (ino !== 0 && nameLen > 0) {
        const name = data.toString("utf8", at + 8, at + 8 + nameLen);
        if (name !== "." && name !== "..") entries.push({ name, inode: ino, fileType: data[at + 7] });
      }
      at += recLen;
    }
    return entries;
  }
  /**
   * Resolves a path from the root, following symlinks (absolute ones against the
   * image's root, never the host's). Returns undefined when it does not exist.
   */
  async resolve(path, followLast = true) {
    let hops = 0;
    const walk = /* @__PURE__ */ __name(async (components) => {
      let stack = [await this.inode(ROOT_INODE)];
      const queue = [...components];
      while (queue.length > 0) {
        const part = queue.shift();
        if (part === "" || part === ".") continue;
        if (part === "..") {
          if (stack.length > 1) stack.pop();
          continue;
        }
        const dir = stack[stack.length - 1];
        if ((dir.mode & S_IFMT) !== S_IFDIR) return void 0;
        const entry = (await this.readDirectory(dir)).find((e) => e.name === part);
        if (!entry) return void 0;
        const node = await this.inode(entry.inode);
        if ((node.mode & S_IFMT) === S_IFLNK && (queue.length > 0 || followLast)) {
          if (++hops > MAX_SYMLINK_HOPS) throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: too many symlinks resolving ${path}`);
          const target = await this.readLink(node);
          if (target.startsWith("/")) stack = [stack[0]];
          queue.unshift(...target.split("/"));
          continue;
        }
        stack.push(node);
      }
      return stack[stack.length - 1];
    }, "walk");
    return walk(path.split("/"));
  }
  async readLink(inode) {
    if (inode.size < 60 && !(inode.flags & EXTENTS_FL)) return inode.block.toString("utf8", 0, inode.size);
    return (await this.readInode(inode, 4096)).toString("utf8");
  }
  /** Reads a regular file by path (symlinks followed); undefined when absent or not a file. */
  async readFile(path, maxBytes = 1 << 20) {
    const inode = await this.resolve(path);
    if (!inode || (inode.mode & S_IFMT) !== S_IFREG) return void 0;
    return this.readInode(inode, maxBytes);
  }
  /** Lists a directory by path; undefined when absent. Symlinks in the listing are reported with their targets. */
  async list(path) {
    const inode = await this.resolve(path);
    if (!inode || (inode.mode & S_IFMT) !== S_IFDIR) return void 0;
    const out = [];
    for (const e of await this.readDirectory(inode)) {
      const node = await this.inode(e.inode);
      const fmt = node.mode & S_IFMT;
      if (fmt === S_IFLNK) out.push({ name: e.name, type: "symlink", target: await this.readLink(node) });
      else out.push({ name: e.name, type: fmt === S_IFDIR ? "directory" : fmt === S_IFREG ? "file" : "other" });
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }
  async exists(path) {
    return await this.resolve(path, false) !== void 0;
  }
};

// src/lib/image/fat.ts
var MAX_FAT_BYTES = 64 * 1024 * 1024;
var MAX_WALK_ENTRIES = 1e5;
var FatFileSystem = class _FatFileSystem {
  constructor(src, type, volumeId, clusterBytes, dataStart, rootDir, fat, clusterCount) {
    this.src = src;
    this.type = type;
    this.volumeId = volumeId;
    this.clusterBytes = clusterBytes;
    this.dataStart = dataStart;
    this.rootDir = rootDir;
    this.fat = fat;
    this.clusterCount = clusterCount;
  }
  src;
  type;
  volumeId;
  clusterBytes;
  dataStart;
  rootDir;
  fat;
  clusterCount;
  static {
    __name(this, "FatFileSystem");
  }
  /** The volume label: the root directory's label entry, else the boot sector's. */
  label;
  /** True when the boot sector looks like FAT (used to identify a partition). */
  static looksLikeFat(boot) {
    if (boot.length < 512 || boot.readUInt16LE(510) !== 43605) return false;
    const bps = boot.readUInt16LE(11);
    const spc = boot[13];
    return [512, 1024, 2048, 4096].includes(bps) && spc > 0 && (spc & spc - 1) === 0 && boot[16] > 0 && boot.readUInt16LE(14) > 0;
  }
  static async open(src) {
    const boot = await src.read(0, 512);
    if (!_FatFileSystem.looksLikeFat(boot)) throw new PiImageError("IMAGE_CORRUPT", `${src.name}: not a FAT file system`);
    const bps = boot.readUInt16LE(11);
    const spc = boot[13];
    const reserved = boot.readUInt16LE(14);
    const fats = boot[16];
    const rootEntries = boot.readUInt16LE(17);
    const total = boot.readUInt16LE(19) || boot.readUInt32LE(32);
    const fatSectors = boot.readUInt16LE(22) || boot.readUInt32LE(36);
    const rootSectors = Math.ceil(rootEntries * 32 / bps);
    const dataSector = reserved + fats * fatSectors + rootSectors;
    const clusters = Math.floor((total - dataSector) / spc);
    const type = clusters < 4085 ? "FAT12" : clusters < 65525 ? "FAT16" : "FAT32";
    const fatBytes = fatSectors * bps;
    if (fatBytes > MAX_FAT_BYTES) throw new PiImageError("FS_UNSUPPORTED", `${src.name}: FAT of ${fatBytes} bytes is larger than this reader allows`);
    const fat = await src.read(reserved * bps, fatBytes);
    const bpbLabel = boot.toString("latin1", type === "FAT32" ? 71 : 43, type === "FAT32" ? 82 : 54).trimEnd();
    const volumeId = boot.readUInt32LE(type === "FAT32" ? 67 : 39).toString(16).padStart(8, "0").toUpperCase();
    const rootDir = type === "FAT32" ? { cluster: boot.readUInt32LE(44) } : { offset: (reserved + fats * fatSectors) * bps, length: rootSectors * bps };
    const fs = new _FatFileSystem(src, type, `${volumeId.slice(0, 4)}-${volumeId.slice(4)}`, spc * bps, dataSector * bps, rootDir, fat, clusters);
    const volumeLabel = await fs.rootVolumeLabel();
    fs.label = volumeLabel ?? (bpbLabel && bpbLabel !== "NO NAME" ? bpbLabel : void 0);
    return fs;
  }
  next(cluster) {
    if (this.type === "FAT32") return this.fat.readUInt32LE(cluster * 4) & 268435455;
    if (this.type === "FAT16") return this.fat.readUInt16LE(cluster * 2);
    const v = this.fat.readUInt16LE(Math.floor(cluster * 1.5));
    return cluster & 1 ? v >> 4 : v & 4095;
  }
  isEnd(cluster) {
    const eoc = this.type === "FAT32" ? 268435448 : this.type === "FAT16" ? 65528 : 4088;
    return cluster >= eoc || cluster < 2;
  }
  chain(first) {
    const out = [];
    let c = first;
    while (!this.isEnd(c)) {
      if (c > this.clusterCount + 1 || out.length > this.clusterCount) {
        throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: FAT cluster chain from ${first} is broken or loops`);
      }
      out.push(c);
      c = this.next(c);
    }
    return out;
  }
  async readChain(first, limit) {
    const parts = [];
    let got = 0;
    for (const c of this.chain(first)) {
      if (got >= limit) break;
      const len = Math.min(this.clusterBytes, limit - got);
      parts.push(await this.src.read(this.dataStart + (c - 2) * this.clusterBytes, len));
      got += len;
    }
    return Buffer.concat(parts);
  }
  async rootBytes() {
    if ("cluster" in this.rootDir) return this.readChain(this.rootDir.cluster, Number.MAX_SAFE_INTEGER);
    return this.src.read(this.rootDir.offset, this.rootDir.length);
  }
  async rootVolumeLabel() {
    const raw = await this.rootBytes();
    for (let at = 0; at + 32 <= raw.length; at += 32) {
      if (raw[at] === 0) break;
      if (raw[at] === 229) continue;
      const attr = raw[at + 11];
      if (attr !== 15 && attr & 8) return raw.toString("latin1", at, at + 11).trimEnd();
    }
    return void 0;
  }
  static parseDirectory(raw) {
    const entries = [];
    let lfn = [];
    for (let at = 0; at + 32 <= raw.length; at += 32) {
      const first = raw[at];
      if (first === 0) break;
      if (first === 229) {
        lfn = [];
        continue;
      }
      const attr = raw[at + 11];
      if (attr === 15) {
        const seq = first & 31;
        const chars = Buffer.concat([raw.subarray(at + 1, at + 11), raw.subarray(at + 14, at + 26), raw.subarray(at + 28, at + 32)]);
        let part = chars.toString("utf16le");
        const end = part.indexOf("\0");
        if (end >= 0) part = part.slice(0, end);
        if (first & 64) lfn = [];
        lfn[seq - 1] = part;
        continue;
      }
      if (attr & 8) {
        lfn = [];
        continue;
      }
      const base = raw.toString("latin1", at, at + 8).trimEnd();
      const ext = raw.toString("latin1", at + 8, at + 11).trimEnd();
      const caseFlags = raw[at + 12];
      const shortName = (caseFlags & 8 ? base.toLowerCase() : base) + (ext ? "." + (caseFlags & 16 ? ext.toLowerCase() : ext) : "");
      const name = lfn.length > 0 ? lfn.join("") : shortName;
      lfn = [];
      if (name === "." || name === "..") continue;
      entries.push({
        name,
        directory: (attr & 16) !== 0,
        size: raw.readUInt32LE(at + 28),
        firstCluster: raw.readUInt16LE(at + 20) << 16 | raw.readUInt16LE(at + 26)
      });
    }
    return entries;
  }
  async listEntry(dir) {
    const raw = dir ? await this.readChain(dir.firstCluster, Number.MAX_SAFE_INTEGER) : await this.rootBytes();
    return _FatFileSystem.parseDirectory(raw);
  }
  async lookup(path) {
    const parts = path.split("/").filter(Boolean);
    let current;
    for (const part of parts) {
      if (current && !current.directory) return null;
      const found = (await this.listEntry(current)).find((e) => e.name.toLowerCase() === part.toLowerCase());
      if (!found) return null;
      current = found;
    }
    return current;
  }
  /** Lists a directory; `/` is the root. */
  async list(path = "/") {
    const entry = await this.lookup(path);
    if (entry === null || entry && !entry.directory) throw new PiImageError("INPUT_INVALID", `${this.src.name}: no directory ${path}`);
    return this.listEntry(entry);
  }
  /** Reads a file, or undefined when there is none. Files past `maxBytes` are cut there. */
  async readFile(path, maxBytes = 1 << 20) {
    const entry = await this.lookup(path);
    if (!entry || entry.directory) return void 0;
    if (entry.size === 0) return Buffer.alloc(0);
    return this.readChain(entry.firstCluster, Math.min(entry.size, maxBytes));
  }
  /** Every file and directory, depth first, sorted by name within a directory. */
  async walk() {
    const out = [];
    const visit = /* @__PURE__ */ __name(async (dir, prefix, depth) => {
      if (depth > 32) throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: directories nest deeper than 32 levels`);
      const entries = (await this.listEntry(dir)).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      for (const e of entries) {
        if (out.length >= MAX_WALK_ENTRIES) throw new PiImageError("IMAGE_CORRUPT", `${this.src.name}: more than ${MAX_WALK_ENTRIES} entries`);
        const path = `${prefix}/${e.name}`;
        out.push({ path, directory: e.directory, size: e.directory ? 0 : e.size });
        if (e.directory) await visit(e, path, depth + 1);
      }
    }, "visit");
    await visit(void 0, "", 0);
    return out;
  }
};

// src/lib/image/partition-table.ts
var MBR_TYPES = {
  1: "FAT12",
  4: "FAT16 <32M",
  5: "Extended",
  6: "FAT16",
  7: "HPFS/NTFS/exFAT",
  11: "W95 FAT32",
  12: "W95 FAT32 (LBA)",
  14: "W95 FAT16 (LBA)",
  15: "W95 Extended (LBA)",
  130: "Linux swap",
  131: "Linux",
  142: "Linux LVM",
  238: "GPT protective",
  239: "EFI (FAT-12/16/32)"
};
var GPT_TYPES = {
  "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI System",
  "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "Microsoft basic data",
  "0fc63daf-8483-4772-8e79-3d69d8477de4": "Linux filesystem",
  "b921b045-1df0-41c3-af44-4c6f280d3fae": "Linux root (ARM-64)",
  "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap"
};
var SECTOR = 512;
function guid(buf, at) {
  const hex = /* @__PURE__ */ __name((b) => b.toString("hex"), "hex");
  const le = /* @__PURE__ */ __name((start, len) => hex(Buffer.from(buf.subarray(at + start, at + start + len)).reverse()), "le");
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${hex(buf.subarray(at + 8, at + 10))}-${hex(buf.subarray(at + 10, at + 16))}`;
}
__name(guid, "guid");
async function readPartitionTable(disk) {
  if (disk.size < SECTOR) {
    throw new PiImageError("IMAGE_NOT_DISK", `${disk.name}: ${disk.size} bytes is too small to be a disk image`);
  }
  const mbr = await disk.read(0, SECTOR);
  if (mbr.readUInt16LE(510) !== 43605) {
    throw new PiImageError("IMAGE_NOT_DISK", `${disk.name}: not a disk image (no partition table signature 55 AA in sector 0)`);
  }
  const diskSig = mbr.readUInt32LE(440).toString(16).padStart(8, "0");
  const entries = [];
  let protective = false;
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    const type = mbr[e + 4];
    const lba = mbr.readUInt32LE(e + 8);
    const sectors = mbr.readUInt32LE(e + 12);
    if (type === 0 || sectors === 0) continue;
    if (type === 238) protective = true;
    entries.push({
      number: i + 1,
      type: type.toString(16).padStart(2, "0"),
      typeName: MBR_TYPES[type] ?? "unknown",
      startBytes: lba * SECTOR,
      sizeBytes: sectors * SECTOR,
      bootable: mbr[e] === 128,
      partuuid: `${diskSig}-${String(i + 1).padStart(2, "0")}`
    });
  }
  if (!protective) {
    for (const p of entries) {
      if (p.startBytes + p.sizeBytes > disk.size) {
        throw new PiImageError("IMAGE_CORRUPT", `${disk.name}: partition ${p.number} ends past the end of the image (truncated image?)`);
      }
    }
    return { scheme: "mbr", diskId: diskSig, sectorSize: SECTOR, partitions: entries };
  }
  const header = await disk.read(SECTOR, SECTOR);
  if (header.toString("latin1", 0, 8) !== "EFI PART") {
    throw new PiImageError("IMAGE_CORRUPT", `${disk.name}: protective MBR but no GPT header in sector 1`);
  }
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (count > 1024 || entrySize < 128 || entrySize > 4096) {
    throw new PiImageError("IMAGE_CORRUPT", `${disk.name}: GPT header has an implausible entry table (${count} \xD7 ${entrySize})`);
  }
  const table = await disk.read(entriesLba * SECTOR, count * entrySize);
  const partitions = [];
  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    const typeGuid = guid(table, at);
    if (typeGuid === "00000000-0000-0000-0000-000000000000") continue;
    const first = Number(table.readBigUInt64LE(at + 32));
    const last = Number(table.readBigUInt64LE(at + 40));
    partitions.push({
      number: i + 1,
      type: typeGuid,
      typeName: GPT_TYPES[typeGuid] ?? "unknown",
      startBytes: first * SECTOR,
      sizeBytes: (last - first + 1) * SECTOR,
      partuuid: guid(table, at + 16),
      name: table.toString("utf16le", at + 56, at + 128).replace(/\0.*$/s, "")
    });
  }
  return { scheme: "gpt", diskId: guid(header, 56), sectorSize: SECTOR, partitions };
}
__name(readPartitionTable, "readPartitionTable");

// src/lib/image/inspect.ts
var DEFAULT_PRODUCT_RELEASE_FILE = "/etc/ourbox/release";
function parseKeyValues(text2) {
  const out = {};
  for (const line of text2.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2].trim();
    if (/^"(.*)"$/s.test(value)) value = value.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
    else if (/^'(.*)'$/s.test(value)) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}
__name(parseKeyValues, "parseKeyValues");
function parseFstab(text2) {
  const out = [];
  for (const line of text2.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const f = trimmed.split(/\s+/);
    if (f.length < 4) continue;
    out.push({ spec: f[0], file: f[1], vfstype: f[2], options: f[3], freq: Number(f[4] ?? 0), passno: Number(f[5] ?? 0) });
  }
  return out;
}
__name(parseFstab, "parseFstab");
async function identify(part) {
  if (part.size >= 2048) {
    const head = await part.read(0, 2048);
    if (Ext4FileSystem.looksLikeExt(head.subarray(1024))) {
      const ext = await Ext4FileSystem.open(part);
      const info = { type: ext.kind, uuid: ext.uuid };
      if (ext.label) info.label = ext.label;
      return { info, ext };
    }
    if (FatFileSystem.looksLikeFat(head.subarray(0, 512))) {
      const fat = await FatFileSystem.open(part);
      const info = { type: "vfat", uuid: fat.volumeId };
      if (fat.label) info.label = fat.label;
      return { info, fat };
    }
  }
  return { info: { type: "unknown" } };
}
__name(identify, "identify");
var text = /* @__PURE__ */ __name((b) => b === void 0 ? void 0 : b.toString("utf8"), "text");
async function inspectImage(disk, options = {}) {
  const table = await readPartitionTable(disk);
  const warnings = [];
  const partitions = [];
  let fatFs;
  let extFs;
  for (const p of table.partitions) {
    if (p.type === "05" || p.type === "0f") {
      partitions.push({ ...p, filesystem: { type: "unknown" } });
      continue;
    }
    const slice = new SliceByteSource(disk, p.startBytes, p.sizeBytes, `${disk.name} partition ${p.number}`);
    try {
      const found = await identify(slice);
      partitions.push({ ...p, filesystem: found.info });
      if (found.fat && !fatFs) fatFs = { n: p.number, fs: found.fat };
      if (found.ext && !extFs) extFs = { n: p.number, fs: found.ext };
    } catch (e) {
      warnings.push(`partition ${p.number}: ${e.message}`);
      partitions.push({ ...p, filesystem: { type: "unknown" } });
    }
  }
  if (partitions.length === 0) {
    throw new PiImageError("IMAGE_NOT_DISK", `${disk.name}: the partition table lists no partition`);
  }
  const result = {
    sizeBytes: disk.size,
    partitionTable: { scheme: table.scheme, diskId: table.diskId, partitions },
    warnings
  };
  if (fatFs) {
    const { fs, n } = fatFs;
    const boot = { partition: n, files: await fs.walk() };
    const config = text(await fs.readFile("/config.txt"));
    const cmdline = text(await fs.readFile("/cmdline.txt"));
    if (config !== void 0) boot.configTxt = config;
    else warnings.push("boot partition has no config.txt");
    if (cmdline !== void 0) boot.cmdlineTxt = cmdline;
    else warnings.push("boot partition has no cmdline.txt");
    result.boot = boot;
  } else warnings.push("no FAT boot partition found");
  if (extFs) {
    const { fs, n } = extFs;
    const root = { partition: n, enabledUnits: [], maskedUnits: [] };
    const osRelease = text(await fs.readFile("/etc/os-release"));
    if (osRelease !== void 0) root.osRelease = parseKeyValues(osRelease);
    else warnings.push("root file system has no /etc/os-release");
    const releasePath = options.productReleaseFile ?? DEFAULT_PRODUCT_RELEASE_FILE;
    const product = text(await fs.readFile(releasePath));
    if (product !== void 0) root.productRelease = { path: releasePath, values: parseKeyValues(product) };
    const hostname = text(await fs.readFile("/etc/hostname"));
    if (hostname !== void 0) root.hostname = hostname.trim();
    const fstab = text(await fs.readFile("/etc/fstab"));
    if (fstab !== void 0) root.fstab = parseFstab(fstab);
    else warnings.push("root file system has no /etc/fstab");
    const system = await fs.list("/etc/systemd/system") ?? [];
    for (const entry of system) {
      const m = /^(.+)\.(wants|requires)$/.exec(entry.name);
      if (entry.type === "directory" && m) {
        for (const link of await fs.list(`/etc/systemd/system/${entry.name}`) ?? []) {
          root.enabledUnits.push({ unit: link.name, wantedBy: m[1], relation: m[2] });
        }
      } else if (entry.type === "symlink" && entry.target === "/dev/null") {
        root.maskedUnits.push(entry.name);
      }
    }
    root.enabledUnits.sort((a, b) => a.unit + a.wantedBy < b.unit + b.wantedBy ? -1 : 1);
    result.root = root;
  } else warnings.push("no ext root partition found");
  return result;
}
__name(inspectImage, "inspectImage");

// src/cli/format-inspection.ts
function mib(bytes) {
  return `${(bytes / 1048576).toFixed(bytes % 1048576 === 0 ? 0 : 1)} MiB`;
}
__name(mib, "mib");
function formatInspection(name, r) {
  const out = [];
  out.push(`${name}: ${mib(r.sizeBytes)}, ${r.partitionTable.scheme.toUpperCase()} disk id ${r.partitionTable.diskId}`);
  out.push("");
  out.push("  #  start      size        type                     file system  label");
  for (const p of r.partitionTable.partitions) {
    out.push(
      `  ${String(p.number).padEnd(2)} ${mib(p.startBytes).padEnd(10)} ${mib(p.sizeBytes).padEnd(11)} ${`${p.type} ${p.typeName}`.slice(0, 24).padEnd(24)} ${p.filesystem.type.padEnd(12)} ${p.filesystem.label ?? ""}`
    );
  }
  if (r.boot) {
    out.push("", `boot (partition ${r.boot.partition}): ${r.boot.files.filter((f) => !f.directory).length} files`);
    if (r.boot.cmdlineTxt !== void 0) out.push(`  cmdline.txt: ${r.boot.cmdlineTxt.trim()}`);
    if (r.boot.configTxt !== void 0) {
      const settings = r.boot.configTxt.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
      out.push(`  config.txt: ${settings.join("; ")}`);
    }
  }
  if (r.root) {
    out.push("", `root (partition ${r.root.partition}):`);
    if (r.root.osRelease?.PRETTY_NAME) out.push(`  os: ${r.root.osRelease.PRETTY_NAME}`);
    if (r.root.hostname) out.push(`  hostname: ${r.root.hostname}`);
    if (r.root.productRelease) {
      out.push(`  ${r.root.productRelease.path}:`);
      for (const [k, v] of Object.entries(r.root.productRelease.values)) out.push(`    ${k}=${v}`);
    }
    if (r.root.fstab) {
      out.push("  fstab:");
      for (const e of r.root.fstab) out.push(`    ${e.spec} ${e.file} ${e.vfstype} ${e.options} ${e.freq} ${e.passno}`);
    }
    out.push(`  enabled units: ${r.root.enabledUnits.map((u) => `${u.unit} (${u.wantedBy})`).join(", ") || "none"}`);
    if (r.root.maskedUnits.length > 0) out.push(`  masked units: ${r.root.maskedUnits.join(", ")}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.join("\n")}
`;
}
__name(formatInspection, "formatInspection");

// src/cli/commands/inspect-command.ts
var inspectCommand = {
  name: "inspect",
  summary: "read partitions, boot files and system facts out of an image, without mounting it",
  usage: "pi-image inspect IMAGE [--json]",
  help: `Reads IMAGE (.img, .img.xz, .img.gz or pi-gen's .zip) without mounting it and
without root: the partition table (MBR, and GPT when present), each partition's
file system and label; from the FAT boot partition its files, config.txt and
cmdline.txt; from the ext4 root /etc/os-release, the product's release file,
/etc/fstab and the enabled systemd units. A compressed image is decompressed
once into a sparse temporary file (under --tmpdir), removed afterwards.

Options:
  --json                    print everything as JSON on stdout
  --product-release FILE    the product's KEY=VALUE file (default: /etc/ourbox/release)
  --tmpdir DIR              where a compressed image is unpacked (default: the system's)`,
  options: {
    json: { type: "boolean" },
    "product-release": { type: "string" },
    tmpdir: { type: "string" }
  },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length !== 1) throw usageError("inspect needs exactly one IMAGE");
    const opened = await openImageForReading(positionals[0], logger, values.tmpdir);
    try {
      const release = values["product-release"];
      const report = await inspectImage(opened.source, release ? { productReleaseFile: release } : {});
      stdout(values.json ? `${JSON.stringify(report, null, 2)}
` : formatInspection(positionals[0], report));
    } finally {
      await opened.close();
    }
    return 0;
  }
};

// src/lib/release/package.ts
var import_promises16 = require("node:fs/promises");
var import_node_path12 = require("node:path");
var import_node_crypto6 = require("node:crypto");

// src/lib/pigen/info-file.ts
var GENERATED = /^Generated using pi-gen, (\S+), (\S*), (\S+)\s*$/;
var ROW = /^([a-zA-Z][a-zA-Z ]?[a-zA-Z ]?)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/;
function parseInfoFile(text2, source = ".info") {
  const lines = text2.split(/\r?\n/);
  const header = lines[0]?.trim() ?? "";
  const dateMatch = /^(.*\S)\s+(\d{4}-\d{2}-\d{2})$/.exec(header);
  if (!dateMatch) {
    throw new PiImageError("INFO_INVALID", `${source}: line 1 should be "<PI_GEN_RELEASE> <YYYY-MM-DD>", found "${header.slice(0, 120)}"`);
  }
  const generated = GENERATED.exec(lines[1]?.trim() ?? "");
  if (!generated) {
    throw new PiImageError(
      "INFO_INVALID",
      `${source}: line 2 should be "Generated using pi-gen, <repository>, <commit>, <stage>", found "${(lines[1] ?? "").slice(0, 120)}"`
    );
  }
  const packagesAt = lines.findIndex((l) => l.trim() === "Packages:");
  const tableRule = lines.findIndex((l, i) => i > packagesAt && /^\+\+\+-=+/.test(l));
  if (packagesAt < 0 || tableRule < 0) {
    throw new PiImageError("INFO_INVALID", `${source}: no package table ("Packages:" followed by the dpkg -l table) found`);
  }
  const packages = [];
  for (let i = tableRule + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const row = ROW.exec(line);
    if (!row) {
      throw new PiImageError("INFO_INVALID", `${source}:${i + 1}: not a dpkg -l package row: "${line.slice(0, 120)}"`);
    }
    const state = row[1].trim();
    if (state[1] !== "i") continue;
    const [name, qualifier] = row[2].split(":", 2);
    packages.push({
      name,
      ...qualifier ? { qualifier } : {},
      version: row[3],
      architecture: row[4],
      description: (row[5] ?? "").trim(),
      state
    });
  }
  if (packages.length === 0) {
    throw new PiImageError("INFO_INVALID", `${source}: the package table lists no installed package`);
  }
  return {
    release: dateMatch[1],
    date: dateMatch[2],
    repository: generated[1],
    gitHash: generated[2],
    stage: generated[3],
    packages
  };
}
__name(parseInfoFile, "parseInfoFile");

// src/lib/release/checksums.ts
function renderSha256Sums(entries) {
  return entries.map((e) => `${e.sha256}  ${e.name}
`).join("");
}
__name(renderSha256Sums, "renderSha256Sums");

// src/lib/release/metadata.ts
var METADATA_FILE = "metadata.json";
var METADATA_SCHEMA_VERSION = 1;
function timing(e) {
  return {
    name: e.name,
    path: e.path,
    occurrence: e.occurrence,
    startOffsetSeconds: e.startOffsetSeconds,
    durationSeconds: e.durationSeconds,
    complete: e.complete,
    children: e.children.map(timing)
  };
}
__name(timing, "timing");
function buildMetadata(input) {
  const stages = input.timeline ? stagesOf(input.timeline) : [];
  return {
    schemaVersion: METADATA_SCHEMA_VERSION,
    name: input.name,
    version: input.version,
    channel: input.channel,
    created: input.created,
    tool: input.tool,
    pigen: {
      release: input.info.release,
      date: input.info.date,
      repository: input.info.repository,
      gitHash: input.info.gitHash,
      exportedStage: input.info.stage,
      stageList: [...new Set(stages.map((s) => s.name))]
    },
    recipe: {
      repository: input.provenance.recipe?.repository ?? null,
      commit: input.provenance.recipe?.commit ?? null,
      ref: input.provenance.recipe?.ref ?? null
    },
    workflowRun: {
      id: input.provenance.workflowRun?.id ?? null,
      attempt: input.provenance.workflowRun?.attempt ?? null,
      url: input.provenance.workflowRun?.url ?? null
    },
    inputs: input.inputs,
    build: input.timeline ? {
      result: input.timeline.result,
      startedAt: input.timeline.startedAt,
      totalSeconds: input.timeline.totalSeconds,
      stages: stages.map(timing),
      events: input.timeline.events
    } : null,
    image: {
      raw: { file: input.raw.file, size: input.raw.size, sha256: input.raw.sha256 },
      compressed: { file: input.compressed.file, size: input.compressed.size, sha256: input.compressed.sha256 },
      bmap: {
        file: input.bmap.file,
        blockSize: input.bmap.blockSize,
        blocksCount: input.bmap.blocksCount,
        mappedBlocksCount: input.bmap.mappedBlocksCount
      },
      source: input.source
    },
    packages: { count: input.info.packages.length, sbom: input.sbomFile },
    contents: input.contents
  };
}
__name(buildMetadata, "buildMetadata");

// src/lib/release/output-dir.ts
var import_node_crypto4 = require("node:crypto");
var import_promises15 = require("node:fs/promises");
var import_node_path11 = require("node:path");
async function isNonEmptyDir(path) {
  try {
    if (!(await (0, import_promises15.stat)(path)).isDirectory()) return true;
    return (await (0, import_promises15.readdir)(path)).length > 0;
  } catch {
    return false;
  }
}
__name(isNonEmptyDir, "isNonEmptyDir");
async function stageOutputDir(finalPath, options) {
  const target = (0, import_node_path11.resolve)(finalPath);
  if (!options.replace && await isNonEmptyDir(target)) {
    throw new PiImageError("OUTPUT_EXISTS", `output ${finalPath} already exists and is not empty; choose another or pass --force to replace it`);
  }
  await (0, import_promises15.mkdir)((0, import_node_path11.dirname)(target), { recursive: true });
  const suffix = `${process.pid}-${(0, import_node_crypto4.randomBytes)(4).toString("hex")}`;
  const path = (0, import_node_path11.join)((0, import_node_path11.dirname)(target), `.${(0, import_node_path11.basename)(target)}.partial-${suffix}`);
  await (0, import_promises15.mkdir)(path);
  return {
    path,
    async commit() {
      let old;
      try {
        await (0, import_promises15.stat)(target);
        old = (0, import_node_path11.join)((0, import_node_path11.dirname)(target), `.${(0, import_node_path11.basename)(target)}.old-${suffix}`);
        await (0, import_promises15.rename)(target, old);
      } catch (e) {
        if (e.code !== "ENOENT") throw e;
      }
      await (0, import_promises15.rename)(path, target);
      if (old) await (0, import_promises15.rm)(old, { recursive: true, force: true });
    },
    async discard() {
      await (0, import_promises15.rm)(path, { recursive: true, force: true });
    }
  };
}
__name(stageOutputDir, "stageOutputDir");

// src/lib/release/release-notes.ts
var RELEASE_NOTES_FILE = "RELEASE_NOTES.md";
function size(bytes) {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
__name(size, "size");
function cell(s) {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
__name(cell, "cell");
function renderReleaseNotes(meta, files) {
  const out = [];
  const product = meta.contents.root?.productRelease?.values;
  out.push(`# ${meta.name} ${meta.version}`, "");
  out.push(`Channel: **${meta.channel}** \xB7 built ${meta.created}` + (meta.build ? ` \xB7 pi-gen build ${meta.build.result} in ${formatDuration(meta.build.totalSeconds)}` : ""), "");
  if (product && Object.keys(product).length > 0) {
    out.push("| Product | Value |", "|---|---|");
    for (const [k, v] of Object.entries(product)) out.push(`| ${cell(k)} | \`${cell(v)}\` |`);
    out.push("");
  }
  out.push("## Files", "", "| File | Size | sha256 |", "|---|---|---|");
  out.push(`| \`${meta.image.compressed.file}\` | ${size(meta.image.compressed.size)} | \`${meta.image.compressed.sha256}\` |`);
  out.push(`| \`${meta.image.raw.file}\` (inside, after \`xz -d\`) | ${size(meta.image.raw.size)} | \`${meta.image.raw.sha256}\` |`);
  out.push("");
  out.push("## Sources", "");
  out.push(`- pi-gen: ${meta.pigen.repository} at \`${meta.pigen.gitHash}\`, exported from \`${meta.pigen.exportedStage}\``);
  if (meta.recipe.repository || meta.recipe.commit) {
    out.push(`- recipe: ${meta.recipe.repository ?? "(repository unknown)"} at \`${meta.recipe.commit ?? "unknown"}\`${meta.recipe.ref ? ` (${meta.recipe.ref})` : ""}`);
  }
  if (meta.workflowRun.url) out.push(`- workflow run: ${meta.workflowRun.url} (attempt ${meta.workflowRun.attempt ?? "1"})`);
  out.push(`- ${meta.packages.count} installed packages, listed in \`${meta.packages.sbom}\` (SPDX 2.3)`);
  const os = meta.contents.root?.osRelease?.PRETTY_NAME;
  if (os) out.push(`- base system: ${os}`);
  out.push("");
  if (meta.build && meta.build.stages.length > 0) {
    out.push("## Build stages", "", "| Stage | Started at | Duration | |", "|---|---|---|---|");
    for (const s of meta.build.stages) {
      const name = s.occurrence > 1 ? `${s.name} (${s.occurrence})` : s.name;
      out.push(`| ${cell(name)} | +${formatDuration(s.startOffsetSeconds)} | ${formatDuration(s.durationSeconds)} | ${s.complete ? "" : "incomplete"} |`);
    }
    out.push("");
  }
  out.push("## Verify", "", "From the directory holding the downloaded files:", "", "```sh");
  out.push(`sha256sum -c ${files.imageChecksum}`);
  out.push(`xz -dk ${meta.image.compressed.file} && sha256sum -c ${files.rawChecksum}`);
  out.push("```", "");
  out.push("## Flash", "");
  out.push("Write the image to the **SYSTEM** disk only. Check the device name with `lsblk -o NAME,SIZE,MODEL,LABEL` first;");
  out.push("never write to the disk labelled `OURBOX_DATA`.", "", "```sh");
  out.push(`sudo bmaptool copy --bmap ${files.bmap} ${files.image} /dev/<system-disk>`);
  out.push("```", "");
  return out.join("\n");
}
__name(renderReleaseNotes, "renderReleaseNotes");

// src/lib/release/sbom.ts
var import_node_crypto5 = require("node:crypto");
function spdxIdPart(s) {
  return s.replace(/[^A-Za-z0-9.-]/g, "-");
}
__name(spdxIdPart, "spdxIdPart");
function digestUuid(seed) {
  const h = (0, import_node_crypto5.createHash)("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${(parseInt(h[16], 16) & 3 | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
__name(digestUuid, "digestUuid");
function packageUrl(p, distro) {
  const namespace = encodeURIComponent((distro?.id ?? "debian").toLowerCase());
  const qualifiers = [`arch=${encodeURIComponent(p.qualifier ?? p.architecture)}`];
  if (distro?.codename) qualifiers.push(`distro=${encodeURIComponent(distro.codename)}`);
  return `pkg:deb/${namespace}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?${qualifiers.join("&")}`;
}
__name(packageUrl, "packageUrl");
function buildSbom(input) {
  const used = /* @__PURE__ */ new Set();
  const packages = input.packages.map((p) => {
    let id = `SPDXRef-deb-${spdxIdPart(p.name)}-${spdxIdPart(p.qualifier ?? p.architecture)}`;
    for (let n = 2; used.has(id); n++) id = `SPDXRef-deb-${spdxIdPart(p.name)}-${spdxIdPart(p.qualifier ?? p.architecture)}-${n}`;
    used.add(id);
    return {
      name: p.name,
      SPDXID: id,
      versionInfo: p.version,
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      copyrightText: "NOASSERTION",
      ...p.description ? { summary: p.description } : {},
      externalRefs: [{ referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: packageUrl(p, input.distro) }]
    };
  });
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: `${input.name}-${input.version}`,
    documentNamespace: `urn:uuid:${digestUuid(`${input.name}
${input.version}
${input.imageSha256}`)}`,
    creationInfo: {
      created: input.created,
      creators: [`Tool: pi-image-release-${input.toolVersion}`],
      comment: "Installed packages as recorded by pi-gen's dpkg -l table in the image's .info file."
    },
    packages: [
      {
        name: input.name,
        SPDXID: "SPDXRef-Image",
        versionInfo: input.version,
        downloadLocation: "NOASSERTION",
        filesAnalyzed: false,
        primaryPackagePurpose: "OPERATING-SYSTEM",
        checksums: [{ algorithm: "SHA256", checksumValue: input.imageSha256 }],
        licenseConcluded: "NOASSERTION",
        licenseDeclared: "NOASSERTION",
        copyrightText: "NOASSERTION"
      },
      ...packages
    ],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-Image" },
      ...packages.map((p) => ({ spdxElementId: "SPDXRef-Image", relationshipType: "CONTAINS", relatedSpdxElement: p.SPDXID }))
    ]
  };
}
__name(buildSbom, "buildSbom");

// src/lib/release/package.ts
var MEDIA_TYPES = {
  image: "application/x-xz",
  "image-checksum": "text/plain",
  "raw-image-checksum": "text/plain",
  bmap: "application/xml",
  "build-log": "text/plain",
  "pigen-info": "text/plain",
  "pigen-sbom": "application/octet-stream",
  sbom: "application/spdx+json",
  metadata: "application/json",
  "release-notes": "text/markdown",
  signature: "application/vnd.dev.sigstore.bundle.v0.3+json",
  "oci-reference": "text/plain"
};
function checkDiskHead(source) {
  return (head) => {
    if (head.length < 512 || head.readUInt16LE(510) !== 43605) {
      throw new PiImageError("IMAGE_NOT_DISK", `${source}: not a disk image (no partition table signature in sector 0)`);
    }
  };
}
__name(checkDiskHead, "checkDiskHead");
async function packageRelease(options) {
  const { logger } = options;
  const warnings = [];
  const warn = /* @__PURE__ */ __name((m) => {
    warnings.push(m);
    logger.warn(m);
  }, "warn");
  const version2 = checkReleaseName(options.version ?? DEFAULT_VERSION, "version");
  const channel = checkChannel(options.channel ?? DEFAULT_CHANNEL);
  const level = checkIntegerInRange(options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL, 0, 9, "compression-level");
  const threads = checkIntegerInRange(options.threads ?? 0, 0, 1024, "threads");
  const created = isoSeconds(options.sourceDateEpoch !== void 0 ? new Date(options.sourceDateEpoch * 1e3) : /* @__PURE__ */ new Date());
  const layout = await findDeployOutputs(options.deployDir, { image: options.image, info: options.info, buildLog: options.buildLog });
  const name = checkReleaseName(options.name ?? defaultReleaseName(layout.image.base), "name");
  logger.info(`image: ${(0, import_node_path12.basename)(layout.image.path)} (${layout.image.compression})`);
  const info = parseInfoFile(await (0, import_promises16.readFile)(layout.info, "utf8"), layout.info);
  logger.info(`pi-gen info: ${info.packages.length} installed packages, exported from ${info.stage}`);
  let timeline;
  if (layout.buildLog) {
    timeline = parseBuildLog(await (0, import_promises16.readFile)(layout.buildLog, "utf8"), layout.buildLog);
    for (const w of timeline.warnings.slice(0, 20)) warn(w);
  } else {
    warn(`no build.log in ${options.deployDir}: stage timings are left out (pass --build-log, e.g. work/<IMG_NAME>/build.log)`);
  }
  const staged = await stageOutputDir(options.outDir, { replace: options.force ?? false });
  try {
    const f = {
      image: `${name}.img.xz`,
      raw: `${name}.img`,
      imageChecksum: `${name}.img.xz.sha256`,
      rawChecksum: `${name}.img.sha256`,
      bmap: `${name}.bmap`,
      info: `${name}.info`,
      sbom: `${name}.spdx.json`,
      buildLog: "build.log"
    };
    const at = /* @__PURE__ */ __name((file) => (0, import_node_path12.join)(staged.path, file), "at");
    const sparse = layout.image.compression === "none" ? void 0 : at(".raw-image.tmp");
    let pass;
    let compressed;
    const opened = await openRawImage(layout.image.path, layout.image.compression, logger);
    const passOptions = {
      logger,
      sourceName: layout.image.path,
      expectedSize: opened.expectedSize,
      checkHead: checkDiskHead(layout.image.path),
      ...sparse ? { sparseCopy: sparse } : {}
    };
    if (layout.image.compression === "xz") {
      logger.info(`copying ${(0, import_node_path12.basename)(layout.image.path)} as it is (already xz)`);
      compressed = await digestFile(layout.image.path, at(f.image));
      pass = await rawImagePass(opened.stream, passOptions);
    } else {
      logger.info(`compressing with xz -${level} (${threads === 0 ? "all cores" : `${threads} threads`})`);
      pass = await rawImagePass(opened.stream, { ...passOptions, xz: { path: at(f.image), level, threads } });
      compressed = pass.compressed;
    }
    await opened.done;
    logger.info(`raw image: ${pass.raw.size} bytes, sha256 ${pass.raw.sha256}; ${pass.bmap.mappedBlocksCount} of ${pass.bmap.blocksCount} blocks mapped`);
    let contents;
    const disk = await FileByteSource.open(sparse ?? layout.image.path);
    try {
      contents = await inspectImage(disk, options.productReleaseFile ? { productReleaseFile: options.productReleaseFile } : {});
    } finally {
      await disk.close();
      if (sparse) await (0, import_promises16.rm)(sparse, { force: true });
    }
    for (const w of contents.warnings) warn(`image: ${w}`);
    const files = [];
    const add = /* @__PURE__ */ __name((path, role, digest) => {
      files.push({ path, role, mediaType: MEDIA_TYPES[role], size: digest.size, sha256: digest.sha256 });
    }, "add");
    const write = /* @__PURE__ */ __name(async (path, role, content) => {
      const bytes = Buffer.from(content, "utf8");
      await (0, import_promises16.writeFile)(at(path), bytes);
      add(path, role, { size: bytes.length, sha256: (0, import_node_crypto6.createHash)("sha256").update(bytes).digest("hex") });
    }, "write");
    add(f.image, "image", compressed);
    await write(f.imageChecksum, "image-checksum", renderSha256Sums([{ name: f.image, sha256: compressed.sha256 }]));
    await write(f.rawChecksum, "raw-image-checksum", renderSha256Sums([{ name: f.raw, sha256: pass.raw.sha256 }]));
    await write(f.bmap, "bmap", renderBmap(pass.bmap));
    add(f.info, "pigen-info", await digestFile(layout.info, at(f.info)));
    if (layout.buildLog) add(f.buildLog, "build-log", await digestFile(layout.buildLog, at(f.buildLog)));
    if (layout.pigenSbom) {
      const sbomName = `${name}.pigen-${(0, import_node_path12.basename)(layout.pigenSbom).endsWith(".xz") ? "sbom.xz" : "sbom"}`;
      add(sbomName, "pigen-sbom", await digestFile(layout.pigenSbom, at(sbomName)));
    }
    await write(
      f.sbom,
      "sbom",
      renderJson(
        buildSbom({
          name,
          version: version2,
          created,
          imageSha256: pass.raw.sha256,
          packages: info.packages,
          distro: { id: contents.root?.osRelease?.ID, codename: contents.root?.osRelease?.VERSION_CODENAME },
          toolVersion: TOOL_VERSION
        })
      )
    );
    const inputs = {
      "deploy-dir": options.deployDir,
      image: (0, import_node_path12.basename)(layout.image.path),
      info: (0, import_node_path12.basename)(layout.info),
      "build-log": layout.buildLog ? (0, import_node_path12.basename)(layout.buildLog) : null,
      name,
      version: version2,
      channel,
      "compression-level": layout.image.compression === "xz" ? null : level,
      "source-date-epoch": options.sourceDateEpoch ?? null
    };
    const metadata = buildMetadata({
      name,
      version: version2,
      channel,
      created,
      tool: { name: TOOL_NAME, version: TOOL_VERSION },
      info,
      timeline,
      provenance: options.provenance ?? {},
      inputs,
      raw: { file: f.raw, ...pass.raw },
      compressed: { file: f.image, ...compressed },
      bmap: { file: f.bmap, ...pass.bmap },
      source: { file: (0, import_node_path12.basename)(layout.image.path), compression: layout.image.compression },
      sbomFile: f.sbom,
      contents
    });
    await write(METADATA_FILE, "metadata", renderJson(metadata));
    await write(RELEASE_NOTES_FILE, "release-notes", renderReleaseNotes(metadata, f));
    const manifest = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      name,
      version: version2,
      channel,
      created,
      image: { path: f.image, compression: "xz", raw: { size: pass.raw.size, sha256: pass.raw.sha256 } },
      files: sortFiles(files)
    };
    await (0, import_promises16.writeFile)(at(MANIFEST_FILE), renderJson(manifest));
    await staged.commit();
    const out = options.outDir;
    logger.info(`release directory ready: ${out}`);
    return {
      releaseDir: out,
      manifest,
      metadata,
      paths: {
        image: (0, import_node_path12.join)(out, f.image),
        bmap: (0, import_node_path12.join)(out, f.bmap),
        manifest: (0, import_node_path12.join)(out, MANIFEST_FILE),
        metadata: (0, import_node_path12.join)(out, METADATA_FILE),
        sbom: (0, import_node_path12.join)(out, f.sbom),
        releaseNotes: (0, import_node_path12.join)(out, RELEASE_NOTES_FILE)
      },
      warnings
    };
  } catch (error) {
    await staged.discard();
    throw error;
  }
}
__name(packageRelease, "packageRelease");

// src/lib/release/provenance.ts
function provenanceFromEnv(env) {
  const server = env.GITHUB_SERVER_URL ?? "https://github.com";
  const repo = env.GITHUB_REPOSITORY;
  const provenance = {};
  const recipe = {};
  if (repo) recipe.repository = `${server}/${repo}`;
  if (env.GITHUB_SHA) recipe.commit = env.GITHUB_SHA;
  if (env.GITHUB_REF) recipe.ref = env.GITHUB_REF;
  if (Object.keys(recipe).length > 0) provenance.recipe = recipe;
  if (env.GITHUB_RUN_ID) {
    provenance.workflowRun = { id: env.GITHUB_RUN_ID };
    if (env.GITHUB_RUN_ATTEMPT) provenance.workflowRun.attempt = env.GITHUB_RUN_ATTEMPT;
    if (repo) provenance.workflowRun.url = `${server}/${repo}/actions/runs/${env.GITHUB_RUN_ID}`;
  }
  return provenance;
}
__name(provenanceFromEnv, "provenanceFromEnv");
function mergeProvenance(base, override) {
  const recipe = { ...base.recipe, ...stripUndefined(override.recipe ?? {}) };
  const workflowRun = { ...base.workflowRun, ...stripUndefined(override.workflowRun ?? {}) };
  const out = {};
  if (Object.keys(recipe).length > 0) out.recipe = recipe;
  if (Object.keys(workflowRun).length > 0) out.workflowRun = workflowRun;
  return out;
}
__name(mergeProvenance, "mergeProvenance");
function stripUndefined(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== void 0 && v !== ""));
}
__name(stripUndefined, "stripUndefined");

// src/cli/commands/package-command.ts
var packageCommand = {
  name: "package",
  summary: "turn pi-gen's deploy/ directory into a checked release directory",
  usage: "pi-image package DEPLOY_DIR --out RELEASE_DIR [options]",
  help: `Finds the image pi-gen left in DEPLOY_DIR (zip, gz, xz or plain .img, by
pi-gen's own naming rules), and writes RELEASE_DIR with: NAME.img.xz,
checksums, NAME.bmap, build.log, NAME.info, an SPDX SBOM, metadata.json,
manifest.json and RELEASE_NOTES.md. The directory appears only when complete.

Options:
  --out DIR                 release directory to write (required)
  --name NAME               base of every file name (default: pi-gen's image name without its date)
  --version V               version of this release (default: dev)
  --channel C               nightly (default) or stable
  --image FILE              which image, when DEPLOY_DIR holds several
  --info FILE               pi-gen's .info (default: beside the image)
  --build-log FILE          pi-gen's build.log (default: DEPLOY_DIR/build.log)
  --compression-level N     xz preset 0-9 (default: 6); an .img.xz is never recompressed
  --threads N               xz threads (default: 0 = one per core)
  --product-release FILE    the product's KEY=VALUE file inside the image (default: /etc/ourbox/release)
  --recipe-repository URL   recorded in metadata (default: from GITHUB_* when set)
  --recipe-commit SHA       recorded in metadata (default: GITHUB_SHA)
  --recipe-ref REF          recorded in metadata (default: GITHUB_REF)
  --force                   replace RELEASE_DIR if it exists
  --json                    print the result as JSON on stdout

SOURCE_DATE_EPOCH, when set, fixes every timestamp: the same input gives
byte-identical files.`,
  options: {
    out: { type: "string" },
    name: { type: "string" },
    version: { type: "string" },
    channel: { type: "string" },
    image: { type: "string" },
    info: { type: "string" },
    "build-log": { type: "string" },
    "compression-level": { type: "string" },
    threads: { type: "string" },
    "product-release": { type: "string" },
    "recipe-repository": { type: "string" },
    "recipe-commit": { type: "string" },
    "recipe-ref": { type: "string" },
    force: { type: "boolean" },
    json: { type: "boolean" }
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 1) throw usageError("package needs exactly one DEPLOY_DIR");
    const out = values.out;
    if (!out) throw usageError("package needs --out RELEASE_DIR");
    const str = /* @__PURE__ */ __name((k) => values[k], "str");
    const options = {
      deployDir: positionals[0],
      outDir: out,
      name: str("name"),
      version: str("version"),
      channel: str("channel") === void 0 ? void 0 : checkChannel(str("channel")),
      image: str("image"),
      info: str("info"),
      buildLog: str("build-log"),
      compressionLevel: str("compression-level") === void 0 ? void 0 : checkIntegerInRange(str("compression-level"), 0, 9, "compression-level"),
      threads: str("threads") === void 0 ? void 0 : checkIntegerInRange(str("threads"), 0, 1024, "threads"),
      productReleaseFile: str("product-release"),
      force: values.force === true,
      sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
      provenance: mergeProvenance(provenanceFromEnv(env), {
        recipe: { repository: str("recipe-repository"), commit: str("recipe-commit"), ref: str("recipe-ref") }
      }),
      logger
    };
    const result = await packageRelease(options);
    if (values.json) {
      stdout(`${JSON.stringify({ releaseDir: result.releaseDir, paths: result.paths, manifest: result.manifest, warnings: result.warnings }, null, 2)}
`);
    } else {
      stdout(`${result.releaseDir}
`);
    }
    return 0;
  }
};

// src/cli/stderr-logger.ts
function stderrLogger(options) {
  const write = options.write ?? ((t) => process.stderr.write(t));
  const now = options.now ?? Date.now;
  let lastProgress = 0;
  const secrets = [];
  const hide = /* @__PURE__ */ __name((m) => secrets.reduce((t, s) => t.split(s).join("***"), m), "hide");
  return {
    mask: /* @__PURE__ */ __name((secret) => {
      if (secret) secrets.push(secret);
    }, "mask"),
    startGroup: /* @__PURE__ */ __name((name) => {
      if (!options.quiet) write(`
\u2500\u2500 ${name} \u2500\u2500
`);
    }, "startGroup"),
    endGroup: /* @__PURE__ */ __name(() => {
    }, "endGroup"),
    info: /* @__PURE__ */ __name((m) => {
      if (!options.quiet) write(`${hide(m)}
`);
    }, "info"),
    warn: /* @__PURE__ */ __name((m) => write(`warning: ${hide(m)}
`), "warn"),
    debug: /* @__PURE__ */ __name((m) => {
      if (options.verbose) write(`${hide(m)}
`);
    }, "debug"),
    progress: /* @__PURE__ */ __name((label, done, total) => {
      if (options.quiet || now() - lastProgress < 2e3) return;
      lastProgress = now();
      const mib2 = (done / 1048576).toFixed(0);
      write(total ? `${label}: ${(done * 100 / total).toFixed(0)}% (${mib2} MiB)
` : `${label}: ${mib2} MiB
`);
    }, "progress")
  };
}
__name(stderrLogger, "stderrLogger");

// src/cli/cli.ts
var COMMANDS = [buildCommand, packageCommand, inspectCommand];
function mainHelp() {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `pi-image ${TOOL_VERSION}: release Raspberry Pi OS images built with pi-gen

Usage: pi-image <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'pi-image <command> --help' for a command's options.
Global options: --verbose (show commands run), --quiet (errors only), --version, --help.
Exit codes: 0 done, 1 failed, 2 bad usage or bad input.
`;
}
__name(mainHelp, "mainHelp");
async function runCli(argv, io) {
  const [first, ...rest] = argv;
  if (first === void 0 || first === "--help" || first === "-h" || first === "help") {
    const topic = first === "help" ? COMMANDS.find((c) => c.name === rest[0]) : void 0;
    io.stdout(topic ? `Usage: ${topic.usage}

${topic.help}
` : mainHelp());
    return first === void 0 ? EXIT_USER_ERROR : 0;
  }
  if (first === "--version" || first === "-V") {
    io.stdout(`${TOOL_VERSION}
`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.stderr(`pi-image: unknown command "${first}"

${mainHelp()}`);
    return EXIT_USER_ERROR;
  }
  try {
    const { values, positionals } = (0, import_node_util.parseArgs)({
      args: [...rest],
      options: {
        ...command.options,
        help: { type: "boolean", short: "h" },
        verbose: { type: "boolean", short: "v" },
        quiet: { type: "boolean", short: "q" }
      },
      allowPositionals: true,
      strict: true
    });
    if (values.help) {
      io.stdout(`Usage: ${command.usage}

${command.help}
`);
      return 0;
    }
    const logger = stderrLogger({ verbose: values.verbose === true, quiet: values.quiet === true, write: io.stderr });
    return await command.run({ values, positionals, logger, env: io.env, stdout: io.stdout });
  } catch (error) {
    const usage = error instanceof PiImageError && error.code === "USAGE";
    const parse = error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
    if (usage || parse) {
      io.stderr(`pi-image ${command.name}: ${error.message}
Usage: ${command.usage}
Run 'pi-image ${command.name} --help' for options.
`);
      return EXIT_USER_ERROR;
    }
    io.stderr(`pi-image ${command.name}: error: ${describeError(error)}
`);
    return exitCodeFor(error);
  }
}
__name(runCli, "runCli");

// src/cli/main.ts
runCli(process.argv.slice(2), {
  stdout: /* @__PURE__ */ __name((t) => process.stdout.write(t), "stdout"),
  stderr: /* @__PURE__ */ __name((t) => process.stderr.write(t), "stderr"),
  env: process.env
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`pi-image: internal error: ${String(error)}
`);
    process.exitCode = 1;
  }
);
