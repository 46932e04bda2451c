// `berth init` templates: commented manifests a newcomer can read top to bottom, each with a
// starter program so that `berth init && berth deploy` runs something in an empty directory.
// The starters load node modules with import() so they run as CommonJS and as ES modules alike
// (whatever package.json says about "type").

export interface Template {
  summary: string;
  render: (app: string) => string;
  /** Written next to berth.yaml only when no file of that name exists: never over the user's code. */
  starter: { file: string; source: string };
}

export const TEMPLATES: Record<string, Template> = {
  'node-http': {
    summary: 'A Node HTTP server behind an IPv6 endpoint, with an HTTP health check',
    render: (app) => `# berth.yaml: what to run and how to reach it. Schema: schemas/berth.schema.json
app: ${app}

workloads:
  web:
    # On AWS, the image runs; embedded, the command runs in the release's snapshot of this directory.
    # image: ghcr.io/you/${app}:latest
    command: ["node", "server.js"]
    cpu: 256          # CPU units (1024 = 1 vCPU)
    memory: 512       # MiB (a valid Fargate size for the cpu)
    count: 1
    ports: [8080]     # the first port is given to the process as $PORT
    healthCheck:
      type: http
      path: /
    # env: { LOG_LEVEL: info }           # plain defaults; \`berth config set\` overrides them
    # requires:
    #   env: [GREETING]                  # deploys are blocked until \`berth config set GREETING=…\`
    #   secrets: [db]                    # …and until \`berth secrets set db KEY=…\`

endpoints:
  web:
    workload: web
    port: 8080        # public port; IPv6 ([::1] embedded, a dual-stack NLB on AWS)
    # ipv4: true       # also accept IPv4
    # proxyProtocol: v2
`,
    starter: {
      file: 'server.js',
      source: `// A starter written by \`berth init\`: replace it with your app. Berth passes the port as $PORT.
import('node:http').then(({ createServer }) => {
  const server = createServer((req, res) => {
    // Berth's health probes say who they are; logging them would drown the real requests.
    if (req.headers['user-agent'] !== 'berth-health-check') console.log(\`INFO \${req.method} \${req.url}\`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(\`hello from \${process.env.BERTH_APP} (\${process.env.BERTH_INSTANCE_ID}, \${process.env.BERTH_RELEASE})\\n\`);
  });
  server.listen(Number(process.env.PORT ?? 8080), () => console.log(\`INFO listening on \${server.address().port}\`));
  // Instances are stopped with SIGTERM: finish the requests in flight, then exit.
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
});
`,
    },
  },
  tcp: {
    summary: 'A plain TCP service (no HTTP) with a TCP health check',
    render: (app) => `# berth.yaml: a TCP service. Schema: schemas/berth.schema.json
app: ${app}

workloads:
  server:
    command: ["node", "server.js"]
    ports: [7000]
    healthCheck:
      type: tcp       # healthy once a connection is accepted

endpoints:
  server:
    workload: server
    port: 7000
    # ipv4: true         # also accept IPv4
    # proxyProtocol: v2  # prepend a PROXY v2 header so the server sees the client address
`,
    starter: {
      file: 'server.js',
      source: `// A starter written by \`berth init\`: a TCP echo server; replace it with your service.
import('node:net').then(({ createServer }) => {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy()); // health probes hang up at once
    socket.write(\`hello from \${process.env.BERTH_INSTANCE_ID}\\n\`);
    socket.pipe(socket);
  });
  server.listen(Number(process.env.PORT ?? 7000), () => console.log(\`INFO listening on \${server.address().port}\`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
});
`,
    },
  },
  worker: {
    summary: 'A background worker: no ports, no endpoint',
    render: (app) => `# berth.yaml: a worker with no endpoint. Schema: schemas/berth.schema.json
app: ${app}

workloads:
  worker:
    command: ["node", "worker.js"]
    count: 1
    # Without ports, an instance counts as healthy once it has stayed up for a second.
`,
    starter: {
      file: 'worker.js',
      source: `// A starter written by \`berth init\`: a worker with no port; replace it with your jobs.
let runs = 0;
const timer = setInterval(() => console.log(\`INFO job \${++runs} done\`), 10_000);
console.log('INFO worker started');
// Instances are stopped with SIGTERM: stop taking work; the process ends when nothing is left.
process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log('INFO worker stopping');
});
`,
    },
  },
};
