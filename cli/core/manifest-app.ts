// The app named in ./berth.yaml: the default for commands that act on an app. A module of its own,
// imported lazily by run.ts, so only those commands load the YAML parser. The parser is imported
// statically here: a dynamic import('yaml') in the bundle yields only a CommonJS `default`, and
// reading `parse` off it failed silently (the app fell back to the saved selection).
import { parse } from 'yaml';
import type { Host } from './command.ts';

export async function appFromManifest(host: Host): Promise<string | undefined> {
  const file = host.resolvePath('berth.yaml');
  if (!(await host.fileExists(file))) return undefined;
  const text = await host.readFile(file);
  try {
    const doc = parse(text) as { app?: unknown };
    return typeof doc?.app === 'string' ? doc.app : undefined;
  } catch {
    return undefined; // `deploy` reports manifest errors properly; here it is only a default
  }
}
