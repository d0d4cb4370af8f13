import { promises as fs, realpathSync } from 'fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'path';
import { FaceError } from '../errors';
import { isSampleRef, resolveSample } from '../samples';
import type { HostPolicy } from './host-policy';

/** Where a path or URL came from, for the message: e.g. "msg.source", "job output_path". */
export type PathOrigin = string;

export interface PathPolicyOptions {
  /** Folders that paths from messages may read and write under. */
  folders: readonly string[];
  /** Further folders that paths from messages may only read (e.g. the package's sample pictures). */
  readOnlyFolders?: readonly string[];
  /** Name of the setting, for messages ("the config node's Allowed folders"). */
  settingName?: string;
  /** The models folder: model files named in messages may also lie there. */
  modelsDir?: string;
  /**
   * Which hosts URLs from messages may reach (see host-policy.ts). Without it only the scheme
   * is checked; the runtime always gives one.
   */
  hosts?: HostPolicy;
}

/** URL schemes a message may name as a video source or stream output. */
export const MESSAGE_URL_SCHEMES: readonly string[] = ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'udp', 'tcp', 'srt'];

const URL_SCHEME = /^([a-z][a-z0-9+.-]+):/i;
const FILES_REF = /^files:/i;

/**
 * Confines paths and URLs that arrive in messages (from http, mqtt, dashboards…), which Node-RED
 * flows must treat as untrusted, the way Node-RED's own file nodes treat paths typed in a dialog
 * as trusted. A path must resolve — `..` and symlinks resolved with realpath, for a file to be
 * written its parent folder's (and the file's own, when it exists) — inside one of the allowed
 * folders; else E_PATH_DENIED naming the setting. URLs must use one of the allowed schemes.
 */
export class PathPolicy {
  private readonly folders: readonly string[];
  private readonly readOnly: readonly string[];
  private readonly setting: string;
  private readonly modelsDir?: string;
  private readonly hosts?: HostPolicy;
  private readonly trustedSources = new Set<string>();

  constructor(options: PathPolicyOptions) {
    this.hosts = options.hosts;
    this.modelsDir = options.modelsDir === undefined ? undefined : resolve(options.modelsDir);
    this.folders = options.folders.map((f) => resolve(f));
    this.readOnly = (options.readOnlyFolders ?? []).map((f) => resolve(f));
    this.setting = options.settingName ?? 'the allowed folders';
  }

  /** The folders paths from messages may use (read and write). */
  get allowed(): readonly string[] {
    return this.folders;
  }

  /**
   * Remembers a video source this runtime opened (a *face video in* dialog path, or a message
   * source once checked): `msg.video.source` naming it may be read again (e.g. for its audio).
   */
  trustSource(source: string): void {
    if (this.trustedSources.size >= 1000) this.trustedSources.delete(this.trustedSources.values().next().value as string);
    this.trustedSources.add(source);
  }

  /**
   * A source named in `msg.video.source` (which a message can forge): one this runtime opened,
   * or a file inside the allowed folders (realpath); else undefined. Synchronous, so a node can
   * decide before its next message is handled.
   */
  knownSource(source: unknown): string | undefined {
    if (typeof source !== 'string' || source === '') return undefined;
    if (this.trustedSources.has(source)) return source;
    const scheme = URL_SCHEME.exec(source)?.[1];
    if (scheme && scheme.length > 1) return undefined;
    try {
      const real = realpathSync(source);
      const inside = [...this.folders, ...this.readOnly].some((folder) => {
        try {
          return isInside(realpathSync(folder), real);
        } catch {
          return false;
        }
      });
      return inside ? real : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether a real path (links resolved) lies inside the read-write folders: an output may be written there. */
  contains(realPath: string): Promise<boolean> {
    return this.insideAny(realPath, this.folders, true);
  }

  /** The real path of a file a message names, when it lies inside an allowed folder (a missing file: its path there). */
  async readable(path: unknown, origin: PathOrigin): Promise<string> {
    const wanted = this.checkString(path, origin);
    // `sample:<name>` resolves only to a file shipped in the package's samples folder.
    if (isSampleRef(wanted)) return resolveSample(wanted);
    let real: string;
    try {
      real = await fs.realpath(wanted);
    } catch {
      // A missing file inside the folders goes on as it is (the reader says it is missing); outside,
      // the same refusal as for an existing file, so nothing is revealed.
      if (await this.insideAny(dirname(wanted), [...this.folders, ...this.readOnly])) return resolve(wanted);
      throw this.denied(wanted, origin);
    }
    if (!(await this.insideAny(real, [...this.folders, ...this.readOnly], true))) throw this.denied(wanted, origin);
    return real;
  }

  /**
   * The path a message names for a file to write, when its folder is inside an allowed folder
   * (the folder must exist; a file already there must not be a link leading out).
   */
  async writable(path: unknown, origin: PathOrigin): Promise<string> {
    const wanted = this.checkString(path, origin);
    let parent: string;
    try {
      parent = await fs.realpath(dirname(wanted));
    } catch {
      throw this.denied(wanted, origin);
    }
    const target = resolve(parent, basename(wanted));
    if (!(await this.insideAny(target, this.folders, true))) throw this.denied(wanted, origin);
    const existing = await fs.realpath(target).catch(() => undefined);
    if (existing !== undefined && !(await this.insideAny(existing, this.folders, true))) throw this.denied(wanted, origin);
    return target;
  }

  /** A video source from a message: an allowed URL, a capture device, or a readable file. */
  async source(input: unknown, origin: PathOrigin): Promise<string> {
    const text = this.checkString(input, origin);
    if (/^\/dev\/video\d+$/.test(text)) return text;
    if (isSampleRef(text)) return resolveSample(text);
    const scheme = URL_SCHEME.exec(text)?.[1]?.toLowerCase();
    if (scheme && scheme.length > 1) {
      if (scheme === 'file') return this.readable(decodeURIComponent(text.replace(/^file:(\/\/)?/i, '')), origin);
      return this.url(text, origin);
    }
    return this.readable(text, origin);
  }

  /** An output from a message: a stream URL of an allowed scheme, or a file to write in the allowed folders. */
  async output(target: unknown, origin: PathOrigin): Promise<string> {
    const text = this.checkString(target, origin);
    const scheme = URL_SCHEME.exec(text)?.[1]?.toLowerCase();
    if (scheme && scheme.length > 1 && scheme !== 'file') return this.url(text, origin);
    return this.writable(scheme === 'file' ? decodeURIComponent(text.replace(/^file:(\/\/)?/i, '')) : text, origin);
  }

  /**
   * A job from a message with every top-level `*_path` / `*_paths` field confined: `output_path`
   * (and any `*output*` path) must be writable, the others readable (a target may also be a
   * stream URL). Every `*_model` option, at the top level or in `parameters`, must be a model id
   * or a file in the models folder or the allowed folders. Returns a copy with the real paths.
   */
  async jobArgs(args: unknown, origin: PathOrigin = 'job'): Promise<unknown> {
    if (args === null || typeof args !== 'object' || Array.isArray(args)) return args;
    const out: Record<string, unknown> = { ...(args as Record<string, unknown>) };
    for (const [key, value] of Object.entries(out)) {
      const where = `${origin} ${key}`;
      if (key.endsWith('_paths') && Array.isArray(value)) {
        out[key] = await Promise.all(value.map((v, i) => this.readable(v, `${where}[${i}]`)));
      } else if (key.endsWith('_path') && value !== undefined) {
        if (key.includes('output')) out[key] = await this.output(value, where);
        else if (key === 'target_path') out[key] = await this.source(value, where);
        else out[key] = await this.readable(value, where);
      } else if (key.endsWith('_model') && value !== undefined) {
        out[key] = await this.model(value, where);
      }
    }
    const parameters = out.parameters;
    if (parameters !== null && typeof parameters === 'object' && !Array.isArray(parameters)) {
      const checked: Record<string, unknown> = { ...(parameters as Record<string, unknown>) };
      for (const [key, value] of Object.entries(checked)) {
        if (key.endsWith('_model') && value !== undefined) checked[key] = await this.model(value, `${origin} parameters.${key}`);
      }
      out.parameters = checked;
    }
    return out;
  }

  /**
   * A `*_model` option from a message (a token's parameters, a packed token, a queued job): a
   * model id, or the path of a file inside `modelsDir` or the allowed folders (realpath: `..` and
   * links leading out are refused). Anything else is refused before the file is looked at, with
   * one message whether it exists or not. Returns the id, or the real path.
   */
  async model(ref: unknown, origin: PathOrigin, modelsDir: string | undefined = this.modelsDir): Promise<string> {
    const wanted = this.checkString(ref, origin);
    if (!looksLikeModelPath(wanted)) return wanted;
    const folders = [...(modelsDir === undefined ? [] : [modelsDir]), ...this.folders];
    const real = await fs.realpath(wanted).catch(() => undefined);
    if (real !== undefined ? await this.insideAny(real, folders, true) : await this.insideAny(dirname(resolve(wanted)), folders)) return real ?? resolve(wanted);
    throw new FaceError(
      'E_PATH_DENIED',
      `${origin}: "${wanted}" is not a model id, nor a file in the models folder or ${this.setting}; a model named in a message must be one of those (set other model files in the node's dialog)`,
    );
  }

  /**
   * A URL from a message, when its scheme is allowed (a path, or file:, concat:, … is not a URL
   * here) and its host may be reached: the host is resolved once and its address must be public
   * or on the allowed hosts (E_HOST_DENIED, before any connection). An rtsp, rtmp, udp, tcp or
   * srt URL comes back with that address in place of the name (ffmpeg connects to the checked
   * address, no second lookup); an http(s) URL comes back as it is: its requests go through the
   * runtime's HTTP guard, which checks each of them the same way.
   */
  async url(input: unknown, origin: PathOrigin, schemes: readonly string[] = MESSAGE_URL_SCHEMES): Promise<string> {
    const text = this.checkScheme(input, origin, schemes);
    if (!this.hosts) return text;
    const scheme = URL_SCHEME.exec(text)?.[1]?.toLowerCase();
    if (scheme === 'http' || scheme === 'https') {
      let host = '';
      let port = scheme === 'https' ? 443 : 80;
      try {
        const u = new URL(text);
        host = u.hostname;
        if (u.port) port = Number(u.port);
      } catch {
        // refused below, like any host that cannot be checked
      }
      await this.hosts.check(host, port, origin, text);
      return text;
    }
    return (await this.hosts.pin(text, origin)).url;
  }

  /** The scheme check of `url()` alone (no host lookup). */
  checkScheme(input: unknown, origin: PathOrigin, schemes: readonly string[] = MESSAGE_URL_SCHEMES): string {
    const text = this.checkString(input, origin);
    const scheme = URL_SCHEME.exec(text)?.[1]?.toLowerCase();
    if (!scheme || !schemes.includes(scheme)) {
      throw new FaceError('E_PATH_DENIED', `${origin}: "${redact(text)}" is not an allowed URL (from a message only ${schemes.map((s) => s + '://').join(', ')} are accepted)`);
    }
    return text;
  }

  private checkString(value: unknown, origin: PathOrigin): string {
    if (typeof value !== 'string' || value.trim() === '') throw new FaceError('E_BAD_PARAMETER', `${origin} must be a non-empty string`);
    if (value.includes('\0')) throw new FaceError('E_PATH_DENIED', `${origin} contains a NUL character`);
    const text = value.trim();
    return FILES_REF.test(text) ? this.filesRef(text, origin) : text;
  }

  /**
   * `files:<relative path>` names a file in the first allowed folder (by default
   * `<user dir>/facefusion/files`), so a flow can name its files without knowing where that is.
   */
  private filesRef(text: string, origin: PathOrigin): string {
    const rel = text.slice('files:'.length).replace(/^\/+/, '');
    if (this.folders.length === 0 || rel === '' || rel.split(/[\\/]/).includes('..')) throw this.denied(text, origin);
    return join(this.folders[0], rel);
  }

  private denied(path: string, origin: PathOrigin): FaceError {
    const where = this.folders.length ? this.folders.join(', ') : '(none)';
    return new FaceError(
      'E_PATH_DENIED',
      `${origin}: ${path} is outside ${this.setting} (${where}); paths that arrive in messages must lie inside them (add the folder to that setting, or set the path in the node's dialog)`,
    );
  }

  /** Whether `path` lies in one of `folders` (each folder's own realpath, when it exists). */
  private async insideAny(path: string, folders: readonly string[], isReal = false): Promise<boolean> {
    const target = isReal ? path : await fs.realpath(path).catch(() => path);
    for (const folder of folders) {
      const real = await fs.realpath(folder).catch(() => undefined);
      if (real !== undefined && isInside(real, target)) return true;
    }
    return false;
  }
}

/** A model option that names a file (an .onnx name or a path) rather than a manifest id. */
export function looksLikeModelPath(ref: string): boolean {
  return /\.onnx$/i.test(ref) || ref.includes('/') || ref.includes('\\') || isAbsolute(ref);
}

export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A URL without its credentials, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

/** "one per line" dialog text → folder list (blank lines and # comments ignored). */
export function foldersFromText(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
