import { FrameStore } from './store/frame-store';
import type { FrameStoreStats } from './store/types';
import { SessionPool } from './sessions/session-pool';
import type { SessionHandle } from './sessions/session-pool';
import { ModelCache } from './models/model-cache';
import { contractById } from './models/default-contracts';
import { loadManifest, type ManifestEntry } from './models/manifest';
import type { FaceDetector, ModelRole } from './models/types';
import { isDefaultModelRef, resolveModel, type ResolvedModel } from './models/model-ref';
import { openDetector, openEnhancer, openLandmarker, openRecognizer, type EnhancerEngine, type LandmarkerEngine, type RecognizerEngine } from './models/engines';
import { openSwapperEngine } from './models/swapper-engine';
import { DetectorThread } from './models/detector-thread';
import { openMasker, type FaceMasker } from './models/zoo';
import { TokenValidator } from './token/validate';
import { advance, createToken, isExpired, rebindToken, tokenFrameRefs } from './token/token';
import { buildPacket, checkDecodedSize, DEFAULT_PACK_MAX_PIXELS, openPacket, packedRoles, packetLimit, type PackOptions, type PackedFrameInfo, type UnpackOptions } from './token/pack';
import type { FaceToken, FrameRef, Parameters, Stage } from './token/types';
import { STAGES } from './token/types';
import { decodeImage, encodeImage, probeImage, readImageBytes, withPath, type DecodeOptions } from './vision/codec';
import type { PutOptions } from './store/types';
import { PixelWorkerPool } from './jobs/pixel-workers';
import { DEFAULT_FACE_AREA_RATIO } from './processors/limits';
import type { Frame } from './vision/frame';
import { FaceError, faceError } from './errors';
import { looksLikeModelPath, PathPolicy } from './policy/path-policy';
import { HostPolicy } from './policy/host-policy';
import { HttpGuard } from './policy/http-guard';
import { DowngradePolicy, type DowngradeOptions } from './policy/downgrade';
import { provenanceOf, xmpPacket } from './provenance';
import { PROCESSORS } from './processors';
import { IdentityCache } from './processors/identity-cache';
import { FaceStreamRegistry } from './faces/face-stream';
import { ScanPlanCache } from './faces/scan-plan';
import { LikenessMemory } from './faces/likeness-memory';
import { Scratch } from './vision/scratch';
import { FrameLoop, type FrameLoopHost, type FrameLoopOptions } from './jobs/frame-loop';
import type { ProcessOptions, ProcessorContext, SwapperWithRecognizer } from './processors/context';
import { existsSync } from 'fs';
import { dirname, join, resolve } from 'path';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Logger = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface RuntimeOptions {
  device?: DeviceRequest;
  /** ORT intra-op threads; 0 = ORT's default. */
  threads?: number;
  /** ORT worker threads busy-wait between parallel sections (lower latency, more CPU); default false. */
  spinWait?: boolean;
  /** Model cache directory; blank → chooseModelsDir (FACEFUSION_MODELS_DIR, the checkout's models/, the user cache folder). */
  modelsDir?: string;
  /** Frame store byte budget (default 512 MiB). */
  frameBudgetBytes?: number;
  /** Token lifetime (default 5 minutes). */
  tokenTtlMs?: number;
  /** TTL sweeper period (default 5 s). */
  sweepIntervalMs?: number;
  /** Largest image accepted, in pixels (default 64 megapixels). */
  maxImagePixels?: number;
  /** Folders that paths arriving in messages may read and write under (see policy/path-policy.ts); default none. */
  allowedFolders?: readonly string[];
  /** Folders that paths arriving in messages may only read (e.g. shipped sample pictures). */
  readOnlyFolders?: readonly string[];
  /**
   * Model options that name a file (`*_model` parameters of tokens from messages, packed tokens,
   * queued jobs) must lie in the models folder or the allowed folders, unless trusted with
   * `trustModels` (paths typed in a node's dialog). Default false (scripts and `run` trust their
   * own parameters); the config node and the queue worker set it.
   */
  confineModels?: boolean;
  /**
   * Hosts URLs from messages may reach although they are loopback, private, link-local or
   * multicast (cameras on your LAN): names (`cam.lan`, `*.lan`), addresses or CIDR ranges, each
   * optionally with `:port`. Everything else of that kind is refused (E_HOST_DENIED).
   */
  allowedHosts?: readonly string[];
  /** How the allowed hosts are named in refusals (default "the config node's Allowed hosts"). */
  allowedHostsSetting?: string;
  /** How the allowed folders are named in refusals (default "the config node's Allowed folders"; the CLI worker: --allowed-folder). */
  allowedFoldersSetting?: string;
  /**
   * Longest a new frame (a decoded image, a stage's output) waits for room in the frame store
   * before it is refused with E_STORE_FULL (default 10 s). Nothing is allocated before the room is.
   */
  storeWaitMs?: number;
  /**
   * A failed token that a Catch branch or a failure output takes (`holdFailed`) keeps its frames
   * at most this long (default 30 s, never past its own expiry).
   */
  failedHoldMs?: number;
  /**
   * Room in the frame store for failed tokens held that way (default an eighth of the budget):
   * a failed token larger than it is released at once, and the oldest held ones are released
   * to make room for a new one. A burst of failing messages cannot fill the store.
   */
  failedRoomBytes?: number;
  /** Accept SVG images (default false: refused, their render cost has no bound). */
  allowSvg?: boolean;
  /** Largest SVG render in pixels when SVG is allowed (default 4 megapixels). */
  svgMaxPixels?: number;
  /**
   * Most face area one pixel stage (blur, enhance, swap) may work on, as a multiple of the
   * frame's area (default 2); more is refused with E_BAD_PARAMETER before any work.
   */
  maxFaceAreaRatio?: number;
  /** Worker threads for pixel stages run with `offMainThread` (stage nodes); default 1, 0 = main thread. */
  pixelWorkers?: number;
  /**
   * Detection of video and live frames on a thread of its own, with a second session of the
   * detector model (1, the default), or on the main thread (0). See BENCHMARKS.md §15 for what it
   * gains; pictures are always detected on the main thread's session.
   */
  detectorThreads?: number;
  /**
   * Drop optional work under pressure in flows (the config node's "When overloaded: downgrade"):
   * stage nodes and face-video-out consult `runtime.downgrade`. Default off.
   */
  downgrade?: boolean | DowngradeOptions;
  logger?: Logger;
}

export type ImageInput = Buffer | Uint8Array | Frame | string;

export interface RuntimeProcessOptions extends ProcessOptions {
  /**
   * Run a pixel-only stage (blur, embedded enhance/swap, debug) on a worker thread, so a large
   * message cannot block the event loop (used by the stage nodes; needs `force`).
   */
  offMainThread?: boolean;
}

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

/** Packet ids a runtime remembers for its replay window at most (the oldest are forgotten first). */
const MAX_SEEN_PACKETS = 100_000;

/** The embedded model of each role with a default (swap and enhance have embedded algorithms instead). */
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
  /** Privacy state per video/live source: rolling scan, face tracks, look-ahead (see faces/face-stream.ts). */
  readonly streams: FaceStreamRegistry;
  /** Face-likeness verdicts per video/live source (swap and enhance reuse them across frames). */
  readonly likeness: LikenessMemory;
  readonly tokenTtlMs: number;
  /** Confines paths and URLs taken from messages (node adapters call it; dialog and CLI paths are trusted). */
  readonly paths: PathPolicy;
  /** Which hosts URLs from messages may reach. */
  readonly hosts: HostPolicy;
  /** The local proxy HTTP(S) inputs from messages go through (each request checked against `hosts`). */
  readonly network: HttpGuard;
  /** The flow's downgrade policy (option `downgrade`); undefined when the runtime keeps all work. */
  readonly downgrade?: DowngradePolicy;
  private readonly maxImagePixels: number;
  private readonly decodeOptions: DecodeOptions;
  private readonly storeWaitMs: number;
  private readonly pixelWorkerCount: number;
  private workers?: PixelWorkerPool;
  /**
   * Image decodes run one at a time: a decoder may hold a second full-size copy while it works,
   * and sharp's decodes share libuv's small thread pool with file I/O.
   */
  private decodeLane: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  /** Every session handle an engine holds, released on close. */
  private readonly handles = new Set<SessionHandle>();
  /** `role|model option` → the engine built for it (shared by every token naming that model). */
  private readonly engines = new Map<string, Promise<unknown>>();
  private readonly context: ProcessorContext;
  /** What the frame loops use of this runtime (its context, the main thread's processors). */
  private readonly loopHost: FrameLoopHost;
  private readonly nodeLoopHost: FrameLoopHost;
  private readonly confineModels: boolean;
  private readonly failedHoldMs: number;
  private readonly failedRoomBytes: number;
  /** Packets unpacked with `refuseReplays`: id → until when a copy is refused (oldest first). */
  private readonly seenPackets = new Map<string, number>();
  /** Failed tokens held for a Catch branch / failure output: request_id → their frames, oldest first. */
  private readonly failedHeld = new Map<string, FrameRef[]>();
  /** Model files named by trusted callers (dialogs, a trusted swapper's own folder): loaded without confinement. */
  private readonly trustedModelFiles = new Set<string>();
  private closed = false;
  /** Detector threads started for video frames (closed with the runtime). */
  private readonly detectorThreads = new Set<DetectorThread>();
  private readonly sessionOptions: { device: DeviceRequest; threads: number };

  constructor(options: RuntimeOptions = {}) {
    this.log = options.logger ?? (() => undefined);
    this.tokenTtlMs = options.tokenTtlMs ?? 300_000;
    this.maxImagePixels = options.maxImagePixels ?? 64_000_000;

    this.decodeOptions = {
      maxPixels: this.maxImagePixels,
      allowSvg: options.allowSvg === true,
      ...(options.svgMaxPixels !== undefined ? { svgMaxPixels: options.svgMaxPixels } : {}),
    };
    this.storeWaitMs = Math.max(0, options.storeWaitMs ?? 10_000);
    this.confineModels = options.confineModels === true;
    this.failedHoldMs = Math.max(0, options.failedHoldMs ?? 30_000);
    this.failedRoomBytes = Math.max(0, options.failedRoomBytes ?? Math.floor((options.frameBudgetBytes ?? 512 * 1024 * 1024) / 8));
    this.pixelWorkerCount = Math.max(0, Math.floor(options.pixelWorkers ?? 1));
    this.streams = new FaceStreamRegistry(this.tokenTtlMs);
    this.likeness = new LikenessMemory(this.tokenTtlMs);
    this.store = new FrameStore({
      budgetBytes: options.frameBudgetBytes ?? 512 * 1024 * 1024,
      defaultTtlMs: this.tokenTtlMs,
      sweepIntervalMs: options.sweepIntervalMs ?? 5000,
    });
    this.sessionOptions = { device: options.device ?? 'auto', threads: options.threads ?? 0 };
    this.pool = new SessionPool({ ...this.sessionOptions, spinWait: options.spinWait ?? false, logger: this.log });
    const detectorThreads = Math.max(0, Math.floor(options.detectorThreads ?? 1));
    this.models = new ModelCache({ dir: options.modelsDir || undefined });
    this.hosts = new HostPolicy({ allowed: options.allowedHosts ?? [], settingName: options.allowedHostsSetting ?? "the config node's Allowed hosts (allowedHosts)" });
    this.network = new HttpGuard(this.hosts);
    this.paths = new PathPolicy({
      hosts: this.hosts,
      folders: options.allowedFolders ?? [],
      readOnlyFolders: options.readOnlyFolders ?? [],
      settingName: options.allowedFoldersSetting ?? "the config node's Allowed folders (allowedFolders)",
      modelsDir: this.models.dir,
    });
    if (options.downgrade) this.downgrade = new DowngradePolicy(options.downgrade === true ? {} : options.downgrade, this.store);
    this.context = {
      store: this.store,
      identities: new IdentityCache(),
      detector: (model) => this.engine<FaceDetector>('detector', model, (m) => this.withSession(m, (h) => openDetector(m.contract, h, m.id))),
      ...(detectorThreads > 0 ? { videoDetector: (model?: string) => this.engine<FaceDetector>('detector', model, (m) => this.openDetectorThread(m, model), 'thread') } : {}),
      landmarker: (model) => this.engine<LandmarkerEngine>('landmarker', model, (m) => this.withSession(m, (h) => openLandmarker(m.contract, h, m.id))),
      embedder: (model) => this.engine<RecognizerEngine>('embedder', model, (m) => this.withSession(m, (h) => openRecognizer(m.contract, h, m.id))),
      swapper: (model) => this.engine<SwapperWithRecognizer>('swapper', model, (m) => this.openSwapper(m)),
      enhancer: (model) => this.engine<EnhancerEngine>('enhancer', model, (m) => this.withSession(m, (h) => openEnhancer(m.contract, h, m.id))),
      masker: (kind, model, regions) =>
        this.engine<FaceMasker>(
          'masker',
          isDefaultModelRef(model) ? (kind === 'occlusion' ? 'xseg_1' : 'bisenet_resnet_34') : model,
          (m) => this.withSession(m, (h) => openMasker(m.contract === 'bisenet' ? 'bisenet' : 'xseg', h, m.id, kind === 'region' ? regions : undefined)),
          kind === 'region' ? (regions ?? []).join(',') : '',
        ),
      streams: this.streams,
      plans: new ScanPlanCache(),
      likeness: this.likeness,
      now: () => Date.now(),
      storeWaitMs: this.storeWaitMs,
      maxFaceAreaRatio: options.maxFaceAreaRatio ?? DEFAULT_FACE_AREA_RATIO,
      // This runtime's work buffers (the embedded swap borrows them per face; freed on close).
      scratch: new Scratch(),
    };
    // A frame loop's main-thread stage goes through process() (a job's frames, as any caller's);
    // inside process() itself (a stage node's frame) straight to the processor.
    this.loopHost = { context: this.context, runHere: (stage, token) => this.process(stage, token, { force: true }) };
    this.nodeLoopHost = {
      context: this.context,
      runHere: (stage, token) => {
        this.assertOpen();
        return PROCESSORS[stage](token, this.context, { force: true });
      },
    };
  }

  /**
   * Forgets the privacy stream of a source (a job id, a video-in source id): its tracks and
   * rolling scan end. Called when the source ends or closes; an idle source's stream goes after
   * the token TTL. Its face-likeness verdicts go too.
   */
  releaseStream(key: string): boolean {
    const verdicts = this.likeness.release(key);
    return this.streams.release(key) || verdicts;
  }

  /**
   * The frame loop of a video source (`key`: a job's id, a face-video-in source's id): admits
   * its frames (a live source's scan cadence), runs their stages on the main thread or a pixel
   * worker and keeps the source's privacy stream told. See jobs/frame-loop.ts and
   * docs/ARCHITECTURE.md, *A video frame's route*.
   */
  frameLoop(key: string, options?: FrameLoopOptions): FrameLoop {
    return new FrameLoop(this.loopHost, key, options);
  }

  /** The runtime's pixel worker pool (stage nodes' `offMainThread`), started on first use. */
  private pixelPool(): PixelWorkerPool | undefined {
    if (this.pixelWorkerCount === 0 || this.closed) return undefined;
    this.workers ??= new PixelWorkerPool(this.pixelWorkerCount, { storeWaitMs: this.storeWaitMs, maxFaceAreaRatio: this.context.maxFaceAreaRatio });
    return this.workers;
  }

  /**
   * Starts the detector a video's frames use (its thread and session) while the video source
   * is still opening, so that the first frames of a live camera do not wait for the model to
   * load. A model that cannot load fails the first frame as before.
   */
  prepareVideoDetector(model?: string): void {
    void (this.context.videoDetector ?? this.context.detector)(model).catch(() => undefined);
  }

  /** Fetches (if needed) and loads the default models, each warmed up once. */
  async warmup(): Promise<{ provider: 'cpu' | 'cuda' }> {
    const [detector] = await Promise.all([this.context.detector(), this.context.landmarker(), this.context.embedder()]);
    return { provider: detector.provider as 'cpu' | 'cuda' };
  }

  /**
   * Loads the models `stages` will use with these parameters (a job's or a node's), so a
   * missing or wrong model fails at once with its code instead of on every frame.
   */
  async prepareModels(stages: readonly Stage[], parameters: Parameters = {}): Promise<void> {
    const loads: Promise<unknown>[] = [];
    const uses = (...wanted: Stage[]): boolean => wanted.some((s) => stages.includes(s));
    if (uses('detect', 'swap')) loads.push(this.context.detector(parameters.face_detector_model));
    if (uses('landmark', 'swap', 'enhance')) loads.push(this.context.landmarker(parameters.face_landmarker_model));
    if (uses('embed')) loads.push(this.context.embedder(parameters.face_recognizer_model));
    if (uses('swap') && !isDefaultModelRef(parameters.face_swapper_model)) {
      loads.push(this.context.swapper(parameters.face_swapper_model as string));
      // A model swap applies FaceFusion's occlusion / region masks (the embedded swap has none).
      const masks = parameters.face_mask_types ?? [];
      if (masks.includes('occlusion')) loads.push(this.context.masker('occlusion', parameters.face_occluder_model));
      if (masks.includes('region')) loads.push(this.context.masker('region', parameters.face_parser_model, parameters.face_mask_regions));
    }
    if (uses('enhance') && !isDefaultModelRef(parameters.face_enhancer_model)) loads.push(this.context.enhancer(parameters.face_enhancer_model as string));
    await Promise.all(loads);
  }

  /**
   * Trusts the model files these parameters name (a node's dialog, a trusted job): with
   * `confineModels` they load even outside the models folder and the allowed folders.
   */
  trustModels(parameters: Parameters): void {
    for (const [key, value] of Object.entries(parameters)) {
      if (key.endsWith('_model') && typeof value === 'string' && looksLikeModelPath(value)) this.trustedModelFiles.add(resolve(value));
    }
  }

  /** The execution provider the sessions really got, once one is loaded. */
  provider(): 'cpu' | 'cuda' | undefined {
    const entry = this.pool.stats().entries[0];
    return entry?.provider;
  }

  /**
   * A new request: its images are decoded into the frame store (room reserved from the header's
   * size first, waiting at most `storeWaitMs`, so a burst of large images cannot push the store
   * over its budget) and the token owning them is returned.
   */
  async createToken(input: TokenInput): Promise<FaceToken> {
    this.assertOpen();
    const now = Date.now();
    const ttlMs = input.ttlMs ?? this.tokenTtlMs;
    const expiresAt = now + ttlMs;
    const request_id = crypto.randomUUID();
    const stored: FrameRef[] = [];
    try {
      const target = await this.storeImage(input.target, 'target', { expiresAt, owner: request_id });
      stored.push(target.ref);
      const source = input.source === undefined ? undefined : await this.storeImage(input.source, 'source', { expiresAt, owner: request_id });
      if (source) stored.push(source.ref);
      const token = createToken({
        request_id,
        now,
        ttlMs,
        target: { frame: target.ref, width: target.width, height: target.height, ...(input.index !== undefined ? { index: input.index } : {}), ...(input.pts !== undefined ? { pts: input.pts } : {}) },
        ...(source ? { source: { frame: source.ref } } : {}),
        operations: input.operations ?? ['detect', 'landmark', 'embed', 'swap'],
        parameters: input.parameters ?? {},
        ...(input.job_id ? { job_id: input.job_id } : {}),
      });
      return this.validator.assert(token);
    } catch (error) {
      this.store.releaseMany(stored);
      throw error;
    }
  }

  /**
   * A token arriving from outside the trusted chain (a message): schema and expiry are checked,
   * each frame it names must belong to its own request (otherwise E_FRAME_MISSING, the same
   * answer whether the frame exists or not), and its expires_at is cut to the runtime's TTL.
   */
  acceptToken(value: unknown): FaceToken {
    const token = this.validator.assert(value);
    const now = Date.now();
    if (isExpired(token, now)) throw faceError('E_TOKEN_EXPIRED', `token ${token.request_id} expired at ${token.expires_at}`);
    for (const ref of tokenFrameRefs(token)) {
      if (!this.store.ownedBy(ref, token.request_id)) {
        throw faceError(
          'E_FRAME_MISSING',
          `token ${token.request_id} refers to ${ref}, which is not a frame of this request in this runtime's frame store (released, expired, or from another request or process)`,
        );
      }
    }
    const ceiling = now + this.tokenTtlMs;
    if (Date.parse(token.expires_at) > ceiling) return { ...token, expires_at: new Date(ceiling).toISOString() };
    return token;
  }

  async process(stage: Stage, token: FaceToken, options?: RuntimeProcessOptions): Promise<FaceToken> {
    this.assertOpen();
    const processor = PROCESSORS[stage];
    if (!processor) throw faceError('E_BAD_PARAMETER', `unknown stage "${stage}" (known: ${STAGES.join(', ')})`);
    // A stage node's frame: the source's frame loop picks the thread (a pixel worker when one takes
    // the stage) and keeps its privacy stream told.
    if (options?.offMainThread && options.force && this.pixelWorkerCount > 0)
      return new FrameLoop(this.nodeLoopHost, token.job_id ?? token.request_id, { workers: () => this.pixelPool() }).step(stage, token);
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

  /**
   * The token's picture, encoded. A picture a swap or enhance changed carries provenance marks
   * (IPTC Digital Source Type in XMP) unless `provenance` is false.
   */
  encode(token: FaceToken, options: { format?: 'jpeg' | 'png' | 'webp'; quality?: number; provenance?: boolean } = {}): Promise<Buffer> {
    const marks = options.provenance === false ? undefined : provenanceOf(token);
    return encodeImage(this.store.get(token.target.frame), { format: options.format, quality: options.quality, ...(marks ? { xmp: xmpPacket(marks) } : {}) });
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

  /**
   * A failed token goes to a Catch branch or a failure output, which may still read its frames:
   * they stay at most `failedHoldMs` (the sweeper frees them then, unless released sooner),
   * within `failedRoomBytes` for all such tokens. A token larger than that room is released at
   * once; otherwise the oldest held failed tokens are released until it fits. Returns whether
   * the frames were kept. A failure that nobody takes should call `release` instead.
   */
  holdFailed(token: FaceToken): boolean {
    const refs = [...new Set([...this.store.refsOf(token.request_id), ...tokenFrameRefs(token)])].filter((ref) => this.store.has(ref));
    const bytes = refs.reduce((n, ref) => n + this.store.bytesOf(ref), 0);
    if (bytes > this.failedRoomBytes) {
      this.release(token);
      return false;
    }
    // What earlier failed tokens still hold (some were released downstream or swept meanwhile).
    let held = 0;
    for (const [id, kept] of this.failedHeld) {
      const live = kept.filter((ref) => this.store.has(ref));
      if (live.length === 0) this.failedHeld.delete(id);
      else {
        this.failedHeld.set(id, live);
        held += live.reduce((n, ref) => n + this.store.bytesOf(ref), 0);
      }
    }
    for (const [id, kept] of this.failedHeld) {
      if (held + bytes <= this.failedRoomBytes) break;
      held -= kept.reduce((n, ref) => n + this.store.bytesOf(ref), 0);
      this.store.releaseMany(kept);
      this.store.releaseOwner(id);
      this.failedHeld.delete(id);
    }
    const until = Date.now() + this.failedHoldMs;
    for (const ref of refs) this.store.expireBy(ref, until);
    this.failedHeld.delete(token.request_id);
    this.failedHeld.set(token.request_id, refs);
    return true;
  }

  /**
   * The token and its frames as one Buffer for another process (see token/pack.ts): frames
   * encoded losslessly (png) or as jpeg, sealed with AES-256-GCM unless `sealed: false`. The
   * token's journal gets a `pack` entry; its frames stay here until released.
   */
  async pack(token: FaceToken, options: PackOptions = {}): Promise<Buffer> {
    this.assertOpen();
    const started = performance.now();
    const format = options.format ?? 'png';
    if (format !== 'png' && format !== 'jpeg') throw faceError('E_BAD_PARAMETER', `packed frames are png or jpeg, not "${String(format)}"`);
    const frames = await Promise.all(
      packedRoles(token).map(async ({ role, ref }) => {
        const frame = this.store.get(ref);
        const data = await encodeImage(frame, { format, quality: options.quality });
        const info: PackedFrameInfo = { role, format, width: frame.width, height: frame.height, bytes: data.length };
        return { info, data };
      }),
    );
    const packed = advance(token, {}, { stage: 'pack', ms: performance.now() - started, outcome: 'ok', note: `${format}${options.sealed === false ? ', unsealed' : ', sealed'}` });
    return buildPacket(packed, frames, options);
  }

  /**
   * A packet from `pack()` (here or in another process) back into a token whose frames are in
   * this runtime's store, owned by its request. Refused with E_TOKEN_INVALID when tampered,
   * truncated, sealed with another key, unsealed (unless allowed) or over the limits (checked
   * before decoding); E_TOKEN_EXPIRED when expired. This runtime's TTL caps the token's.
   */
  async unpack(packet: unknown, options: UnpackOptions = {}): Promise<FaceToken> {
    this.assertOpen();
    const started = performance.now();
    const maxPixels = Math.min(options.maxPixels ?? DEFAULT_PACK_MAX_PIXELS, this.maxImagePixels);
    const opened = openPacket(packet, { ...options, maxPixels, maxBytes: options.maxBytes ?? packetLimit(maxPixels) });
    const token = this.validator.assert(opened.token);
    const now = Date.now();
    if (isExpired(token, now)) throw faceError('E_TOKEN_EXPIRED', `packed token ${token.request_id} expired at ${token.expires_at}`);
    const expiresAt = Math.min(Date.parse(token.expires_at), now + this.tokenTtlMs);
    if (options.refuseReplays) this.notSeen(opened.id, expiresAt);
    // A request of this runtime: the packet's own id names it in the journal, but releasing one
    // unpacked copy (of a replayed or duplicated packet) never frees another's frames.
    const request_id = crypto.randomUUID();
    // Each frame as any picture arriving here: its own header must say what the packet header
    // says (checked before decoding), room reserved from it, decoded one at a time.
    const refs: Partial<Record<'target' | 'source', FrameRef>> = {};
    try {
      for (const { info, data } of opened.frames) {
        let stored: { ref: FrameRef; width: number; height: number };
        try {
          stored = await this.storeImage(data, info.role, { expiresAt, owner: request_id }, { width: info.width, height: info.height, format: info.format });
        } catch (cause) {
          if (!(cause instanceof FaceError) || cause.code !== 'E_BAD_IMAGE') throw cause;
          throw faceError('E_TOKEN_INVALID', `packed token refused: its ${info.role} frame is not a readable ${info.format} image of ${info.width}×${info.height}`, { cause });
        }
        refs[info.role] = stored.ref;
        checkDecodedSize(info, stored);
      }
    } catch (err) {
      this.store.releaseMany(Object.values(refs));
      throw err;
    }
    // A source that was the target frame itself was packed once, as the target.
    const sourceRef = refs.source ?? (token.source?.frame === token.target.frame ? refs.target : undefined);
    const patch = {
      target: { ...token.target, frame: refs.target as FrameRef },
      ...(token.source ? { source: sourceRef ? { ...token.source, frame: sourceRef } : omitFrame(token.source) } : {}),
      expires_at: new Date(expiresAt).toISOString(),
    };
    return advance(rebindToken(token, request_id), patch, {
      stage: 'unpack',
      ms: performance.now() - started,
      outcome: 'ok',
      note: `${opened.frames.length} frame(s)${opened.header.sealed ? ', sealed' : ', unsealed'}, packed as request ${token.request_id}`,
    });
  }

  /** Replay window: a packet id seen before (within its token's lifetime) is refused. */
  private notSeen(id: string, expiresAt: number): void {
    const now = Date.now();
    for (const [seen, until] of this.seenPackets) {
      if (until > now && this.seenPackets.size <= MAX_SEEN_PACKETS) break;
      this.seenPackets.delete(seen);
    }
    const until = this.seenPackets.get(id);
    if (until !== undefined && until > now)
      throw faceError('E_TOKEN_INVALID', 'packed token refused: this very packet was unpacked here before (a replay); the replay window refuses it until its token expires');
    this.seenPackets.set(id, expiresAt);
  }

  stats(): { store: FrameStoreStats; sessions: ReturnType<SessionPool['stats']> } {
    return { store: this.store.stats(), sessions: this.pool.stats() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.engines.values());
    const handles = await Promise.allSettled(this.handles);
    this.handles.clear();
    this.engines.clear();
    this.context.identities.clear();
    await this.workers?.close();
    this.workers = undefined;
    await Promise.allSettled([...this.detectorThreads].map((t) => t.close()));
    this.detectorThreads.clear();
    this.streams.clear();
    this.likeness.clear();
    this.context.scratch?.clear();
    for (const h of handles) if (h.status === 'fulfilled') await h.value.release();
    await this.pool.close();
    await this.network.close();
    this.store.close();
  }

  /** The model entries of the manifest, for dialogs and CLIs. */
  manifest(): ManifestEntry[] {
    return loadManifest().models;
  }

  /**
   * The engine for a model option, built once and shared. A failed build (offline, wrong file)
   * is forgotten so a later token can try again, and releases whatever sessions it opened.
   */
  private engine<T>(role: ModelRole, model: string | undefined, open: (resolved: ResolvedModel) => Promise<T>, variant = ''): Promise<T> {
    this.assertOpen();
    const ref = isDefaultModelRef(model) ? DEFAULT_MODELS[role as keyof typeof DEFAULT_MODELS] : (model as string);
    if (!ref) throw faceError('E_BAD_PARAMETER', `the ${role} needs a model`);
    const key = `${role}|${ref}|${variant}`;
    let engine = this.engines.get(key) as Promise<T> | undefined;
    if (!engine) {
      engine = this.confinedModel(ref, role)
        .then((checked) => resolveModel(this.models, checked, role))
        .then(open);
      this.engines.set(key, engine);
      engine.catch(() => this.engines.delete(key));
    }
    return engine;
  }

  /** With `confineModels`, a model file must be trusted or lie in the models folder or the allowed folders (E_PATH_DENIED). */
  private async confinedModel(ref: string, role: ModelRole): Promise<string> {
    if (!this.confineModels || !looksLikeModelPath(ref) || this.trustedModelFiles.has(resolve(ref))) return ref;
    return this.paths.model(ref, `the ${role} model`);
  }

  /**
   * Builds an engine on a pool handle for `model`. The handle is closed with the runtime, or
   * at once when the adapter refuses the file (E_MODEL_CONTRACT must not leak a session).
   */
  private async withSession<T>(model: ResolvedModel, make: (handle: SessionHandle) => T | Promise<T>): Promise<T> {
    const handle = await this.pool.acquire(model.path, { contract: contractById(model.contract), label: model.id });
    try {
      const engine = await make(handle);
      this.handles.add(handle);
      this.log('info', `${model.role} ${model.id} loaded on ${handle.provider}`);
      return engine;
    } catch (err) {
      await handle.release().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The detector of `model` on a thread of its own (its own session of the same file), beside
   * the main thread's engine, which checks the model first and stands in if the thread dies.
   */
  private async openDetectorThread(model: ResolvedModel, ref: string | undefined): Promise<FaceDetector> {
    const local = await this.context.detector(ref);
    const thread = new DetectorThread(local, { path: model.path, contract: model.contract, modelId: model.id, device: this.sessionOptions.device, threads: this.sessionOptions.threads });
    this.detectorThreads.add(thread);
    this.log('info', `detector ${model.id} also loaded on a detection thread (video frames)`);
    return thread;
  }

  /**
   * A model swapper and what it depends on: the recognizer whose embeddings it takes and, for
   * some, an embedding converter. Both are looked for next to the swapper file first (FaceFusion
   * keeps its models in one folder), then in the model cache.
   */
  private async openSwapper(model: ResolvedModel): Promise<SwapperWithRecognizer> {
    const beside = (id: string): string => {
      const entry = this.models.entries().find((m) => m.id === id);
      const sibling = entry ? join(dirname(model.path), entry.file) : undefined;
      if (!sibling || !existsSync(sibling)) return id;
      // The swapper's own folder was checked (or trusted) with the swapper: so is its recognizer.
      this.trustedModelFiles.add(resolve(sibling));
      return sibling;
    };
    // Dependencies first: a missing recognizer must not leave the swapper's session open.
    const recognizer = model.entry.recognizer ? await this.context.embedder(beside(model.entry.recognizer)) : undefined;
    const converterModel = model.entry.converter ? await resolveModel(this.models, beside(model.entry.converter), 'converter') : undefined;
    const swapper = await this.withSession(model, (h) =>
      converterModel ? this.withSession(converterModel, (c) => openSwapperEngine(model.contract, h, model.id, { converter: c })) : openSwapperEngine(model.contract, h, model.id),
    );
    if (swapper.sourceKind === 'embedding' && !recognizer) {
      throw faceError('E_MODEL_CONTRACT', `${model.id} takes an identity embedding, but its manifest entry names no recognizer model`);
    }
    return { swapper, ...(recognizer ? { recognizer } : {}) };
  }

  /**
   * Stores one input image: room for its pixels first (bounded wait), then the decode. With
   * `expect` (a packed frame), the picture's own header must give that size and format, checked
   * before any room is reserved or a pixel decoded.
   */
  private async storeImage(input: ImageInput, what: string, put: PutOptions, expect?: { width: number; height: number; format: string }): Promise<{ ref: FrameRef; width: number; height: number }> {
    if (isFrame(input)) {
      const room = await this.store.reserve(input.width * input.height * 3, { timeoutMs: this.storeWaitMs });
      try {
        return { ref: room.put(input, put), width: input.width, height: input.height };
      } finally {
        room.cancel();
      }
    }
    if (typeof input !== 'string' && !(input instanceof Uint8Array)) throw faceError('E_BAD_IMAGE', `${what} must be an image Buffer, a file path or a frame`);
    const path = typeof input === 'string' ? input : undefined;
    const bytes = path === undefined ? (input as Uint8Array) : await readImageBytes(path);
    const named = <T>(step: () => Promise<T>): Promise<T> => (path === undefined ? step() : withPath(path, step));
    const header = await named(() => probeImage(bytes, this.decodeOptions));
    if (expect && (header.width !== expect.width || header.height !== expect.height || header.format !== expect.format)) {
      throw faceError(
        'E_TOKEN_INVALID',
        `packed token refused: its ${what} frame is a ${header.width}×${header.height} ${header.format}, the header says ${expect.width}×${expect.height} ${expect.format}`,
      );
    }
    const room = await this.store.reserve(header.width * header.height * 3, { timeoutMs: this.storeWaitMs });
    try {
      const frame = await this.oneAtATime(() => named(() => decodeImage(bytes, this.decodeOptions)));
      this.assertOpen();
      return { ref: room.put(frame, put), width: frame.width, height: frame.height };
    } finally {
      room.cancel();
    }
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.decodeLane.then(work);
    this.decodeLane = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new FaceError('E_CLOSED', 'the face runtime is closed (flow stopped or redeployed)');
  }
}

/** The source without a frame ref (a packet whose source was the target frame itself, or had none). */
function omitFrame(source: NonNullable<FaceToken['source']>): NonNullable<FaceToken['source']> {
  const { frame: _frame, ...rest } = source;
  return rest;
}

function isFrame(value: unknown): value is Frame {
  const f = value as Frame;
  return typeof f === 'object' && f !== null && !(f instanceof Uint8Array) && f.data instanceof Uint8Array && typeof f.width === 'number' && typeof f.height === 'number';
}

export function createRuntime(options?: RuntimeOptions): Runtime {
  return new Runtime(options);
}
