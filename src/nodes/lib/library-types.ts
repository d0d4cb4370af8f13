import { homedir } from 'os';
import { join, resolve } from 'path';
import type { FaceLibrary } from '../../runtime/library';
import { FaceError } from '../../runtime';
import type { Node, Red } from './red';
import { statusText } from './status';

/** The `face library` config node as the face enrol / recognize / forget nodes see it. */
export interface LibraryNode extends Node {
  /** The database file. */
  path: string;
  /** Undefined when the file could not be opened (see `openError`). */
  library?: FaceLibrary;
  openError?: FaceError;
  /** Keep a small face thumbnail with each enrolment (off unless the user ticked it). */
  thumbnails: boolean;
  /** Tells every node using the library that its people changed (size shown on their status). */
  changed(): void;
  /** Calls `listener(size)` now and after every change; returns the unsubscribe. */
  watch(listener: (size: number | undefined) => void): () => void;
}

/** The library node a node names, or undefined (with a red status). */
export function libraryOf(RED: Red, node: Node, id: string | undefined): LibraryNode | undefined {
  const found = id ? (RED.nodes.getNode(id) as LibraryNode | null) : null;
  if (!found || found.type !== 'face-library') {
    node.status({ fill: 'red', shape: 'ring', text: 'no face library' });
    return undefined;
  }
  return found;
}

/** The open library, or the reason it is not open, as a FaceError. */
export function openLibrary(node: LibraryNode | undefined, type: string): FaceLibrary {
  if (!node) throw new FaceError('E_BAD_PARAMETER', `${type} has no face library: open the node and pick or add one`);
  if (!node.library) throw node.openError ?? new FaceError('E_LIBRARY', `face library ${node.path} is not open`);
  return node.library;
}

/**
 * A library node's idle status: the last result and the library's size (grey before any result),
 * or why the library is not open (red).
 */
export function showLibraryStatus(node: Node, library: LibraryNode, size: number | undefined, lastResult: string): void {
  if (size === undefined) {
    node.status({ fill: 'red', shape: 'ring', text: library.openError ? library.openError.code : 'library not open' });
    return;
  }
  node.status({ fill: lastResult ? 'green' : 'grey', shape: 'dot', text: statusText([lastResult, peopleText(size)]) });
}

/** "3 people" for a status line. */
export function peopleText(size: number | undefined): string {
  return size === undefined ? 'library not open' : `${size} ${size === 1 ? 'person' : 'people'}`;
}

/** The dialog's path (~ expanded), else <userDir>/facefusion/library.db. */
export function libraryPath(path: string | undefined, userDir: string | undefined): string {
  const given = (path ?? '').trim();
  if (given) return resolve(given.replace(/^~(?=$|\/)/, homedir()));
  return join(userDir || join(homedir(), '.node-red'), 'facefusion', 'library.db');
}
