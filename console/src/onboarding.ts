// The first visit: a guided transcript, not a form. It explains a step, types its command at the
// prompt, and waits: Enter runs it (edit it first if you like), Ctrl-C leaves the tour. Project →
// app → env → config → secret → manifest → deploy → status, with names that are still free.
import { COMMANDS } from '../../cli/commands/index.ts';
import { ApiClient } from '../../cli/core/api-client.ts';
import { findCommand } from '../../cli/core/run.ts';
import type { Shell } from './shell.ts';
import { PROMPT } from './shell.ts';
import type { BrowserSettings } from './settings.ts';
import { splitWords } from './shell-words.ts';

const TOURED_KEY = 'berth.toured';
const TYPE_MS = 18;

interface Step {
  explain: string[];
  command: string;
}

export interface TourOptions {
  settings: BrowserSettings;
  storage: Pick<Storage, 'getItem' | 'setItem'>;
  /** Milliseconds per typed character (tests pass 0). */
  typeMs?: number;
}

export function toured(storage: Pick<Storage, 'getItem'>): boolean {
  return storage.getItem(TOURED_KEY) !== null;
}

export async function runTour(shell: Shell, options: TourOptions): Promise<void> {
  const session = shell.session;
  const dim = (text: string) => session.write(`\x1b[2m${text}\x1b[22m\n`);
  options.storage.setItem(TOURED_KEY, new Date().toISOString());
  session.write('\n\x1b[1mA first deploy, step by step.\x1b[22m Each step explains itself and types its command;\n');
  session.write('press \x1b[1mEnter\x1b[22m to run it (or edit it first), \x1b[1mCtrl-C\x1b[22m to leave the tour (`tour` starts it again).\n\n');
  let steps: Step[];
  try {
    steps = await planSteps(options.settings, shell.workspaceHasManifest());
  } catch (err) {
    session.write(`The tour could not read what exists yet: ${(err as Error).message}\n`);
    return;
  }
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const command = `berth ${step.command}`;
    dim(`# ${i + 1}/${steps.length} ${step.explain[0]}`);
    for (const more of step.explain.slice(1)) dim(`#      ${more}`);
    // The step is offered until its command succeeds; anything else typed meanwhile (cat, edit,
    // another command to look around) runs, and the step comes back.
    for (;;) {
      // Paused before the prompt shows: an Enter pressed early waits for the whole command.
      session.editor.pause();
      const answer = session.readLine(PROMPT);
      await typeInto(shell, command, options.typeMs ?? TYPE_MS);
      const result = await answer;
      if (!('line' in result)) {
        dim('# Tour stopped. `tour` starts it again; `help` lists everything.');
        return;
      }
      // In the transcript, --wait included: the tour follows the rollout before it shows status.
      const code = await shell.runLine(result.line, { inline: true });
      const isStep = sameCommand(result.line, command);
      if (isStep && code === 0) break;
      if (isStep) dim('# That did not work: the error above says why. Fix it (edit berth.yaml, …), then Enter runs the step again.');
    }
    session.write('\n');
  }
  dim('# Done: the app is deployed. Try next:');
  dim('#   berth logs --follow        (opens a panel; requests show up as they happen)');
  dim('#   berth exec -t -- sh        (a shell inside the instance, in its own panel)');
  dim('#   edit berth.yaml, then berth deploy --wait');
}

/** Types `text` at the prompt, one character at a time; keys pressed meanwhile wait until it is done. */
async function typeInto(shell: Shell, text: string, ms: number): Promise<void> {
  const editor = shell.session.editor;
  try {
    for (let n = 1; n <= text.length; n++) {
      editor.setLine(text.slice(0, n));
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    }
  } finally {
    editor.resume();
  }
}

async function planSteps(settings: BrowserSettings, hasManifest: boolean): Promise<Step[]> {
  const s = settings.read();
  const api = new ApiClient(s.api, s.token);
  const steps: Step[] = [];
  let org = s.org;
  if (!org) {
    const { orgs } = await api.get<{ orgs: { name: string }[] }>('/v1/orgs');
    org = free('acme', orgs);
    steps.push({ command: `orgs create ${org}`, explain: ['An org is where members, roles and billing live. Creating one selects it.'] });
  }
  const projects = steps.length ? [] : (await api.get<{ projects: { name: string }[] }>(`/v1/orgs/${org}/projects`)).projects;
  const project = free('shop', projects);
  const app = free('hello', []); // a new project has no apps yet
  steps.push(
    { command: `projects create ${project}`, explain: ['A project groups apps and their environments. Creating it selects it for the next commands.'] },
    {
      command: `init ${app}${hasManifest ? ' --force' : ''}`,
      explain: [
        'The manifest: what to run and how to reach it. init writes berth.yaml and a starter',
        `server.js into this console's workspace (ls, cat, edit)${hasManifest ? '; --force replaces the berth.yaml already there' : ''}.`,
      ],
    },
    { command: `apps create ${app}`, explain: ['An app is one program you deploy, with its own releases, config and secrets.'] },
    { command: 'envs create prod', explain: ['An env (prod, staging…) is where a release of the app runs: its instances, endpoints, logs.'] },
    { command: 'config set GREETING=ahoy', explain: ['Config is plain environment variables of the env.', 'Changes take effect with the next release, never behind your back.'] },
    { command: 'secrets set db PASSWORD=correct-horse-battery', explain: ['A secret bundle reaches instances as a file ($BERTH_SECRETS_DIR/db.json).', 'Values go in and never come back out: lists show names, versions and digests.'] },
    { command: 'deploy --wait', explain: ['deploy packs the workspace, creates an immutable release and rolls it out.', 'The receipt comes back at once; --wait follows the rollout to the end.'] },
    { command: 'status', explain: ['status shows desired beside current: release, instances, health, endpoints.'] },
  );
  return steps;
}

/** Runs the step's command, whatever names or flags were edited: `projects create mine` is step 1 too. */
function sameCommand(typed: string, command: string): boolean {
  const name = (line: string) => {
    const argv = splitWords(line);
    return findCommand(COMMANDS, argv[0] === 'berth' ? argv.slice(1) : argv).entry?.command;
  };
  try {
    return name(typed) !== undefined && name(typed) === name(command);
  } catch {
    return false;
  }
}

function free(base: string, taken: { name: string }[]): string {
  const names = new Set(taken.map((t) => t.name));
  if (!names.has(base)) return base;
  for (let n = 2; ; n++) if (!names.has(`${base}-${n}`)) return `${base}-${n}`;
}
