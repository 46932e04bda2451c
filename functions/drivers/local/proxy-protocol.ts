// PROXY protocol version 2 (binary), as an NLB with proxy protocol enabled sends it, so an app sees
// the same first bytes embedded and on AWS. Only what a TCP proxy needs: the PROXY command with
// TCP over IPv4/IPv6; TLVs are skipped when decoding.
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt (section 2.2)

/** The 12-byte signature every v2 header starts with. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Signature (12) + version/command (1) + family/protocol (1) + address block length (2). */
const FIXED_PART = 16;
const VERSION_2_PROXY = 0x21;
const VERSION_2_LOCAL = 0x20;
const TCP_OVER_IPV4 = 0x11;
const TCP_OVER_IPV6 = 0x21;
const ADDRESS_BLOCK = { IPv4: 12, IPv6: 36 } as const;

export type ProxyFamily = 'IPv4' | 'IPv6';

export interface ProxyAddresses {
  family: ProxyFamily;
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
}

export interface DecodedProxyHeader extends ProxyAddresses {
  /** The header bytes (signature through the end of the address block and TLVs). */
  header: Buffer;
  /** Bytes the header occupies at the start of the stream; application data follows. */
  length: number;
}

/** The buffer starts like a PROXY v2 header but ends before the header does; read more and retry. */
export class TruncatedProxyHeaderError extends Error {
  readonly received: number;
  readonly needed: number;

  constructor(received: number, needed: number) {
    super(`truncated PROXY v2 header: received ${received} bytes, the header needs at least ${needed}; read more of the stream and decode again`);
    this.name = 'TruncatedProxyHeaderError';
    this.received = received;
    this.needed = needed;
  }
}

/** Builds a PROXY v2 header (PROXY command, TCP) for one connection. */
export function encodeProxyV2Header(addresses: ProxyAddresses): Buffer {
  const { family } = addresses;
  if (family !== 'IPv4' && family !== 'IPv6') throw new Error(`PROXY v2 family must be "IPv4" or "IPv6", received ${JSON.stringify(family)}`);
  const blockLength = ADDRESS_BLOCK[family];
  const out = Buffer.alloc(FIXED_PART + blockLength);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = VERSION_2_PROXY;
  out[13] = family === 'IPv4' ? TCP_OVER_IPV4 : TCP_OVER_IPV6;
  out.writeUInt16BE(blockLength, 14);
  const toBytes = family === 'IPv4' ? ipv4AddressBytes : ipv6AddressBytes;
  const size = family === 'IPv4' ? 4 : 16;
  toBytes(addresses.sourceAddress).copy(out, FIXED_PART);
  toBytes(addresses.destinationAddress).copy(out, FIXED_PART + size);
  out.writeUInt16BE(checkPort(addresses.sourcePort, 'sourcePort'), FIXED_PART + 2 * size);
  out.writeUInt16BE(checkPort(addresses.destinationPort, 'destinationPort'), FIXED_PART + 2 * size + 2);
  return out;
}

/**
 * Reads a PROXY v2 header from the start of `buf`. Returns null when `buf` does not start with the
 * v2 signature (plain data, or a v1 text header); throws TruncatedProxyHeaderError when it starts
 * like one but is cut short, and an Error for a header this decoder does not support.
 */
export function decodeProxyV2Header(buf: Uint8Array): DecodedProxyHeader | null {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const compared = Math.min(bytes.length, PROXY_V2_SIGNATURE.length);
  if (!bytes.subarray(0, compared).equals(PROXY_V2_SIGNATURE.subarray(0, compared))) return null;
  if (bytes.length < FIXED_PART) throw new TruncatedProxyHeaderError(bytes.length, FIXED_PART);

  const versionCommand = bytes[12]!;
  if (versionCommand !== VERSION_2_PROXY) {
    const what = versionCommand === VERSION_2_LOCAL ? 'the LOCAL command (health check from the proxy itself)' : `version/command byte 0x${hex(versionCommand)}`;
    throw new Error(`unsupported PROXY v2 header: ${what}; only version 2 with the PROXY command (0x21) is supported`);
  }
  const familyProtocol = bytes[13]!;
  // The low nibble is the transport (1 = STREAM, 2 = DGRAM); the addresses are laid out the same.
  const family: ProxyFamily | undefined = familyProtocol >> 4 === 1 ? 'IPv4' : familyProtocol >> 4 === 2 ? 'IPv6' : undefined;
  if (family === undefined || ![1, 2].includes(familyProtocol & 0x0f)) {
    throw new Error(`unsupported PROXY v2 family/protocol byte 0x${hex(familyProtocol)}; supported: 0x11 (TCP over IPv4) and 0x21 (TCP over IPv6)`);
  }
  const declared = bytes.readUInt16BE(14);
  const blockLength = ADDRESS_BLOCK[family];
  if (declared < blockLength) {
    throw new Error(`invalid PROXY v2 header: address block length ${declared} is shorter than the ${blockLength} bytes ${family} addresses need`);
  }
  const length = FIXED_PART + declared;
  if (bytes.length < length) throw new TruncatedProxyHeaderError(bytes.length, length);

  const size = family === 'IPv4' ? 4 : 16;
  const format = family === 'IPv4' ? formatIPv4 : formatIPv6;
  return {
    header: Buffer.from(bytes.subarray(0, length)),
    family,
    sourceAddress: format(bytes.subarray(FIXED_PART, FIXED_PART + size)),
    destinationAddress: format(bytes.subarray(FIXED_PART + size, FIXED_PART + 2 * size)),
    sourcePort: bytes.readUInt16BE(FIXED_PART + 2 * size),
    destinationPort: bytes.readUInt16BE(FIXED_PART + 2 * size + 2),
    length,
  };
}

/** 4 bytes of an IPv4 address; accepts the IPv4-mapped IPv6 form (`::ffff:1.2.3.4`) a dual-stack socket reports. */
function ipv4AddressBytes(address: string): Buffer {
  const dotted = parseIPv4(address);
  if (dotted) return dotted;
  const v6 = parseIPv6(address);
  if (v6 && isIPv4Mapped(v6)) return v6.subarray(12);
  throw new Error(`not an IPv4 address: ${JSON.stringify(address)}; expected dotted quads such as 203.0.113.7`);
}

/** 16 bytes of an IPv6 address; a plain IPv4 address is written IPv4-mapped (`::ffff:a.b.c.d`). */
function ipv6AddressBytes(address: string): Buffer {
  const v6 = parseIPv6(address);
  if (v6) return v6;
  const dotted = parseIPv4(address);
  if (dotted) return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), dotted]);
  throw new Error(`not an IPv6 address: ${JSON.stringify(address)}; expected a form such as 2001:db8::7 or ::1`);
}

/** Parses dotted-quad IPv4 (no leading zeros, which some stacks read as octal); null when it is not one. */
export function parseIPv4(address: string): Buffer | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null;
    out[i] = Number(part);
  }
  return out;
}

/**
 * Parses an IPv6 address in any RFC 4291 text form (`::1`, `fe80::1%eth0`, `2001:db8:0:0:0:0:0:1`,
 * `::ffff:1.2.3.4`) into 16 bytes; null when it is not one. The zone id (`%eth0`) is dropped: it has
 * no place in the header.
 */
export function parseIPv6(address: string): Buffer | null {
  const text = address.replace(/%[^%]+$/, '');
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(group, 2 * i));
  return out;
}

/** The 16-bit groups of one side of `::`; the last group may be dotted IPv4 when `mayEndInIPv4`. */
function groupsOf(side: string, mayEndInIPv4: boolean): number[] | null {
  if (side === '') return [];
  const parts = side.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (mayEndInIPv4 && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (!v4) return null;
      groups.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function isIPv4Mapped(v6: Buffer): boolean {
  return v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
}

function formatIPv4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIPv6(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  if (isIPv4Mapped(b)) return `::ffff:${formatIPv4(b.subarray(12))}`;
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart < 0) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLength).join(':')}`;
}

function checkPort(port: number, field: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PROXY v2 ${field} must be an integer 0–65535, received ${port}`);
  return port;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
