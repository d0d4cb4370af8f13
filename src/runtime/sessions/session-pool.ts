import { existsSync } from 'fs';
import { dirname, join, resolve } from 'path';
import * as ort from 'onnxruntime-node';
import { FaceError } from '../errors';
import type { IoContract, TensorSpec } from '../models/types';
import { checkContract, metaFromSession } from '../models/contract-check';

export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cuda' | 'cpu';

export interface SessionPoolOptions {
  device?: DeviceRequest;
  /** ORT intra-op threads; 0 = ORT's default. */
  threads?: number;
  logger?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Injected for tests; defaults to ort.InferenceSession.create. */
  createSession?: (path: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
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

interface Entry {
  key: string;
  label: string;
  modelPath: string;
  ready: Promise<{ session: ort.InferenceSession; provider: Provider; io: { inputs: TensorSpec[]; outputs: TensorSpec[] } }>;
  users: number;
  runs: number;
  warmups: number;
  provider?: Provider;
  createdAt: number;
}

export interface SessionPoolStats {
  sessions: number;
  entries: Array<{ key: string; label: string; provider?: Provider; users: number; runs: number; warmups: number; createdAt: number }>;
}

/**
 * One ONNX Runtime session per (model file, device request, threads), created on first use,
 * shared by every user, warmed up once and closed when its last user releases it.
 */
export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly device: DeviceRequest;
  private readonly threads: number;
  private readonly log: NonNullable<SessionPoolOptions['logger']>;
  private readonly create: NonNullable<SessionPoolOptions['createSession']>;
  private closed = false;

  constructor(options: SessionPoolOptions = {}) {
    this.device = options.device ?? 'auto';
    this.threads = options.threads ?? 0;
    this.log = options.logger ?? (() => undefined);
    this.create = options.createSession ?? ((path, opts) => ort.InferenceSession.create(path, opts));
  }

  async acquire(modelPath: string, options: AcquireOptions = {}): Promise<SessionHandle> {
    if (this.closed) throw new FaceError('E_CLOSED', 'the session pool is closed');
    const path = resolve(modelPath);
    const key = `${path}|${this.device}|${this.threads}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const label = options.label ?? path;
      const created: Entry = { key, label, modelPath: path, users: 0, runs: 0, warmups: 0, createdAt: Date.now(), ready: Promise.resolve() as never };
      created.ready = this.load(path, label, options, created);
      entry = created;
      this.entries.set(key, entry);
      // A failed load leaves no entry behind, so a later acquire can try again.
      entry.ready.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    entry.users++;
    let loaded: Awaited<Entry['ready']>;
    try {
      loaded = await entry.ready;
    } catch (err) {
      entry.users--;
      throw err;
    }
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
    await Promise.allSettled(all.map(async (e) => (await e.ready).session.release()));
  }

  private async load(path: string, label: string, options: AcquireOptions, entry: Entry): Promise<Awaited<Entry['ready']>> {
    const { session, provider } = await this.open(path, label);
    try {
      const io = metaFromSession(session);
      if (options.contract) checkContract(io, options.contract, label);
      if (options.warmup !== false) {
        await session.run(zeroFeeds(io.inputs, options.contract));
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

  private async open(path: string, label: string): Promise<{ session: ort.InferenceSession; provider: Provider }> {
    const base: ort.InferenceSession.SessionOptions = { interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    if (this.threads > 0) base.intraOpNumThreads = this.threads;
    const tryOpen = (provider: Provider): Promise<ort.InferenceSession> => this.create(path, { ...base, executionProviders: [provider] });
    // auto tries CUDA only when its provider library is installed: a doomed attempt makes ORT
    // print a scary error for every model on CPU-only machines.
    if (this.device === 'cuda' || (this.device === 'auto' && cudaInstalled())) {
      try {
        return { session: await tryOpen('cuda'), provider: 'cuda' };
      } catch (err) {
        const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
        if (this.device === 'cuda') {
          throw new FaceError('E_SESSION', `CUDA was requested for ${label} but is not available (${why}). Install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with an NVIDIA GPU, or set the device to auto/cpu.`, { cause: err });
        }
        this.log('info', `CUDA not available for ${label}, using CPU`);
      }
    }
    try {
      return { session: await tryOpen('cpu'), provider: 'cpu' };
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new FaceError('E_MODEL_CONTRACT', `${label} could not be loaded as an ONNX model (${why})`, { cause: err });
    }
  }

  private handle(entry: Entry, loaded: Awaited<Entry['ready']>): SessionHandle {
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
        if (released) throw new FaceError('E_CLOSED', `session handle for ${entry.label} was released`);
        entry.runs++;
        return (await session.run(feeds)) as Record<string, ort.Tensor>;
      },
      release: async () => {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.users <= 0 && this.entries.get(entry.key) === entry) {
          this.entries.delete(entry.key);
          await session.release();
        }
      },
    };
  }
}

function cudaInstalled(): boolean {
  try {
    const bin = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(bin, 'libonnxruntime_providers_cuda.so')) || existsSync(join(bin, 'onnxruntime_providers_cuda.dll'));
  } catch {
    return false;
  }
}

/** Zero tensors for every input: symbolic dimensions take the contract's number, else 1. */
function zeroFeeds(inputs: TensorSpec[], contract?: IoContract): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const spec = contract?.inputs.find((c) => c.name === input.name);
    const dims = input.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : typeof spec?.shape[i] === 'number' ? (spec.shape[i] as number) : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    switch (input.type) {
      case 'float64': feeds[input.name] = new ort.Tensor('float64', new Float64Array(size), dims); break;
      case 'int64': feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(size), dims); break;
      case 'int32': feeds[input.name] = new ort.Tensor('int32', new Int32Array(size), dims); break;
      case 'uint8': feeds[input.name] = new ort.Tensor('uint8', new Uint8Array(size), dims); break;
      case 'float16': feeds[input.name] = new ort.Tensor('float16', new Uint16Array(size), dims); break;
      default: feeds[input.name] = new ort.Tensor('float32', new Float32Array(size), dims);
    }
  }
  return feeds;
}
