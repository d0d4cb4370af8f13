import type { Red } from './lib/red';
import { numberOption, setOptions } from './lib/config';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  model?: string;
  scoreThreshold?: string;
  maxFaces?: string;
  /** off | auto | tile size in px. */
  tiling?: string;
  /** Smallest face to find, px (detect_min_face). */
  minFace?: string;
  /** Video: seconds within which every tile is scanned (detect_scan_interval). */
  scanInterval?: string;
}

function tilingOption(value: string | undefined): string | number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** Finds faces: boxes, scores (largest first), with the embedded detector or a model (scrfd, yunet, yoloface, retinaface). */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-detect',
    stage: 'detect',
    parameters: (def) =>
      setOptions({
        face_detector_model: def.model?.trim(),
        score_threshold: numberOption(def.scoreThreshold),
        max_faces: numberOption(def.maxFaces),
        detect_tiling: tilingOption(def.tiling),
        detect_min_face: numberOption(def.minFace),
        detect_scan_interval: numberOption(def.scanInterval),
      }),
  });
};
