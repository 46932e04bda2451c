// Where an env's log streams live on disk. Each instance writes its own stream,
// `<env dir>/<workload>/<instance>/app.log` rotated to `app.log.<n>` (workload-level system lines
// have the instance `-`), so that one instance's rotation never touches a sibling's files, as a
// CloudWatch log group has one log stream per task. Before per-instance streams, an env's lines
// all went to `<env dir>/app.log*`: that legacy stream is still read and aged out like any other,
// and nothing new is written to it, so an upgrade loses no lines and needs no migration step.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ACTIVE_FILE, segmentsOf } from './log-segment-writer.ts';

export interface LogStream {
  /** The dir holding the stream's `app.log` and its rotated files. */
  dir: string;
  /** Undefined for the legacy env-wide stream, which holds every workload and instance. */
  workload?: string;
  instance?: string;
}

/** The dir of one instance's stream; names are encoded so that no value can leave the env dir. */
export function streamDir(envDir: string, workload: string, instance: string): string {
  return path.join(envDir, encodeName(workload), encodeName(instance));
}

/** Every stream of an env that holds a file: the legacy one (the env dir itself) first. */
export function streamsOf(envDir: string): LogStream[] {
  const streams: LogStream[] = [];
  if (holdsLogFiles(safeReaddir(envDir))) streams.push({ dir: envDir });
  for (const workload of subdirs(envDir)) {
    for (const instance of subdirs(path.join(envDir, workload))) {
      const dir = path.join(envDir, workload, instance);
      if (holdsLogFiles(safeReaddir(dir))) streams.push({ dir, workload: decodeName(workload), instance: decodeName(instance) });
    }
  }
  return streams;
}

export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

function holdsLogFiles(names: string[]): boolean {
  return names.includes(ACTIVE_FILE) || segmentsOf(names).length > 0;
}

function subdirs(dir: string): string[] {
  return safeReaddir(dir).filter((name) => {
    try {
      return statSync(path.join(dir, name)).isDirectory();
    } catch {
      return false;
    }
  });
}

// Workload names are DNS labels and instance ids `i-…` today; the encoding is for whatever else
// reaches here: bytes outside [A-Za-z0-9_-] (the dot too, so `.` and `..` cannot occur) as %XX.
function encodeName(name: string): string {
  if (name === '') return '%';
  return [...Buffer.from(name, 'utf8')].map((b) => (/[A-Za-z0-9_-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function decodeName(name: string): string {
  if (name === '%') return '';
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
