import type { Runtime } from '../../runtime';
import type { Node } from './red';
import type { StreamFailures } from './stream-failures';

export type RuntimeState =
  | { phase: 'loading' }
  /** `models`: the models a node named in its dialog, loaded at deploy. */
  | { phase: 'ready'; provider: string; models?: string }
  | { phase: 'error'; code: string; message: string }
  | { phase: 'closed' };

/** Users (stage nodes) get the runtime's state pushed to their status. */
export interface ConfigUser {
  showRuntimeState(state: RuntimeState): void;
}

export interface ConfigNode extends Node {
  runtime: Runtime;
  state: RuntimeState;
  /** Resolves when the models are loaded (rejects with the load error). */
  ready: Promise<void>;
  /** AES-256 key for face pack/unpack (credentials, else FACEFUSION_TOKEN_KEY); undefined when none is set. */
  tokenKey?: Buffer;
  /** Why the typed key was refused, when it was. */
  tokenKeyError?: string;
  /** Frame failures of video streams, reported by the nodes a frame passes (face-video-in shows them). */
  streams: StreamFailures;
  register(user: ConfigUser): void;
  deregister(user: ConfigUser): void;
}
