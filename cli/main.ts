// The Node entry of the CLI: wires the real terminal, files and network into the command layer.
import { VERSION } from '../functions/version.ts';
import { COMMANDS } from './commands/index.ts';
import { runCli } from './core/run.ts';
import { nodeHost } from './lib/node-host.ts';
import { FileSettingsStore, findHome } from './lib/settings.ts';

const cwd = process.cwd();
const code = await runCli(process.argv.slice(2), {
  commands: COMMANDS,
  version: VERSION,
  host: nodeHost(cwd),
  settings: new FileSettingsStore(findHome(cwd, process.env), process.env),
  writers: {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    noColor: Boolean(process.env.NO_COLOR) || process.env.TERM === 'dumb',
  },
});
// Let stdout drain before leaving: piped output must not be cut.
process.stdout.write('', () => process.exit(code));
