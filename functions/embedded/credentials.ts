// Where the embedded platform leaves its URL and the owner token for the CLI on this machine:
// `<home>/credentials.json`, mode 0600. The CLI reads the same file (cli/lib/config.ts).
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalCredentials {
  api: string;
  token: string;
}

export const credentialsPath = (home: string): string => join(home, 'credentials.json');

export function readCredentials(home: string): LocalCredentials | undefined {
  const file = credentialsPath(home);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalCredentials) : undefined;
}

export function writeCredentials(home: string, credentials: LocalCredentials): void {
  writeFileSync(credentialsPath(home), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a file it creates; one left by an older version is tightened.
  chmodSync(credentialsPath(home), 0o600);
}
