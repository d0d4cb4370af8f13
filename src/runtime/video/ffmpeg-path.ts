import { execFile } from 'child_process';
import { accessSync, constants, statSync } from 'fs';
import { delimiter, join } from 'path';
import { FaceError } from '../errors';

/** Where the ffmpeg binary came from, in resolution order. */
export type FfmpegSource = 'env' | 'ffmpeg-static' | 'ffmpeg-installer' | 'path';

export interface FfmpegInfo {
  /** Absolute path (or PATH-resolved path) of the binary. */
  readonly path: string;
  /** Version as ffmpeg prints it: "5.1.9-0+deb12u1", "N-47683-g0e8eb07980-static", … */
  readonly version: string;
  /** Major version when the version string has one (git snapshots have none). */
  readonly major?: number;
  /** The build's year, from its copyright line ("Copyright (c) 2000-2018"), when printed. */
  readonly year?: number;
  readonly source: FfmpegSource;
}

export interface FfmpegLocatorOptions {
  /** Environment to read FFMPEG_PATH and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Module loader for ffmpeg-static / @ffmpeg-installer/ffmpeg (default require); tests inject one. */
  requireModule?: (id: string) => unknown;
  /** Told once which binary was chosen. */
  logger?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** How long `ffmpeg -version` may take (ms, default 10000). */
  versionTimeoutMs?: number;
}

/**
 * Finds ffmpeg: FFMPEG_PATH when set (an explicit choice, never replaced); otherwise every
 * candidate that runs — ffmpeg-static (optional dependency, often absent because its
 * postinstall downloads from outside the registry), `ffmpeg` on PATH, @ffmpeg-installer/ffmpeg
 * — is asked its version and the newest build wins. The bundled @ffmpeg-installer binary is a
 * 2018 snapshot (4.1 era) that crashes (SIGSEGV) on an unresolvable stream host, so it is the
 * last resort, used only when nothing else runs. The result is cached by the instance (not the
 * module), and reported once through the logger.
 */
export class FfmpegLocator {
  private readonly env: NodeJS.ProcessEnv;
  private readonly requireModule: (id: string) => unknown;
  private readonly logger?: FfmpegLocatorOptions['logger'];
  private readonly versionTimeoutMs: number;
  private pending?: Promise<FfmpegInfo>;

  constructor(options: FfmpegLocatorOptions = {}) {
    this.env = options.env ?? process.env;
    this.requireModule = options.requireModule ?? require;
    this.logger = options.logger;
    this.versionTimeoutMs = options.versionTimeoutMs ?? 10_000;
  }

  /** The chosen binary and its version. Throws E_FFMPEG_MISSING; a failure is not cached. */
  resolve(): Promise<FfmpegInfo> {
    if (!this.pending) {
      this.pending = this.locate().then(
        (info) => {
          this.logger?.('info', `using ffmpeg ${info.version} (${info.source}): ${info.path}`);
          return info;
        },
        (error: unknown) => {
          this.pending = undefined;
          throw error;
        },
      );
    }
    return this.pending;
  }

  private async locate(): Promise<FfmpegInfo> {
    const fromEnv = this.env.FFMPEG_PATH?.trim();
    if (fromEnv) {
      // An explicit choice is never silently replaced by another binary.
      if (!isExecutable(fromEnv)) {
        throw new FaceError('E_FFMPEG_MISSING', `FFMPEG_PATH points to "${fromEnv}", which is not an executable file`);
      }
      return this.describe(fromEnv, 'env');
    }
    const tried: string[] = ['FFMPEG_PATH (not set)'];
    const working: FfmpegInfo[] = [];
    for (const [source, load] of [
      ['ffmpeg-static', () => this.fromFfmpegStatic()],
      ['path', () => this.fromPath()],
      ['ffmpeg-installer', () => this.fromInstaller()],
    ] as const) {
      const candidate = load();
      if (candidate && isExecutable(candidate)) {
        try {
          working.push(await this.describe(candidate, source));
        } catch (error) {
          tried.push(`${source}: ${candidate} (${(error as Error).message})`);
        }
        continue;
      }
      tried.push(`${source}: ${candidate ? candidate + ' (not executable)' : 'not found'}`);
    }
    const best = pickNewest(working);
    if (best) {
      const others = working.filter((w) => w !== best);
      if (others.length) this.logger?.('info', `ffmpeg candidates: ${working.map((w) => `${w.source} ${w.version}`).join(', ')}; chose the newest (${best.source})`);
      return best;
    }
    throw new FaceError('E_FFMPEG_MISSING', `ffmpeg was not found. Install it (e.g. apt-get install ffmpeg) or set FFMPEG_PATH to the binary. Tried: ${tried.join('; ')}`);
  }

  private fromFfmpegStatic(): string | undefined {
    try {
      const value = this.requireModule('ffmpeg-static');
      // ffmpeg-static exports the path string (or null when its download failed).
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  private fromInstaller(): string | undefined {
    try {
      const value = this.requireModule('@ffmpeg-installer/ffmpeg') as { path?: unknown } | undefined;
      return typeof value?.path === 'string' ? value.path : undefined;
    } catch {
      // The installer throws a plain string when its platform package is missing.
      return undefined;
    }
  }

  private fromPath(): string | undefined {
    const name = process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
    for (const dir of (this.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
    return undefined;
  }

  private describe(path: string, source: FfmpegSource): Promise<FfmpegInfo> {
    return new Promise((resolve, reject) => {
      execFile(path, ['-hide_banner', '-version'], { timeout: this.versionTimeoutMs, windowsHide: true }, (error, stdout) => {
        const match = /ffmpeg version (\S+)/.exec(String(stdout));
        if (error || !match) {
          reject(new FaceError('E_FFMPEG_MISSING', `"${path}" (${source}) did not run as ffmpeg: ${error ? error.message : 'no version line'}`, { cause: error ?? undefined }));
          return;
        }
        const version = match[1];
        const major = /^n?(\d+)\./.exec(version);
        const year = /Copyright \(c\) \d{4}-(\d{4})/.exec(String(stdout));
        resolve({ path, version, source, ...(major ? { major: Number(major[1]) } : {}), ...(year ? { year: Number(year[1]) } : {}) });
      });
    });
  }
}

/**
 * The candidate to use: never the bundled @ffmpeg-installer build while another one runs; then
 * the newest by build year, then by major version; on a tie the earlier candidate (ffmpeg-static,
 * then PATH).
 */
export function pickNewest(candidates: readonly FfmpegInfo[]): FfmpegInfo | undefined {
  const rank = (c: FfmpegInfo): number[] => [c.source === 'ffmpeg-installer' ? 0 : 1, c.year ?? 0, c.major ?? 0];
  let best: FfmpegInfo | undefined;
  for (const c of candidates) {
    if (!best) {
      best = c;
      continue;
    }
    const [a, b] = [rank(c), rank(best)];
    const i = a.findIndex((v, k) => v !== b[k]);
    if (i >= 0 && a[i] > b[i]) best = c;
  }
  return best;
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
