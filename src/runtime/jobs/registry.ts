import type { Runtime } from '../runtime';
import { JobManager, type JobManagerOptions } from './job-manager';

/**
 * One JobManager per Runtime, shared by everything that uses that runtime (e.g. every face-job
 * node pointing at one config node), reference-counted: the manager is created by the first
 * acquire and closed (its jobs cancelled) by the last release. Keyed weakly on the runtime, so
 * a runtime dropped without release does not keep its manager alive.
 */
export class JobManagerRegistry {
  private readonly entries = new WeakMap<Runtime, { manager: JobManager; users: number }>();

  constructor(private readonly options: JobManagerOptions = {}) {}

  acquire(runtime: Runtime): JobManager {
    let entry = this.entries.get(runtime);
    if (!entry) {
      entry = { manager: new JobManager(runtime, this.options), users: 0 };
      this.entries.set(runtime, entry);
    }
    entry.users++;
    return entry.manager;
  }

  /** Closes the manager when its last user lets go; resolves once its jobs have stopped. */
  async release(runtime: Runtime): Promise<void> {
    const entry = this.entries.get(runtime);
    if (!entry) return;
    entry.users--;
    if (entry.users > 0) return;
    this.entries.delete(runtime);
    await entry.manager.close();
  }
}
