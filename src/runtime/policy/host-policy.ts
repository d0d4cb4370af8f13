import { lookup } from 'dns';
import { BlockList, isIP } from 'net';
import { FaceError } from '../errors';

/**
 * Address ranges a URL from a message may not reach unless its host is on the allowed list:
 * loopback, "this network", private (RFC 1918, unique-local), carrier-grade NAT, link-local
 * (cloud metadata at 169.254.169.254), benchmarking, multicast and reserved. A message could
 * otherwise make this runtime scan or call services that trust the machine it runs on.
 */
const DENIED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const DENIED_V6: readonly [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

/** One line of the Allowed hosts list: a host name (`*.lan` for a domain), an address or a CIDR range, with an optional port. */
interface HostRule {
  name?: string;
  suffix?: string;
  range?: BlockList;
  port?: number;
}

/** The address to connect to for a host a URL names, once checked. */
export interface CheckedHost {
  host: string;
  address: string;
  family: 4 | 6;
  port: number;
}

export interface HostPolicyOptions {
  /** The Allowed hosts list: `cam.lan`, `*.lan`, `192.168.1.64`, `192.168.1.0/24`, `[fd00::5]:8554`, … */
  allowed?: readonly string[];
  /** Name of the setting, for messages. */
  settingName?: string;
  /** Host lookups (default dns.lookup); tests inject one. */
  lookup?: (host: string) => Promise<{ address: string; family: number }>;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, rtsp: 554, rtsps: 322, rtmp: 1935, rtmps: 443, srt: 0, udp: 0, tcp: 0 };

/**
 * Which hosts a URL from a message may reach. The host is resolved once; that address is
 * checked (public, or allowed by the list) and is the one connected to: `pin()` puts it in the
 * URL, and the HTTP guard connects each request to the address it checked, so a name that
 * resolves to a public address when checked and to 127.0.0.1 a moment later (DNS rebinding)
 * gains nothing. Every refusal gives the same message whatever the target, before any
 * connection is tried, so refusals do not tell open ports from closed ones.
 */
export class HostPolicy {
  private readonly denied = new BlockList();
  private readonly rules: HostRule[];
  private readonly setting: string;
  private readonly resolveHost: (host: string) => Promise<{ address: string; family: number }>;

  constructor(options: HostPolicyOptions = {}) {
    for (const [net, bits] of DENIED_V4) this.denied.addSubnet(net, bits, 'ipv4');
    for (const [net, bits] of DENIED_V6) this.denied.addSubnet(net, bits, 'ipv6');
    this.rules = (options.allowed ?? []).map(parseRule);
    this.setting = options.settingName ?? 'the allowed hosts';
    this.resolveHost =
      options.lookup ?? ((host) => new Promise((resolve, reject) => lookup(host, { verbatim: true }, (error, address, family) => (error ? reject(error) : resolve({ address, family })))));
  }

  /** The list as given (normalised), for messages and dialogs. */
  get allowedCount(): number {
    return this.rules.length;
  }

  /** Whether an address (no name) is in a range refused by default. */
  isRestricted(address: string): boolean {
    const v4 = mappedV4(address);
    if (v4) return this.denied.check(v4, 'ipv4');
    const family = isIP(address);
    if (family === 4) return this.denied.check(address, 'ipv4');
    if (family === 6) return this.denied.check(address, 'ipv6');
    return true;
  }

  /**
   * Resolves `host` once and returns the address to connect to, or refuses (E_HOST_DENIED) an
   * address in a restricted range whose host, address or range is not on the allowed list.
   * A name that does not resolve is refused with the same message (nothing is told apart).
   */
  async check(host: string, port: number, origin: string, shown: string): Promise<CheckedHost> {
    const name = host.replace(/^\[|\]$/g, '').toLowerCase();
    if (!name) throw this.refused(origin, shown);
    let address = name;
    let family = isIP(name);
    if (family === 0) {
      try {
        const found = await this.resolveHost(name);
        address = found.address;
        family = found.family;
      } catch {
        throw this.refused(origin, shown);
      }
    }
    const v4 = mappedV4(address);
    if (v4) {
      address = v4;
      family = 4;
    }
    if (family !== 4 && family !== 6) throw this.refused(origin, shown);
    if (this.isRestricted(address) && !this.allows(name, address, port)) throw this.refused(origin, shown);
    return { host: name, address, family: family as 4 | 6, port };
  }

  /**
   * Checks a URL's host and returns the URL with the checked address in place of the name
   * (for protocols whose connection ffmpeg opens itself: rtsp, rtmp, udp, tcp, srt).
   */
  async pin(url: string, origin: string, shown: string = url): Promise<{ url: string; checked: CheckedHost }> {
    const parsed = parseUrl(url);
    if (!parsed) throw this.refused(origin, shown);
    const checked = await this.check(parsed.hostname, portOf(parsed), origin, shown);
    if (parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase() === checked.address) return { url, checked };
    parsed.hostname = checked.family === 6 ? `[${checked.address}]` : checked.address;
    return { url: parsed.toString(), checked };
  }

  private allows(name: string, address: string, port: number): boolean {
    return this.rules.some((rule) => {
      if (rule.port !== undefined && rule.port !== port) return false;
      if (rule.name !== undefined) return rule.name === name;
      if (rule.suffix !== undefined) return name.endsWith(rule.suffix);
      return rule.range !== undefined && rule.range.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
    });
  }

  refused(origin: string, shown: string): FaceError {
    return new FaceError(
      'E_HOST_DENIED',
      `${origin}: ${redactUrl(shown)} is refused: a URL from a message may not reach loopback, private, link-local or multicast addresses, nor a host that does not resolve, unless ${this.setting} lists it`,
    );
  }
}

/** A URL with `user:password@` hidden. */
function redactUrl(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@');
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return DEFAULT_PORTS[url.protocol.replace(/:$/, '').toLowerCase()] ?? 0;
}

/** `::ffff:127.0.0.1` → `127.0.0.1` (an IPv4 address written as IPv6 is checked as IPv4). */
function mappedV4(address: string): string | undefined {
  const m = /^(?:::ffff:|::ffff:0:)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const a = parseInt(hex[1], 16);
    const b = parseInt(hex[2], 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return undefined;
}

function parseRule(text: string): HostRule {
  let value = text.trim().toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    value = bracketed[1];
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if ((value.match(/:/g) ?? []).length === 1) {
    const [host, p] = value.split(':');
    value = host;
    port = Number(p);
  }
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new FaceError('E_BAD_PARAMETER', `allowed host "${text}": the port must be 1–65535`);
  }
  const withPort = port === undefined ? {} : { port };
  const cidr = /^(.+)\/(\d{1,3})$/.exec(value);
  if (cidr && isIP(cidr[1])) {
    const family = isIP(cidr[1]) === 6 ? 'ipv6' : 'ipv4';
    const bits = Number(cidr[2]);
    if (bits > (family === 'ipv6' ? 128 : 32)) throw new FaceError('E_BAD_PARAMETER', `allowed host "${text}": /${bits} is not a prefix length`);
    const range = new BlockList();
    range.addSubnet(cidr[1], bits, family);
    return { range, ...withPort };
  }
  if (isIP(value)) {
    const range = new BlockList();
    range.addAddress(mappedV4(value) ?? value, isIP(mappedV4(value) ?? value) === 6 ? 'ipv6' : 'ipv4');
    return { range, ...withPort };
  }
  if (value.startsWith('*.') && value.length > 2) return { suffix: value.slice(1), ...withPort };
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(value)) {
    throw new FaceError('E_BAD_PARAMETER', `allowed host "${text}" is not a host name, an address or a CIDR range`);
  }
  return { name: value, ...withPort };
}

/** "one per line or comma-separated" dialog text → host list (blank lines and # comments ignored). */
export function hostsFromText(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  return text
    .split(/[\r\n,]+/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
}
