// Figure 3's load generator, in a process of its own (two cores: the server gets one, the load the
// other): runs the plan given as JSON in argv[2] — every route once to warm up `warm`, then
// `rounds` rounds over all routes in turn — and prints the results as JSON.
import autocannon from 'autocannon';

export interface LoadPlan {
  routes: Record<string, string>;
  warm: string[];
  rounds: number;
  seconds: number;
  connections: number;
  headers: Record<string, string>;
}

export interface Load {
  rps: number;
  p99: number;
}

const plan = JSON.parse(process.argv[2]) as LoadPlan;
const run = async (url: string, duration: number): Promise<Load> => {
  const r = await autocannon({ url, connections: plan.connections, duration, headers: plan.headers });
  if (r.errors || r.timeouts || r.non2xx) throw new Error(`${url}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  return { rps: r.requests.average, p99: r.latency.p99 };
};
for (const name of plan.warm) await run(plan.routes[name], 1);
const loads: Record<string, Load[]> = Object.fromEntries(Object.keys(plan.routes).map((n) => [n, []]));
for (let round = 0; round < plan.rounds; round++) {
  for (const [name, url] of Object.entries(plan.routes)) loads[name].push(await run(url, plan.seconds));
}
process.stdout.write(JSON.stringify(loads));
