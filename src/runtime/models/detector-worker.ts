/**
 * Worker-thread entry for DetectorThread: a session of one detector model of its own (the
 * main thread's stays where it is), running detect() on the inputs the main thread sends.
 */
import { parentPort, workerData } from 'worker_threads';
import { contractById } from './default-contracts';
import { openDetector } from './engines';
import { SessionPool } from '../sessions/session-pool';
import { toFaceError } from '../errors';
import type { DetectorRequest, DetectorResponse, DetectorWorkerData } from './detector-protocol';

const data = workerData as DetectorWorkerData;
const pool = new SessionPool({ device: data.device, threads: data.threads, spinWait: false });
const ready = pool
  .acquire(data.path, { contract: contractById(data.contract), label: `${data.modelId} (detector thread)` })
  .then((handle) => ({ handle, detector: openDetector(data.contract, handle, data.modelId) }));
// The main thread learns of a model that cannot load at its first request.
ready.catch(() => undefined);

parentPort!.on('message', async (req: DetectorRequest | { close: true }) => {
  if ('close' in req) {
    await pool.close().catch(() => undefined);
    parentPort!.postMessage({ closed: true });
    return;
  }
  let res: DetectorResponse;
  try {
    const { detector } = await ready;
    const faces = await detector.detect({ width: req.width, height: req.height, channels: 3, data: new Uint8Array(req.data) }, req.options);
    res = { id: req.id, ok: true, faces, data: req.data };
  } catch (error) {
    const e = toFaceError(error);
    res = { id: req.id, ok: false, code: e.code, message: e.message, data: req.data };
  }
  // The input's buffer goes back for the next request.
  parentPort!.postMessage(res, [res.data]);
});
