// The ASL files are the single definition of every state machine: CDK deploys them, the embedded
// interpreter runs them. Validate them as Step Functions would, and check the house rules.
import { readdirSync, readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { ERROR_CATEGORIES } from '../functions/core/errors.ts';
import { loadDefinition, STATE_MACHINES_DIR } from '../functions/reconciler/state-machine-files.ts';
import { LOCAL_SUBSTITUTIONS } from '../functions/reconciler/local-orchestrator.ts';
import { createDeploySteps } from '../functions/reconciler/deploy-steps.ts';
import { createScaleSteps } from '../functions/reconciler/scale-steps.ts';
import { createEndpointSteps } from '../functions/reconciler/endpoint-steps.ts';
import { createVolumeSteps } from '../functions/reconciler/volume-steps.ts';
import { createEnvSteps } from '../functions/reconciler/env-steps.ts';

const HANDLERS = { deploy: createDeploySteps, scale: createScaleSteps, endpoint: createEndpointSteps, volume: createVolumeSteps, env: createEnvSteps };

type State = { Type: string; Comment?: string; Next?: string; End?: boolean; Catch?: { Next: string }[]; Resource?: string };

const files = readdirSync(STATE_MACHINES_DIR).filter((f) => f.endsWith('.asl.json'));

describe.each(files)('%s', (file) => {
  const name = file.replace('.asl.json', '') as keyof typeof HANDLERS;
  const definition = loadDefinition(name, LOCAL_SUBSTITUTIONS) as { States: Record<string, State>; StartAt: string };

  it('is valid Amazon States Language', () => {
    const { isValid, errors } = aslValidator(definition, { checkPaths: true, checkArn: true });
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('uses JSONPath only (no JSONata) and names every substitution it needs', () => {
    const text = readFileSync(`${STATE_MACHINES_DIR}${file}`, 'utf8');
    expect(text).not.toContain('"QueryLanguage": "JSONata"');
    expect([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]).every((k) => k in LOCAL_SUBSTITUTIONS)).toBe(true);
  });

  it('comments every state and lets every forward Task fail into compensation', () => {
    for (const [stateName, state] of Object.entries(definition.States)) {
      expect(state.Comment, `${stateName} has a Comment`).toBeTruthy();
      if (state.Type === 'Task' && !stateName.startsWith('Record')) {
        expect(state.Catch?.length, `${stateName} has a Catch`).toBeGreaterThan(0);
      }
    }
  });

  it('binds every Task state to a step handler', () => {
    const handlers = HANDLERS[name]({} as never);
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task').map(([n]) => n);
    expect(tasks.filter((t) => !(t in handlers))).toEqual([]);
    expect(Object.keys(handlers).filter((h) => !tasks.includes(h))).toEqual([]);
  });
});

describe('error categories', () => {
  it('are the closed set of SPEC.md', () => {
    expect([...ERROR_CATEGORIES]).toEqual(['config-missing', 'invalid-input', 'image-pull', 'health-check', 'capacity', 'permission', 'quota', 'timeout', 'conflict', 'not-found', 'internal']);
  });
});
