// The console's SettingsStore: the API is the origin that served the page, the token and the
// selections (org, project, app, env) live in this browser's localStorage. No BERTH_* variables.
import type { CliSettings, SettingsStore } from '../../cli/core/command.ts';

const STORAGE_KEY = 'berth.settings';

export class BrowserSettings implements SettingsStore {
  readonly location = "this browser's local storage";

  constructor(
    private readonly api: string,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
  ) {}

  read(): CliSettings {
    return { ...this.saved(), api: this.api };
  }

  variables(): CliSettings {
    return {};
  }

  async save(change: Partial<CliSettings>): Promise<void> {
    const next: Record<string, string | undefined> = { ...this.saved(), ...change };
    delete next.api;
    // `undefined` means forget (logout clears the token, a login into another org the selections).
    for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
    this.storage.setItem(STORAGE_KEY, JSON.stringify(next));
  }

  signedIn(): boolean {
    return Boolean(this.saved().token);
  }

  private saved(): CliSettings {
    try {
      return JSON.parse(this.storage.getItem(STORAGE_KEY) ?? '{}') as CliSettings;
    } catch {
      return {};
    }
  }
}
