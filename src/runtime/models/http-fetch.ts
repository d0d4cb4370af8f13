import { createWriteStream } from 'fs';
import { stat, rm } from 'fs/promises';
import * as http from 'http';
import * as https from 'https';
import { pipeline } from 'stream/promises';

export interface HttpFetchOptions {
  /** Connect and idle timeout in ms: a connection that opens or sends nothing for this long fails. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Redirects followed before giving up (GitHub and Hugging Face redirect to their CDNs). */
  maxRedirects?: number;
}

export interface DownloadProgress {
  /** Bytes of the file on disk so far, counting a resumed part. */
  received: number;
  /** Full size when the server said it, else undefined. */
  total?: number;
}

export interface DownloadResult extends DownloadProgress {
  /** True when the server honoured the Range request and the part was continued. */
  resumed: boolean;
}

/** An HTTP failure with its status; network failures keep Node's error codes (ECONNREFUSED, …). */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpStatusError';
  }
}

/**
 * Opens a GET and resolves with the response once its headers arrived, following redirects.
 * The request is destroyed on timeout, abort or any error: no socket outlives a failure.
 */
function openGet(url: string, headers: Record<string, string>, options: HttpFetchOptions, redirectsLeft: number): Promise<http.IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new Error(`not a URL: ${url}`));
      return;
    }
    const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new Error(`unsupported protocol in ${url}`));
      return;
    }
    const req = client.get(parsed, { headers: { 'user-agent': 'node-red-contrib-facefusion', ...headers }, timeout: options.timeoutMs, signal: options.signal });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from ${parsed.host} within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        req.destroy();
        if (redirectsLeft <= 0) {
          reject(new Error(`too many redirects from ${url}`));
          return;
        }
        const next = new URL(res.headers.location, parsed).toString();
        openGet(next, headers, options, redirectsLeft - 1).then(resolvePromise, reject);
        return;
      }
      resolvePromise(res);
    });
  });
}

/** Drops a response we do not read, closing its socket. */
function discard(res: http.IncomingMessage): void {
  res.resume();
  res.destroy();
}

/** GETs a small text resource (a `.hash` file); at most `maxBytes` are read. */
export async function httpGetText(url: string, options: HttpFetchOptions, maxBytes = 4096): Promise<string> {
  const res = await openGet(url, {}, options, options.maxRedirects ?? 5);
  try {
    if (res.statusCode !== 200) throw new HttpStatusError(url, res.statusCode ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new Error(`${url} is larger than ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
    if (!res.complete) throw new Error(`the connection to ${url} closed before the end`);
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    res.destroy();
  }
}

/**
 * Downloads `url` into `partPath`. A part already there is continued with a Range request; a
 * server that ignores Range (200) gets the whole file again from byte 0, and one that refuses
 * the range (416) makes the part start over. The part file stays on failure so a later call
 * can continue it; the caller checks and renames it.
 */
export async function downloadToPart(url: string, partPath: string, options: HttpFetchOptions, onProgress?: (p: DownloadProgress) => void): Promise<DownloadResult> {
  const start = await stat(partPath).then(
    (s) => s.size,
    () => 0,
  );
  const res = await openGet(url, start > 0 ? { range: `bytes=${start}-` } : {}, options, options.maxRedirects ?? 5);
  const status = res.statusCode ?? 0;
  if (status === 416 && start > 0) {
    discard(res);
    await rm(partPath, { force: true });
    return downloadToPart(url, partPath, options, onProgress);
  }
  if (status !== 200 && status !== 206) {
    discard(res);
    throw new HttpStatusError(url, status);
  }
  const resumed = status === 206;
  let received = resumed ? start : 0;
  let total: number | undefined;
  if (resumed) {
    // "bytes <first>-<last>/<total or *>": the server must continue exactly where the part ends.
    const contentRange = /^bytes\s+(\d+)-\d+\/(\d+|\*)\s*$/.exec(String(res.headers['content-range'] ?? ''));
    if (!contentRange || Number(contentRange[1]) !== start) {
      discard(res);
      throw new Error(`${url} answered the range request from byte ${start} with Content-Range ${JSON.stringify(res.headers['content-range'] ?? null)}`);
    }
    if (contentRange[2] !== '*') total = Number(contentRange[2]);
  } else if (res.headers['content-length'] !== undefined && Number.isFinite(Number(res.headers['content-length']))) {
    total = Number(res.headers['content-length']);
  }
  onProgress?.({ received, total });
  const out = createWriteStream(partPath, { flags: resumed ? 'a' : 'w' });
  try {
    await pipeline(
      res,
      async function* count(source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          received += chunk.length;
          onProgress?.({ received, total });
          yield chunk;
        }
      },
      out,
      { signal: options.signal },
    );
  } finally {
    res.destroy();
    out.destroy();
  }
  if (!res.complete) throw Object.assign(new Error(`the connection to ${url} closed after ${received} bytes`), { code: 'ECONNRESET' });
  if (total !== undefined && received !== total) throw new Error(`${url} sent ${received} of ${total} bytes`);
  return { received, total, resumed };
}
