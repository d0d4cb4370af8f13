import type { FaceError } from '../../runtime';
import type { ConfigNode } from './config-types';
import type { DoneFn, Node, NodeMessage, SendFn } from './red';
import { asFaceError } from './messages';
import { errorStatus } from './status';
import { WorkQueue } from './work-queue';

/**
 * What face pack and face unpack share: one message at a time with a bounded backlog (so a flood
 * of packets from mqtt cannot decode without bound), errors as codes on the status and to the
 * Catch node, a quiet finish for messages abandoned by a redeploy.
 */
export function wireTransferNode(
  node: Node,
  config: ConfigNode | undefined,
  stage: 'pack' | 'unpack',
  missing: () => FaceError,
 work: (config: ConfigNode, msg: NodeMessage) => Promise<string>,
  /** Messages that may wait while one is packed/unpacked (default 10); more are dropped (status). */
  capacity = 10,
): void {
  let closed = false;
  const queue = new WorkQueue(Math.max(0, Math.floor(capacity)), (depth) => node.status({ fill: 'blue', shape: 'ring', text: `queue ${depth}` }));
  node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
    if (!config) {
      done(missing());
      return;
    }
    const run = async (): Promise<void> => {
      if (closed) return done();
      try {
        const status = await work(config, msg);
        if (closed) return done();
        node.status({ fill: 'green', shape: 'dot', text: status });
        send(msg);
        done();
      } catch (err) {
        if (closed) return done();
        const error = asFaceError(err, stage);
        node.status(errorStatus(error));
        config.streams.report(msg, error);
        done(error);
      }
    };
    if (!queue.push({ run, drop: () => done() })) {
      node.status({ fill: 'yellow', shape: 'ring', text: 'busy: dropped (queue full)' });
      done();
    }
  });
  node.on('close', (_removed: boolean, done: () => void) => {
    closed = true;
    queue.close();
    node.status({});
    done();
  });
}

