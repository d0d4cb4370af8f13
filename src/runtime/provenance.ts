import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { PACKAGE_ROOT } from './models/manifest';
import type { FaceToken, JournalEntry } from './token/types';

/**
 * Provenance marks for media a face-swap or enhance model changed: IPTC's Digital Source Type
 * "composite with trained algorithmic media" in XMP for pictures, the same facts as container
 * metadata for videos, plus the software and version, the operations and a sha256 of the
 * token's journal (so a mark can be matched to the run that made it). Blur, pixelate, detect
 * and debug overlays are not synthetic and are not marked.
 *
 * C2PA manifests would be the stronger, signed form; its Node binding downloads a native binary
 * at install, which fails on offline machines, so it is left for later.
 */
export const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia';

/** Stages whose output is synthetic (made by a trained model, or the embedded swap). */
const SYNTHETIC_STAGES: ReadonlySet<string> = new Set(['swap', 'enhance']);

export interface Provenance {
  digitalSourceType: string;
  /** e.g. "node-red-contrib-facefusion 0.1.0". */
  software: string;
  /** The stages that ran, in order (journal stages with outcome ok), or a job's stages. */
  operations: string[];
  /** sha256 (hex) of the token's journal (JSON), or of a job's stages and parameters. */
  sha256: string;
  /** What `sha256` is of. */
  sha256Of: 'journal' | 'job';
}

function softwareName(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name?: string; version?: string };
    return `${pkg.name ?? 'node-red-contrib-facefusion'} ${pkg.version ?? ''}`.trim();
  } catch {
    return 'node-red-contrib-facefusion';
  }
}

/** Read once: the package's name and version do not change while it runs. */
const SOFTWARE = softwareName();

const sha256 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * Whether a journal shows a synthetic stage. For a picture it must have changed it (outcome ok);
 * for a video (`stageRan`) it is enough that the stage ran on this frame (a frame without a face
 * is still part of a swapped video).
 */
export function isSynthetic(journal: readonly JournalEntry[], stageRan = false): boolean {
  return journal.some((e) => SYNTHETIC_STAGES.has(e.stage) && (e.outcome === 'ok' || (stageRan && e.outcome === 'no_face')));
}

/** The provenance of a token's picture (or of a video, from its first frame), or undefined when nothing synthetic was done. */
export function provenanceOf(token: Pick<FaceToken, 'journal'>, options: { stageRan?: boolean } = {}): Provenance | undefined {
  if (!isSynthetic(token.journal, options.stageRan)) return undefined;
  return {
    digitalSourceType: DIGITAL_SOURCE_TYPE,
    software: SOFTWARE,
    operations: token.journal.filter((e) => e.outcome === 'ok' || (options.stageRan && e.outcome === 'no_face')).map((e) => e.stage),
    sha256: sha256(token.journal),
    sha256Of: 'journal',
  };
}

/** The provenance of a job's output, from its stages (known before any frame is processed). */
export function provenanceOfJob(stages: readonly string[], parameters: unknown): Provenance | undefined {
  if (!stages.some((s) => SYNTHETIC_STAGES.has(s))) return undefined;
  return { digitalSourceType: DIGITAL_SOURCE_TYPE, software: SOFTWARE, operations: [...stages], sha256: sha256({ stages, parameters: parameters ?? {} }), sha256Of: 'job' };
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A one-line human summary, for XMP dc:description and the video comment. */
export function describeProvenance(p: Provenance): string {
  return `AI-edited (${[...new Set(p.operations.filter((s) => SYNTHETIC_STAGES.has(s)))].join(', ')}) by ${p.software}; operations: ${p.operations.join(', ')}; ${p.sha256Of} sha256: ${p.sha256}`;
}

/** An XMP packet with the IPTC Digital Source Type, creator tool and a description (sharp's withXmp writes it). */
export function xmpPacket(p: Provenance): string {
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
    `    Iptc4xmpExt:DigitalSourceType="${xmlEscape(p.digitalSourceType)}"`,
    `    xmp:CreatorTool="${xmlEscape(p.software)}">`,
    `   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${xmlEscape(describeProvenance(p))}</rdf:li></rdf:Alt></dc:description>`,
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
  ].join('\n');
}

/**
 * What a video's marks are made from. A job knows its stages before its first frame: the marks
 * name them and hash them with its parameters (`job`). A flow's video (face-video-out) learns
 * them from its first frame: the stages that ran on it, with or without a face, and a hash of
 * its journal (`journal`).
 */
export type ProvenanceBasis = { stages: readonly string[]; parameters?: unknown } | { firstFrame: Pick<FaceToken, 'journal'> };

/** The provenance of a video (jobs and flows alike), or undefined when nothing synthetic was done. */
export function videoProvenance(basis: ProvenanceBasis): Provenance | undefined {
  return 'firstFrame' in basis ? provenanceOf(basis.firstFrame, { stageRan: true }) : provenanceOfJob(basis.stages, basis.parameters);
}

/** The container metadata marking a video, or undefined when it is not marked: the one way both video paths mark their output. */
export function videoMarks(basis: ProvenanceBasis): Record<string, string> | undefined {
  const p = videoProvenance(basis);
  return p ? videoMetadata(p) : undefined;
}

/** Container metadata (key → value) for a video; the encoder writes it with -metadata. */
export function videoMetadata(p: Provenance): Record<string, string> {
  return {
    comment: describeProvenance(p),
    encoded_by: p.software,
    digital_source_type: p.digitalSourceType,
  };
}
