import { spawn, type ChildProcess } from 'child_process';

/** A path a child can open to reach its inherited descriptor `childFd` (Linux), else undefined. */
export function childFdPath(childFd: number): string | undefined {
  return process.platform === 'linux' ? `/proc/self/fd/${childFd}` : undefined;
}

/** How an ffmpeg child ended. `error` is set when it could not be started at all. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface SpawnOptions {
  /** Give the child a writable stdin (encoder); otherwise stdin is ignored. */
  stdin?: boolean;
  /** Keep at most this many characters of the stderr head (stream info lives there). */
  headChars?: number;
  /** Keep this many of the last stderr lines for error messages. */
  tailLines?: number;
  /** Descriptors handed to the child as its fd 3, 4, … (e.g. an output file opened and checked by us). */
  fds?: readonly number[];
  /** The child's environment (default this process's). */
  env?: NodeJS.ProcessEnv;
}

/**
 * One ffmpeg child process: bounded stderr capture (head for stream info, tail for errors),
 * an `exited` promise that always resolves, and `kill()` that escalates SIGTERM → SIGKILL.
 */
export class FfmpegProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  private head = '';
  private readonly headChars: number;
  private readonly tail: string[] = [];
  private readonly tailLines: number;
  private partial = '';
  private exit?: ProcessExit;
  private readonly stderrListeners = new Set<(head: string) => void>();

  constructor(binary: string, args: readonly string[], options: SpawnOptions = {}) {
    this.headChars = options.headChars ?? 64 * 1024;
    this.tailLines = options.tailLines ?? 12;
    this.child = spawn(binary, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(options.fds ?? [])], windowsHide: true, ...(options.env ? { env: options.env } : {}) });
    // A dead child makes stdin writes fail with EPIPE; the exit carries the real reason.
    this.child.stdin?.on('error', () => undefined);
    this.child.stdout?.on('error', () => undefined);
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (text: string) => this.collect(text));
    this.exited = new Promise<ProcessExit>((resolve) => {
      let settled = false;
      const done = (exit: ProcessExit): void => {
        if (settled) return;
        settled = true;
        if (this.partial) this.pushLine(this.partial);
        this.partial = '';
        this.exit = exit;
        resolve(exit);
      };
      this.child.once('error', (error) => done({ code: null, signal: null, error }));
      // Not 'close': that also waits for stdout, which a paused decoder may never drain.
      // Waiting for stderr's end keeps the error tail complete.
      let status: ProcessExit | undefined;
      let stderrEnded = !this.child.stderr;
      const maybeDone = (): void => {
        if (status && stderrEnded) done(status);
      };
      this.child.stderr?.once('close', () => {
        stderrEnded = true;
        maybeDone();
      });
      this.child.once('exit', (code, signal) => {
        status = { code, signal };
        maybeDone();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** stderr from the start (bounded), where ffmpeg prints Input/Output stream info. */
  stderrHead(): string {
    return this.head;
  }

  /** The last stderr lines, for error messages. */
  stderrTail(lines = this.tailLines): string {
    const all = this.partial ? [...this.tail, this.partial] : this.tail;
    return all.slice(-lines).join('\n');
  }

  /** Calls `listener` with the accumulated head after each stderr chunk; returns an unsubscribe. */
  onHead(listener: (head: string) => void): () => void {
    this.stderrListeners.add(listener);
    return () => {
      this.stderrListeners.delete(listener);
    };
  }

  private collect(arg: string): void {
    if (this.head.length < this.headChars) this.head += arg.slice(0, this.headChars - this.head.length);
    const parts = (this.partial + arg).split(/\r\n|\r|\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.pushLine(line);
    for (const listener of [...this.stderrListeners]) listener(this.head);
  }

  /** Ends the child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. Idempotent. */
  async kill(graceMs = 2000): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    // Nobody wants its pending output any more; unread stdout must not keep the pipe alive.
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exit) this.child.kill('SIGKILL');
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private pushLine(line: string): void {
    const trimmed = line.trim();
    if (!trimmed) return;
    this.tail.push(trimmed);
    if (this.tail.length > this.tailLines) this.tail.shift();
  }
}

/** Human summary of an exit, for error messages. */
export function describeExit(exit: ProcessExit): string {
  if (exit.error) return `could not start ffmpeg: ${exit.error.message}`;
  if (exit.signal) return `ffmpeg was killed by ${exit.signal}`;
  return `ffmpeg exited with code ${exit.code}`;
}
