import { FaceError } from '../runtime';
import { DEFAULT_PACK_MAX_BYTES } from '../runtime/token/pack';
import type { Node, NodeDef, Red } from './lib/red';
import { flagOption, numberOption } from './lib/config';
import { plural, statusText } from './lib/status';
import { transferNode, wireTransferNode } from './lib/token-transfer';

interface Def extends NodeDef {
  config?: string;
  allowUnsealed?: boolean | string;
  /** Largest packet in MB; blank: derived from the frame limit (two 4K PNG frames, ≈ 54 MB). */
  maxMB?: number | string;
  /** Replay window: refuse a packet unpacked here before, until its token expires. */
  refuseReplays?: boolean | string;
  queueSize?: number | string;
}

const BASE64_RE = /^[A-Za-z0-9+/=_-]+$/;

/** A packed token (Buffer, or base64 text from a text-only transport) → face token with its frames in this runtime. */
export = function (RED: Red): void {
  function FaceUnpack(this: Node, nodeDef: NodeDef): void {
    const face = transferNode<Def>(RED, this, nodeDef, 'unpack');
    const { node, options: def, config } = face;
    const allowUnsealed = flagOption(def.allowUnsealed, false);
    const maxMB = numberOption(def.maxMB);
    const maxBytes = maxMB === undefined ? DEFAULT_PACK_MAX_BYTES : Math.max(1, maxMB) * 1024 * 1024;
    const refuseReplays = flagOption(def.refuseReplays, false);
    if (config && !config.tokenKey) {
      node.status({ fill: allowUnsealed ? 'yellow' : 'red', shape: 'ring', text: allowUnsealed ? 'no token key: unsealed only' : 'no token key' });
    }
    wireTransferNode(
      face,
      async (cfg, msg) => {
        let packet: unknown = msg.payload;
        if (typeof packet === 'string') {
          if (packet.length > maxBytes * 1.4 || !BASE64_RE.test(packet)) throw new FaceError('E_TOKEN_INVALID', 'packed token refused: a text payload must be the packet in base64');
          packet = Buffer.from(packet, 'base64');
        }
        const started = performance.now();
        const token = await cfg.runtime.unpack(packet, { key: cfg.tokenKey, allowUnsealed, maxBytes, refuseReplays });
        msg.payload = token;
        return statusText([plural(token.faces.length, 'face'), `${Math.round(performance.now() - started)} ms`]);
      },
      numberOption(def.queueSize) ?? 10,
    );
  }
  RED.nodes.registerType('face-unpack', FaceUnpack);
};
