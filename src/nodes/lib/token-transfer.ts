import type { ConfigNode } from './config-types';
import type { Node, NodeDef, NodeMessage, Red } from './red';
import { FaceNode } from './face-node';

/**
 * What face pack and face unpack share: one message at a time with a bounded backlog (so a flood
 * of packets from mqtt cannot decode without bound), errors as codes on the status, to the
 * Catch node and the message's stream, a quiet finish for messages abandoned by a redeploy.
 */
export function transferNode<D extends NodeDef>(RED: Red, node: Node, def: NodeDef, stage: 'pack' | 'unpack'): FaceNode<D> {
  return new FaceNode<D>(RED, node, def, { stage, report: true, quietWhenClosed: true });
}

/** Wires the node's input to `work` (which returns its status text) and clears the status on close. */
export function wireTransferNode<D extends NodeDef>(
  face: FaceNode<D>,
  work: (config: ConfigNode, msg: NodeMessage) => Promise<string>,
  /** Messages that may wait while one is packed/unpacked (default 10); more are dropped (status). */
  capacity = 10,
): void {
  face.onInput(
    async (msg, send, done) => {
      const status = await work(face.config!, msg);
      if (face.closed) return done();
      face.node.status({ fill: 'green', shape: 'dot', text: status });
      send(msg);
      done();
    },
    { capacity, showDepth: true, saysQueueFull: true },
  );
  face.onClose(() => undefined, { clearStatus: true });
}
