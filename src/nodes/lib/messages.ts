import { isFaceError, type FaceError, FaceError as FaceErrorClass } from '../../runtime';

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Any thrown value as a coded FaceError (unknown errors become E_INTERNAL). */
export function asFaceError(err: unknown, stage?: string): FaceError {
  if (isFaceError(err)) return err;
  return new FaceErrorClass('E_INTERNAL', messageOf(err), { stage, cause: err });
}
