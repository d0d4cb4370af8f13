import type { Runtime } from '../../runtime';
import type { Node } from './red';

export type RuntimeState = { phase: 'loading' } | { phase: 'ready'; provider: string } | { phase: 'error'; message: string } | { phase: 'closed' };

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
  register(user: ConfigUser): void;
  deregister(user: ConfigUser): void;
}
