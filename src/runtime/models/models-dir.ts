import { existsSync } from 'fs';
import { homedir } from 'os';
import { isAbsolute, join, resolve } from 'path';
import { PACKAGE_ROOT } from './manifest';

/** Why a models folder was chosen; said in logs so a user knows where the files are. */
export type ModelsDirReason = 'option' | 'FACEFUSION_MODELS_DIR' | 'checkout' | 'node-red' | 'user-cache';

export interface ModelsDirChoice {
  dir: string;
  reason: ModelsDirReason;
}

export interface ModelsDirContext {
  /** A folder named by the user (config node field, CLI flag, runtime option). */
  dir?: string;
  /** Node-RED's user directory (RED.settings.userDir) when running inside Node-RED. */
  nodeRedUserDir?: string;
  /** Defaults to process.env, os.homedir(), process.platform and the package root; tests inject. */
  env?: NodeJS.ProcessEnv;
  home?: string;
  platform?: NodeJS.Platform;
  packageRoot?: string;
}

/**
 * Where model files live when nobody named a folder, chosen so they survive upgrades: an
 * installed package's own folder is deleted by every `npm install`/upgrade (and is read-only in
 * global installs), so it is only used in a development checkout of the repository.
 *
 * 1. the folder named explicitly; 2. `FACEFUSION_MODELS_DIR`; 3. `<repo>/models` in a source
 * checkout (it has `src/` and `tsconfig.json`, which the published package does not ship);
 * 4. inside Node-RED: `<userDir>/facefusion/models`; 5. the per-user cache folder:
 * `$XDG_CACHE_HOME/facefusion/models` (default `~/.cache/…`) on Linux and other Unixes,
 * `~/Library/Caches/facefusion/models` on macOS, `%LOCALAPPDATA%\facefusion\models` on Windows.
 */
export function chooseModelsDir(context: ModelsDirContext = {}): ModelsDirChoice {
  const env = context.env ?? process.env;
  if (context.dir && context.dir.trim()) return { dir: resolve(context.dir.trim()), reason: 'option' };
  if (env.FACEFUSION_MODELS_DIR && env.FACEFUSION_MODELS_DIR.trim()) return { dir: resolve(env.FACEFUSION_MODELS_DIR.trim()), reason: 'FACEFUSION_MODELS_DIR' };
  const root = context.packageRoot ?? PACKAGE_ROOT;
  if (isSourceCheckout(root)) return { dir: join(root, 'models'), reason: 'checkout' };
  if (context.nodeRedUserDir) return { dir: join(resolve(context.nodeRedUserDir), 'facefusion', 'models'), reason: 'node-red' };
  return { dir: userCacheDir(env, context.home ?? homedir(), context.platform ?? process.platform), reason: 'user-cache' };
}

/** A clone of the repository (where `npm start` and `npm test` run), not an installed package. */
export function isSourceCheckout(root: string): boolean {
  return existsSync(join(root, 'src', 'runtime')) && existsSync(join(root, 'tsconfig.json'));
}

function userCacheDir(env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'facefusion', 'models');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'facefusion', 'models');
  // XDG: a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(xdg, 'facefusion', 'models');
}

/** One line for a log: `face models folder: /x (FACEFUSION_MODELS_DIR)`. */
export function describeModelsDir(choice: ModelsDirChoice): string {
  const why: Record<ModelsDirReason, string> = {
    option: 'set in the configuration',
    FACEFUSION_MODELS_DIR: 'from FACEFUSION_MODELS_DIR',
    checkout: "the repository's models/ folder",
    'node-red': "inside Node-RED's user directory",
    'user-cache': 'the per-user cache folder',
  };
  return `face models folder: ${choice.dir} (${why[choice.reason]})`;
}
