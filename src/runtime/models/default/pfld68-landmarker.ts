import { Tensor } from 'onnxruntime-node';
import type { SessionHandle } from '../../sessions';
import type { Frame, Box, Point, Affine } from '../../vision/frame';
import { warpAffine } from '../../vision/affine';
import { toGrayPlane } from '../../vision/tensor';
import type { FaceLandmarker } from '../types';

const SIZE = 64;

/**
 * 68-point landmarker (faceplugin `fr_landmark.onnx`): the face box is cropped and scaled to
 * 64×64 grey, values / 256; the output is 136 numbers, x/y pairs normalised to the crop.
 * The box is made square around its centre first, so the crop keeps the face's proportions.
 */
export class Pfld68Landmarker implements FaceLandmarker {
  readonly modelId: string;

  constructor(
    private readonly session: SessionHandle,
    modelId = 'fr_landmark',
  ) {
    this.modelId = modelId;
  }

  get provider(): string {
    return this.session.provider;
  }

  async landmarks68(frame: Frame, bbox: Box): Promise<Point[]> {
    const [x1, y1, x2, y2] = bbox;
    const side = Math.max(x2 - x1, y2 - y1);
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const left = cx - side / 2;
    const top = cy - side / 2;
    const scale = SIZE / side;
    const toCrop: Affine = [scale, 0, -left * scale, 0, scale, -top * scale];
    const crop = warpAffine(frame, toCrop, SIZE, SIZE, { border: 'replicate' });
    const data = toGrayPlane(crop, 1 / 256);
    const out = await this.session.run({ input: new Tensor('float32', data, [1, 1, SIZE, SIZE]) });
    const raw = out.output.data as Float32Array;
    const points: Point[] = new Array(68);
    for (let i = 0; i < 68; i++) points[i] = [left + raw[i * 2] * side, top + raw[i * 2 + 1] * side];
    return points;
  }
}
