import { homedir } from 'os';
import { join, resolve } from 'path';
import type { FaceLibrary } from '../../runtime/library';
import { FaceError } from '../../runtime';
import type { Node, Red } from './red';
import { plural, statusText, STATUS_MAX } from './status';

/** The `face library` config node as the face enrol / recognize / forget nodes see it. */
export interface LibraryNode extends Node {
  /** The database file. */
  path: string;
  /** Undefined when the file could not be opened (see `openError`). */
  library?: FaceLibrary;
  openError?: FaceError;
  /** Opens the file again when it could not be opened because another process held its lock; the library, or undefined. */
  reopen(): FaceLibrary | undefined;
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
  const library = node.library ?? node.reopen();
  if (!library) throw node.openError ?? new FaceError('E_LIBRARY', `face library ${node.path} is not open`);
  return library;
}

/**
 * A library node's idle status: the last result and the library's size (grey before any result),
 * or why the library is not open (red). `lastResult` may be alternatives, the most detailed
 * first (`enrolled Barack Obama`, `enrolled`): the first one that leaves room for the size is
 * shown, so the size stays on the status within its 30 characters.
 */
export function showLibraryStatus(node: Node, library: LibraryNode, size: number | undefined, lastResult: string | readonly string[]): void {
  if (size === undefined) {
    node.status({ fill: 'red', shape: 'ring', text: library.openError ? library.openError.code : 'library not open' });
    return;
  }
  const people = peopleText(size);
  const choices = (typeof lastResult === 'string' ? [lastResult] : lastResult).filter(Boolean);
  const result = choices.find((c) => `${c} · ${people}`.length <= STATUS_MAX) ?? choices[choices.length - 1];
  node.status({ fill: result ? 'green' : 'grey', shape: 'dot', text: statusText([result, people]) });
}

/** "1 person", "3 people" for a status line. */
export function peopleText(size: number | undefined): string {
  return size === undefined ? 'library not open' : plural(size, 'person', 'people');
}

/** The dialog's path (~ expanded), else <userDir>/facefusion/library.db. */
export function libraryPath(path: string | undefined, userDir: string | undefined): string {
  const given = (path ?? '').trim();
  if (given) return resolve(given.replace(/^~(?=$|\/)/, homedir()));
  return join(userDir || join(homedir(), '.node-red'), 'facefusion', 'library.db');
}
