import { accessSync, constants, statSync } from 'fs';
import { dirname, resolve } from 'path';
import { FaceError } from '../errors';

/** The absolute output path, once its directory exists and is writable; E_BAD_OUTPUT otherwise. */
export function assertOutputDir(output: string): string {
  const path = resolve(output);
  const dir = dirname(path);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": the directory ${dir} does not exist`, { details: { field: 'output_path' } });
  }
  if (!isDir) throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": ${dir} is not a directory`, { details: { field: 'output_path' } });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new FaceError('E_BAD_OUTPUT', `cannot write "${output}": the directory ${dir} is not writable`, { details: { field: 'output_path' } });
  }
  return path;
}
