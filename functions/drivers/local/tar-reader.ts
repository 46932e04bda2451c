// A streaming tar reader (ustar, GNU long names and base-256 sizes, pax) for archives that come
// from outside. It pulls the inflated stream one chunk at a time and yields each entry with a body
// to stream, so memory holds one chunk and one header whatever the archive says. Written here
// rather than using tar-stream's extractor: that one buffers a long-name or pax header of up to
// 4 MiB (a fixed, unnamed limit) and cannot be told to refuse by declared size before reading.
// Formats: POSIX pax (IEEE 1003.1-2017, `pax`), https://www.gnu.org/software/tar/manual/html_node/Standard.html

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'block-device' | 'fifo' | 'unknown';

export interface TarEntry {
  /** As the archive spells it (long-name and pax overrides applied), not yet checked. */
  name: string;
  linkname: string;
  type: TarEntryType;
  /** The raw typeflag character, for messages about unknown types. */
  typeflag: string;
  mode: number;
  size: number;
}

export interface TarReadLimits {
  /** Bytes of the inflated stream in all: headers, contents and padding. */
  maxInflatedBytes: number;
  /** Bytes of one GNU long-name or pax header: it is held whole to be decoded. */
  maxHeaderBytes: number;
}

/** The archive asks for more than a limit allows; `limit` names the field of TarReadLimits. */
export class TarLimitError extends Error {
  constructor(
    readonly limit: keyof TarReadLimits,
    readonly value: number,
    message: string,
  ) {
    super(message);
  }
}

/** The bytes are not a tar archive, or it is cut short. */
export class TarFormatError extends Error {}

const BLOCK = 512;
const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/**
 * Yields the archive's entries in order. Each body must be read or left before asking for the next
 * entry (what is left is skipped). Stops at the first zero block, as GNU tar does: whatever
 * follows the end of the archive is never inflated.
 */
export async function* readTar(inflated: AsyncIterable<Buffer>, limits: TarReadLimits): AsyncGenerator<{ entry: TarEntry; body: AsyncGenerator<Buffer> }> {
  const source = new ByteSource(inflated[Symbol.asyncIterator](), limits.maxInflatedBytes);
  let global: Record<string, string> = {};
  let pending: { path?: string; linkpath?: string; pax?: Record<string, string> } = {};
  for (;;) {
    const block = await source.take(BLOCK);
    if (!block) {
      if (Object.keys(pending).length) throw new TarFormatError('the archive ends after an extended header, before its entry');
      return;
    }
    if (block.every((b) => b === 0)) return;
    const header = decodeHeader(block, source.position - BLOCK);
    const kind = EXTENDED[header.typeflag];
    if (kind) {
      if (header.size > limits.maxHeaderBytes) {
        throw new TarLimitError('maxHeaderBytes', limits.maxHeaderBytes, `a ${kind} header of ${header.size} bytes is over the ${limits.maxHeaderBytes}-byte limit for one header`);
      }
      const data = header.size === 0 ? Buffer.alloc(0) : await source.take(header.size);
      if (!data) throw new TarFormatError(`the archive ends inside a ${kind} header`);
      await source.skip(padding(header.size));
      if (header.typeflag === 'L') pending.path = cString(data, 0, data.length);
      else if (header.typeflag === 'K') pending.linkpath = cString(data, 0, data.length);
      else if (header.typeflag === 'x') pending.pax = decodePax(data);
      else global = { ...global, ...decodePax(data) };
      continue;
    }
    // pax records override GNU long names, which override the ustar fields (as GNU tar reads them).
    const pax = { ...global, ...pending.pax };
    const entry: TarEntry = {
      ...header,
      name: pax.path ?? pending.path ?? header.name,
      linkname: pax.linkpath ?? pending.linkpath ?? header.linkname,
      size: pax.size !== undefined ? paxSize(pax.size) : header.size,
    };
    pending = {};
    // Refused on what the header declares, before a byte of it is inflated or written.
    if (entry.size + padding(entry.size) > limits.maxInflatedBytes - source.position) {
      throw new TarLimitError('maxInflatedBytes', limits.maxInflatedBytes, `entry "${clip(entry.name)}" declares ${entry.size} bytes, which takes the archive past ${limits.maxInflatedBytes} inflated bytes`);
    }
    let remaining = entry.size;
    const body = (async function* () {
      for await (const chunk of source.stream(remaining)) {
        remaining -= chunk.length;
        yield chunk;
      }
    })();
    yield { entry, body };
    await source.skip(remaining + padding(entry.size));
  }
}

const EXTENDED: Record<string, string> = { L: 'GNU long-name', K: 'GNU long-link', x: 'pax', g: 'pax global' };

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a plain file everywhere but on one long-gone system
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

function decodeHeader(block: Buffer, offset: number): Omit<TarEntry, 'type'> & { type: TarEntryType } {
  const stored = number(block, 148, 8, offset, 'checksum');
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += block[i]!;
    signed += (block[i]! << 24) >> 24;
  }
  if (stored !== unsigned && stored !== signed) throw new TarFormatError(`the header at byte ${offset} has a bad checksum: the archive is damaged or not a tar`);
  const typeflag = String.fromCharCode(block[156]!);
  let name = cString(block, 0, 100);
  // POSIX ustar splits long paths into prefix and name; GNU's "ustar  " uses that space otherwise.
  if (block.toString('latin1', 257, 263) === 'ustar\0') {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  let type = TYPES[typeflag] ?? 'unknown';
  // Pre-POSIX archives mark directories by a trailing slash on a plain file.
  if (type === 'file' && typeflag !== '7' && name.endsWith('/')) type = 'directory';
  return {
    name,
    linkname: cString(block, 157, 100),
    type,
    typeflag,
    mode: number(block, 100, 8, offset, 'mode') & 0o7777,
    size: number(block, 124, 12, offset, 'size'),
  };
}

/** An octal field, or GNU's base-256 form (high bit set) for values octal cannot hold. */
function number(block: Buffer, start: number, length: number, offset: number, field: string): number {
  const bytes = block.subarray(start, start + length);
  if (bytes[0]! & 0x80) {
    if (bytes[0] === 0xff) throw new TarFormatError(`the header at byte ${offset} has a negative ${field}`);
    let value = bytes[0]! & 0x7f;
    for (let i = 1; i < bytes.length; i++) {
      value = value * 256 + bytes[i]!;
      if (!Number.isSafeInteger(value)) throw new TarFormatError(`the header at byte ${offset} has a ${field} too large to be real`);
    }
    return value;
  }
  const text = bytes.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`the header at byte ${offset} has a ${field} that is not a number ("${text}")`);
  return parseInt(text, 8);
}

function cString(buf: Buffer, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + length ? start + length : end);
}

/** pax records: `<length> <key>=<value>\n`, the length counting the whole record. */
function decodePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let i = 0;
  while (i < data.length && data[i] !== 0) {
    const space = data.indexOf(0x20, i);
    const digits = space === -1 ? '' : data.toString('latin1', i, space);
    const length = /^[0-9]{1,10}$/.test(digits) ? Number(digits) : NaN;
    if (!(length > space - i + 1) || i + length > data.length || data[i + length - 1] !== 0x0a) throw new TarFormatError(`a pax record at byte ${i} of its header is malformed`);
    const record = data.toString('utf8', space + 1, i + length - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new TarFormatError(`a pax record at byte ${i} of its header has no key`);
    // Object.create(null) semantics without the prototype: a key like "__proto__" is just a key.
    Object.defineProperty(records, record.slice(0, eq), { value: record.slice(eq + 1), enumerable: true, configurable: true, writable: true });
    i += length;
  }
  return records;
}

function paxSize(text: string): number {
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new TarFormatError(`a pax size record "${clip(text)}" is not a byte count`);
  return Number(text);
}

/** Archive names in messages: a 4 KiB path says nothing more than its first 200 characters. */
export function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The inflated stream as exact reads, counting every byte against the inflated-bytes limit. */
class ByteSource {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pulled = 0;

  constructor(
    private readonly source: AsyncIterator<Buffer>,
    private readonly maxBytes: number,
  ) {}

  /** Bytes handed out so far. */
  get position(): number {
    return this.pulled - this.buffered;
  }

  /** Exactly `n` bytes; undefined when the stream had already ended. */
  async take(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return undefined;
      throw new TarFormatError(`the archive is cut short at byte ${this.pulled}`);
    }
    const parts: Buffer[] = [];
    for (let left = n; left > 0; ) {
      const part = this.shift(left);
      parts.push(part);
      left -= part.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** `n` bytes as they arrive, without gathering them. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0; ) {
      if (!(await this.fill(1))) throw new TarFormatError(`the archive is cut short at byte ${this.pulled}, inside an entry`);
      const part = this.shift(left);
      left -= part.length;
      yield part;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n));
  }

  private shift(max: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length <= max) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.buffered -= max;
    return first.subarray(0, max);
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) {
      const next = await this.source.next();
      if (next.done) return false;
      const chunk = next.value;
      this.pulled += chunk.length;
      if (this.pulled > this.maxBytes) throw new TarLimitError('maxInflatedBytes', this.maxBytes, `the archive inflates past ${this.maxBytes} bytes`);
      if (chunk.length) {
        this.chunks.push(chunk);
        this.buffered += chunk.length;
      }
    }
    return true;
  }
}
