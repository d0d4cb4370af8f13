import type { Red } from './lib/red';
import { listOption, numberOption, setOptions } from './lib/config';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';
import { withBlurReferences } from '../runtime/jobs/frame-work';
import { FaceError } from '../runtime';

interface Def extends StageNodeDef {
  mode?: string;
  strength?: string;
  margin?: string;
  shape?: string;
  holdFrames?: string;
  holdMotion?: string;
  /** Comma-separated picture paths (typed in the dialog: trusted). */
  except?: string;
  only?: string;
  matchThreshold?: string;
}

/** Privacy: blurs, pixelates or boxes every detected face (or everyone except / only given people); holds regions across video frames. */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-blur',
    stage: 'blur',
    parameters: (def) =>
      setOptions({
        blur_mode: def.mode,
        blur_strength: numberOption(def.strength),
        blur_margin: numberOption(def.margin),
        blur_shape: def.shape,
        blur_hold_frames: numberOption(def.holdFrames),
        blur_hold_motion: def.holdMotion,
        blur_match_threshold: numberOption(def.matchThreshold),
      }),
    // Reference pictures → embeddings, once at deploy, by the runtime's detector and recognizer.
    prepare: async (def, runtime) => {
      const except = listOption(def.except);
      const only = listOption(def.only);
      if (!except && !only) return {};
      if (except && only) throw new FaceError('E_BAD_PARAMETER', 'face-blur: "Keep sharp" and "Blur only" exclude each other: fill in one of them');
      const p = await withBlurReferences(runtime, { ...(except ? { blur_except_paths: except } : {}), ...(only ? { blur_only_paths: only } : {}) }, `face-blur:${def.id}`);
      return p;
    },
  });
};
