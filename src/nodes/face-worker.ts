import type { Runtime } from '../runtime';
import { QueueWorker } from '../runtime/queue';
import type { JobArgs } from '../runtime/jobs';
import type { QueueConfigNode } from './lib/queue-types';
import type { Node, NodeDef, Red } from './lib/red';
import { FaceNode } from './lib/face-node';
import { messageOf } from './lib/messages';
import { errorStatus, plural, statusText } from './lib/status';

interface Def extends NodeDef {
  config?: string;
  queue?: string;
  concurrency?: number | string;
}

/**
 * Makes this Node-RED instance a worker of a Redis job queue: takes face jobs submitted by
 * face-job nodes or `facefusion-node run --queue` anywhere and runs them on the config node's
 * runtime (its sessions, its allowed folders: paths of a queued job are confined like those of
 * a message). One message per job event (running, completed, failed, cancelled, handed-back)
 * on the output. Redeploy hands running jobs back to the queue for another worker.
 */
export = function (RED: Red): void {
  function FaceWorker(this: Node, nodeDef: NodeDef): void {
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'worker' });
    const { node, options: def, config } = face;
    const queueNode = def.queue ? (RED.nodes.getNode(def.queue) as QueueConfigNode | null) : null;
    let worker: QueueWorker | undefined;
    let done = 0;
    const runtime: Runtime | undefined = config?.runtime;
    if (runtime && (!queueNode || !queueNode.url)) {
      node.status({ fill: 'red', shape: 'ring', text: queueNode ? 'the queue has no Redis URL' : 'no facefusion-queue' });
    } else if (runtime && queueNode?.url) {
      const concurrency = Math.max(1, Math.min(64, Math.floor(Number(def.concurrency)) || 1));
      try {
        worker = new QueueWorker(runtime, {
          url: queueNode.url,
          name: queueNode.queueName,
          concurrency,
          workerName: `node-red:${node.id}`,
          // A queued job comes from outside this flow: its paths are confined to the runtime's allowed folders.
          prepareArgs: (args: JobArgs) => runtime.paths.jobArgs(args, 'queued job'),
        });
      } catch (error) {
        node.status({ fill: 'red', shape: 'dot', text: 'worker failed' });
        node.error(`face worker: ${messageOf(error)}`);
      }
      const w = worker;
      if (w) {
        const idle = (): void => node.status({ fill: 'green', shape: 'ring', text: statusText(['waiting for jobs', `${done} done`, queueNode.where]) });
        node.status({ fill: 'yellow', shape: 'ring', text: statusText(['connecting…', queueNode.where]) });
        w.ready().then(idle, (error: unknown) => {
          node.status({ fill: 'red', shape: 'dot', text: 'cannot reach Redis' });
          node.error(`face worker: cannot reach the job queue at ${queueNode.where}: ${messageOf(error)}`);
        });
        w.on('error', (error) => node.warn(`job queue: ${error.message}`));
        w.on('progress', (p) =>
          node.status({
            fill: 'blue',
            shape: 'dot',
            text: statusText([`${w.jobs().length} running`, p.percent !== undefined ? `${p.percent.toFixed(0)}%` : plural(p.framesDone, 'frame'), `${p.fps.toFixed(1)} fps`]),
          }),
        );
        w.on('job', (event) => {
          if (event.state === 'completed') done++;
          if (event.state === 'running') node.status({ fill: 'blue', shape: 'dot', text: `${w.jobs().length} running` });
          else if (event.state === 'failed') node.status(errorStatus({ code: event.error?.code ?? 'E_JOB' }));
          else idle();
          node.send({ topic: event.state, jobId: event.id, payload: event.result ?? event.error ?? { id: event.id, state: event.state }, job: event });
        });
      }
    }
    face.onClose(
      () => {
        const w = worker;
        worker = undefined;
        // Running jobs go back to the queue at once: another worker (or this one after the redeploy) takes them.
        return w ? w.stop({ graceMs: 0 }) : Promise.resolve();
      },
      { clearStatus: true },
    );
  }
  RED.nodes.registerType('face-worker', FaceWorker);
};
