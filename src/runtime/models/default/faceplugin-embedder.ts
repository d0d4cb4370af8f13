import { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame, Point } from '../../vision/frame';
import { warpAffine } from '../../vision/affine';
import { toCHW } from '../../vision/tensor';
import { alignmentMatrix } from '../../vision/templates';
import type { FaceEmbedder } from '../types';
import { l2normalised, type EmbeddingPair } from '../zoo/arcface';

const SIZE = 112;

/**
 * 512-d face embedder (faceplugin `fr_feature.onnx`): the face is aligned by a similarity fit
 * of its 5 points to the ArcFace 112 template (v2), RGB, (x − 127) / 128. `embed` gives the
 * L2-normalised vector, so cosine similarity is a dot product.
 */
export class FacepluginEmbedder implements FaceEmbedder {
  readonly modelId: string;

  constructor(
    private readonly session: SessionHandle,
    modelId = 'fr_feature',
  ) {
    this.modelId = modelId;
  }

  get provider(): string {
    return this.session.provider;
  }

  async embed(frame: Frame, landmarks5: Point[]): Promise<Float32Array> {
    return (await this.embedPair(frame, landmarks5)).normed;
  }

  async embedPair(frame: Frame, landmarks5: readonly Point[]): Promise<EmbeddingPair> {
    const matrix = alignmentMatrix(landmarks5, 'arcface_112_v2', SIZE);
    const crop = warpAffine(frame, matrix, SIZE, SIZE, { border: 'replicate' });
    const data = toCHW(crop, { mean: 127, std: 128 });
    const out = await this.session.run({ input: new Tensor('float32', data, [1, 3, SIZE, SIZE]) });
    const raw = Float32Array.from(out.output.data as Float32Array);
    return { raw, normed: l2normalised(raw) };
  }
}
