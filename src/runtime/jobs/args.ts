import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { extname } from 'path';
import { FaceError } from '../errors';
import type { Parameters, Stage } from '../token/types';
import { knownProcessors, needsSource, resolveStages } from './processors';
import { FACE_TOKEN_SCHEMA } from '../token/schema';

export type FailurePolicy = 'pass' | 'drop' | { retry: number };

/** Top-level job fields that are token parameters (FaceFusion's own argument names). */
export const MODEL_ARG_KEYS = [
  'face_detector_model',
  'face_landmarker_model',
  'face_recognizer_model',
  'face_swapper_model',
  'face_swapper_pixel_boost',
  'face_swapper_weight',
  'face_enhancer_model',
  'face_enhancer_blend',
  'face_enhancer_weight',
  'face_mask_types',
  'face_mask_regions',
  'face_mask_blur',
  'face_mask_padding',
] as const;

/**
 * A job as FaceFusion describes one (snake_case), plus our video options. FaceFusion's model
 * arguments may be given at the top level, as in its job files, or inside `parameters`.
 */
export interface JobArgs extends Pick<Parameters, (typeof MODEL_ARG_KEYS)[number]> {
  source_paths?: string[];
  /** "Blur everyone except …": pictures of the people kept sharp (their largest face each). */
  blur_except_paths?: string[];
  /** "Blur only …": pictures of the only people blurred. */
  blur_only_paths?: string[];
  target_path: string;
  output_path: string;
  processors: string[];
  /** Recorded with the job; the runtime's own threads/device apply (the CLI builds its runtime from these). */
  execution_threads?: number;
  execution_providers?: string[];
  parameters?: Parameters;
  /** Per-frame failure policy (video): pass the original frame (default), drop it, or retry n times then pass. */
  failure_policy?: FailurePolicy;
  /** Keep the target's audio in a video output (default true). */
  keep_audio?: boolean;
  /** 0–100: JPEG/WebP quality for images, CRF mapping for video (default 80). */
  quality?: number;
  /** Video: the x264/x265 CRF itself, 0–51 (lower is better and heavier); wins over `quality`. Pictures ignore it. */
  crf?: number;
  /**
   * Video: worker threads for the pixel stages (blur, enhance, debug, swap) of this job, 0–8
   * (0 = on the main thread), or 'auto' (one where it measured faster: see pixelWorkersFor);
   * default: the JobManager's `pixelWorkers`.
   */
  pixel_workers?: number | 'auto';
  /** x264 preset for video (default veryfast). */
  preset?: string;
  /** Provenance marks (IPTC Digital Source Type in XMP / container metadata) on swapped or enhanced outputs (default true). */
  provenance?: boolean;
  /** Live sources: what to do when frames come faster than they are processed (default drop_oldest; files never drop). */
  live_policy?: 'block' | 'drop_oldest' | 'drop_newest' | 'every_nth';
  /** Live sources: frames that may wait before the policy drops (default 0.3 s of the source's frames, 8 at 25 fps). */
  live_max_queue?: number;
  /** Live sources, live_policy every_nth: keep one frame in this many (default 2). */
  live_every_nth?: number;
  /**
   * Live sources: what the output shows for a frame the policy dropped — `hold` (default): the
   * previous frame stays on screen by its timestamp, nothing is encoded (variable frame rate);
   * `repeat`: the previous frame is encoded again (constant frame rate, costs x264 time).
   */
  live_gaps?: 'hold' | 'repeat';
  /**
   * Under pressure (frame time over the budget, memory short) drop optional work — enhance, then
   * occlusion/region masks, then pixel boost — and bring it back when the pressure ends (default false).
   */
  downgrade?: boolean;
  /** Time a frame may take, in ms (with `downgrade`); default: a live source's frame interval, none for files. */
  frame_budget_ms?: number;
  /** Raise an alert (face-job's second output, CLI exit code 3) once this many frames failed. */
  alert_after_failures?: number;
}

const PARAMETERS_SCHEMA = FACE_TOKEN_SCHEMA.properties.parameters;

/** Pixel worker threads a job may ask for: more than the cores only adds threads waiting for them. */
export const MAX_PIXEL_WORKERS = 8;

/** JobArgs after validation, with the stage list resolved. */
export interface NormalizedJob {
  args: JobArgs;
  stages: Stage[];
  kind: 'image' | 'video';
  /** The source image used (the first of source_paths), when a stage needs one. */
  sourcePath?: string;
  failurePolicy: FailurePolicy;
  downgrade: boolean;
  frameBudgetMs?: number;
  alertAfterFailures?: number;
}

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp']);

/**
 * File name endings of videos and streams ffmpeg reads. A target file with another ending (a
 * `.txt`, a `.md`) is neither a picture nor a video and is refused up front, naming it so;
 * a file without an ending is left to ffmpeg to probe.
 */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mp4',
  '.m4v',
  '.mkv',
  '.mov',
  '.qt',
  '.webm',
  '.avi',
  '.flv',
  '.wmv',
  '.asf',
  '.mpg',
  '.mpeg',
  '.m2v',
  '.ts',
  '.mts',
  '.m2ts',
  '.3gp',
  '.3g2',
  '.ogv',
  '.ogg',
  '.mxf',
  '.vob',
  '.dv',
  '.nut',
  '.y4m',
  '.gif',
  '.h264',
  '.264',
  '.h265',
  '.265',
  '.hevc',
  '.mjpeg',
  '.mjpg',
  '.ivf',
  '.rm',
  '.rmvb',
  '.f4v',
  '.divx',
]);

const JOB_SCHEMA = {
  type: 'object',
  // The token's parameter schema is reused, so a job is refused up front for what a frame would fail on.
  definitions: FACE_TOKEN_SCHEMA.definitions,
  additionalProperties: false,
  required: ['target_path', 'output_path', 'processors'],
  properties: {
    source_paths: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 16 },
    blur_except_paths: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 16 },
    blur_only_paths: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 16 },
    target_path: { type: 'string', minLength: 1 },
    output_path: { type: 'string', minLength: 1 },
    processors: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 16 },
    execution_threads: { type: 'integer', minimum: 0, maximum: 256 },
    execution_providers: { type: 'array', items: { type: 'string', enum: ['auto', 'cpu', 'cuda'] }, maxItems: 4 },
    parameters: PARAMETERS_SCHEMA,
    ...Object.fromEntries(MODEL_ARG_KEYS.map((key) => [key, PARAMETERS_SCHEMA.properties[key]])),
    failure_policy: {
      anyOf: [
        { type: 'string', enum: ['pass', 'drop'] },
        { type: 'object', additionalProperties: false, required: ['retry'], properties: { retry: { type: 'integer', minimum: 1, maximum: 10 } } },
      ],
    },
    keep_audio: { type: 'boolean' },
    downgrade: { type: 'boolean' },
    frame_budget_ms: { type: 'number', exclusiveMinimum: 0, maximum: 600000 },
    alert_after_failures: { type: 'integer', minimum: 1, maximum: 1000000000 },
    provenance: { type: 'boolean' },
    live_policy: { type: 'string', enum: ['block', 'drop_oldest', 'drop_newest', 'every_nth'] },
    live_max_queue: { type: 'integer', minimum: 1, maximum: 1000 },
    live_every_nth: { type: 'integer', minimum: 1, maximum: 1000 },
    live_gaps: { type: 'string', enum: ['hold', 'repeat'] },
    quality: { type: 'number', minimum: 0, maximum: 100 },
    crf: { type: 'integer', minimum: 0, maximum: 51 },
    pixel_workers: { anyOf: [{ type: 'integer', minimum: 0, maximum: MAX_PIXEL_WORKERS }, { const: 'auto' }] },
    preset: { type: 'string', enum: ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] },
  },
} as const;

/**
 * Checks job arguments with ajv and resolves the processors. One instance compiles the schema
 * once (a JobManager owns one). Errors are E_JOB and name the field.
 */
export class JobArgsValidator {
  private readonly check: ValidateFunction<JobArgs>;

  constructor() {
    const ajv = new Ajv({ allErrors: true, strict: false, strictNumbers: true });
    this.check = ajv.compile<JobArgs>(JOB_SCHEMA);
  }

  normalize(value: unknown): NormalizedJob {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new FaceError('E_JOB', 'job arguments must be an object like { source_paths, target_path, output_path, processors }');
    }
    if (!this.check(value)) {
      const problems = describe(this.check.errors ?? []);
      throw new FaceError('E_JOB', `invalid job arguments: ${problems.join('; ')}`, { details: { errors: problems } });
    }
    const args: JobArgs = { ...value };
    const topLevel = Object.fromEntries(MODEL_ARG_KEYS.filter((key) => args[key] !== undefined).map((key) => [key, args[key]]));
    for (const key of MODEL_ARG_KEYS) delete args[key];
    const parameters = { ...topLevel, ...(args.parameters ?? {}) };
    if (Object.keys(parameters).length) args.parameters = parameters;
    const byIdentity = args.blur_except_paths !== undefined || args.blur_only_paths !== undefined || parameters.blur_except_embeddings !== undefined || parameters.blur_only_embeddings !== undefined;
    if ((args.blur_except_paths || parameters.blur_except_embeddings) && (args.blur_only_paths || parameters.blur_only_embeddings)) {
      throw new FaceError('E_JOB', 'blur_except_paths and blur_only_paths exclude each other: blur everyone except some people, or only some people', { details: { field: 'blur_only_paths' } });
    }
    const stages = resolveStages(args.processors, { needEmbeddings: parameters.face_selector === 'reference' || (byIdentity && args.processors.some((p) => resolveStages([p]).includes('blur'))) });
    const sourcePath = args.source_paths?.[0];
    if (needsSource(stages) && !sourcePath) {
      throw new FaceError('E_JOB', 'source_paths is empty but the processors swap faces: give at least one source image', { details: { field: 'source_paths' } });
    }
    if (!isMediaTarget(args.target_path)) {
      throw new FaceError('E_JOB', `target_path "${args.target_path}" is not a picture or video: give a picture (.jpg, .png, .webp), a video (.mp4, .mkv, .mov, …), a stream URL or /dev/video*`, {
        details: { field: 'target_path' },
      });
    }
    const kind = isImagePath(args.target_path) ? 'image' : 'video';
    const outputIsImage = isImagePath(args.output_path);
    if (kind === 'image' && !outputIsImage) {
      throw new FaceError('E_BAD_OUTPUT', `output_path "${args.output_path}" must end in .jpg, .png or .webp for an image target`, { details: { field: 'output_path' } });
    }
    if (kind === 'video' && outputIsImage) {
      throw new FaceError('E_BAD_OUTPUT', `output_path "${args.output_path}" is an image but the target is a video: use .mp4, .mkv, .mov or a stream URL`, { details: { field: 'output_path' } });
    }
    return {
      args: structuredClone(args),
      stages,
      kind,
      ...(needsSource(stages) && sourcePath ? { sourcePath } : {}),
      failurePolicy: args.failure_policy ?? 'pass',
      downgrade: args.downgrade === true,
      ...(args.frame_budget_ms !== undefined ? { frameBudgetMs: args.frame_budget_ms } : {}),
      ...(args.alert_after_failures !== undefined ? { alertAfterFailures: args.alert_after_failures } : {}),
    };
  }
}

/** A target a job can read: a URL, a device, a sample, or a file named as a picture or video (or with no ending). */
function isMediaTarget(path: string): boolean {
  if (/^[a-z][a-z0-9+.-]+:/i.test(path) || path.startsWith('/dev/')) return true;
  const ext = extname(path).toLowerCase();
  return ext === '' || IMAGE_EXTENSIONS.has(ext) || VIDEO_EXTENSIONS.has(ext);
}

export function isImagePath(path: string): boolean {
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(path)) return false;
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

function describe(errors: readonly ErrorObject[]): string[] {
  const out = new Set<string>();
  for (const e of errors) {
    const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
    if (e.keyword === 'required') out.add(`${(e.params as { missingProperty: string }).missingProperty} is required`);
    else if (e.keyword === 'additionalProperties') out.add(`${field ? field + '.' : ''}${(e.params as { additionalProperty: string }).additionalProperty} is not a job field`);
    else if (e.keyword === 'enum') out.add(`${field} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`);
    else if (e.keyword === 'anyOf' && field === 'failure_policy') out.add('failure_policy must be "pass", "drop" or { "retry": 1..10 }');
    else if (e.keyword === 'anyOf' && field === 'pixel_workers') out.add(`pixel_workers must be "auto" or a whole number from 0 to ${MAX_PIXEL_WORKERS}`);
    else if (field.startsWith('failure_policy') || field === 'pixel_workers')
      continue; // summarised by the anyOf line
    else out.add(`${field || 'job'} ${e.message ?? 'is invalid'}`);
  }
  return [...out];
}

export { knownProcessors };
