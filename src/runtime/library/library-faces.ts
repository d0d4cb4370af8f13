import { FaceError } from '../errors';
import type { Runtime } from '../runtime';
import { advance } from '../token/token';
import type { Face, FaceToken } from '../token/types';
import { boxArea } from '../faces/select';
import { crop } from '../vision/resize';
import { expandBox } from '../vision/rect';
import { encodeThumbnail } from '../vision/thumbnail';
import { cropYuvToRgb, isYuv } from '../vision/yuv';
import type { FaceLibrary, EnrolResult } from './face-library';

/** Longer side of a kept face thumbnail, px. */
export const FACE_THUMBNAIL_SIDE = 96;

/**
 * The token with an embedding on every face: the embed stage (with landmarks where missing) is
 * run when a face lacks one, so face enrol and face recognize may follow a face detect
 * directly. A failed embed comes back as the failed token.
 */
export async function withEmbeddings(runtime: Runtime, token: FaceToken): Promise<FaceToken> {
  if (token.faces.every((f) => f.embedding || f.held !== undefined)) return token;
  return runtime.process('embed', token, { force: true });
}

/** Which face to enrol: the one asked for, else the only one; several without a choice are refused. */
export function faceToEnrol(token: FaceToken, which?: number | 'largest'): { face: Face; index: number } {
  const faces = token.faces.filter((f) => f.held === undefined);
  if (faces.length === 0) throw new FaceError('E_NO_FACE', 'no face to enrol in this picture');
  if (which === 'largest') {
    let best = 0;
    for (let i = 1; i < faces.length; i++) if (boxArea(faces[i]) > boxArea(faces[best])) best = i;
    return { face: faces[best], index: token.faces.indexOf(faces[best]) };
  }
  if (which !== undefined) {
    if (!Number.isInteger(which) || which < 0 || which >= token.faces.length) {
      throw new FaceError('E_BAD_PARAMETER', `msg.face is ${which}, but the picture has ${token.faces.length} face${token.faces.length === 1 ? '' : 's'} (0 to ${token.faces.length - 1})`);
    }
    return { face: token.faces[which], index: which };
  }
  if (faces.length > 1) {
    throw new FaceError(
      'E_BAD_PARAMETER',
      `the picture has ${faces.length} faces: say which one to enrol (msg.face in a flow: its index in payload.faces or "largest"; --largest on the command line), or give a picture of one person`,
    );
  }
  return { face: faces[0], index: token.faces.indexOf(faces[0]) };
}

/** A small JPEG of the face (its box with a margin), for the library's thumbnails or an unknown face. */
export async function faceThumbnail(runtime: Runtime, token: FaceToken, face: Face, side = FACE_THUMBNAIL_SIDE): Promise<Buffer> {
  const pixels = runtime.store.pixels(token.target.frame);
  const rect = expandBox(face.bbox, 0.25, pixels.width, pixels.height);
  if (rect.width < 1 || rect.height < 1) throw new FaceError('E_BAD_PARAMETER', 'the face box lies outside the picture');
  const region = isYuv(pixels) ? cropYuvToRgb(pixels, rect) : crop(pixels, rect);
  return (await encodeThumbnail(region, side, 80)).data;
}

/** Enrols the chosen face of an embedded token under `name` (with a thumbnail when asked). */
export async function enrolToken(
  runtime: Runtime,
  library: FaceLibrary,
  token: FaceToken,
  name: string,
  options: { face?: number | 'largest'; thumbnail?: boolean } = {},
): Promise<EnrolResult & { face: number }> {
  const { face, index } = faceToEnrol(token, options.face);
  if (!face.embedding) throw new FaceError('E_BAD_PARAMETER', `face ${index} has no embedding`);
  const thumbnail = options.thumbnail ? await faceThumbnail(runtime, token, face) : undefined;
  const result = library.enrol(name, { embedding: face.embedding, ...(face.embedding_model ? { embedding_model: face.embedding_model } : {}) }, thumbnail ? { thumbnail } : {});
  return { ...result, face: index };
}

/**
 * Every (detected) face of an embedded token gets `identity` from the library, and the token a
 * `recognize` journal entry naming who was found.
 */
export async function recognizeToken(library: FaceLibrary, token: FaceToken, threshold: number): Promise<FaceToken> {
  const started = performance.now();
  const asked = token.faces.map((f, i) => ({ f, i })).filter(({ f }) => f.held === undefined && f.embedding);
  const identities = await library.identify(
    asked.map(({ f }) => ({ embedding: f.embedding!, ...(f.embedding_model ? { embedding_model: f.embedding_model } : {}) })),
    threshold,
  );
  const faces = token.faces.map((f) => ({ ...f }));
  asked.forEach(({ i }, k) => {
    faces[i] = { ...faces[i], identity: identities[k] };
  });
  const names = identities.map((id) => `${id.known ? id.name : 'unknown'} ${id.similarity.toFixed(2)}`);
  const note = identities.length ? `${names.join(', ')} (threshold ${threshold})` : 'no face';
  return advance(token, { faces }, { stage: 'recognize', ms: performance.now() - started, outcome: identities.length ? 'ok' : 'no_face', note: note.slice(0, 500) });
}
