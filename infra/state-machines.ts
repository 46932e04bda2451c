// The five state machines, loaded from the very files in statemachines/ that the embedded interpreter
// runs (one definition, never two). Their only substitution is the steps Lambda's ARN, which
// CloudFormation applies (DefinitionSubstitutions). The definitions go inline into the template
// rather than as S3 assets (`DefinitionBody.fromFile`), so `cdk diff` shows a changed state.
//
// Names are fixed (`<stack>-<machine>`) so their ARNs can be written without referencing the
// machines: every Lambda (the steps one included) receives STATE_MACHINE_ARNS, and the machines
// reference the steps Lambda, so a reference back would be a dependency cycle.
import { readFileSync } from 'node:fs';
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeWildcards, allow } from './allow.ts';
import { BerthPropsError } from './berth-props.ts';
import type { StateMachineName } from '../functions/core/ports.ts';
import { stateMachinePath } from '../functions/reconciler/state-machine-files.ts';

/** Every machine, in the order STATE_MACHINE_ARNS lists them. */
export const MACHINES: readonly StateMachineName[] = ['deploy', 'scale', 'endpoint', 'volume', 'env'];

/** Step Functions names: at most 80 characters. */
const MAX_NAME = 80;

export function stateMachineName(stack: Stack, machine: StateMachineName): string {
  return `${stack.stackName}-${machine}`;
}

export function stateMachineArn(stack: Stack, machine: StateMachineName): string {
  return stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName(stack, machine), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

export interface BerthStateMachinesProps {
  /** The Lambda every Task state invokes (`${StepFunctionArn}`). */
  readonly stepsFunction: IFunction;
  /** Retention of the execution logs. */
  readonly logRetention: logs.RetentionDays;
}

export class BerthStateMachines extends Construct {
  readonly machines: Record<StateMachineName, sfn.StateMachine>;
  /** Shared by the five machines: they do the same things (invoke the steps Lambda, log, trace). */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BerthStateMachinesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const longest = stateMachineName(stack, 'endpoint');
    if (longest.length > MAX_NAME) {
      throw new BerthPropsError(`stack name "${stack.stackName}" is too long: state machine names such as "${longest}" must be at most ${MAX_NAME} characters. Fix: deploy with a stack name of at most ${MAX_NAME - 9} characters.`);
    }
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Berth state machines: invoke the steps Lambda, write execution logs and X-Ray traces',
    });
    // Exactly the function the definitions name: the ARN without a version or alias qualifier.
    allow(this.role, { sid: 'InvokeSteps', actions: ['lambda:InvokeFunction'], resources: [props.stepsFunction.functionArn] });

    // CDK adds these for `logs` and `tracingEnabled`: log delivery setup and X-Ray writes.
    acknowledgeWildcards(this.role, ['Resource::*'], 'Step Functions log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) have no resource-level permissions; these are the statements CDK writes for logging and tracing. https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html');

    this.machines = Object.fromEntries(MACHINES.map((machine) => [machine, this.createMachine(machine, props)])) as Record<StateMachineName, sfn.StateMachine>;
  }

  private createMachine(machine: StateMachineName, props: BerthStateMachinesProps): sfn.StateMachine {
    const stack = Stack.of(this);
    const id = machine[0].toUpperCase() + machine.slice(1);
    // Log groups of vended logs under /aws/vendedlogs/ don't grow the account's CloudWatch Logs
    // resource policy, which is capped at 5,120 characters.
    // https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName(stack, machine)}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new sfn.StateMachine(this, id, {
      stateMachineName: stateMachineName(stack, machine),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(stateMachinePath(machine), 'utf8')),
      definitionSubstitutions: { StepFunctionArn: props.stepsFunction.functionArn },
      role: this.role,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
  }
}
