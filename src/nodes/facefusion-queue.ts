import { FaceError } from '../runtime';
import { RedisJobQueue, redactRedisUrl } from '../runtime/queue';
import { nodeDefaults, withDefaults } from './lib/node-defaults';
import type { QueueConfigNode } from './lib/queue-types';
import type { Node, NodeDef, Red } from './lib/red';

interface QueueDef extends NodeDef {
  queueName?: string;
  attempts?: number | string;
}

/**
 * A Redis job queue (BullMQ) for face-job nodes (submit) and face-worker nodes (take jobs).
 * The URL, with any password, is a credential: Node-RED keeps it encrypted outside the flow
 * file. The submitting connection is made on first use and closed with the node.
 */
export = function (RED: Red): void {
  function FacefusionQueue(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const def = withDefaults('facefusion-queue', nodeDef as QueueDef);
    const node = this as QueueConfigNode;
    const url = node.credentials?.url?.trim() || undefined;
    node.url = url;
    node.where = url ? redactRedisUrl(url) : '(no URL)';
    node.queueName = String(def.queueName || nodeDefaults('facefusion-queue').queueName);
    const attempts = Math.floor(Number(def.attempts));
    node.attempts = Number.isFinite(attempts) && attempts >= 1 ? Math.min(20, attempts) : Number(nodeDefaults('facefusion-queue').attempts);
    let queue: RedisJobQueue | undefined;
    node.jobQueue = () => {
      if (!node.url) throw new FaceError('E_JOB', 'the job queue has no Redis URL: open the facefusion-queue node and set one');
      queue ??= new RedisJobQueue({ url: node.url, name: node.queueName, attempts: node.attempts });
      return queue;
    };
    node.on('close', (_removed: boolean, done: () => void) => {
      const q = queue;
      queue = undefined;
      void (q ? q.close() : Promise.resolve()).finally(done);
    });
  }
  RED.nodes.registerType('facefusion-queue', FacefusionQueue, { credentials: { url: { type: 'password' } } });
};
