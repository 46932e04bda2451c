// Raw tar blocks for archives built to hurt: any typeflag, any declared size, no checks. Bombs are
// multi-member gzip (RFC 1952 §2.2): one compressed member of zeros is repeated, so a test builds
// a gigabyte-scale archive from a few megabytes in a few milliseconds.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface RawHeader {
  name: string;
  /** A typeflag character: '0' file, '5' directory, '2' symlink, 'L' GNU long name, 'x' pax, 'g' pax global… */
  typeflag: string;
  size: number;
  mode?: number;
  linkname?: string;
}

/** One 512-byte ustar header with a correct checksum. */
export function rawHeader(h: RawHeader): Buffer {
  const block = Buffer.alloc(512);
  block.write(h.name.slice(0, 100), 0, 'utf8');
  block.write(`${(h.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${h.size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(h.typeflag, 156, 'latin1');
  if (h.linkname) block.write(h.linkname.slice(0, 100), 157, 'utf8');
  block.write('ustar\x0000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** Data padded to whole blocks. */
export function blocks(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

/** One pax record (`<length> key=value\n`, the length counting itself). */
export function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return Buffer.from(`${length}${body}`);
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** Compressed `bytes` zeros, made once and reused as a gzip member. */
export function zerosMember(bytes: number): Buffer {
  return gzipSync(Buffer.alloc(bytes), { level: 9 });
}

export function artifact(members: Buffer[]): { bytes: Buffer; digest: string } {
  const bytes = Buffer.concat(members);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** A tar of plain parts (headers, data, end marker) as one gzip member. */
export function gzipParts(parts: Buffer[]): Buffer {
  return gzipSync(Buffer.concat(parts));
}
