import { FaceError, type Runtime } from '../../runtime';
import type { QueuedJobInfo } from '../../runtime/queue';
import { asFaceError } from './messages';
import { errorStatus, plural, progressText, statusText } from './status';
import type { QueueConfigNode } from './queue-types';
import type { DoneFn, Node, NodeMessage } from './red';

type Send = (msg: Array<NodeMessage | null>) => void;

/**
 * The face-job node with a Queue set: jobs go to Redis (BullMQ) for any worker to take, and the
 * node watches them: progress on output 2, the result on output 1, failures to the Catch node
 * with their code — the same messages as a job run in this process. Paths are confined to the
 * runtime's allowed folders before a job is queued (the worker confines them again).
 * Redeploying stops watching; queued jobs stay in Redis and still run.
 */
export class QueuedJobs {
  private readonly watching = new Map<string, AbortController>();
  private closing = false;

  constructor(
    private readonly node: Node,
    private readonly queue: QueueConfigNode,
    private readonly runtime: Runtime,
    private readonly cancelAny: boolean,
  ) {}

  input(msg: NodeMessage, send: Send, done: DoneFn): void {
    if (msg.command === 'cancel') {
      if (typeof msg.jobId === 'string' && !this.cancelAny && !this.watching.has(msg.jobId)) {
        this.fail(new FaceError('E_JOB', `no job with id "${msg.jobId}" was started by this node`), msg, done);
        return;
      }
      const ids = typeof msg.jobId === 'string' ? [msg.jobId] : [...this.watching.keys()];
      void Promise.all(
        ids.map((id) =>
          this.queue
            .jobQueue()
            .cancel(id)
            .catch(() => undefined),
        ),
      ).then(() => done());
      return;
    }
    void this.submit(msg, send, done);
  }

  private async submit(msg: NodeMessage, send: Send, done: DoneFn): Promise<void> {
    let id: string;
    try {
      const args = await this.runtime.paths.jobArgs(msg.payload, 'msg.payload');
      if (this.closing) return done();
      id = await this.queue.jobQueue().submit(args);
    } catch (err) {
      this.fail(asFaceError(err, 'job'), msg, done);
      return;
    }
    msg.jobId = id;
    const abort = new AbortController();
    this.watching.set(id, abort);
    this.node.status({ fill: 'blue', shape: 'ring', text: statusText(['queued', `on ${this.queue.where}`]) });
    const parentTopic = msg.topic !== undefined ? { parentTopic: msg.topic } : {};
    this.queue
      .jobQueue()
      .wait(id, {
        signal: abort.signal,
        onState: (info) => {
          if (info.state === 'running') this.node.status({ fill: 'blue', shape: 'dot', text: statusText(['running', `on ${info.worker ?? 'a worker'}`]) });
          if (info.state === 'retrying') this.node.status({ fill: 'yellow', shape: 'ring', text: `retrying (attempt ${info.attemptsMade + 1} of ${info.attempts})` });
        },
        onProgress: (p) => {
          this.node.status({ fill: 'blue', shape: 'dot', text: progressText(p) });
          send([null, { payload: p, topic: 'progress', jobId: id, ...parentTopic }]);
        },
      })
      .then(
        (info) => this.finished(id, info, msg, send, done),
        (err: unknown) => {
          this.watching.delete(id);
          if (this.closing) return done();
          this.fail(asFaceError(err, 'job'), msg, done);
        },
      );
  }

  private finished(id: string, info: QueuedJobInfo, msg: NodeMessage, send: Send, done: DoneFn): void {
    this.watching.delete(id);
    msg.job = info;
    if (info.state === 'completed' && info.result) {
      const r = info.result;
      this.node.status({ fill: 'green', shape: 'dot', text: statusText(['done', plural(r.frames, 'frame'), `${r.elapsedSec.toFixed(1)} s`, info.worker]) });
      msg.payload = r;
      send([msg, null]);
      done();
      return;
    }
    if (info.state === 'cancelled') {
      this.node.status({ fill: 'grey', shape: 'ring', text: 'cancelled' });
      done();
      return;
    }
    const code = (info.error?.code ?? 'E_JOB') as FaceError['code'];
    this.fail(new FaceError(code, `${info.error?.message ?? `job ${info.state}`} (after ${info.attemptsMade} attempt${info.attemptsMade === 1 ? '' : 's'})`), msg, done);
  }

  private fail(error: FaceError, msg: NodeMessage, done: DoneFn): void {
    this.node.status(errorStatus(error));
    msg.error = { code: error.code, message: error.message };
    done(error);
  }

  /** Stops watching (the jobs stay queued in Redis and run). */
  close(): void {
    this.closing = true;
    for (const abort of this.watching.values()) abort.abort();
    this.watching.clear();
  }
}
