// Loads the ASL definitions in statemachines/ (the single definition of every state machine:
// CDK reads the same files) and applies `${Name}` substitutions the way CDK's
// `definitionSubstitutions` does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StateMachineName } from '../core/ports.ts';

export const STATE_MACHINES_DIR = fileURLToPath(new URL('../../statemachines/', import.meta.url));

export function stateMachinePath(name: StateMachineName): string {
  return `${STATE_MACHINES_DIR}${name}.asl.json`;
}

export function loadDefinition(name: StateMachineName, substitutions: Record<string, string>): Record<string, unknown> {
  const text = readFileSync(stateMachinePath(name), 'utf8').replace(/\$\{(\w+)\}/g, (whole, key: string) => {
    if (!(key in substitutions)) throw new Error(`${name}.asl.json uses \${${key}} but no substitution was given for it`);
    return substitutions[key];
  });
  return JSON.parse(text);
}

/** The Task states of a definition (top level), which each need a handler bound. */
export function taskStateNames(definition: Record<string, unknown>): string[] {
  const states = definition.States as Record<string, { Type: string }>;
  return Object.entries(states)
    .filter(([, s]) => s.Type === 'Task')
    .map(([n]) => n);
}

/** The Task states that wait for a task token: the waits a cancellation interrupts. */
export function waitStateNames(definition: Record<string, unknown>): string[] {
  const states = definition.States as Record<string, { Type: string; Resource?: string }>;
  return Object.entries(states)
    .filter(([, s]) => s.Type === 'Task' && s.Resource?.endsWith('.waitForTaskToken'))
    .map(([n]) => n);
}
