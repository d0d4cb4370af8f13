import type { Parameters } from '../token/types';

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** FaceFusion's box mask settings from the token: blur (default 0.3) and padding in percent. */
export function boxMaskOptions(parameters: Parameters): { maskBlur: number; maskPadding: [number, number, number, number] } {
  return { maskBlur: clamp01(parameters.face_mask_blur ?? 0.3), maskPadding: parameters.face_mask_padding ?? [0, 0, 0, 0] };
}
