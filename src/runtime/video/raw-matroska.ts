/**
 * A minimal Matroska stream of raw frames with a timestamp each, written to ffmpeg's stdin in
 * place of bare rawvideo. Bare rawvideo gives frame n the time n / fps, so the only way to keep
 * a live video's time across frames the source dropped is to send the previous frame again,
 * and x264 then encodes every copy (BENCHMARKS.md §10b: a repeated 1080p frame costs it ≈ 20 ms,
 * ≈ 70 % of a new one). Here a frame carries its own index as its timestamp: a gap costs
 * nothing, and ffmpeg (with `-fps_mode vfr`) keeps it as a longer frame in the output.
 *
 * Only what ffmpeg's Matroska demuxer needs is written (no seek index, no cues): the EBML
 * header, a Segment of unknown size (a stream), Info, one uncompressed video track, then one
 * Cluster per frame holding a single SimpleBlock. Hand-written because no npm Matroska muxer
 * writes uncompressed video without copying each frame into a new buffer; each frame's pixels
 * here go to the pipe as they are, after a 36-byte header.
 *
 * Timestamps are in microseconds (TimestampScale 1000 ns), computed from the index, so NTSC rates
 * (1001/30000 s) do not drift; DefaultDuration gives ffmpeg the nominal rate.
 */

export interface RawMatroskaOptions {
  width: number;
  height: number;
  /** Nominal frame rate (frames per second). */
  fps: number;
  pixelFormat: 'rgb24' | 'yuv420p';
}

const ID = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimestampScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  CodecID: 0x86,
  DefaultDuration: 0x23e383,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  ColourSpace: 0x2eb524,
  Cluster: 0x1f43b675,
  Timestamp: 0xe7,
  SimpleBlock: 0xa3,
} as const;

/** Microseconds per timestamp tick (TimestampScale is in ns). */
const TICK_NS = 1000;

/** The element ID's bytes (IDs carry their own length marker). */
function idBytes(id: number): number[] {
  const out: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return out;
}

/** An EBML size as an 8-byte vint (room for any frame). */
function size8(n: number): number[] {
  const out = [0x01];
  for (let shift = 6; shift >= 0; shift--) out.push(Math.floor(n / 2 ** (8 * shift)) & 0xff);
  return out;
}

/** An EBML size as the shortest vint (header elements). */
function sizeVint(n: number): number[] {
  for (let length = 1; length <= 8; length++) {
    if (n < 2 ** (7 * length) - 1) {
      const out: number[] = [];
      for (let i = length - 1; i >= 0; i--) out.push(Math.floor(n / 2 ** (8 * i)) & 0xff);
      out[0] |= 0x80 >> (length - 1);
      return out;
    }
  }
  return size8(n);
}

function uintBytes(n: number): number[] {
  const out: number[] = [];
  for (let v = Math.floor(n); v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return out.length ? out : [0];
}

function element(id: number, body: number[]): number[] {
  return [...idBytes(id), ...sizeVint(body.length), ...body];
}

const uint = (id: number, n: number): number[] => element(id, uintBytes(n));
const text = (id: number, s: string): number[] => element(id, [...Buffer.from(s, 'ascii')]);

/** FourCC of the raw pixel layout, as ffmpeg's raw pixel-format table names it. */
const FOURCC: Record<RawMatroskaOptions['pixelFormat'], number[]> = {
  yuv420p: [...Buffer.from('I420', 'ascii')],
  rgb24: [0x52, 0x47, 0x42, 24], // 'R','G','B',24
};

export class RawMatroskaWriter {
  private readonly frameNs: number;

  constructor(private readonly options: RawMatroskaOptions) {
    this.frameNs = 1e9 / options.fps;
  }

  /** The stream's start: EBML header, Segment (unknown size), Info and the one video track. */
  header(): Buffer {
    const o = this.options;
    const ebml = element(ID.EBML, [
      ...uint(ID.EBMLVersion, 1),
      ...uint(ID.EBMLReadVersion, 1),
      ...uint(ID.EBMLMaxIDLength, 4),
      ...uint(ID.EBMLMaxSizeLength, 8),
      ...text(ID.DocType, 'matroska'),
      ...uint(ID.DocTypeVersion, 4),
      ...uint(ID.DocTypeReadVersion, 2),
    ]);
    const info = element(ID.Info, [...uint(ID.TimestampScale, TICK_NS), ...text(ID.MuxingApp, 'node-red-contrib-facefusion'), ...text(ID.WritingApp, 'node-red-contrib-facefusion')]);
    const track = element(ID.TrackEntry, [
      ...uint(ID.TrackNumber, 1),
      ...uint(ID.TrackUID, 1),
      ...uint(ID.TrackType, 1),
      ...uint(ID.FlagLacing, 0),
      ...text(ID.CodecID, 'V_UNCOMPRESSED'),
      ...uint(ID.DefaultDuration, Math.round(this.frameNs)),
      ...element(ID.Video, [...uint(ID.PixelWidth, o.width), ...uint(ID.PixelHeight, o.height), ...element(ID.ColourSpace, FOURCC[o.pixelFormat])]),
    ]);
    const tracks = element(ID.Tracks, track);
    // Unknown size: a stream that ends when the pipe closes.
    const segment = [...idBytes(ID.Segment), 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    return Buffer.from([...ebml, ...segment, ...info, ...tracks]);
  }

  /**
   * The bytes before a frame's pixels: a Cluster holding one SimpleBlock (a key frame) at `tick`
   * (frame index from the stream's start). Write the pixels (`bytes` long) right after it.
   */
  frameHeader(tick: number, bytes: number): Buffer {
    const timestamp = uint(ID.Timestamp, Math.round((tick * this.frameNs) / TICK_NS));
    // SimpleBlock body: track number 1 (vint 0x81), relative timestamp 0 (int16), flags: key frame.
    const blockHead = [0x81, 0x00, 0x00, 0x80];
    const block = [...idBytes(ID.SimpleBlock), ...size8(blockHead.length + bytes), ...blockHead];
    const clusterBody = timestamp.length + block.length + bytes;
    return Buffer.from([...idBytes(ID.Cluster), ...size8(clusterBody), ...timestamp, ...block]);
  }
}
