import type { RedisJobQueue } from '../../runtime/queue';
import type { Node } from './red';

/** The facefusion-queue config node as its users see it. */
export interface QueueConfigNode extends Node {
  /** The Redis URL from the node's credentials (never in the flow file); undefined when none is set. */
  url?: string;
  /** The URL without its password, for status and logs. */
  where: string;
  queueName: string;
  attempts: number;
  /** The submitting side, shared by every face-job node using this config node (created on first use). */
  jobQueue(): RedisJobQueue;
}
