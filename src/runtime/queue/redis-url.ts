import { isIP } from 'net';
import type { RedisOptions } from 'ioredis';
import { FaceError } from '../errors';

/**
 * redis://[user:password@]host[:port][/db] or rediss://… (TLS) → ioredis options. The password
 * stays in the options object only; `redactRedisUrl` is what logs and node status show.
 */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FaceError('E_BAD_PARAMETER', `"${redactRedisUrl(url)}" is not a Redis URL (redis://host:port or rediss://user:password@host:port/db)`);
  }
  const tls = parsed.protocol === 'rediss:';
  if (parsed.protocol !== 'redis:' && !tls) throw new FaceError('E_BAD_PARAMETER', `a queue URL starts with redis:// or rediss:// (got ${parsed.protocol}//)`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 65535) throw new FaceError('E_BAD_PARAMETER', `the Redis database in "${redactRedisUrl(url)}" must be a number (got "${dbText}")`);
  return {
    host,
    port,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    // TLS checks the server's certificate against the system CAs (a private CA: NODE_EXTRA_CA_CERTS); SNI only for host names.
    ...(tls ? { tls: isIP(host) ? {} : { servername: host } } : {}),
    // BullMQ workers block on Redis: commands must wait for a reconnect instead of failing.
    maxRetriesPerRequest: null,
  };
}

/** The URL with its password replaced by ***, for logs, status and errors. */
export function redactRedisUrl(url: string): string {
  return String(url).replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
