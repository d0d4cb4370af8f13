import type { FaceError } from '../../runtime';
import type { ConfigNode } from './config-types';
import type { DoneFn, Node, NodeDef, NodeMessage, Red, SendFn } from './red';
import { configOf, missingConfig } from './config';
import { asFaceError } from './messages';
import { withDefaults } from './node-defaults';
import { busyStatus, errorStatus, queueStatus } from './status';
import { WorkQueue } from './work-queue';

export interface FaceNodeSpec {
  /** Names failures that are not FaceErrors (they become E_INTERNAL of this stage). */
  stage: string;
  /** The node works on a facefusion-config node's runtime (default): looked up at deploy, and every message fails without one. */
  config?: boolean;
  /** Failures are reported to the message's video stream (face-video-in shows them). */
  report?: boolean;
  /** A failure also sets msg.error { code, message } on the message the Catch node gets. */
  msgError?: boolean;
  /** A message that fails after the node closed finishes quietly: the flow is going away. */
  quietWhenClosed?: boolean;
  /** Called with each failure before its code goes on the status (e.g. to forget the last result). */
  onError?(error: FaceError): void;
}

/** One message at a time with a bounded backlog (Node-RED has no backpressure of its own). */
export interface QueueSpec {
  /** Messages that may wait; more are dropped. */
  capacity: number;
  /** The backlog shows on the status ("queue 3"). */
  showDepth?: boolean;
  /** The busy status says "busy: dropped (queue full)" rather than "busy: dropped". */
  saysQueueFull?: boolean;
  /** A message dropped because the node was busy, before its status and done(). */
  onBusy?(msg: NodeMessage, config: ConfigNode | undefined): void;
}

/**
 * The node's own work on one message. It sends and calls done() itself when it succeeds; what
 * it throws (or rejects with) is a failure: its code on the status, done(error) for the Catch node.
 */
export type InputHandler = (msg: NodeMessage, send: SendFn, done: DoneFn) => void | Promise<void>;

/**
 * The skeleton the nodes that are not stage nodes share (stage nodes: stage-node.ts): options
 * with the dialog's defaults, the config node, the missing-config error, an optional work queue,
 * failures as codes on the status and to the Catch node, and one close that cleans up once.
 * Each node file keeps only its own logic.
 */
export class FaceNode<D extends NodeDef> {
  /** The node's saved options, migrated, with the defaults the dialog shows for those it lacks. */
  readonly options: D;
  /** The facefusion-config node (undefined, with a red status, when the node has none). */
  readonly config: ConfigNode | undefined;
  private isClosed = false;
  private queue: WorkQueue | undefined;
  private cleanup: ((removed: boolean) => void | Promise<void>) | undefined;
  private clearStatusOnClose = false;

  constructor(
    RED: Red,
    readonly node: Node,
    private readonly def: NodeDef,
    private readonly spec: FaceNodeSpec,
  ) {
    RED.nodes.createNode(node, def);
    this.options = withDefaults(def.type, def as D);
    this.config = spec.config === false ? undefined : configOf(RED, node, this.options.config as string | undefined);
    node.on('close', (removed: boolean, done: () => void) => this.close(removed, done));
  }

  /** True once the node was closed (redeploy or removal). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Wires the node's input: missing config → its error, the queue (when given), failures → fail(). */
  onInput(handler: InputHandler, queue?: QueueSpec): void {
    const work = queue ? new WorkQueue(Math.max(0, Math.floor(queue.capacity)), queue.showDepth ? (depth) => this.node.status(queueStatus(depth)) : undefined) : undefined;
    this.queue = work;
    this.node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      if (this.spec.config !== false && !this.config) {
        done(missingConfig(this.def.type));
        return;
      }
      if (!work || !queue) {
        void this.run(handler, msg, send, done);
        return;
      }
      const accepted = work.push({
        run: async () => {
          if (this.isClosed) return done();
          await this.run(handler, msg, send, done);
        },
        drop: () => done(),
      });
      if (!accepted) {
        queue.onBusy?.(msg, this.config);
        this.node.status(busyStatus(queue.saysQueueFull === true));
        done();
      }
    });
  }

  /** A failure of `msg`: its code on the status (red), reported to its stream, done(error) for the Catch node. */
  fail(err: unknown, msg: NodeMessage, done: DoneFn): void {
    if (this.isClosed && this.spec.quietWhenClosed) {
      done();
      return;
    }
    const error = asFaceError(err, this.spec.stage);
    this.spec.onError?.(error);
    this.node.status(errorStatus(error));
    if (this.spec.report) this.config?.streams.report(msg, error);
    if (this.spec.msgError) msg.error = { code: error.code, message: error.message };
    done(error);
  }

  /**
   * What the node lets go of on close, after the queue's waiting messages are dropped (it may
   * return a promise: close waits for it). `clearStatus` clears the status once it is done.
   */
  onClose(cleanup: (removed: boolean) => void | Promise<void>, options: { clearStatus?: boolean } = {}): void {
    this.cleanup = cleanup;
    this.clearStatusOnClose = options.clearStatus === true;
  }

  /** A synchronous handler runs synchronously (as Node-RED called it); a failure of either kind goes to fail(). */
  private run(handler: InputHandler, msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> | undefined {
    try {
      const result = handler(msg, send, done);
      if (result instanceof Promise) return result.catch((err: unknown) => this.fail(err, msg, done));
    } catch (err) {
      this.fail(err, msg, done);
    }
    return undefined;
  }

  private close(removed: boolean, done: () => void): void {
    if (this.isClosed) {
      done(); // closed already: everything was let go once
      return;
    }
    this.isClosed = true;
    this.queue?.close();
    const finish = (): void => {
      if (this.clearStatusOnClose) this.node.status({});
      done();
    };
    const result = this.cleanup?.(removed);
    if (result instanceof Promise) void result.finally(finish);
    else finish();
  }
}
