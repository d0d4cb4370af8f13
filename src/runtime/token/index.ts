/** Face token: the immutable JSON state packet that travels between pipeline stages. */
export * from './types';
export { FACE_TOKEN_SCHEMA, FRAME_ID_PATTERN, FRAME_REF_PATTERN, UUID_PATTERN, ISO_DATE_TIME_PATTERN, EMBEDDING_MIN_ITEMS, EMBEDDING_MAX_ITEMS, MAX_FACES } from './schema';
export { TokenValidator, isFaceToken, describeErrors } from './validate';
export type { TokenValidation } from './validate';
export { DEFAULT_TOKEN_TTL_MS, createToken, advance, withParameters, failToken, skipStage, isExpired, tokenFrameRefs, forkToken, deepFreeze, isFrameRef, parseFrameRef, makeFrameRef } from './token';
export type { CreateTokenInit, TokenPatch, ForkPatch, JournalInput } from './token';
export { SEAL_PREFIX, sealToken, unsealToken } from './seal';
export { tokenKeyFrom } from './aead';
export { PACK_MAGIC, PACK_VERSION, openPacket } from './pack';
export type { PackOptions, UnpackOptions, UnpackLimits, PackHeader, PackedFrameInfo } from './pack';
