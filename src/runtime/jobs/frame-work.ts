import { FaceError } from '../errors';
import { boxArea } from '../faces/select';
import type { Runtime } from '../runtime';
import { createToken } from '../token/token';
import type { Face, FaceToken, FrameRef, Parameters, Stage } from '../token/types';
import type { FrameLoop } from './frame-loop';
import { isStreamPrivacyFrame } from '../processors/privacy-stream';

/** The analysed identity every frame token of a job shares. */
export type JobSource = NonNullable<FaceToken['source']>;

export type FrameOutcome =
  | { kind: 'ok'; token: FaceToken }
  /** Detect found no face: the frame goes out unchanged. */
  | { kind: 'no_face'; token: FaceToken }
  | { kind: 'failed'; token: FaceToken; code: string; message: string };

/**
 * Runs a job's stages on one frame token, stage by stage through the source's frame loop
 * (`FrameLoop.step`: stream regions, face-likeness, pixel worker or main thread), freeing each
 * intermediate frame as soon as the next stage replaced it (so a frame costs at most three
 * frames of memory while it is processed, whatever the number of stages). The decoded frame
 * itself is never freed here: it belongs to the caller.
 */
export async function runFrameStages(runtime: Runtime, loop: FrameLoop, token: FaceToken, stages: readonly Stage[], keep: FrameRef): Promise<FrameOutcome> {
  // A blurring frame of a source belongs to the source's privacy stream, which sees its frames
  // in order: a frame that ends before detection told the stream what it found says so, and
  // later frames do not wait for it.
  const streamed = stages.includes('blur') && isStreamPrivacyFrame(token);
  try {
    return await runStages(runtime, loop, token, stages, keep, streamed);
  } finally {
    if (streamed) loop.finish(token);
  }
}

async function runStages(runtime: Runtime, loop: FrameLoop, token: FaceToken, stages: readonly Stage[], keep: FrameRef, streamed: boolean): Promise<FrameOutcome> {
  let current = token;
  for (const stage of stages) {
    // A frame without faces of a streamed source goes straight on to the blur stage: the stages
    // between (landmark, embed for a blur-except list) have nothing to work on and would fail it.
    if (streamed && current.faces.length === 0 && stage !== 'detect' && stage !== 'blur') continue;
    const next = await loop.step(stage, current);
    const previous = current.target.frame;
    if (next.target.frame !== previous && previous !== keep) runtime.store.release(previous);
    current = next;
    if (current.state === 'failed') {
      dropDerived(runtime, current, keep);
      const error = current.error ?? { code: 'E_INTERNAL', message: `${stage} failed` };
      if (error.code === 'E_NO_FACE') return { kind: 'no_face', token: current };
      return { kind: 'failed', token: current, code: error.code, message: error.message };
    }
    // No face after detect: later stages would only report "no face" again.
    // (Unless the blur stage masks regions the stream's tracks place in this frame.)
    if (stage === 'detect' && current.faces.length === 0 && stages.length > 1 && !streamed) return { kind: 'no_face', token: current };
  }
  return { kind: 'ok', token: current };
}

/**
 * Frees what a frame token derived: the frames its stages stored and its target, unless the
 * target is still `keep` (the decoded frame, the caller's). The job's shared source stays.
 */
export function dropDerived(runtime: Runtime, token: FaceToken, keep: FrameRef): void {
  if (token.target.frame !== keep) {
    runtime.release(token, { keepSource: true });
    return;
  }
  const source = token.source?.frame;
  runtime.store.releaseOwner(token.request_id, source === undefined ? {} : { keep: [source] });
}

/** Faces the token's stages left unchanged on purpose (journal faces_skipped of its swap and enhance). */
export function facesSkipped(token: FaceToken): number {
  let n = 0;
  for (const entry of token.journal) n += entry.faces_skipped?.length ?? 0;
  return n;
}

/** One frame token: a copy of the job's settings around a decoded frame. */
export function frameToken(init: {
  jobId: string;
  ref: FrameRef;
  index: number;
  pts: number;
  width: number;
  height: number;
  source?: JobSource;
  stages: Stage[];
  parameters: Parameters;
  ttlMs: number;
}): FaceToken {
  return createToken({
    job_id: init.jobId,
    target: { frame: init.ref, index: init.index, pts: init.pts, width: init.width, height: init.height },
    ...(init.source ? { source: init.source } : {}),
    operations: init.stages,
    parameters: init.parameters,
    ttlMs: init.ttlMs,
  });
}

/**
 * The job's parameters with the embeddings of its blur reference pictures (blur_except_paths /
 * blur_only_paths: the largest face of each, by the job's own detector and recognizer) added as
 * blur_except_embeddings / blur_only_embeddings. A picture without a face fails the job
 * (E_NO_SOURCE): a "keep sharp" list that silently lost a person would blur them.
 */
export async function withBlurReferences(runtime: Runtime, args: { blur_except_paths?: string[]; blur_only_paths?: string[]; parameters?: Parameters }, jobId: string): Promise<Parameters> {
  const parameters: Parameters = { ...(args.parameters ?? {}) };
  for (const [paths, key] of [
    [args.blur_except_paths, 'blur_except_embeddings'],
    [args.blur_only_paths, 'blur_only_embeddings'],
  ] as const) {
    if (!paths?.length) continue;
    const embeddings: number[][] = [...(parameters[key] ?? [])];
    for (const path of paths) {
      const operations: Stage[] = ['detect', 'landmark', 'embed'];
      const refParameters: Parameters = { score_threshold: parameters.score_threshold ?? 0.5, detect_tiling: 'off' };
      for (const k of SOURCE_MODEL_KEYS) if (parameters[k] !== undefined) refParameters[k] = parameters[k];
      const token = await runtime.run(await runtime.createToken({ target: path, operations, job_id: jobId, parameters: refParameters }));
      runtime.release(token);
      const face = token.faces.length ? token.faces.reduce((a, b) => (boxArea(b) > boxArea(a) ? b : a)) : undefined;
      if (token.state === 'failed' || !face?.embedding) {
        const reason = token.error ? `${token.error.code}: ${token.error.message}` : 'no face detected';
        throw new FaceError('E_NO_SOURCE', `the blur reference picture "${path}" has no usable face (${reason})`, {
          details: { field: key === 'blur_except_embeddings' ? 'blur_except_paths' : 'blur_only_paths' },
        });
      }
      embeddings.push(face.embedding);
      if (face.embedding_model) parameters.blur_reference_model = face.embedding_model;
    }
    parameters[key] = embeddings;
  }
  return parameters;
}

/** The model choices of a job that its source analysis uses too. */
const SOURCE_MODEL_KEYS = ['face_detector_model', 'face_landmarker_model', 'face_recognizer_model'] as const;

/**
 * Decodes and analyses the source image once per job: its largest face with 68 landmarks
 * (and embedding when asked), so frame tokens carry it and the swap never re-detects it.
 * The returned token owns the source frame; the caller releases it when the job ends.
 */
export async function analyseJobSource(runtime: Runtime, path: string, jobId: string, withEmbedding: boolean, parameters: Parameters): Promise<{ token: FaceToken; source: JobSource }> {
  const operations: Stage[] = withEmbedding ? ['detect', 'landmark', 'embed'] : ['detect', 'landmark'];
  // The job's own detector, landmarker and recognizer, so the source face is found and
  // described by the same models as the faces of every frame.
  const sourceParameters: Parameters = { score_threshold: parameters.score_threshold ?? 0.5 };
  for (const key of SOURCE_MODEL_KEYS) if (parameters[key] !== undefined) sourceParameters[key] = parameters[key];
  // Its models first: a missing one fails here, before the source image is decoded.
  await runtime.prepareModels(operations, sourceParameters);
  const created = await runtime.createToken({ target: path, operations, job_id: jobId, parameters: sourceParameters });
  const token = await runtime.run(created);
  if (token.state === 'failed' || token.faces.length === 0) {
    runtime.release(token);
    const reason = token.error ? `${token.error.code}: ${token.error.message}` : 'no face detected';
    throw new FaceError('E_NO_SOURCE', `the source image "${path}" has no usable face (${reason})`, { details: { field: 'source_paths' } });
  }
  const face: Face = token.faces.reduce((a, b) => (boxArea(b) > boxArea(a) ? b : a));
  // The source frame must outlive the token TTL: a long job uses it for every frame.
  runtime.store.setExpiry(token.target.frame, Number.MAX_SAFE_INTEGER);
  const { embedding, ...faceOnly } = face;
  return { token, source: { frame: token.target.frame, face: faceOnly, ...(embedding ? { embedding } : {}) } };
}
