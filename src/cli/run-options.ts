import { parseArgs } from 'node:util';
import { MAX_PIXEL_WORKERS, MODEL_ARG_KEYS, type JobArgs } from '../runtime/jobs/args';
import type { DeviceRequest } from '../runtime';

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export interface RunCommand {
  job: JobArgs;
  runtime: { device: DeviceRequest; threads: number; modelsDir?: string };
  verbose: boolean;
  /** --json: one JSON object at the end on stdout, JSON progress lines on stderr. */
  json: boolean;
}

export const RUN_USAGE = `usage: facefusion-node run --target FILE|URL --output FILE|URL --processors LIST [options]

  --source FILE          source face image (repeatable; needed by face_swapper)
  --target FILE|URL      picture (.jpg .png .webp) or video (file, rtsp://, http(s)://, udp://, /dev/video*)
  --output FILE|URL      picture for a picture target; video file or rtmp:// rtsp:// udp:// for a video
  --processors LIST      comma separated: face_swapper, face_enhancer, face_blur, face_debugger,
                         face_detector, face_landmarker, face_recognizer (or swap, enhance, blur, …)
  --threads N            ONNX Runtime threads (0 = default)
  --device D             auto | cpu | cuda (default auto)
  --blend R              blend ratio 0..1 (default 0.8)
  --selector S           one | many (default many): which target faces to change
  --blur-mode M          gaussian | pixelate | solid
  --blur-strength R      0..1 (default 0.7)
  --blur-shape S         box | ellipse (default box): mask the whole enlarged box or the ellipse in it
  --blur-threshold R     detection score threshold when blurring, 0..1 (default 0.45: recall first)
  --blur-hold N          video: frames a face stays blurred after its last detection (default 8, 0 = off)
  --blur-hold-motion M   constant_velocity | static (default constant_velocity)
  --blur-except FILE     blur everyone except the person in FILE (repeatable)
  --blur-only FILE       blur only the person in FILE (repeatable)
  --detect-tiling T      off | auto (default): the scale pyramid down to --detect-min-face, or the
                         whole frame only (off); a number is the old tile size in px
  --detect-min-face N    smallest face to find, px (default 20 when blurring, 48 otherwise)
  --scan-interval S      video: seconds within which every part of a frame is scanned at every
                         scale (default 0.2; 0 = the whole pyramid on every frame)
  --quality Q            0..100 (default 80, a live source 60; video quality maps to x264 CRF 51..0, 80 → CRF 10)
  --crf N                video: the x264 CRF itself, 0..51 (wins over --quality; 23 is x264's own default)
  --pixel-workers N      video: worker threads for blur/enhance/swap pixels, 0..8 or auto (default auto:
                         one for an embedded swap or enhance, none for a blur; 0 = main thread)
  --preset P             x264 preset (default veryfast; ultrafast for a live source of
                         16 million pixels/s per core or more, e.g. 1080p25 on 2 cores)
  --keep-audio           keep the target's audio (default)
  --no-audio             drop the audio
  --no-provenance        do not mark swapped/enhanced outputs as AI-edited (IPTC XMP / video metadata)
  --on-failure P         pass | drop | retry:N  what a failing frame does (default pass)
  --live-policy P        live sources slower to process than they send: drop_oldest (default),
                         drop_newest, every_nth or block (no drops; the delay then grows)
  --live-queue N         frames that may wait before the policy drops (default 0.3 s of
                         the camera's frames: 8 at 25 fps)
  --live-every N         every_nth: keep one frame in N (default 2)
  --live-gaps G          what the output shows for a dropped frame: hold (default; the previous
                         frame stays on screen, nothing encoded) or repeat (encoded again, constant rate)
  --alert-after-failures N  alert once N frames failed: printed on stderr, exit code 3
  --downgrade            under pressure drop enhance, then occlusion/region masks, then pixel boost
  --frame-budget-ms N    time a frame may take with --downgrade (default: a live source's frame interval)
  --json                 print one JSON object at the end (stdout) and JSON progress lines (stderr)
  --models-dir DIR       model cache (default FACEFUSION_MODELS_DIR, else ~/.cache/facefusion/models)
  FaceFusion model options (a model id from \`facefusion-node models list\` or an .onnx path
  named like the model; blank = the embedded default):
  --face-detector-model M, --face-landmarker-model M, --face-recognizer-model M,
  --face-swapper-model M, --face-swapper-pixel-boost N (e.g. 256), --face-swapper-weight R,
  --face-enhancer-model M, --face-enhancer-blend R, --face-enhancer-weight R,
  --face-mask-types LIST (box,occlusion,region), --face-mask-regions LIST, --face-mask-blur R
  --verbose              log model and ffmpeg choices`;

/** --face-swapper-model … : FaceFusion's own argument names, kebab-cased (padding is job-file only). */
const MODEL_FLAGS = MODEL_ARG_KEYS.filter((key) => key !== 'face_mask_padding').map((key) => ({ key, flag: key.replace(/_/g, '-') }));
const MODEL_OPTIONS = Object.fromEntries(MODEL_FLAGS.map(({ flag }) => [flag, { type: 'string' as const }]));

const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

/** `run` arguments → job args + runtime options. Throws UsageError naming the bad option. */
export function parseRunArgs(argv: string[]): RunCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        source: { type: 'string', multiple: true },
        target: { type: 'string' },
        output: { type: 'string' },
        processors: { type: 'string' },
        threads: { type: 'string' },
        device: { type: 'string' },
        blend: { type: 'string' },
        selector: { type: 'string' },
        'blur-mode': { type: 'string' },
        'blur-strength': { type: 'string' },
        'blur-shape': { type: 'string' },
        'blur-threshold': { type: 'string' },
        'blur-hold': { type: 'string' },
        'detect-min-face': { type: 'string' },
        'scan-interval': { type: 'string' },
        'blur-hold-motion': { type: 'string' },
        'blur-except': { type: 'string', multiple: true },
        'blur-only': { type: 'string', multiple: true },
        'detect-tiling': { type: 'string' },
        quality: { type: 'string' },
        crf: { type: 'string' },
        'pixel-workers': { type: 'string' },
        preset: { type: 'string' },
        'keep-audio': { type: 'boolean' },
        'no-audio': { type: 'boolean' },
        'no-provenance': { type: 'boolean' },
        'on-failure': { type: 'string' },
        'live-policy': { type: 'string' },
        'live-queue': { type: 'string' },
        'live-every': { type: 'string' },
        'live-gaps': { type: 'string' },
        'alert-after-failures': { type: 'string' },
        downgrade: { type: 'boolean' },
        'frame-budget-ms': { type: 'string' },
        json: { type: 'boolean' },
        'models-dir': { type: 'string' },
        verbose: { type: 'boolean' },
        ...MODEL_OPTIONS,
      },
    });
  } catch (error) {
    // parseArgs' messages name the option ("Unknown option '--foo'").
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (!v.target) throw new UsageError('--target is required (the picture or video to change)');
  if (!v.output) throw new UsageError('--output is required (where to write the result)');
  if (!v.processors) throw new UsageError('--processors is required, e.g. --processors face_swapper');
  if (v['keep-audio'] && v['no-audio']) throw new UsageError('--keep-audio and --no-audio contradict each other');
  const device = (v.device ?? 'auto') as DeviceRequest;
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError(`--device must be auto, cpu or cuda (got "${v.device}")`);
  const threads = v.threads === undefined ? 0 : integer('--threads', v.threads, 0, 256);
  const parameters: Record<string, unknown> = {};
  if (v.blend !== undefined) parameters.blend_ratio = number('--blend', v.blend, 0, 1);
  if (v.selector !== undefined) {
    if (!['one', 'many'].includes(v.selector)) throw new UsageError(`--selector must be one or many (got "${v.selector}")`);
    parameters.face_selector = v.selector;
  }
  if (v['blur-mode'] !== undefined) {
    if (!['gaussian', 'pixelate', 'solid'].includes(v['blur-mode'])) throw new UsageError(`--blur-mode must be gaussian, pixelate or solid (got "${v['blur-mode']}")`);
    parameters.blur_mode = v['blur-mode'];
  }
  if (v['blur-strength'] !== undefined) parameters.blur_strength = number('--blur-strength', v['blur-strength'], 0, 1);
  if (v['blur-shape'] !== undefined) {
    if (!['box', 'ellipse'].includes(v['blur-shape'])) throw new UsageError(`--blur-shape must be box or ellipse (got "${v['blur-shape']}")`);
    parameters.blur_shape = v['blur-shape'];
  }
  if (v['blur-threshold'] !== undefined) parameters.blur_score_threshold = number('--blur-threshold', v['blur-threshold'], 0, 1);
  if (v['blur-hold'] !== undefined) parameters.blur_hold_frames = integer('--blur-hold', v['blur-hold'], 0, 250);
  if (v['blur-hold-motion'] !== undefined) {
    if (!['constant_velocity', 'static'].includes(v['blur-hold-motion'])) throw new UsageError(`--blur-hold-motion must be constant_velocity or static (got "${v['blur-hold-motion']}")`);
    parameters.blur_hold_motion = v['blur-hold-motion'];
  }
  if (v['detect-tiling'] !== undefined) {
    const t = v['detect-tiling'].trim();
    if (t === 'off' || t === 'auto') parameters.detect_tiling = t;
    else parameters.detect_tiling = integer('--detect-tiling', t, 64, 8192);
  }
  if (v['detect-min-face'] !== undefined) parameters.detect_min_face = integer('--detect-min-face', v['detect-min-face'], 8, 4096);
  if (v['scan-interval'] !== undefined) parameters.detect_scan_interval = number('--scan-interval', v['scan-interval'], 0, 5);
  if (v['blur-except'] && v['blur-only']) throw new UsageError('--blur-except and --blur-only exclude each other');
  if (v.preset !== undefined && !PRESETS.includes(v.preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}`);
  const models: Record<string, unknown> = {};
  for (const { key, flag } of MODEL_FLAGS) {
    const text = (v as Record<string, string | undefined>)[flag];
    if (text === undefined) continue;
    if (key.endsWith('_model')) models[key] = text;
    else if (key === 'face_mask_types' || key === 'face_mask_regions') models[key] = text.split(/[ ,]+/).filter(Boolean);
    else models[key] = number(`--${flag}`, text, 0, 1024);
  }
  const job: JobArgs = {
    ...models,
    ...(v.source ? { source_paths: v.source } : {}),
    ...(v['blur-except'] ? { blur_except_paths: v['blur-except'] } : {}),
    ...(v['blur-only'] ? { blur_only_paths: v['blur-only'] } : {}),
    target_path: v.target,
    output_path: v.output,
    processors: v.processors
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
    execution_threads: threads,
    execution_providers: [device],
    ...(Object.keys(parameters).length ? { parameters } : {}),
    ...(v.quality !== undefined ? { quality: number('--quality', v.quality, 0, 100) } : {}),
    ...(v.crf !== undefined ? { crf: integer('--crf', v.crf, 0, 51) } : {}),
    ...(v['pixel-workers'] !== undefined ? { pixel_workers: v['pixel-workers'].trim() === 'auto' ? ('auto' as const) : integer('--pixel-workers', v['pixel-workers'], 0, MAX_PIXEL_WORKERS) } : {}),
    ...(v.preset !== undefined ? { preset: v.preset } : {}),
    keep_audio: !v['no-audio'],
    ...(v['no-provenance'] ? { provenance: false } : {}),
    ...(v['on-failure'] !== undefined ? { failure_policy: failurePolicy(v['on-failure']) } : {}),
    ...(v['live-policy'] !== undefined ? { live_policy: livePolicy(v['live-policy']) } : {}),
    ...(v['live-queue'] !== undefined ? { live_max_queue: integer('--live-queue', v['live-queue'], 1, 1000) } : {}),
    ...(v['live-every'] !== undefined ? { live_every_nth: integer('--live-every', v['live-every'], 1, 1000) } : {}),
    ...(v['live-gaps'] !== undefined ? { live_gaps: liveGaps(v['live-gaps']) } : {}),
    ...(v['alert-after-failures'] !== undefined ? { alert_after_failures: integer('--alert-after-failures', v['alert-after-failures'], 1, 1e9) } : {}),
    ...(v.downgrade ? { downgrade: true } : {}),
    ...(v['frame-budget-ms'] !== undefined ? { frame_budget_ms: positive('--frame-budget-ms', v['frame-budget-ms']) } : {}),
  };
  if (job.frame_budget_ms !== undefined && !job.downgrade) throw new UsageError('--frame-budget-ms needs --downgrade');
  return { job, runtime: { device, threads, ...(v['models-dir'] ? { modelsDir: v['models-dir'] } : {}) }, verbose: v.verbose === true, json: v.json === true };
}

function number(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} must be a number from ${min} to ${max} (got "${text}")`);
  return n;
}

function positive(name: string, text: string): number {
  const n = number(name, text, 0, 600000);
  if (n <= 0) throw new UsageError(`${name} must be more than 0 (got "${text}")`);
  return n;
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = number(name, text, min, max);
  if (!Number.isInteger(n)) throw new UsageError(`${name} must be a whole number (got "${text}")`);
  return n;
}

function livePolicy(text: string): JobArgs['live_policy'] {
  const policy = text.replace(/-/g, '_');
  if (policy === 'block' || policy === 'drop_oldest' || policy === 'drop_newest' || policy === 'every_nth') return policy;
  throw new UsageError(`--live-policy must be drop_oldest, drop_newest, every_nth or block (got "${text}")`);
}

function liveGaps(text: string): JobArgs['live_gaps'] {
  if (text === 'hold' || text === 'repeat') return text;
  throw new UsageError(`--live-gaps must be hold or repeat (got "${text}")`);
}

function failurePolicy(text: string): JobArgs['failure_policy'] {
  if (text === 'pass' || text === 'drop') return text;
  const retry = /^retry:(\d+)$/.exec(text);
  if (retry) return { retry: integer('--on-failure retry', retry[1], 1, 10) };
  throw new UsageError(`--on-failure must be pass, drop or retry:N (got "${text}")`);
}
