import type { ModelCache } from './model-cache';

/** What an admin screen shows about one model download. */
export interface FetchState {
  id: string;
  dir: string;
  state: 'fetching' | 'done' | 'failed';
  received: number;
  total?: number;
  source?: string;
  error?: string;
}

interface Job {
  state: FetchState;
  promise: Promise<string>;
}

/**
 * Downloads started from an admin screen, with their latest progress, so a page can start a
 * long fetch, return, and poll. One job per (folder, model); starting a running one joins it.
 */
export class ModelFetchBoard {
  private readonly jobs = new Map<string, Job>();

  /** Starts (or joins) the fetch of `id` into `cache`; resolves with the file's path. */
  start(cache: ModelCache, id: string): Promise<string> {
    const key = `${cache.dir}\u0000${id}`;
    const running = this.jobs.get(key);
    if (running && running.state.state === 'fetching') return running.promise;
    const state: FetchState = { id, dir: cache.dir, state: 'fetching', received: 0 };
    const promise = cache
      .fetch(id, {
        onProgress: (e) => {
          state.received = e.received;
          state.total = e.total;
          state.source = e.source;
        },
      })
      .then(
        (path) => {
          state.state = 'done';
          return path;
        },
        (err: unknown) => {
          state.state = 'failed';
          state.error = err instanceof Error ? err.message : String(err);
          throw err;
        },
      );
    promise.catch(() => undefined); // the state carries the failure; callers that wait see it too
    this.jobs.set(key, { state, promise });
    return promise;
  }

  /** Copies of the states of the jobs for one folder (running, finished and failed). */
  states(dir: string): FetchState[] {
    return [...this.jobs.values()].filter((j) => j.state.dir === dir).map((j) => ({ ...j.state }));
  }
}
