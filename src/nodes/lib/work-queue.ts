export interface Task {
  run(): Promise<void>;
  /** Called instead of run() when the queue closes first, so the message's done() still fires. */
  drop(): void;
}

/**
 * One task at a time with a bounded backlog. Node-RED has no backpressure of its own, so a
 * heavy node that took every message would grow memory without bound under a fast source.
 */
export class WorkQueue {
  private readonly backlog: Task[] = [];
  private running = false;
  private closed = false;

  constructor(
    readonly capacity: number,
    private readonly onDepth: (depth: number) => void = () => undefined,
  ) {}

  /** False when the backlog is full (the caller drops the message) or the queue is closed. */
  push(task: Task): boolean {
    if (this.closed) return false;
    if (!this.running) {
      void this.run(task);
      return true;
    }
    if (this.backlog.length >= this.capacity) return false;
    this.backlog.push(task);
    this.onDepth(this.backlog.length);
    return true;
  }

  get depth(): number {
    return this.backlog.length;
  }

  get busy(): boolean {
    return this.running;
  }

  /** Tasks not started yet are dropped; the one running finishes on its own. */
  close(): void {
    this.closed = true;
    for (const task of this.backlog.splice(0)) task.drop();
  }

  private async run(task: Task): Promise<void> {
    this.running = true;
    let next: Task | undefined = task;
    while (next) {
      try {
        await next.run();
      } catch {
        // tasks report their own errors through done(err)
      }
      next = this.closed ? undefined : this.backlog.shift();
    }
    this.running = false;
  }
}
