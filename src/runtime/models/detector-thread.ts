import { join } from 'path';
import { Worker } from 'worker_threads';
import { FaceError } from '../errors';
import type { Frame } from '../vision/frame';
import type { DetectedFace, DetectOptions, FaceDetector } from './types';
import type { DetectorRequest, DetectorResponse, DetectorWorkerData } from './detector-protocol';

interface Pending {
  resolve(faces: DetectedFace[]): void;
  reject(error: FaceError): void;
}

/** Input buffers kept for reuse (frames in flight × tiles rarely exceed this). */
const SPARE_BUFFERS = 8;
/** How long close() waits for the thread to release its session before terminating it. */
const CLOSE_WAIT_MS = 2000;

/**
 * A detector whose runs happen on a worker thread with a session of its own (a second session of
 * the same model file), so a video job's detection runs beside the main thread's sampling, blur
 * and ffmpeg I/O instead of blocking them: ONNX Runtime's node binding runs a session
 * synchronously on the calling thread. Same FaceDetector interface and same boxes as `local`, the
 * main thread's engine of the same model, which it falls back to if the thread dies.
 * Inputs travel as transferred copies (a 320×240 tile is 230 kB); their buffers come back for reuse.
 */
export class DetectorThread implements FaceDetector {
  readonly modelId: string;
  readonly inputSize?: { readonly width: number; readonly height: number };
  readonly minFaceSize?: number;
  readonly sampleSize?: (width: number, height: number) => { width: number; height: number };
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly spare: ArrayBuffer[] = [];
  private nextId = 1;
  private dead = false;
  private closing?: Promise<void>;

  constructor(
    private readonly local: FaceDetector,
    init: DetectorWorkerData,
  ) {
    this.modelId = local.modelId;
    if (local.inputSize) this.inputSize = local.inputSize;
    if (local.minFaceSize !== undefined) this.minFaceSize = local.minFaceSize;
    if (local.sampleSize) this.sampleSize = (w, h) => local.sampleSize!(w, h);
    this.worker = new Worker(join(__dirname, 'detector-worker.js'), { workerData: init });
    this.worker.on('message', (res: DetectorResponse | { closed: true }) => {
      if ('closed' in res) return;
      const p = this.pending.get(res.id);
      this.pending.delete(res.id);
      if (this.pending.size === 0) this.worker.unref();
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(res.data);
      if (!p) return;
      if (res.ok) p.resolve(res.faces);
      else p.reject(new FaceError(res.code as FaceError['code'], res.message));
    });
    const lost = (why: string): void => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(new FaceError('E_SESSION', `the detector thread stopped (${why})`));
      this.pending.clear();
    };
    this.worker.on('error', (error) => lost(error.message));
    this.worker.on('exit', (code) => lost(`exit code ${code}`));
    // An idle thread must not keep the process alive (a request refs it until answered).
    this.worker.unref();
  }

  get provider(): string {
    return this.local.provider;
  }

  /** Thread id (tests and diagnostics). */
  get threadId(): number {
    return this.worker.threadId;
  }

  async detect(frame: Frame, options: DetectOptions): Promise<DetectedFace[]> {
    if (this.dead || this.closing) return this.local.detect(frame, options);
    const bytes = frame.data.length;
    const at = this.spare.findIndex((b) => b.byteLength === bytes);
    const buffer = at >= 0 ? this.spare.splice(at, 1)[0] : new ArrayBuffer(bytes);
    new Uint8Array(buffer).set(frame.data);
    const req: DetectorRequest = {
      id: this.nextId++,
      width: frame.width,
      height: frame.height,
      data: buffer,
      options: { scoreThreshold: options.scoreThreshold, maxFaces: options.maxFaces, ...(options.nmsIou !== undefined ? { nmsIou: options.nmsIou } : {}) },
    };
    return new Promise<DetectedFace[]>((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(req, [buffer]);
    });
  }

  /** Releases the thread's session and ends the thread. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.dead) {
        const released = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, CLOSE_WAIT_MS);
          this.worker.on('message', (m: { closed?: boolean }) => {
            if (m.closed) {
              clearTimeout(timer);
              resolve();
            }
          });
          this.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        this.worker.postMessage({ close: true });
        await released;
      }
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
