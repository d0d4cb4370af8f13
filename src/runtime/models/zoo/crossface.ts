import type { SessionHandle } from '../../sessions';
import { FaceError } from '../../errors';
import type { IoContract } from '../types';
import { checkPositional, floatOutput, floatTensorFor } from './common';

/**
 * FaceFusion's embedding converters crossface_simswap / _ghost / _hififace: an
 * arcface_w600k_r50 embedding (1,512), as the recogniser gave it (not normalised), mapped into
 * another swapper's identity space (1,512). FaceFusion feeds it as `input` and reads output 0.
 */
function crossfaceContract(id: string): IoContract {
  return { id, role: 'converter', inputs: [{ name: 'input', type: 'float32', shape: [1, 512] }], outputs: [] };
}

export const CROSSFACE_SIMSWAP_CONTRACT: IoContract = crossfaceContract('crossface_simswap');
export const CROSSFACE_GHOST_CONTRACT: IoContract = crossfaceContract('crossface_ghost');
export const CROSSFACE_HIFIFACE_CONTRACT: IoContract = crossfaceContract('crossface_hififace');

export const CROSSFACE_CONTRACT_IDS = Object.freeze(['crossface_simswap', 'crossface_ghost', 'crossface_hififace'] as const);

export class EmbeddingConverter {
  readonly modelId: string;
  private readonly inputName: string;
  private readonly outputName: string;

  /** `contractId` names the converter in error messages; the three files share one signature. */
  constructor(
    private readonly session: SessionHandle,
    modelId = 'crossface_simswap',
    contractId: string = modelId,
  ) {
    this.modelId = modelId;
    checkPositional(session, contractId, [
      { kind: 'input', index: 0, shape: [null, 512] },
      { kind: 'output', index: 0, shape: [null, 512] },
    ]);
    if (session.inputMetadata.length !== 1) {
      throw new FaceError('E_MODEL_CONTRACT', `${session.label} does not fit the converter contract ${contractId}: it has ${session.inputMetadata.length} inputs, expected one (1,512) embedding`);
    }
    this.inputName = session.inputNames[0];
    this.outputName = session.outputNames[0];
  }

  get provider(): string {
    return this.session.provider;
  }

  /** Raw arcface embedding (512 values) → the converted embedding (512 values, not normalised). */
  async convert(raw: Float32Array): Promise<Float32Array> {
    if (raw.length !== 512) throw new FaceError('E_BAD_PARAMETER', `${this.modelId}: the embedding has ${raw.length} values, expected 512`);
    const out = await this.session.run({ [this.inputName]: floatTensorFor(this.session, this.inputName, raw, [1, 512]) });
    return Float32Array.from(floatOutput(out, this.outputName, this.session.label));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
