import { FaceError, type Runtime } from '../runtime';
import { checkPixelWorkers, JobManagerRegistry, jobSummary, type JobAlert, type JobInfo, type JobManager, type JobNotice, type JobProgress } from '../runtime/jobs';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { nodeDefaults } from './lib/node-defaults';
import { flagOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { plural, progressText, statusText } from './lib/status';
import { QueuedJobs } from './lib/queued-jobs';
import type { QueueConfigNode } from './lib/queue-types';

interface Def extends NodeDef {
  config?: string;
  /** `msg.command: 'cancel'` with a `msg.jobId` may cancel any job of the config node, not only this node's. */
  cancelAny?: boolean | string;
  /** A facefusion-queue config node: jobs go to Redis for any worker (blank: run in this process). */
  queue?: string;
  /** Worker threads for a video job's pixel stages (0 = main thread); a job's own `pixel_workers` wins. */
  pixelWorkers?: number | string;
}

/** The dialog's pixel worker setting ('auto' or a count), or the E_BAD_PARAMETER it deserves. */
function pixelWorkersOption(value: unknown): number | 'auto' | FaceError {
  if (typeof value === 'string' && value.trim() === 'auto') return 'auto';
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  try {
    checkPixelWorkers(n, 'face-job pixel workers', value);
  } catch (error) {
    return error as FaceError;
  }
  return n as number;
}

/**
 * msg.payload = FaceFusion-style job args → the whole job through the JobManager of the
 * config node's runtime. Progress messages on output 2, the result on output 1 (msg.payload =
 * result, msg.job = the job), failures to the Catch node with their code.
 * `msg.command: 'cancel'` cancels this node's running jobs (or `msg.jobId`, when this node
 * started it — or any job with the "cancel any job" option). A job on a live source (stream,
 * camera) is stopped rather than killed: its output is closed properly and the result (with
 * `stopped: true`) goes out on output 1; a file job is cancelled and its partial output
 * deleted. A redeploy does the same. A job refused at start (queue full) is discarded, so
 * nothing of it stays behind.
 */
export = function (RED: Red): void {
  // One JobManager per runtime (so per config node), shared by every face-job node of this
  // Node-RED instance and closed by the last one; the registry lives in this closure, not in
  // module state, and the config node's file is left alone.
  const registry = new JobManagerRegistry();

  function FaceJob(this: Node, nodeDef: NodeDef): void {
    // A failure also sets msg.error { code, message } on the message the Catch node gets.
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'job', msgError: true });
    const { node, options: def, config } = face;
    const runtime: Runtime | undefined = config?.runtime;
    const cancelAny = flagOption(def.cancelAny, false);
    if (def.queue) {
      // Jobs on a Redis queue: src/nodes/lib/queued-jobs.ts (same messages as below).
      const queueNode = RED.nodes.getNode(def.queue) as QueueConfigNode | null;
      const queued = runtime && queueNode ? new QueuedJobs(node, queueNode, runtime, cancelAny) : undefined;
      if (runtime && !queueNode) node.status({ fill: 'red', shape: 'ring', text: 'no facefusion-queue' });
      else if (runtime && !queueNode?.url) node.status({ fill: 'red', shape: 'ring', text: 'the queue has no Redis URL' });
      face.onInput((msg, send, done) => {
        if (!queued) return done(new FaceError('E_BAD_PARAMETER', 'face-job: its facefusion-queue node is missing'));
        queued.input(msg, send, done);
      });
      face.onClose(() => queued?.close(), { clearStatus: true });
      return;
    }
    const manager: JobManager | undefined = runtime ? registry.acquire(runtime) : undefined;
    const pixelWorkers = pixelWorkersOption(def.pixelWorkers === '' ? nodeDefaults('face-job').pixelWorkers : def.pixelWorkers);
    if (pixelWorkers instanceof FaceError) node.status({ fill: 'red', shape: 'ring', text: 'bad Pixel workers' }); // the message goes to the Catch node with each job
    const mine = new Map<string, NodeMessage>();

    const onProgress = (p: JobProgress): void => {
      const msg = mine.get(p.id);
      if (!msg) return;
      node.status({ fill: 'blue', shape: 'dot', text: progressText(p) });
      node.send([null, { payload: p, topic: 'progress', jobId: p.id, ...(msg.topic !== undefined ? { parentTopic: msg.topic } : {}) }]);
    };
    const onState = (info: JobInfo): void => {
      if (!mine.has(info.id)) return;
      if (info.state === 'queued') node.status({ fill: 'blue', shape: 'ring', text: `queued (${queuedCount()})` });
      if (info.state === 'running') node.status({ fill: 'blue', shape: 'dot', text: 'running…' });
    };
    const onNotice = (n: JobNotice): void => {
      if (!mine.has(n.id)) return;
      if (n.level === 'warn') {
        node.status({ fill: 'yellow', shape: 'ring', text: /not up/.test(n.message) ? 'source not up…' : 'reconnecting…' });
        node.warn(n.message);
      } else {
        node.log(n.message);
      }
    };
    /** alert_after_failures reached: an alert message on output 2 (topic "alert") and on the status. */
    const onAlert = (alert: JobAlert): void => {
      const msg = mine.get(alert.jobId);
      if (!msg) return;
      node.status({ fill: 'red', shape: 'ring', text: statusText(['alert', `${plural(alert.framesFailed, 'frame')} failed`]) });
      node.send([null, { payload: alert, topic: 'alert', jobId: alert.jobId, ...(msg.topic !== undefined ? { parentTopic: msg.topic } : {}) }]);
    };
    manager?.on('progress', onProgress);
    manager?.on('state', onState);
    manager?.on('alert', onAlert);
    manager?.on('notice', onNotice);

    function queuedCount(): number {
      return [...mine.keys()].filter((id) => manager?.getJob(id)?.state === 'queued').length;
    }

    face.onInput((msg, send, done) => {
      if (msg.command === 'cancel') {
        if (typeof msg.jobId === 'string' && !cancelAny && !mine.has(msg.jobId)) {
          // Another flow's job (or none): the same answer either way, and nothing is cancelled.
          face.fail(new FaceError('E_JOB', `no job with id "${msg.jobId}" was started by this node`), msg, done);
          return;
        }
        const ids = typeof msg.jobId === 'string' ? [msg.jobId] : [...mine.keys()];
        void Promise.all(ids.map((id) => manager!.cancelJob(id).catch(() => undefined))).then(() => done());
        return;
      }
      if (pixelWorkers instanceof FaceError) {
        face.fail(pixelWorkers, msg, done);
        return;
      }
      void startJob(msg, send, done);
    });

    async function startJob(msg: NodeMessage, send: (msg: Array<NodeMessage | null>) => void, done: (err?: Error) => void): Promise<void> {
      let id: string;
      try {
        // Job paths from a message are untrusted: confined to the allowed folders before the job exists.
        const args = await config!.runtime.paths.jobArgs(msg.payload, 'msg.payload');
        if (face.closed) return done();
        // The dialog's pixel workers unless the job names its own.
        const own = args !== null && typeof args === 'object' && !Array.isArray(args) && (args as { pixel_workers?: unknown }).pixel_workers !== undefined;
        id = manager!.createJob(own || args === null || typeof args !== 'object' || Array.isArray(args) ? args : { ...args, pixel_workers: pixelWorkers }, { untrusted: true });
      } catch (err) {
        face.fail(err, msg, done);
        return;
      }
      try {
        mine.set(id, msg);
        manager!.startJob(id);
      } catch (err) {
        // Refused (queue full): forget the draft, so refused messages leave nothing behind.
        mine.delete(id);
        manager!.discardJob(id);
        face.fail(err, msg, done);
        return;
      }
      msg.jobId = id;
      void manager!.waitForJob(id).then(
        (info) => {
          mine.delete(id);
          if (info.state === 'completed' && info.result) {
            const r = info.result;
            // A live job cancelled (or closed by a redeploy) was stopped: its output was closed properly.
            node.status({
              fill: r.alerts.length ? 'yellow' : 'green',
              shape: 'dot',
              text: statusText([
                r.stopped ? 'stopped' : 'done',
                r.alerts.length > 0 && 'alert',
                plural(r.frames, 'frame'),
                `${r.elapsedSec.toFixed(1)} s`,
                r.framesDowngraded > 0 && `${r.framesDowngraded} downgraded`,
              ]),
            });
            if (face.closed) {
              done(); // the flow is going away: the recording is closed, nobody is wired to hear of it
              return;
            }
            // The CLI's --json fields (read, written, …, alerts) with the result's own (fps = the output's rate).
            msg.payload = { ...jobSummary(info, config!.runtime.provider()), ...r };
            msg.job = info;
            send([msg, null]);
            done();
            return;
          }
          msg.job = info;
          if (face.closed) {
            done(); // cancelled by a redeploy: not an error of the flow
            return;
          }
          if (info.state === 'cancelled') {
            // Cancelled on request (msg.command "cancel"): shown, not an error for the Catch node.
            node.status({ fill: 'grey', shape: 'ring', text: 'cancelled' });
            done();
            return;
          }
          const code = (info.error?.code ?? 'E_JOB') as FaceError['code'];
          face.fail(new FaceError(code, info.error?.message ?? `job ${info.state}`), msg, done);
        },
        (err: unknown) => {
          mine.delete(id);
          face.fail(err, msg, done);
        },
      );
    }

    // Closed once (FaceNode): the manager is let go once.
    face.onClose(
      async () => {
        manager?.off('progress', onProgress);
        manager?.off('alert', onAlert);
        manager?.off('state', onState);
        manager?.off('notice', onNotice);
        const ids = [...mine.keys()];
        if (manager) await Promise.all(ids.map((id) => manager.cancelJob(id).catch(() => undefined)));
        if (runtime) await registry.release(runtime);
      },
      { clearStatus: true },
    );
  }
  RED.nodes.registerType('face-job', FaceJob);
};
