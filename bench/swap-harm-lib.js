'use strict';
// What bench/swap-harm.js and test/swap-harm.test.js call a green/teal/blue ("cool") pixel: one
// whose CIE Lab (D65) chroma is at least 4 and whose hue lies between 120° (green) and 300°
// (blue-violet). Skin, lips, brown and grey irises and neutral greys are not cool; a grey brow
// pushed across neutral by a colour transfer is.
function srgbToLinear(v) {
  v /= 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function lab(r, g, b) {
  const R = srgbToLinear(r),
    G = srgbToLinear(g),
    B = srgbToLinear(b);
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = f(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** Whether the RGB pixel at byte offset i of `data` is green, teal or blue. */
function isCool(data, i) {
  const [, a, b] = lab(data[i], data[i + 1], data[i + 2]);
  if (Math.hypot(a, b) < 4) return false;
  const hue = ((Math.atan2(b, a) * 180) / Math.PI + 360) % 360;
  return hue > 120 && hue < 300;
}

module.exports = { lab, isCool };
