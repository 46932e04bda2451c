// `berth init` templates: commented manifests a newcomer can read top to bottom.

export const TEMPLATES: Record<string, { summary: string; render: (app: string) => string }> = {
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
    # proxyProtocol: v2  # prepend a PROXY v2 header so the server sees the client address
`,
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
  },
};
