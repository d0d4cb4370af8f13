/**
 * The small part of Node-RED's runtime API our nodes use. Node-RED ships no TypeScript types
 * we can depend on without pulling its whole tree into the build, so this is written here.
 */
export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | null> | null) => void;
export type DoneFn = (err?: Error) => void;

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface Node {
  id: string;
  name?: string;
  /** The node's type (set by Node-RED). */
  type?: string;
  /** Ids of the nodes each output is wired to (set by Node-RED). */
  wires?: string[][];
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  status(status: NodeStatus | Record<string, never>): void;
  send(msg: NodeMessage | Array<NodeMessage | null> | null): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  /** Secrets of the node (config dialog fields declared as credentials), kept encrypted by Node-RED. */
  credentials?: Record<string, string | undefined>;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  [key: string]: unknown;
}

export interface Red {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    registerType(type: string, ctor: (this: Node, def: NodeDef) => void, options?: Record<string, unknown>): void;
    getNode(id: string): Node | null;
    /** Every node definition of the deployed flows (absent in some test harnesses). */
    eachNode?(cb: (def: NodeDef & { z?: string; g?: string; d?: boolean; scope?: unknown }) => void): void;
  };
  httpAdmin: {
    get(path: string, ...handlers: Array<(req: HttpRequest, res: HttpResponse, next?: () => void) => void>): void;
    post(path: string, ...handlers: Array<(req: HttpRequest, res: HttpResponse, next?: () => void) => void>): void;
  };
  auth: { needsPermission(permission: string): (req: HttpRequest, res: HttpResponse, next?: () => void) => void };
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  /** The editor's websocket channel (runtime → every open editor). */
  comms: { publish(topic: string, data: unknown, retain?: boolean): void };
  /** Node-RED's settings; userDir is where flows and installed nodes live (absent in some test harnesses). */
  settings: { userDir?: string; [key: string]: unknown };
}

export interface HttpRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body?: unknown;
}

export interface HttpResponse {
  json(body: unknown): void;
  status(code: number): HttpResponse;
}
