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
      throw new FaceError('E_JOB', `unknown processor "${name}" in processors (known: ${knownProcessors().join(', ')})`, { details: { field: 'processors' } });
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
