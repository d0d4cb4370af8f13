import { FACE_MASK_REGIONS, STAGES, TOKEN_STATES } from './types';

/**
 * JSON Schema (draft-07, ajv 8's default dialect) for FaceToken v1. It mirrors types.ts and is
 * the source of truth for tokens that arrive from outside the process (http, mqtt, function nodes).
 */

/** Characters allowed in a frame id; kept narrow so a ref can be used in file names and topics. */
export const FRAME_ID_PATTERN = '^[A-Za-z0-9_-]+$';
export const FRAME_REF_PATTERN = '^frame:[A-Za-z0-9_-]+$';
/** Any RFC 4122 layout; the version nibble is not checked so foreign producers still pass. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
/** ISO 8601 / RFC 3339 date-time with a zone, as Date#toISOString writes it (fraction optional). */
export const ISO_DATE_TIME_PATTERN = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$';

/** Plain-language names for the patterns above, used in validation messages. */
export const PATTERN_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  [FRAME_ID_PATTERN]: 'must only contain letters, digits, "_" and "-"',
  [FRAME_REF_PATTERN]: 'must match "frame:<id>"',
  [UUID_PATTERN]: 'must be a UUID',
  [ISO_DATE_TIME_PATTERN]: 'must be an ISO 8601 date-time such as "2024-01-31T12:00:00.000Z"',
});

export const EMBEDDING_MIN_ITEMS = 128;
export const EMBEDDING_MAX_ITEMS = 1024;
export const MAX_FACES = 256;

function deepFreezeSchema<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreezeSchema(child);
    Object.freeze(value);
  }
  return value;
}

const stringSchema = { type: 'string' } as const;

export const FACE_TOKEN_SCHEMA = deepFreezeSchema({
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:node-red-contrib-facefusion:face-token:v1',
  title: 'FaceToken v1',
  type: 'object',
  definitions: {
    frameRef: { type: 'string', pattern: FRAME_REF_PATTERN },
    isoDateTime: { type: 'string', pattern: ISO_DATE_TIME_PATTERN },
    point: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
    embedding: { type: 'array', items: { type: 'number' }, minItems: EMBEDDING_MIN_ITEMS, maxItems: EMBEDDING_MAX_ITEMS },
    modelRef: { type: 'string', minLength: 1, maxLength: 1024 },
    face: {
      type: 'object',
      required: ['bbox', 'score'],
      additionalProperties: false,
      properties: {
        bbox: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
        score: { type: 'number' },
        landmarks5: { type: 'array', items: { $ref: '#/definitions/point' }, minItems: 5, maxItems: 5 },
        landmarks68: { type: 'array', items: { $ref: '#/definitions/point' }, minItems: 68, maxItems: 68 },
        embedding: { $ref: '#/definitions/embedding' },
        embedding_model: { $ref: '#/definitions/modelRef' },
        held: { type: 'integer', minimum: 1 },
        likeness: {
          type: 'object',
          required: ['ok', 'mirror', 'context', 'identity'],
          additionalProperties: false,
          properties: { ok: { type: 'boolean' }, mirror: { type: 'number' }, context: { type: 'number' }, identity: { type: 'number' }, reason: stringSchema },
        },
        identity: {
          type: 'object',
          required: ['name', 'similarity', 'known'],
          additionalProperties: false,
          properties: {
            name: { type: ['string', 'null'], maxLength: 100 },
            similarity: { type: 'number', minimum: -1, maximum: 1 },
            known: { type: 'boolean' },
          },
        },
      },
    },
  },
  required: ['v', 'request_id', 'target', 'operations', 'parameters', 'faces', 'state', 'journal', 'created_at', 'expires_at'],
  additionalProperties: false,
  properties: {
    v: { const: 1 },
    request_id: { type: 'string', pattern: UUID_PATTERN },
    job_id: { type: 'string', minLength: 1, maxLength: 256 },
    source: {
      type: 'object',
      additionalProperties: false,
      properties: {
        frame: { $ref: '#/definitions/frameRef' },
        embedding: { $ref: '#/definitions/embedding' },
        embedding_model: { $ref: '#/definitions/modelRef' },
        embedding_norm: { type: 'number', exclusiveMinimum: 0 },
        face: { $ref: '#/definitions/face' },
      },
    },
    target: {
      type: 'object',
      required: ['frame'],
      additionalProperties: false,
      properties: {
        frame: { $ref: '#/definitions/frameRef' },
        index: { type: 'integer', minimum: 0 },
        pts: { type: 'number' },
        width: { type: 'integer', minimum: 1 },
        height: { type: 'integer', minimum: 1 },
      },
    },
    operations: { type: 'array', items: { enum: [...STAGES] }, uniqueItems: true },
    parameters: {
      type: 'object',
      additionalProperties: true,
      properties: {
        face_size: { type: 'integer', minimum: 64, maximum: 1024 },
        blend_ratio: { type: 'number', minimum: 0, maximum: 1 },
        face_selector: { enum: ['one', 'many', 'reference'] },
        reference_embedding: { $ref: '#/definitions/embedding' },
        reference_embedding_model: { type: 'string', minLength: 1 },
        reference_distance: { type: 'number', minimum: -1, maximum: 1 },
        score_threshold: { type: 'number', minimum: 0, maximum: 1 },
        max_faces: { type: 'integer', minimum: 1, maximum: MAX_FACES },
        device_mode: { enum: ['auto', 'cpu', 'cuda'] },
        blur_mode: { enum: ['gaussian', 'pixelate', 'solid'] },
        blur_shape: { enum: ['box', 'ellipse'] },
        blur_except_embeddings: { type: 'array', items: { $ref: '#/definitions/embedding' }, maxItems: 64 },
        blur_only_embeddings: { type: 'array', items: { $ref: '#/definitions/embedding' }, maxItems: 64 },
        blur_reference_model: { $ref: '#/definitions/modelRef' },
        blur_match_threshold: { type: 'number', minimum: -1, maximum: 1 },
        blur_strength: { type: 'number', minimum: 0, maximum: 1 },
        blur_margin: { type: 'number', minimum: 0, maximum: 2 },
        blur_score_threshold: { type: 'number', minimum: 0, maximum: 1 },
        blur_hold_frames: { type: 'integer', minimum: 0, maximum: 250 },
        blur_hold_motion: { enum: ['constant_velocity', 'static'] },
        face_check: { type: 'boolean' },
        detect_tiling: { oneOf: [{ enum: ['off', 'auto'] }, { type: 'integer', minimum: 64, maximum: 8192 }] },
        detect_min_face: { type: 'integer', minimum: 8, maximum: 4096 },
        detect_scan_interval: { type: 'number', minimum: 0, maximum: 5 },
        face_detector_model: { $ref: '#/definitions/modelRef' },
        face_landmarker_model: { $ref: '#/definitions/modelRef' },
        face_recognizer_model: { $ref: '#/definitions/modelRef' },
        face_swapper_model: { $ref: '#/definitions/modelRef' },
        face_swapper_pixel_boost: { type: 'integer', minimum: 64, maximum: 1024 },
        face_swapper_weight: { type: 'number', minimum: 0, maximum: 1 },
        face_enhancer_model: { $ref: '#/definitions/modelRef' },
        face_enhancer_blend: { type: 'number', minimum: 0, maximum: 1 },
        face_enhancer_weight: { type: 'number', minimum: 0, maximum: 1 },
        face_mask_types: { type: 'array', items: { enum: ['box', 'occlusion', 'region'] }, uniqueItems: true },
        face_mask_regions: { type: 'array', items: { enum: [...FACE_MASK_REGIONS] }, uniqueItems: true },
        face_mask_blur: { type: 'number', minimum: 0, maximum: 1 },
        face_mask_padding: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, minItems: 4, maxItems: 4 },
        face_occluder_model: { $ref: '#/definitions/modelRef' },
        face_parser_model: { $ref: '#/definitions/modelRef' },
      },
    },
    faces: { type: 'array', items: { $ref: '#/definitions/face' }, maxItems: MAX_FACES },
    state: { enum: [...TOKEN_STATES] },
    journal: {
      type: 'array',
      items: {
        type: 'object',
        required: ['stage', 'at', 'ms', 'outcome'],
        additionalProperties: false,
        properties: {
          stage: { type: 'string', minLength: 1 },
          at: { $ref: '#/definitions/isoDateTime' },
          ms: { type: 'number', minimum: 0 },
          outcome: { enum: ['ok', 'skipped', 'failed', 'no_face'] },
          note: stringSchema,
          figures: { type: 'object', maxProperties: 16, propertyNames: { pattern: '^[a-z_]{1,32}$' }, additionalProperties: { type: 'number' } },
          faces_skipped: {
            type: 'array',
            maxItems: MAX_FACES,
            items: {
              type: 'object',
              required: ['face', 'reason'],
              additionalProperties: false,
              properties: { face: { type: 'integer', minimum: 0 }, reason: { enum: ['not_a_face', 'turned'] }, detail: stringSchema },
            },
          },
        },
      },
    },
    created_at: { $ref: '#/definitions/isoDateTime' },
    expires_at: { $ref: '#/definitions/isoDateTime' },
    error: {
      type: 'object',
      required: ['stage', 'code', 'message'],
      additionalProperties: false,
      properties: { stage: stringSchema, code: stringSchema, message: stringSchema },
    },
  },
});
