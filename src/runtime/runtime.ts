import { FrameStore } from './store/frame-store';
import type { FrameStoreStats } from './store/types';
import { SessionPool } from './sessions/session-pool';
import type { SessionHandle } from './sessions/session-pool';
import { ModelCache } from './models/model-cache';
import { contractById } from './models/default-contracts';
import { loadManifest, type ManifestEntry } from './models/manifest';
import type { FaceDetector, FaceEmbedder, FaceLandmarker, ModelRole } from './models/types';
import { Rfb320Detector } from './models/default/rfb320-detector';
import { Pfld68Landmarker } from './models/default/pfld68-landmarker';
import { FacepluginEmbedder } from './models/default/faceplugin-embedder';
import { TokenValidator } from './token/validate';
import { createToken, isExpired, tokenFrameRefs } from './token/token';
import type { FaceToken, FrameRef, Parameters, Stage } from './token/types';
import { STAGES } from './token/types';
import { decodeImage, encodeImage, readImageFile } from './vision/codec';
import type { Frame } from './vision/frame';
import { FaceError, faceError } from './errors';
import { PROCESSORS } from './processors';
import type { ProcessOptions, ProcessorContext } from './processors/context';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Logger = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface RuntimeOptions {
  device?: DeviceRequest;
  /** ORT intra-op threads; 0 = ORT's default. */
  threads?: number;
  /** Model cache directory; blank → FACEFUSION_MODELS_DIR → <package>/models. */
  modelsDir?: string;
  /** Frame store byte budget (default 512 MiB). */
  frameBudgetBytes?: number;
  /** Token lifetime (default 5 minutes). */
  tokenTtlMs?: number;
  /** TTL sweeper period (default 5 s). */
  sweepIntervalMs?: number;
  /** Largest image accepted, in pixels (default 64 megapixels). */
  maxImagePixels?: number;
  logger?: Logger;
}

export type ImageInput = Buffer | Uint8Array | Frame | string;

export interface TokenInput {
  target: ImageInput;
  source?: ImageInput;
  operations?: Stage[];
  parameters?: Parameters;
  ttlMs?: number;
  job_id?: string;
  index?: number;
  pts?: number;
}

/** Which default model plays each role. Users' models (model zoo) plug in here later. */
const DEFAULT_MODELS: Readonly<Record<'detector' | 'landmarker' | 'embedder', string>> = {
  detector: 'fr_detect',
  landmarker: 'fr_landmark',
  embedder: 'fr_feature',
};

/**
 * Everything a face pipeline needs, owned in one place: the frame store (with its TTL
 * sweeper), the session pool (one ONNX session per model), the model cache and the token
 * validator. A Node-RED config node owns exactly one; a script creates one with createRuntime().
 */
export class Runtime {
  readonly store: FrameStore;
  readonly pool: SessionPool;
  readonly models: ModelCache;
  readonly validator = new TokenValidator();
  readonly tokenTtlMs: number;
  private readonly maxImagePixels: number;
  private readonly log: Logger;
  private readonly handles = new Map<string, Promise<SessionHandle>>();
  private readonly engines = new Map<string, Promise<unknown>>();
  private readonly context: ProcessorContext;
  private closed = false;

  constructor(options: RuntimeOptions = {}) {
    this.log = options.logger ?? (() => undefined);
    this.tokenTtlMs = options.tokenTtlMs ?? 300_000;
    this.maxImagePixels = options.maxImagePixels ?? 64_000_000;
    this.store = new FrameStore({
      budgetBytes: options.frameBudgetBytes ?? 512 * 1024 * 1024,
      defaultTtlMs: this.tokenTtlMs,
      sweepIntervalMs: options.sweepIntervalMs ?? 5000,
    });
    this.pool = new SessionPool({ device: options.device ?? 'auto', threads: options.threads ?? 0, logger: this.log });
    this.models = new ModelCache({ dir: options.modelsDir || undefined });
    this.context = {
      store: this.store,
      detector: () => this.engine('detector', (h) => new Rfb320Detector(h)),
      landmarker: () => this.engine('landmarker', (h) => new Pfld68Landmarker(h)),
      embedder: () => this.engine('embedder', (h) => new FacepluginEmbedder(h)),
      now: () => Date.now(),
    };
  }

  /** Fetches (if needed) and loads the default models, each warmed up once. */
  async warmup(): Promise<{ provider: 'cpu' | 'cuda' }> {
    const [detector] = await Promise.all([this.context.detector(), this.context.landmarker(), this.context.embedder()]);
    return { provider: detector.provider as 'cpu' | 'cuda' };
  }

  /** The execution provider the sessions really got, once one is loaded. */
  provider(): 'cpu' | 'cuda' | undefined {
    const entry = this.pool.stats().entries[0];
    return entry?.provider;
  }

  async createToken(input: TokenInput): Promise<FaceToken> {
    this.assertOpen();
    const now = Date.now();
    const ttlMs = input.ttlMs ?? this.tokenTtlMs;
    const expiresAt = now + ttlMs;
    const request_id = crypto.randomUUID();
    const target = await this.toFrame(input.target, 'target');
    const source = input.source === undefined ? undefined : await this.toFrame(input.source, 'source');
    const targetRef = this.store.put(target, { expiresAt, owner: request_id });
    let sourceRef: FrameRef | undefined;
    if (source) sourceRef = this.store.put(source, { expiresAt, owner: request_id });
    const token = createToken({
      request_id,
      now,
      ttlMs,
      target: { frame: targetRef, width: target.width, height: target.height, ...(input.index !== undefined ? { index: input.index } : {}), ...(input.pts !== undefined ? { pts: input.pts } : {}) },
      ...(sourceRef ? { source: { frame: sourceRef } } : {}),
      operations: input.operations ?? ['detect', 'landmark', 'embed', 'swap'],
      parameters: input.parameters ?? {},
      ...(input.job_id ? { job_id: input.job_id } : {}),
    });
    return this.validator.assert(token);
  }

  /** A token arriving from outside the trusted chain: schema, expiry and frames are checked. */
  acceptToken(value: unknown): FaceToken {
    const token = this.validator.assert(value);
    if (isExpired(token)) throw faceError('E_TOKEN_EXPIRED', `token ${token.request_id} expired at ${token.expires_at}`);
    for (const ref of tokenFrameRefs(token)) {
      if (!this.store.has(ref)) {
        throw faceError('E_FRAME_MISSING', `token ${token.request_id} refers to ${ref}, which is not in this runtime's frame store (released, expired, or from another process)`);
      }
    }
    return token;
  }

  process(stage: Stage, token: FaceToken, options?: ProcessOptions): Promise<FaceToken> {
    this.assertOpen();
    const processor = PROCESSORS[stage];
    if (!processor) throw faceError('E_BAD_PARAMETER', `unknown stage "${stage}" (known: ${STAGES.join(', ')})`);
    return processor(token, this.context, options);
  }

  /** Runs the token's operations (or the given stages) in order; stops at the first failure. */
  async run(token: FaceToken, stages?: Stage[]): Promise<FaceToken> {
    let current = token;
    for (const stage of stages ?? token.operations) {
      current = await this.process(stage, current, { force: stages !== undefined });
      if (current.state === 'failed') break;
    }
    return current;
  }

  frame(ref: FrameRef): Frame {
    return this.store.get(ref);
  }

  encode(token: FaceToken, options: { format?: 'jpeg' | 'png' | 'webp'; quality?: number } = {}): Promise<Buffer> {
    return encodeImage(this.store.get(token.target.frame), options);
  }

  /**
   * Frees every frame the token's request created (its target, source and derived frames).
   * With `keepSource` the token's source frame stays (per-frame job tokens share the job's).
   */
  release(token: FaceToken, options: { keepSource?: boolean } = {}): void {
    const keep = options.keepSource ? token.source?.frame : undefined;
    this.store.releaseOwner(token.request_id, keep === undefined ? {} : { keep: [keep] });
    this.store.releaseMany(keep === undefined ? tokenFrameRefs(token) : tokenFrameRefs(token).filter((ref) => ref !== keep));
  }

  stats(): { store: FrameStoreStats; sessions: ReturnType<SessionPool['stats']> } {
    return { store: this.store.stats(), sessions: this.pool.stats() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const handles = await Promise.allSettled(this.handles.values());
    this.handles.clear();
    this.engines.clear();
    for (const h of handles) if (h.status === 'fulfilled') await h.value.release();
    await this.pool.close();
    this.store.close();
  }

  /** The model entries of the manifest, for dialogs and CLIs. */
  manifest(): ManifestEntry[] {
    return loadManifest().models;
  }

  private engine<T>(role: 'detector' | 'landmarker' | 'embedder', make: (handle: SessionHandle) => T): Promise<T> {
    this.assertOpen();
    let engine = this.engines.get(role) as Promise<T> | undefined;
    if (!engine) {
      engine = this.session(role, DEFAULT_MODELS[role]).then(make);
      this.engines.set(role, engine);
      // A failed load (offline, wrong file) must not poison later attempts.
      engine.catch(() => this.engines.delete(role));
    }
    return engine;
  }

  private session(role: ModelRole, modelId: string): Promise<SessionHandle> {
    let handle = this.handles.get(modelId);
    if (!handle) {
      handle = (async () => {
        const path = await this.models.ensure(modelId);
        const entry = loadManifest().models.find((m) => m.id === modelId);
        const contract = entry ? contractById(entry.contract) : undefined;
        const h = await this.pool.acquire(path, { contract, label: modelId });
        this.log('info', `${role} ${modelId} loaded on ${h.provider}`);
        return h;
      })();
      this.handles.set(modelId, handle);
      handle.catch(() => this.handles.delete(modelId));
    }
    return handle;
  }

  private async toFrame(input: ImageInput, what: string): Promise<Frame> {
    if (typeof input === 'string') return readImageFile(input, { maxPixels: this.maxImagePixels });
    if (input instanceof Uint8Array && !isFrame(input)) return decodeImage(input, { maxPixels: this.maxImagePixels });
    if (isFrame(input)) return input;
    throw faceError('E_BAD_IMAGE', `${what} must be an image Buffer, a file path or a frame`);
  }

  private assertOpen(): void {
    if (this.closed) throw new FaceError('E_CLOSED', 'the face runtime is closed (flow stopped or redeployed)');
  }
}

function isFrame(value: unknown): value is Frame {
  const f = value as Frame;
  return typeof f === 'object' && f !== null && !(f instanceof Uint8Array) && f.data instanceof Uint8Array && typeof f.width === 'number' && typeof f.height === 'number';
}

export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(options);
}
