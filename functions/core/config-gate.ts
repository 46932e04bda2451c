// "No mystery config": a release is refused before it exists when a workload needs config keys or
// secret bundles the env does not hold, and the error lists exactly what is missing and the fix.
import type { Manifest } from '../contract/manifest.ts';
import { ConfigMissingError } from './errors.ts';

export interface MissingConfig {
  workload: string;
  kind: 'env' | 'secret';
  name: string;
}

export function findMissingConfig(manifest: Manifest, configKeys: Set<string>, bundles: Set<string>): MissingConfig[] {
  const missing: MissingConfig[] = [];
  for (const [workload, w] of Object.entries(manifest.workloads)) {
    for (const key of w.requires?.env ?? []) {
      if (!configKeys.has(key) && !(w.env && key in w.env)) missing.push({ workload, kind: 'env', name: key });
    }
    for (const bundle of w.requires?.secrets ?? []) {
      if (!bundles.has(bundle)) missing.push({ workload, kind: 'secret', name: bundle });
    }
  }
  return missing;
}

export function assertNoMissingConfig(missing: MissingConfig[], envName: string): void {
  if (!missing.length) return;
  const lines = missing.map((m) => `  - workload ${m.workload} requires ${m.kind === 'env' ? `config key ${m.name}` : `secret bundle ${m.name}`}`);
  const keys = [...new Set(missing.filter((m) => m.kind === 'env').map((m) => m.name))];
  const bundles = [...new Set(missing.filter((m) => m.kind === 'secret').map((m) => m.name))];
  const next = [
    ...(keys.length ? [`berth config set ${keys.map((k) => `${k}=<value>`).join(' ')} --env ${envName}`] : []),
    ...bundles.map((b) => `berth secrets set ${b} KEY=<value> --env ${envName}`),
  ];
  throw new ConfigMissingError('required-config-missing', `env ${envName} is missing what the manifest requires; no release was created:\n${lines.join('\n')}`, {
    details: { missing },
    next,
  });
}
