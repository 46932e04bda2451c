// Figure 6: log lines per second from a 200k-line history, stage by stage and end to end.
//   read   the embedded log store (functions/drivers/local/log-files.ts) returning the whole history;
//          floor: readFile + split + JSON.parse of the same file.
//   render the CLI's printing of those lines (cli/commands/logs.ts: `--json` via Output.jsonLine,
//          text via formatLogLine + Output.line); floor: JSON.stringify / plain concatenation.
//   berth  `berth logs [--json] -n 10000`, the real CLI in this process against the embedded API
//          (10,000 is the API's cap per request); floor: the same 10,000 lines served pre-serialized
//          by a bare node:http server, fetched, parsed and printed with JSON.stringify/concatenation.
// Printing goes to a sink that counts characters, the same for Berth and floor.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatLogLine } from '../cli/commands/logs.ts';
import { Output } from '../cli/core/output.ts';
import type { EnvRef, LogLevel, LogLine } from '../functions/core/ports.ts';
import { FileLogStore } from '../functions/drivers/local/log-files.ts';
import { progress, runAsScript, timeMs, type FigureResult } from './lib/figure.ts';
import { makeRow, type Row } from './lib/report.ts';
import { createReadyEnv, startBenchPlatform } from './support/bench-platform.ts';
import { inProcessCli } from './support/cli-in-process.ts';

const HISTORY = Number(process.env.BENCH_LOG_LINES ?? 200_000);
const PAGE = 10_000;
const RUNS = 4;
const GOAL = 100_000;

/** A plausible app history: mostly request logs, some warnings and errors, a few platform lines. */
export function historyLine(i: number, start: number): LogLine {
  const level: LogLevel = i % 97 === 0 ? 'error' : i % 31 === 0 ? 'warn' : i % 7 === 0 ? 'debug' : 'info';
  const system = i % 50 === 0;
  return {
    ts: new Date(start + i * 3).toISOString(),
    source: system ? 'system' : 'app',
    workload: i % 3 ? 'web' : 'worker',
    instance: `i-${(0x3f2a1b90 + (i % 4)).toString(16)}`,
    level,
    message: system ? `healthy: http GET / answered 200 in ${i % 40} ms` : `GET /api/orders/${i} 200 ${(i * 7) % 250}ms user=u-${i % 1000} ua="Mozilla/5.0" bytes=${(i * 13) % 9000}`,
  };
}

/** Characters printed; a stand-in for stdout that costs the same for Berth and its floor. */
function sink() {
  const counter = { chars: 0 };
  const writers = { stdout: (t: string) => void (counter.chars += t.length), stderr: () => undefined, stdoutIsTTY: false, stderrIsTTY: false, noColor: true };
  return { counter, writers };
}

/**
 * Lines per second of `berth` and of its `floor`, timed in turn (`runs` each, after one untimed run
 * of both), so that noise from the neighbours lands on both alike.
 */
async function rates(lines: number, runs: number, berth: () => unknown, floor: () => unknown): Promise<{ berth: number[]; floor: number[] }> {
  await berth();
  await floor();
  const out = { berth: [] as number[], floor: [] as number[] };
  for (let i = 0; i < runs; i++) {
    out.berth.push(lines / ((await timeMs(berth)) / 1000));
    out.floor.push(lines / ((await timeMs(floor)) / 1000));
  }
  return out;
}

export async function measure(): Promise<FigureResult> {
  const bp = await startBenchPlatform();
  let bare: Server | undefined;
  try {
    const ref: EnvRef = { org: 'bench', project: 'shop', app: 'web', env: 'prod' };
    await createReadyEnv(bp, ref);
    const store = bp.platform.deps.logs as FileLogStore;
    progress(`figure 6: writing a ${HISTORY.toLocaleString('en-US')}-line history through the log store`);
    const start = Date.now() - HISTORY * 3 - 60_000;
    // The store already holds the env's system lines; the history comes after them.
    const before = (await store.query(ref, {})).length;
    // In slices with a flush between: the store queues at most 8 MiB for the disk and drops past
    // that, as it would for an app writing faster than the disk takes.
    for (let i = 0; i < HISTORY; i++) {
      store.append(ref, historyLine(i, start));
      if (i % 10_000 === 9_999) await store.flush();
    }
    await store.flush();
    const total = before + HISTORY;

    progress('figure 6: store read, rendering, berth logs end to end');
    let history: LogLine[] = [];
    // The history spans each instance's app.log and the files it was rotated to (10 MiB each).
    const files = () => store.filesOf(ref);
    const read = await rates(
      total,
      3,
      async () => {
        history = await store.query(ref, {});
        if (history.length !== total) throw new Error(`read ${history.length} of ${total} lines`);
      },
      () => {
        let n = 0;
        for (const file of files()) for (const l of readFileSync(file, 'utf8').split('\n')) if (l && JSON.parse(l)) n++;
        if (n !== total) throw new Error(`floor parsed ${n} of ${total} lines`);
      },
    );

    // The print closure of cli/commands/logs.ts over the whole history, against writing the same lines plainly.
    const plain = (l: LogLine) => `${l.ts} ${l.source} ${l.workload}/${l.instance} ${l.level} ${l.message}\n`;
    const render = (json: boolean) => {
      const { writers } = sink();
      const out = new Output(writers, json);
      return rates(
        total,
        RUNS,
        () => {
          for (const l of history) json ? out.jsonLine(l) : out.line(formatLogLine(l, out.style));
        },
        () => {
          for (const l of history) writers.stdout(json ? `${JSON.stringify(l)}\n` : plain(l));
        },
      );
    };
    const json = await render(true);
    const text = await render(false);

    const berth = inProcessCli(bp.platform.url, bp.token, ref);
    const body = JSON.stringify({ lines: history.slice(-PAGE) });
    bare = await new Promise<Server>((resolve) => {
      const s = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body)).listen(0, '127.0.0.1', () => resolve(s));
    });
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
    const e2e = (asJson: boolean) => {
      const { writers } = sink();
      return rates(
        PAGE,
        RUNS,
        async () => {
          const printed = await berth(['logs', ...(asJson ? ['--json'] : []), '-n', String(PAGE)]);
          if (printed.writes !== PAGE) throw new Error(`berth logs printed ${printed.writes} lines, expected ${PAGE}`);
        },
        async () => {
          const { lines } = (await (await fetch(bareUrl)).json()) as { lines: LogLine[] };
          for (const l of lines) writers.stdout(asJson ? `${JSON.stringify(l)}\n` : plain(l));
        },
      );
    };
    const e2eJson = await e2e(true);
    const e2eText = await e2e(false);

    const goal = { text: '≥ 100k lines/s', check: ({ median }: { median: number }) => median >= GOAL };
    const rows: Row[] = [
      makeRow({ figure: 6, measure: `log store read, whole ${Math.round(total / 1000)}k-line history`, unit: 'lines/s', samples: read.berth, floor: { label: 'readFile+split+JSON.parse', samples: read.floor }, goal }),
      makeRow({ figure: 6, measure: 'render --json (Output.jsonLine)', unit: 'lines/s', samples: json.berth, floor: { label: 'JSON.stringify', samples: json.floor }, goal }),
      makeRow({ figure: 6, measure: 'render text (formatLogLine)', unit: 'lines/s', samples: text.berth, floor: { label: 'concatenation', samples: text.floor }, goal }),
      makeRow({
        figure: 6,
        measure: `berth logs --json -n ${PAGE / 1000}k (API + CLI)`,
        unit: 'lines/s',
        samples: e2eJson.berth,
        floor: { label: 'bare HTTP, same lines', samples: e2eJson.floor },
        goal,
        note: `-n ${PAGE.toLocaleString('en-US')} is the API's cap per request (LogsQuery.limit): berth logs shows at most that many of the ${Math.round(total / 1000)}k lines, the newest`,
      }),
      makeRow({ figure: 6, measure: `berth logs -n ${PAGE / 1000}k (API + CLI, text)`, unit: 'lines/s', samples: e2eText.berth, floor: { label: 'bare HTTP, same lines', samples: e2eText.floor }, goal }),
    ];
    return { rows, details: { historyLines: total, page: PAGE, fileBytes: files().reduce((sum, file) => sum + readFileSync(file).length, 0) } };
  } finally {
    await new Promise<void>((resolve) => (bare ? bare.close(() => resolve()) : resolve()));
    await bp.close();
  }
}

await runAsScript(import.meta.url, measure);
