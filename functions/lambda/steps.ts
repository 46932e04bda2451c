// Every state machine's Task steps, dispatched by `step` (the Payload of the lambda:invoke Task).
// The same handlers the embedded interpreter binds; middy adds the Powertools logger.
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { registerHealthWaiter } from '../aws/health-waiters.ts';
import { registerRestoreWaiter } from '../aws/restore-waiters.ts';
import { awsPlatform } from '../aws/platform-deps.ts';
import { flushPlatformLogs } from './flush-logs.ts';
import { createDeploySteps } from '../reconciler/deploy-steps.ts';
import { createEndpointSteps } from '../reconciler/endpoint-steps.ts';
import { createEnvSteps } from '../reconciler/env-steps.ts';
import { createScaleSteps } from '../reconciler/scale-steps.ts';
import { runStep, type Step, type StepInput } from '../reconciler/step-kit.ts';
import { createVolumeSteps } from '../reconciler/volume-steps.ts';

const logger = new Logger({ serviceName: 'berth-steps' });
const { deps, sfn } = awsPlatform();
// Task state names are unique across machines by design (CompensateStopNewInstances means the same
// thing wherever it appears), so one table serves every machine.
const steps: Record<string, Step> = Object.assign(
  {},
  createEnvSteps(deps),
  createEndpointSteps(deps),
  createVolumeSteps(deps),
  createScaleSteps(deps),
  createDeploySteps(deps),
);

async function run(input: StepInput): Promise<Record<string, unknown>> {
  const step = steps[input.step];
  if (!step) throw new Error(`no step handler named ${input.step}`);
  logger.appendKeys({ operationId: input.operation.operationId, step: input.step });
  // A .waitForTaskToken step: register the wait and return; an ECS event (WaitForBatchHealthy) or
  // an AWS Backup event (WaitForVolumeRestore) completes it. It runs through the step wrapper like
  // any forward step, so `status` and `wait` show the wait.
  if (input.taskToken) {
    return runStep(deps, input.step, async () => {
      if (input.step === 'WaitForVolumeRestore') await registerRestoreWaiter(deps, sfn, input);
      else await registerHealthWaiter(deps, sfn, input);
      return {};
    }, input);
  }
  return step(input);
}

export const handler = middy(run).use(injectLambdaContext(logger)).use(flushPlatformLogs(() => awsPlatform().flush()));
