import { FaceError } from '../runtime';
import { LibraryRegistry, libraryLocked, lockedOut, sealLibrary, unsealLibrary, type FaceLibrary, type LibraryLease } from '../runtime/library';
import type { ConfigNode } from './lib/config-types';
import { libraryPath, type LibraryNode } from './lib/library-types';
import { asFaceError, messageOf } from './lib/messages';
import { withDefaults } from './lib/node-defaults';
import type { HttpRequest, HttpResponse, Node, NodeDef, Red } from './lib/red';
import { numberOption } from './lib/config';

interface Def extends NodeDef {
  /** Database file; blank → <userDir>/facefusion/library.db. */
  path?: string;
  thumbnails?: boolean | string;
  collectUnknown?: boolean | string;
  unknownMax?: number | string;
  unknownDays?: number | string;
}

const on = (v: unknown): boolean => v === true || v === 'true';

/**
 * The `face library` config node: one face library (a SQLite file) shared by the face enrol,
 * face recognize and face forget nodes that name it. Files are opened through one registry per
 * Node-RED runtime, so two config nodes (or two flows) naming the same file share one connection:
 * one writer per process. The admin endpoints below list, rename and delete people for the
 * editor's "face library" sidebar tab.
 */
export = function (RED: Red): void {
  const registry = new LibraryRegistry();
  /** Deployed library nodes, by id (the admin endpoints address these only). */
  const live = new Map<string, LibraryNode>();

  function FaceLibraryNode(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const def = withDefaults('face-library', nodeDef as Def);
    const node = this as LibraryNode;
    node.path = libraryPath(def.path, RED.settings?.userDir);
    node.thumbnails = on(def.thumbnails);
    const watchers = new Set<(size: number | undefined) => void>();
    let lease: LibraryLease | undefined;
    let pruner: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    const open = (): void => {
      try {
        lease = registry.lease(node.path, {
          unknowns: { collect: on(def.collectUnknown), max: numberOption(def.unknownMax) ?? 50, maxAgeDays: numberOption(def.unknownDays) ?? 7 },
        });
      } catch (err) {
        node.openError = asFaceError(err);
        node.error(`${node.openError.code}: ${node.openError.message}`);
        return;
      }
      node.library = lease.library;
      node.openError = undefined;
      node.log(`face library: ${node.path} (${peopleOf(node.library)} people)`);
      if (!node.library.unknownPolicy.collect) return;
      // Unknown faces past their age go even when no new one comes.
      pruner = setInterval(() => {
        try {
          node.library?.pruneUnknowns();
        } catch (err) {
          node.warn(`pruning unknown faces: ${messageOf(err)}`);
        }
      }, 3_600_000);
      pruner.unref?.();
      safely(() => node.library!.pruneUnknowns());
    };
    open();
    // A file another process kept locked past the busy timeout is opened again by the next
    // message that needs it once the lock is gone (the error says "try again"; while it is held
    // a message fails at once instead of waiting out the busy timeout); a damaged or foreign file
    // is not.
    node.reopen = () => {
      if (node.library || closed || !lockedOut(node.openError) || libraryLocked(node.path)) return node.library;
      open();
      if (node.library) node.changed();
      return node.library;
    };
    const size = (): number | undefined => {
      try {
        return node.library?.size();
      } catch {
        return undefined;
      }
    };
    node.watch = (listener) => {
      watchers.add(listener);
      listener(size());
      return () => watchers.delete(listener);
    };
    node.changed = () => {
      const n = size();
      for (const w of watchers) w(n);
    };
    live.set(node.id, node);

    node.on('close', (_removed, done) => {
      closed = true;
      if (pruner) clearInterval(pruner);
      live.delete(node.id);
      watchers.clear();
      node.library = undefined;
      (lease ? lease.release() : Promise.resolve()).then(
        () => done(),
        (err: unknown) => {
          node.error(`closing the face library: ${messageOf(err)}`);
          done();
        },
      );
    });
  }

  RED.nodes.registerType('face-library', FaceLibraryNode);

  // --- admin endpoints for the editor's sidebar tab (same permissions as the models endpoints) ---

  /** The deployed library an admin request names, or an answer saying why not. */
  function target(id: unknown, res: HttpResponse): { node: LibraryNode; library: FaceLibrary } | undefined {
    const node = typeof id === 'string' ? live.get(id) : undefined;
    if (!node) {
      res.status(404).json({ ok: false, error: 'no deployed face library with that id (deploy the flow first)' });
      return undefined;
    }
    const library = node.library ?? node.reopen();
    if (!library) {
      res.status(409).json({ ok: false, error: node.openError ? `${node.openError.code}: ${node.openError.message}` : 'the face library is not open' });
      return undefined;
    }
    return { node, library };
  }

  /** Runs an admin action: a FaceError answers 400 (409 for E_LIBRARY) with its code and message. */
  function answer(res: HttpResponse, work: () => unknown): void {
    try {
      res.json({ ok: true, ...(work() as object) });
    } catch (err) {
      const e = asFaceError(err);
      res.status(e.code === 'E_LIBRARY' ? 409 : e.code === 'E_INTERNAL' ? 500 : 400).json({ ok: false, code: e.code, error: e.message });
    }
  }

  const dataUrl = (jpeg: Buffer | undefined): string | undefined => (jpeg ? `data:image/jpeg;base64,${jpeg.toString('base64')}` : undefined);
  const body = (req: HttpRequest): Record<string, unknown> => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});

  RED.httpAdmin.get('/facefusion/libraries', RED.auth.needsPermission('facefusion.read'), (_req, res) => {
    res.json({
      libraries: [...live.values()].map((n) => ({ id: n.id, name: n.name || '', path: n.path, people: n.library ? safely(() => n.library!.size()) : null, error: n.openError?.message })),
    });
  });

  RED.httpAdmin.get('/facefusion/library', RED.auth.needsPermission('facefusion.read'), (req, res) => {
    const t = target(req.query.library, res);
    if (!t) return;
    answer(res, () => ({
      info: t.library.info(),
      people: t.library.people().map((p) => ({ ...p, thumbnail: p.thumbnails ? dataUrl(t.library.thumbnail(p.name)) : undefined })),
      unknowns: t.library.unknowns().map((u) => ({ ...u, thumbnail: u.thumbnail ? dataUrl(t.library.unknownThumbnail(u.id)) : undefined })),
    }));
  });

  RED.httpAdmin.post('/facefusion/library/rename', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const b = body(req);
    const t = target(b.library, res);
    if (!t) return;
    answer(res, () => {
      const person = t.library.rename(String(b.from ?? ''), String(b.to ?? ''));
      t.node.changed();
      return { person };
    });
  });

  RED.httpAdmin.post('/facefusion/library/forget', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const b = body(req);
    const t = target(b.library, res);
    if (!t) return;
    answer(res, () => {
      const result = t.library.forget(String(b.name ?? ''));
      t.node.changed();
      return { forgot: result };
    });
  });

  RED.httpAdmin.post('/facefusion/library/unknown/forget', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const b = body(req);
    const t = target(b.library, res);
    if (!t) return;
    answer(res, () => ({ erased: t.library.forgetUnknown(Number(b.id)) }));
  });

  RED.httpAdmin.post('/facefusion/library/unknown/name', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const b = body(req);
    const t = target(b.library, res);
    if (!t) return;
    answer(res, () => {
      const enrolled = t.library.nameUnknown(Number(b.id), String(b.name ?? ''), { keepThumbnail: t.node.thumbnails });
      t.node.changed();
      return { person: enrolled.person };
    });
  });

  /** The token key of a deployed runtime (facefusion-config) for sealing exports. */
  function keyOf(configId: unknown): Buffer {
    const config = typeof configId === 'string' && configId ? (RED.nodes.getNode(configId) as ConfigNode | null) : null;
    if (!config || config.type !== 'facefusion-config') throw new FaceError('E_BAD_PARAMETER', 'pick a deployed face runtime (facefusion-config) whose Token key seals the export');
    if (!config.tokenKey)
      throw new FaceError(
        'E_BAD_PARAMETER',
        config.tokenKeyError ? `that runtime's token key was refused: ${config.tokenKeyError}` : 'that runtime has no Token key: set one in its dialog (or FACEFUSION_TOKEN_KEY)',
      );
    return config.tokenKey;
  }

  // Exports are sealed: their content (biometric data) is never handed out readable.
  RED.httpAdmin.post('/facefusion/library/export', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const b = body(req);
    const t = target(b.library, res);
    if (!t) return;
    answer(res, () => {
      const data = t.library.exportData();
      return { file: `face-library-${data.exported_at.slice(0, 10)}.fflib`, people: data.people.length, sealed: sealLibrary(data, keyOf(b.config)).toString('base64') };
    });
  });

  RED.httpAdmin.post('/facefusion/library/import', RED.auth.needsPermission('facefusion.write'), (req, res) => {
    const b = body(req);
    const t = target(b.library, res);
    if (!t) return;
    answer(res, () => {
      const added = t.library.importData(unsealLibrary(Buffer.from(String(b.sealed ?? ''), 'base64'), keyOf(b.config)));
      t.node.changed();
      return { added };
    });
  });
};

function peopleOf(library: FaceLibrary): number | string {
  try {
    return library.size();
  } catch (err) {
    return messageOf(err);
  }
}

function safely<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch {
    return undefined;
  }
}
