// The release snapshot's format, shared by the CLI (files on disk, cli/lib/pack-snapshot.ts) and the
// web console (its in-browser workspace): a deterministic gzipped ustar archive whose sha256 is its
// identity. Same tree in, same bytes out, on any machine and in any browser: entries sorted by
// path, mtime 0, owner 0/0 with no names, and a gzip header without file name or timestamp.
//
// Written without Node APIs so that both packers run this very code. The tar headers are laid out
// byte for byte as tar-stream writes them (the server reads them with its own streaming reader,
// functions/drivers/local/tar-reader.ts). Compression is fflate, pinned to an exact version in
// package.json, not node:zlib: Node's zlib is Chromium's fork, whose deflate output differs from
// canonical zlib (and from the browsers' CompressionStream) for the same input, so only one shared
// compressor gives the CLI and the console the same digest.
import { gzipSync } from 'fflate';
import { InvalidInputError } from '../../functions/core/errors.ts';
import { sha256 } from './ssm/sha256.ts';

export const SNAPSHOT_LIMIT_BYTES = 200 * 1024 * 1024;
export const IGNORE_FILE = '.berthignore';

export interface PackedSnapshot {
  /** `sha256:<hex>` of `bytes`. */
  digest: string;
  /** The gzipped tar. */
  bytes: Uint8Array;
  /** Entries that are not directories (regular files and symlinks). */
  files: number;
  /** Total bytes of file contents before compression. */
  size: number;
}

export interface SnapshotEntry {
  /** Relative, `/`-separated. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (`0o755`). */
  mode: number;
  size: number;
  linkname?: string;
}

/** Checks a walked tree before anything is read: size limit, and symlinks that stay inside. */
export function checkSnapshotEntries(dir: string, entries: SnapshotEntry[]): void {
  assertWithinLimit(dir, entries);
  assertSymlinksInside(entries);
}

/** Code-unit order, not localeCompare: the order must not depend on the machine's locale. */
export function sortEntries<T extends { path: string }>(entries: T[]): T[] {
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Archives sorted entries; `read` gives a file's bytes (the CLI reads the disk, the console its
 * workspace). Resolves with the gzipped tar and its digest.
 */
export async function archiveSnapshot(entries: SnapshotEntry[], read: (path: string) => Promise<Uint8Array>): Promise<PackedSnapshot> {
  const blocks: Uint8Array[] = [];
  let size = 0;
  for (const e of entries) {
    const data = e.type === 'file' ? await read(e.path) : undefined;
    const header = { name: e.path, type: e.type, mode: e.mode, size: data?.byteLength ?? 0, linkname: e.linkname ?? '' };
    blocks.push(...encodeHeader(header));
    if (data) {
      size += data.byteLength;
      blocks.push(data, padding(data.byteLength));
    }
  }
  blocks.push(new Uint8Array(1024));
  const bytes = gzipSync(concat(blocks), { level: 6, mtime: 0 });
  // The OS byte of the gzip header (RFC 1952 §2.3), pinned: fflate writes 3 (Unix) today, and a
  // snapshot's bytes must never depend on where it was packed.
  bytes[9] = 3;
  return { digest: `sha256:${await sha256Hex(bytes)}`, bytes, files: entries.filter((e) => e.type !== 'directory').length, size };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // crypto.subtle exists in Node and in a browser's secure contexts (https, localhost); a console
  // opened over plain http on another address has none, and gets the synchronous implementation.
  const digest = globalThis.crypto?.subtle ? new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)) : sha256(bytes);
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- tar (ustar), as tar-stream 3 encodes it: headers.js `encode`, pack.js `_encodePax` ----

interface TarHeader {
  name: string;
  type: SnapshotEntry['type'] | 'pax-header';
  mode: number;
  size: number;
  linkname: string;
}

const TYPEFLAG = { file: 0, symlink: 2, directory: 5, 'pax-header': 72 } as const;
const utf8 = new TextEncoder();

/** One 512-byte header, or a pax header and its records first when a name does not fit ustar. */
function encodeHeader(h: TarHeader): Uint8Array[] {
  const plain = ustarHeader(h);
  if (plain) return [plain];
  const records = paxRecords(h.name, h.linkname);
  const pax = { name: 'PaxHeader', mode: h.mode, size: records.byteLength, type: 'pax-header' as const, linkname: h.linkname && 'PaxHeader' };
  return [ustarHeader(pax)!, records, padding(records.byteLength), ustarHeader({ ...pax, size: h.size, type: h.type })!];
}

function ustarHeader(h: TarHeader): Uint8Array | undefined {
  const buf = new Uint8Array(512);
  let name = h.name;
  let prefix = '';
  if (utf8.encode(name).byteLength !== name.length) return undefined; // not ASCII: pax
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (name.length > 100 || prefix.length > 155) return undefined;
  if (h.linkname && utf8.encode(h.linkname).byteLength > 100) return undefined;
  write(buf, name, 0);
  write(buf, octal(h.mode & 0o7777, 6), 100);
  write(buf, octal(0, 6), 108); // uid
  write(buf, octal(0, 6), 116); // gid
  writeSize(buf, h.size, 124);
  write(buf, octal(0, 11), 136); // mtime
  buf[156] = 0x30 + TYPEFLAG[h.type];
  if (h.linkname) write(buf, h.linkname, 157);
  buf.set([0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30], 257); // "ustar\0" "00"
  write(buf, octal(0, 6), 329); // devmajor
  write(buf, octal(0, 6), 337); // devminor
  if (prefix) write(buf, prefix, 345);
  write(buf, octal(checksum(buf), 6), 148);
  return buf;
}

function paxRecords(name: string, linkname: string): Uint8Array {
  let text = record(` path=${name}\n`);
  if (linkname) text += record(` linkpath=${linkname}\n`);
  return utf8.encode(text);
}

/** A pax record is prefixed by its own length in bytes, that prefix included. */
function record(body: string): string {
  const len = utf8.encode(body).byteLength;
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return `${len + digits}${body}`;
}

function octal(value: number, width: number): string {
  const s = value.toString(8);
  if (s.length > width) return `${'7'.repeat(width)} `;
  return `${'0'.repeat(width - s.length)}${s} `;
}

/** Sizes beyond 11 octal digits (8 GiB) use the base-256 form. */
function writeSize(buf: Uint8Array, size: number, offset: number): void {
  if (size.toString(8).length <= 11) return write(buf, octal(size, 11), offset);
  buf[offset] = 0x80;
  for (let i = 11, n = size; i > 0; i--, n = Math.floor(n / 0x100)) buf[offset + i] = n & 0xff;
}

function checksum(buf: Uint8Array): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += buf[i]!;
  for (let i = 156; i < 512; i++) sum += buf[i]!;
  return sum;
}

function write(buf: Uint8Array, text: string, offset: number): void {
  buf.set(utf8.encode(text).subarray(0, buf.length - offset), offset);
}

function padding(size: number): Uint8Array {
  const rest = size & 511;
  return new Uint8Array(rest ? 512 - rest : 0);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

// ---- limits and links ----

function assertWithinLimit(dir: string, entries: SnapshotEntry[]): void {
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total <= SNAPSHOT_LIMIT_BYTES) return;
  const byTop = new Map<string, number>();
  for (const e of entries) {
    const top = e.path.split('/')[0]!;
    byTop.set(top, (byTop.get(top) ?? 0) + e.size);
  }
  const largest = [...byTop.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([path, size]) => ({ path, size }));
  throw new InvalidInputError(
    'snapshot-too-large',
    `the app directory "${dir}" holds ${mib(total)} of files, over the ${mib(SNAPSHOT_LIMIT_BYTES)} snapshot limit; ` +
      `the largest are ${largest.map((l) => `${l.path} (${mib(l.size)})`).join(', ')}. ` +
      `List what the app does not need at run time in ${IGNORE_FILE} (one pattern per line, e.g. "dist/" or "*.log")`,
    { details: { size: total, limit: SNAPSHOT_LIMIT_BYTES, largest } },
  );
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// A link that leaves the snapshot would point at whatever the running machine has there; unpack
// refuses such artifacts, so say so here, where the fix (ignore it, or make it relative) is at hand.
function assertSymlinksInside(entries: SnapshotEntry[]): void {
  const outside = entries.filter((e) => e.type === 'symlink' && !linkStaysInside(e.path, e.linkname!));
  if (outside.length === 0) return;
  const shown = outside.slice(0, 5).map((e) => `${e.path} -> ${e.linkname}`);
  const more = outside.length > shown.length ? ` and ${outside.length - shown.length} more` : '';
  throw new InvalidInputError(
    'snapshot-symlink-outside',
    `symlinks point outside the app directory: ${shown.join(', ')}${more}; ` +
      `make them relative links inside the app, or list them in ${IGNORE_FILE} (e.g. ".venv/")`,
    { details: outside.map((e) => ({ path: e.path, target: e.linkname })) },
  );
}

function linkStaysInside(path: string, linkname: string): boolean {
  if (linkname === '' || linkname.startsWith('/') || /^[A-Za-z]:[\\/]/.test(linkname)) return false;
  const parts: string[] = [];
  for (const segment of `${path.split('/').slice(0, -1).join('/')}/${linkname}`.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') parts.push(segment);
    else if (!parts.length) return false;
    else parts.pop();
  }
  return true;
}

// ---- .berthignore ----

interface IgnoreRule {
  re: RegExp;
  dirOnly: boolean;
  negate: boolean;
}

// Never part of a snapshot, whatever `.berthignore` says: history and Berth's own local state.
const ALWAYS_IGNORED = [/^(?:.*\/)?\.git$/, /^(?:.*\/)?\.berth$/];

/**
 * Compiles `.berthignore` text into a matcher of relative `/`-separated paths. One pattern per line;
 * `#` starts a comment; `*` matches within a segment, `**` across segments, a trailing `/` matches
 * directories only, a leading `/` anchors at the root, and an unanchored pattern matches at any
 * depth. `!pattern` re-includes what an earlier line excluded (the last matching line wins), as in
 * .gitignore; anything under an excluded directory stays excluded.
 */
export function ignoreMatcher(text: string): (path: string, isDir: boolean) => boolean {
  const rules = text.split(/\r?\n/).flatMap((line) => {
    const rule = parseIgnoreLine(line);
    return rule ? [rule] : [];
  });
  return (path, isDir) => {
    if (ALWAYS_IGNORED.some((re) => re.test(path))) return true;
    let ignored = false;
    for (const rule of rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.re.test(path)) ignored = !rule.negate;
    }
    return ignored;
  };
}

function parseIgnoreLine(line: string): IgnoreRule | undefined {
  let pattern = line.replace(/\s+$/, '');
  if (pattern === '' || pattern.startsWith('#')) return undefined;
  let negate = false;
  if (pattern.startsWith('!')) {
    negate = true;
    pattern = pattern.slice(1);
  } else if (pattern.startsWith('\\#') || pattern.startsWith('\\!')) {
    pattern = pattern.slice(1);
  }
  const dirOnly = pattern.endsWith('/');
  if (dirOnly) pattern = pattern.replace(/\/+$/, '');
  const anchored = pattern.startsWith('/');
  if (anchored) pattern = pattern.replace(/^\/+/, '');
  if (pattern === '') return undefined;
  const body = globToRegExpSource(pattern);
  return { re: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`), dirOnly, negate };
}

function globToRegExpSource(glob: string): string {
  const segments = glob.split('/');
  return segments
    .map((segment, i) => {
      const last = i === segments.length - 1;
      if (segment === '**') return last ? '.*' : '(?:[^/]*/)*';
      const source = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '[^/]*').replace(/\?/g, '[^/]');
      return last ? source : `${source}/`;
    })
    .join('');
}
