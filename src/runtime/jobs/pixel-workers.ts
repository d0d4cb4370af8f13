import { faceCheckOn } from '../processors/face-check';
import { selectFaces } from '../faces/select';
import { isDefaultModelRef } from '../models/model-ref';
import { join } from 'path';
import { Worker } from 'worker_threads';
import { FaceError, toFaceError } from '../errors';
import type { Reservation } from '../store/types';
import type { Pixels } from '../vision/yuv';
import type { FrameStore } from '../store/frame-store';
import { deepFreeze, failToken } from '../token';
import type { FaceToken, Stage } from '../token/types';
import { fromWire, MAX_CACHED_SOURCES, PIXEL_WORKER_STAGES, toWire, type PixelRequest, type PixelResponse, type WireFrame } from './pixel-protocol';

interface Pending {
  resolve(response: PixelResponse): void;
  reject(error: FaceError): void;
}

export interface PixelWorkerPoolOptions {
  /** Longest a stage's output frame waits for room in the main store (default 10 s), then E_STORE_FULL. */
  storeWaitMs?: number;
  /** The runtime's bound on face area per stage (see ProcessorContext.maxFaceAreaRatio). */
  maxFaceAreaRatio?: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Source keys this worker holds, oldest first (the worker's own cache, mirrored). */
  sources: string[];
}

/**
 * A few worker threads that run pixel-only stages (blur, enhance, debug, the embedded swap)
 * off the main thread, so a video job's pixel work runs next to its detection and ffmpeg I/O
 * instead of after them. Each request carries copies of its frames; the stage's new frame comes
 * back (transferred, not copied) and is stored in the main frame store like a stage's own
 * output, owned by the token. While a frame is in a worker its copy there is not counted by
 * the main store's budget (at most one target and one source copy per frame in flight).
 *
 * Same processor code as the runtime, so output is byte-identical. close() terminates the
 * threads; requests still running then resolve as failed tokens (E_CLOSED).
 */
export class PixelWorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private readonly options: PixelWorkerPoolOptions;

  constructor(size: number, options: PixelWorkerPoolOptions = {}) {
    this.options = options;
    const n = Math.max(1, Math.floor(size));
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Thread ids of the running workers (for tests and diagnostics). */
  threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  /** Whether `stage` on `token` can run in a worker (it needs no model session for it). */
  accepts(stage: Stage, token: FaceToken): boolean {
    if (this.closed || !PIXEL_WORKER_STAGES.has(stage) || token.state === 'failed' || token.state === 'skipped') return false;
    // Model swaps and enhancers need sessions, which live in the main thread only.
    if (stage === 'swap' && !isDefaultModelRef(token.parameters.face_swapper_model)) return false;
    if (stage === 'enhance' && !isDefaultModelRef(token.parameters.face_enhancer_model)) return false;
    // The face-likeness check needs the models: the faces must come checked (FrameLoop.step, withFaceLikeness).
    if ((stage === 'swap' || stage === 'enhance') && faceCheckOn(token) && selectFaces(token.faces, token.parameters, stage).some((i) => !token.faces[i].likeness)) return false;
    // The swap asks the landmarker for target faces without 68 points, and needs the source's.
    if (stage === 'swap') return token.source?.frame !== undefined && token.source.face?.landmarks68 !== undefined && token.faces.every((f) => f.landmarks68 !== undefined);
    return true;
  }

  /**
   * Runs `stage` on `token` in the least busy worker. Resolves with the stage's token; its new
   * target frame (if the stage made one) is in `store`, owned by the token's request. Never
   * rejects for a frame problem: failures come back as a failed token.
   */
  async run(stage: Stage, token: FaceToken, store: FrameStore): Promise<FaceToken> {
    const started = performance.now();
    const fail = (code: string, message: string): FaceToken => failToken(token, stage, { code, message }, Math.round((performance.now() - started) * 10) / 10);
    if (this.closed) return fail('E_CLOSED', 'the pixel workers are closed');
    const target = store.tryPixels(token.target.frame);
    if (!target) return fail('E_FRAME_MISSING', `frame ${token.target.frame} is not in the frame store`);
    const sourceFrame = token.source?.frame !== undefined ? store.tryPixels(token.source.frame) : undefined;
    // Room for the frame the stage will make, held before the work starts (as in the main thread).
    let room: Reservation;
    try {
      // RGB size even for a YUV frame: a stage without a YUV path gives back an RGB frame (a smaller one returns the difference).
      room = await store.reserve(target.width * target.height * 3, { priority: true, timeoutMs: this.options.storeWaitMs ?? 10_000 });
    } catch (error) {
      const e = toFaceError(error);
      return fail(e.code, e.message);
    }
    try {
      return await this.runWith(stage, token, store, target, sourceFrame, room, fail);
    } finally {
      room.cancel();
    }
  }

  private async runWith(
    stage: Stage,
    token: FaceToken,
    store: FrameStore,
    target: Pixels,
    sourceFrame: Pixels | undefined,
    room: Reservation,
    fail: (code: string, message: string) => FaceToken,
  ): Promise<FaceToken> {
    const id = this.nextId++;
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    // A source the worker already holds goes by its key (a 910×1137 picture is 3 MB to copy per frame).
    const sourceKey = sourceFrame ? token.source?.frame : undefined;
    const sendSource = sourceFrame !== undefined && (sourceKey === undefined || !slot.sources.includes(sourceKey));
    if (sendSource && sourceKey !== undefined) {
      slot.sources.push(sourceKey);
      if (slot.sources.length > MAX_CACHED_SOURCES) slot.sources.shift();
    }
    const req: PixelRequest = {
      id,
      stage,
      token,
      target: toWire(target),
      ...(sendSource ? { source: toWire(sourceFrame) } : {}),
      ...(sourceKey !== undefined ? { sourceKey } : {}),
    };
    let response: PixelResponse;
    try {
      response = await new Promise<PixelResponse>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.ref();
        // Structured clone copies the frames: the main store keeps its own.
        slot.worker.postMessage(req);
      });
    } catch (error) {
      const e = error as FaceError;
      return fail(e.code, e.message);
    }
    if (!response.ok) return fail(response.code, response.message);
    try {
      return this.adopt(response.token, response.frame, token, room);
    } catch (error) {
      const e = toFaceError(error);
      return fail(e.code, e.message);
    }
  }

  /** Terminates the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        this.failAll(slot, new FaceError('E_CLOSED', 'the pixel workers were closed'));
        await slot.worker.terminate();
      }),
    );
  }

  /** Maps the worker's token back onto main-store refs, storing the frame the stage made. */
  private adopt(out: FaceToken, frame: WireFrame | undefined, original: FaceToken, room: Reservation): FaceToken {
    const targetRef = frame ? room.put(fromWire(frame), { owner: original.request_id, expiresAt: Date.parse(original.expires_at) }) : original.target.frame;
    // Tokens are deep-frozen everywhere else; the worker's copy arrived as plain objects.
    return deepFreeze({
      ...out,
      target: { ...out.target, frame: targetRef, ...(frame ? { width: frame.width, height: frame.height } : {}) },
      ...(out.source && original.source ? { source: { ...out.source, frame: original.source.frame } } : {}),
    });
  }

  private spawn(): Slot {
    const worker = new Worker(join(__dirname, 'pixel-worker.js'), { workerData: { maxFaceAreaRatio: this.options.maxFaceAreaRatio } });
    const slot: Slot = { worker, pending: new Map(), sources: [] };
    worker.on('message', (response: PixelResponse) => {
      const p = slot.pending.get(response.id);
      if (!p) return;
      slot.pending.delete(response.id);
      if (slot.pending.size === 0) slot.worker.unref();
      p.resolve(response);
    });
    worker.on('error', (error) => this.failAll(slot, new FaceError('E_INTERNAL', `a pixel worker failed: ${error.message}`)));
    worker.on('exit', (code) => this.failAll(slot, new FaceError(this.closed ? 'E_CLOSED' : 'E_INTERNAL', `a pixel worker exited (code ${code})`)));
    // Idle workers must not keep the process alive (a request refs its worker until answered).
    worker.unref();
    return slot;
  }

  private failAll(slot: Slot, error: FaceError): void {
    for (const p of slot.pending.values()) p.reject(error);
    slot.pending.clear();
  }
}
