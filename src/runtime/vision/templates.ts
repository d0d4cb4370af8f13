import type { Affine, Point } from './frame';
import { estimateSimilarity } from './similarity';

export type TemplateName = 'arcface_112_v1' | 'arcface_112_v2' | 'arcface_128' | 'ffhq_512' | 'mtcnn_512';

/** FaceFusion's 5-point warp templates, normalised to a unit crop: left eye, right eye, nose, left mouth, right mouth. */
export const WARP_TEMPLATES: Readonly<Record<TemplateName, readonly (readonly [number, number])[]>> = Object.freeze({
  arcface_112_v1: [
    [0.35473, 0.45659],
    [0.64527, 0.45659],
    [0.5, 0.61154],
    [0.37913, 0.77688],
    [0.62087, 0.77688],
  ],
  arcface_112_v2: [
    [0.34192, 0.46157],
    [0.65653, 0.45983],
    [0.50023, 0.64051],
    [0.37098, 0.82469],
    [0.63152, 0.82325],
  ],
  arcface_128: [
    [0.36168, 0.40388],
    [0.63697, 0.40235],
    [0.5002, 0.56044],
    [0.3871, 0.72161],
    [0.61508, 0.72034],
  ],
  ffhq_512: [
    [0.37692, 0.46865],
    [0.62286, 0.46913],
    [0.50124, 0.61332],
    [0.39309, 0.72541],
    [0.6115, 0.7249],
  ],
  mtcnn_512: [
    [0.36563, 0.46734],
    [0.63305, 0.46586],
    [0.50019, 0.61943],
    [0.39033, 0.77599],
    [0.61179, 0.77476],
  ],
});

export const TEMPLATE_NAMES = Object.freeze(Object.keys(WARP_TEMPLATES) as TemplateName[]);

export function isTemplateName(value: unknown): value is TemplateName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(WARP_TEMPLATES, value);
}

/** The template's 5 points in pixels of a size×size crop. */
export function templatePoints(name: TemplateName, size: number): Point[] {
  const template = WARP_TEMPLATES[name];
  if (!template) throw new RangeError(`unknown warp template "${String(name)}"; known: ${TEMPLATE_NAMES.join(', ')}`);
  return template.map(([x, y]) => [x * size, y * size]);
}

/** Image → crop matrix aligning a face's 5 points to a template at `size` pixels. */
export function alignmentMatrix(landmarks5: readonly (readonly [number, number])[], template: TemplateName, size: number): Affine {
  return estimateSimilarity(landmarks5, templatePoints(template, size));
}
