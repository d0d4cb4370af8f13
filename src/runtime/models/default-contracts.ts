import type { IoContract } from './types';

/** Input/output signatures of the models we ship adapters for. */
export const CONTRACTS: Readonly<Record<string, IoContract>> = Object.freeze({
  rfb320: {
    id: 'rfb320',
    role: 'detector',
    // One thread: 1.7 ms a run either way, but 2.3–2.4 ms of CPU on two threads against 1.7 on
    // one (a video job's detector runs every frame while ffmpeg needs the other core).
    intraOpThreads: 1,
    inputs: [{ name: 'input', type: 'float32', shape: [1, 3, 240, 320] }],
    outputs: [
      { name: 'scores', type: 'float32', shape: [1, 4420, 2] },
      { name: 'boxes', type: 'float32', shape: [1, 4420, 4] },
    ],
  },
  pfld68: {
    id: 'pfld68',
    role: 'landmarker',
    // One thread: 0.23 ms a run and 0.27 ms of CPU, against 0.34 ms and 0.49 ms on two.
    intraOpThreads: 1,
    inputs: [{ name: 'input', type: 'float32', shape: [1, 1, 64, 64] }],
    outputs: [{ name: 'output', type: 'float32', shape: [1, 136] }],
  },
  faceplugin_arcface112: {
    id: 'faceplugin_arcface112',
    role: 'embedder',
    inputs: [{ name: 'input', type: 'float32', shape: [1, 3, 112, 112] }],
    outputs: [{ name: 'output', type: 'float32', shape: [1, 512] }],
  },
  retinaface_mxnet: {
    id: 'retinaface_mxnet',
    role: 'detector',
    inputs: [{ name: 'data', type: 'float32', shape: [1, 3, null, null] }],
    outputs: [32, 16, 8].flatMap((s) => [
      { name: `face_rpn_cls_prob_reshape_stride${s}`, type: 'float32' as const, shape: [1, 4, null, null] },
      { name: `face_rpn_bbox_pred_stride${s}`, type: 'float32' as const, shape: [1, 8, null, null] },
      { name: `face_rpn_landmark_pred_stride${s}`, type: 'float32' as const, shape: [1, 20, null, null] },
    ]),
  },
});

export function contractById(id: string): IoContract | undefined {
  return CONTRACTS[id];
}
