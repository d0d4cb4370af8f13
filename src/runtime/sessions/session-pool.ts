import { existsSync, readdirSync, statSync } from 'fs';
import { dirname, join, resolve } from 'path';
import * as ort from 'onnxruntime-node';
import { FaceError } from '../errors';
import type { IoContract, TensorSpec } from '../models/types';
import { checkContract, metaFromSession, type ModelIo } from '../models/contract-check';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cuda' | 'cpu';

export interface SessionPoolOptions {
  device?: DeviceRequest;
  /** ORT intra-op threads; 0 = ORT's default. */
  threads?: number;
  /**
   * Let ORT's idle worker threads busy-wait for the next parallel section (ORT's own default).
   * Default false: in a flow the sessions share the cores with ffmpeg, libvips and the event
   * loop, and spinning took ≈ 20 ms of CPU per 720p video frame from them (BENCHMARKS.md §4).
   */
  spinWait?: boolean;
  logger?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Injected for tests; defaults to ort.InferenceSession.create. */
  createSession?: (path: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
  /** Injected for tests; defaults to looking for ORT's CUDA provider library next to its binding. */
  hasCudaProvider?: () => boolean;
}

export interface AcquireOptions {
  contract?: IoContract;
  label?: string;
  /** Run once with zero inputs after loading (default true), so the first real frame is warm. */
  warmup?: boolean;
}

/** A user's handle on a shared session. `release()` once per handle; the last one closes the session. */
export interface SessionHandle {
  readonly key: string;
  readonly modelPath: string;
  readonly label: string;
  readonly provider: Provider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: TensorSpec[];
  readonly outputMetadata: TensorSpec[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

interface Loaded {
  session: ort.InferenceSession;
  provider: Provider;
  io: ModelIo;
}

interface Entry {
  key: string;
  label: string;
  modelPath: string;
  ready: Promise<Loaded>;
  users: number;
  runs: number;
  warmups: number;
  provider?: Provider;
  createdAt: number;
}

export interface SessionPoolStats {
  /** Sessions loaded and open (entries still loading are listed but not counted). */
  sessions: number;
  entries: Array<{ key: string; label: string; provider?: Provider; users: number; runs: number; warmups: number; createdAt: number }>;
}

/**
 * One ONNX Runtime session per (model file, device request, threads, spin-wait), created on first use,
 * shared by every user, warmed up once and closed when its last user releases it.
 */
export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly device: DeviceRequest;
  private readonly threads: number;
  private readonly spinWait: boolean;
  private readonly log: NonNullable<SessionPoolOptions['logger']>;
  private readonly create: NonNullable<SessionPoolOptions['createSession']>;
  private readonly hasCudaProvider: () => boolean;
  private closed = false;

  constructor(options: SessionPoolOptions = {}) {
    this.device = options.device ?? 'auto';
    if (!['auto', 'cpu', 'cuda'].includes(this.device)) throw new FaceError('E_BAD_PARAMETER', `device must be auto, cpu or cuda, not ${JSON.stringify(this.device)}`);
    this.threads = options.threads ?? 0;
    if (!Number.isInteger(this.threads) || this.threads < 0) throw new FaceError('E_BAD_PARAMETER', `threads must be a whole number ≥ 0 (0 = ONNX Runtime's default), not ${this.threads}`);
    this.spinWait = options.spinWait ?? false;
    this.log = options.logger ?? (() => undefined);
    this.create = options.createSession ?? ((path, opts) => ort.InferenceSession.create(path, opts));
    this.hasCudaProvider = options.hasCudaProvider ?? cudaProviderInstalled;
  }

  async acquire(modelPath: string, options: AcquireOptions = {}): Promise<SessionHandle> {
    if (this.closed) throw new FaceError('E_CLOSED', 'the session pool is closed');
    const path = resolve(modelPath);
    // The runtime's thread count, or the model's own when the runtime leaves it to ONNX Runtime (0).
    const threads = this.threads > 0 ? this.threads : (options.contract?.intraOpThreads ?? 0);
    const key = `${path}|${this.device}|${threads}|${this.spinWait ? 'spin' : 'sleep'}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const label = options.label ?? path;
      const created: Entry = { key, label, modelPath: path, users: 0, runs: 0, warmups: 0, createdAt: Date.now(), ready: undefined as unknown as Promise<Loaded> };
      created.ready = this.load(path, label, options, created, threads);
      entry = created;
      this.entries.set(key, entry);
      // A failed load leaves no entry behind, so a later acquire can try again.
      entry.ready.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    entry.users++;
    let loaded: Loaded;
    try {
      loaded = await entry.ready;
    } catch (err) {
      entry.users--;
      throw err;
    }
    // close() ran while this session was loading: it has released (or will release) it.
    if (this.closed) throw new FaceError('E_CLOSED', 'the session pool was closed while the model was loading');
    return this.handle(entry, loaded);
  }

  stats(): SessionPoolStats {
    const entries = [...this.entries.values()].map((e) => ({ key: e.key, label: e.label, provider: e.provider, users: e.users, runs: e.runs, warmups: e.warmups, createdAt: e.createdAt }));
    return { sessions: entries.filter((e) => e.provider !== undefined).length, entries };
  }

  /** Releases every session whatever its users; later acquires fail with E_CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    // Loads still in flight are awaited so their sessions are released too; failed loads released themselves.
    await Promise.allSettled(all.map(async (e) => (await e.ready).session.release()));
  }

  private async load(path: string, label: string, options: AcquireOptions, entry: Entry, threads: number): Promise<Loaded> {
    if (!existsSync(path) || !statSync(path).isFile()) throw new FaceError('E_MODEL_MISSING', `model file ${path} (${label}) does not exist`);
    const { session, provider } = await this.open(path, label, threads);
    try {
      const io = metaFromSession(session);
      if (options.contract) checkContract(io, options.contract, label);
      if (options.warmup !== false) {
        try {
          await session.run(zeroFeeds(io.inputs, options.contract));
        } catch (err) {
          throw new FaceError('E_SESSION', `warm-up run of ${label} on ${provider} failed: ${firstLine(err)}`, { cause: err });
        }
        entry.warmups++;
      }
      entry.provider = provider;
      this.log('info', `session ${label} ready on ${provider}`);
      return { session, provider, io };
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  private async open(path: string, label: string, threads: number): Promise<{ session: ort.InferenceSession; provider: Provider }> {
    const base: ort.InferenceSession.SessionOptions = { interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    if (threads > 0) base.intraOpNumThreads = threads;
    // Session config entries (onnxruntime_session_options_config_keys.h); the Node binding takes them as strings.
    const spin = this.spinWait ? '1' : '0';
    base.extra = { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } };
    const tryOpen = (provider: Provider): Promise<ort.InferenceSession> => this.create(path, { ...base, executionProviders: [provider] });
    // auto tries CUDA only when its provider library is installed: on CPU-only builds a doomed
    // attempt makes ORT print an alarming error to stderr for every model.
    if (this.device === 'cuda' || (this.device === 'auto' && this.hasCudaProvider())) {
      try {
        return { session: await tryOpen('cuda'), provider: 'cuda' };
      } catch (err) {
        if (this.device === 'cuda') {
          throw new FaceError(
            'E_SESSION',
            `CUDA was requested for ${label} but is not available (${firstLine(err)}). Install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with an NVIDIA GPU and CUDA 12, or set the device to auto or cpu.`,
            { cause: err },
          );
        }
        this.log('warn', `CUDA could not load ${label} (${firstLine(err)}); using CPU`);
      }
    }
    try {
      return { session: await tryOpen('cpu'), provider: 'cpu' };
    } catch (err) {
      throw new FaceError('E_MODEL_CONTRACT', `${label} could not be loaded as an ONNX model (${firstLine(err)})`, { cause: err });
    }
  }

  private handle(entry: Entry, loaded: Loaded): SessionHandle {
    let released = false;
    const { session, provider, io } = loaded;
    return {
      key: entry.key,
      modelPath: entry.modelPath,
      label: entry.label,
      provider,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      inputMetadata: io.inputs,
      outputMetadata: io.outputs,
      run: async (feeds) => {
        if (released) throw new FaceError('E_CLOSED', `the session handle for ${entry.label} was released`);
        if (this.closed) throw new FaceError('E_CLOSED', `the session pool is closed (${entry.label})`);
        entry.runs++;
        return (await session.run(feeds)) as Record<string, ort.Tensor>;
      },
      release: async () => {
        if (released) return;
        released = true;
        entry.users--;
        // After close() the entry is gone from the map and its session already released.
        if (entry.users <= 0 && this.entries.get(entry.key) === entry) {
          this.entries.delete(entry.key);
          await session.release();
        }
      },
    };
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** Whether onnxruntime-node has a CUDA execution provider library installed beside its binding. */
function cudaProviderInstalled(): boolean {
  try {
    const bin = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(join(dir, 'libonnxruntime_providers_cuda.so')) || existsSync(join(dir, 'onnxruntime_providers_cuda.dll'))) return true;
    }
  } catch {
    // No readable bin folder: treat as no CUDA; a cuda request still tries and reports why.
  }
  return false;
}

/**
 * Zero tensors for every input. Symbolic dimensions take the contract's number when it has
 * one; otherwise spatial ones (H, W of a rank-4 image input) become 64 — large enough for
 * stride-32 networks — and all others 1.
 */
function zeroFeeds(inputs: TensorSpec[], contract?: IoContract): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const spec = contract?.inputs.find((c) => c.name === input.name);
    const dims = input.shape.map((d, i) => {
      if (typeof d === 'number' && d > 0) return d;
      const fromContract = spec?.shape[i];
      if (typeof fromContract === 'number' && fromContract > 0) return fromContract;
      return input.shape.length === 4 && i >= 2 ? 64 : 1;
    });
    const size = dims.reduce((a, b) => a * b, 1);
    switch (input.type) {
      case 'float64':
        feeds[input.name] = new ort.Tensor('float64', new Float64Array(size), dims);
        break;
      case 'int64':
        feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(size), dims);
        break;
      case 'int32':
        feeds[input.name] = new ort.Tensor('int32', new Int32Array(size), dims);
        break;
      case 'uint8':
        feeds[input.name] = new ort.Tensor('uint8', new Uint8Array(size), dims);
        break;
      case 'float16':
        feeds[input.name] = new ort.Tensor('float16', new Uint16Array(size), dims);
        break;
      default:
        feeds[input.name] = new ort.Tensor('float32', new Float32Array(size), dims);
    }
  }
  return feeds;
}
