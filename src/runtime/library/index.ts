/** The face library: people and their face embeddings in a SQLite file, for recognising who is there. */
export { FaceLibrary, checkName, DEFAULT_UNKNOWN_POLICY, DEFAULT_RECOGNITION_THRESHOLD, MAX_NAME_LENGTH } from './face-library';
export type { EmbeddedFace, PersonInfo, UnknownInfo, LibraryInfo, UnknownPolicy, LibraryOptions, EnrolResult, ForgetResult, CollectResult, LibraryExport } from './face-library';
export { openLibraryDatabase, libraryLocked, lockedOut, compact, LIBRARY_APPLICATION_ID, LIBRARY_SCHEMA_VERSION } from './library-db';
export type { CompactResult, OpenOptions } from './library-db';
export { sealLibrary, unsealLibrary } from './library-seal';
export { LibraryRegistry } from './registry';
export type { LibraryLease } from './registry';
export { VisitTracker } from './visits';
export type { VisitEvent, VisitOptions } from './visits';
export { VectorIndex } from './vector-index';
export { withEmbeddings, faceToEnrol, faceThumbnail, enrolToken, recognizeToken, FACE_THUMBNAIL_SIDE } from './library-faces';
