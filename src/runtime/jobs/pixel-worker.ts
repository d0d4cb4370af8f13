/**
 * Worker-thread entry for PixelWorkerPool: runs pixel-only stages (blur, enhance, debug, the
 * embedded swap) on frames sent by the main thread, with the same processor code the runtime
 * uses, on a private frame store that holds a request's frames only while it runs.
 */
import { IdentityCache } from '../processors/identity-cache';
import { parentPort, workerData } from 'worker_threads';
import { FaceError, toFaceError } from '../errors';
import { blur } from '../processors/blur';
import type { Processor, ProcessorContext } from '../processors/context';
import { debug } from '../processors/debug';
import { enhance } from '../processors/enhance';
import { swap } from '../processors/swap';
import { FrameStore } from '../store/frame-store';
import type { FaceToken, Stage } from '../token/types';
import { fromWire, MAX_CACHED_SOURCES, toWire, type PixelRequest, type PixelResponse, type WireFrame } from './pixel-protocol';
import type { Pixels } from '../vision/yuv';
import { Scratch } from '../vision/scratch';

const PIXEL_PROCESSORS: Readonly<Partial<Record<Stage, Processor>>> = Object.freeze({ blur, enhance, debug, swap });

class PixelWorkerHost {
  // Frames live here only for the duration of one request; the budget only guards against a bug.
  private readonly store = new FrameStore({ budgetBytes: 2 ** 31, sweepIntervalMs: 0 });
  private readonly ctx: ProcessorContext;
  /** Source frames by the main store's key, oldest first (see MAX_CACHED_SOURCES). */
  private readonly sources = new Map<string, Pixels>();

  constructor() {
    const unavailable = (): Promise<never> => Promise.reject(new FaceError('E_INTERNAL', 'model sessions are not available in a pixel worker'));
    this.ctx = {
      store: this.store,
      identities: new IdentityCache(),
      detector: unavailable,
      landmarker: unavailable,
      embedder: unavailable,
      swapper: unavailable,
      enhancer: unavailable,
      masker: unavailable,
      now: () => Date.now(),
      // The worker's own store only holds one request's frames: no waiting there.
      storeWaitMs: 0,
      // This worker's own work buffers (requests run one at a time here; see ProcessorContext.scratch).
      scratch: new Scratch(),
      ...(typeof (workerData as { maxFaceAreaRatio?: unknown } | null)?.maxFaceAreaRatio === 'number' ? { maxFaceAreaRatio: (workerData as { maxFaceAreaRatio: number }).maxFaceAreaRatio } : {}),
    };
  }

  /** The request's source frame: sent with it (and kept when keyed), or kept from an earlier request. */
  private sourceOf(req: PixelRequest): Pixels | undefined {
    if (req.source) {
      const pixels = fromWire(req.source);
      if (req.sourceKey !== undefined) {
        this.sources.set(req.sourceKey, pixels);
        if (this.sources.size > MAX_CACHED_SOURCES) this.sources.delete(this.sources.keys().next().value as string);
      }
      return pixels;
    }
    if (req.sourceKey === undefined) return undefined;
    const kept = this.sources.get(req.sourceKey);
    if (!kept) throw new FaceError('E_INTERNAL', `pixel worker: source frame ${req.sourceKey} was not sent`);
    return kept;
  }

  async handle(req: PixelRequest): Promise<{ response: PixelResponse; transfer: ArrayBuffer[] }> {
    const owner = `pixel:${req.id}`;
    try {
      const processor = PIXEL_PROCESSORS[req.stage];
      if (!processor) throw new FaceError('E_INTERNAL', `stage ${req.stage} cannot run in a pixel worker`);
      const target = this.store.put(fromWire(req.target), { owner });
      const sourcePixels = this.sourceOf(req);
      const source = sourcePixels && req.token.source ? this.store.put(sourcePixels, { owner }) : undefined;
      const local: FaceToken = {
        ...req.token,
        target: { ...req.token.target, frame: target },
        ...(req.token.source && source ? { source: { ...req.token.source, frame: source } } : {}),
      };
      const out = await processor(local, this.ctx, { force: true });
      const made = out.target.frame !== target ? this.store.tryPixels(out.target.frame) : undefined;
      if (!made) return { response: { id: req.id, ok: true, token: out }, transfer: [] };
      const data = made.data;
      const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
      const wire: WireFrame = { ...toWire(made), data: owned ? data : new Uint8Array(data) };
      return { response: { id: req.id, ok: true, token: out, frame: wire }, transfer: [wire.data.buffer as ArrayBuffer] };
    } catch (error) {
      const e = toFaceError(error, 'E_INTERNAL');
      return { response: { id: req.id, ok: false, code: e.code, message: e.message }, transfer: [] };
    } finally {
      // Everything this request stored: its inputs (owner) and what the stage derived (request_id).
      this.store.releaseOwner(owner);
      this.store.releaseOwner(req.token.request_id);
    }
  }
}

if (parentPort) {
  const port = parentPort;
  const host = new PixelWorkerHost();
  port.on('message', (req: PixelRequest) => {
    void host.handle(req).then(({ response, transfer }) => port.postMessage(response, transfer));
  });
}
