import type { Red } from './lib/red';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';
import { setOptions } from './lib/config';

interface Def extends StageNodeDef {
  model?: string;
}

/** Identity embedding of every face (and of the source face), by the embedded embedder or a recognizer model. */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, { type: 'face-embed', stage: 'embed', parameters: (def) => setOptions({ face_recognizer_model: def.model?.trim() }) });
};
