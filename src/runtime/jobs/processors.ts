import { FaceError } from '../errors';
import { STAGES, type Stage } from '../token/types';

/** FaceFusion processor names (and a few aliases) → our stage names. */
export const PROCESSOR_ALIASES: Readonly<Record<string, Stage>> = Object.freeze({
  face_detector: 'detect',
  face_landmarker: 'landmark',
  face_recognizer: 'embed',
  face_embedder: 'embed',
  face_swapper: 'swap',
  face_enhancer: 'enhance',
  face_blur: 'blur',
  face_blurrer: 'blur',
  face_debugger: 'debug',
});

/** Every name `processors` accepts, for error messages and --help. */
export function knownProcessors(): string[] {
  return [...Object.keys(PROCESSOR_ALIASES), ...STAGES];
}

/**
 * The known processor name nearest to a mistyped one (at most a quarter of its letters wrong,
 * by edit distance), or undefined: `face_swapp` → `face_swapper`, `blurr` → `blur`.
 */
export function closestProcessor(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of knownProcessors()) {
    const d = editDistance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(name.length / 4)) ? best : undefined;
}

/** Levenshtein distance over two rows (names are a few letters long). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** What each stage needs before it, on the embedded models. */
const PREREQUISITES: Readonly<Record<Stage, readonly Stage[]>> = {
  detect: [],
  landmark: ['detect'],
  embed: ['detect'],
  // The embedded swap warps over the 68 landmarks of the target face.
  swap: ['detect', 'landmark'],
  enhance: ['detect'],
  blur: ['detect'],
  debug: ['detect'],
};

/**
 * Resolves processor names to the stage list a job runs: aliases mapped, prerequisites
 * added, duplicates removed, in canonical order (detect, landmark, embed, swap, enhance, blur,
 * debug). `reference` face selection needs embeddings, so it adds `embed`.
 * Throws E_JOB naming the unknown processor and listing the known ones.
 */
export function resolveStages(processors: readonly string[], options: { needEmbeddings?: boolean } = {}): Stage[] {
  const wanted = new Set<Stage>();
  const add = (stage: Stage): void => {
    if (wanted.has(stage)) return;
    wanted.add(stage);
    for (const before of PREREQUISITES[stage]) add(before);
  };
  for (const name of processors) {
    const key = String(name).trim().toLowerCase();
    const stage = PROCESSOR_ALIASES[key] ?? ((STAGES as readonly string[]).includes(key) ? (key as Stage) : undefined);
    if (!stage) {
      const guess = closestProcessor(key);
      throw new FaceError('E_JOB', `unknown processor "${name}"${guess ? `: did you mean ${guess}?` : ` (known: ${knownProcessors().join(', ')})`}`, {
        details: { field: 'processors', ...(guess ? { suggestion: guess } : {}) },
      });
    }
    add(stage);
  }
  if (options.needEmbeddings && wanted.size > 0) add('embed');
  return STAGES.filter((s) => wanted.has(s));
}

/** Stages that read the source identity. */
export function needsSource(stages: readonly Stage[]): boolean {
  return stages.includes('swap');
}
