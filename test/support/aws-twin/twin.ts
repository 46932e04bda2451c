// The AWS twin's core: a registry of command handlers, one per (service, command), that answers the
// real SDK v3 clients from in-process state at the middleware boundary. `awsPlatform(env, twin
// .clientOptions(role))` builds the real drivers over clients whose every command lands here; the
// service twins (ecs.ts, elbv2.ts, ec2.ts, sfn.ts, ...) register the handlers. DynamoDB is not
// simulated: it goes to a real dynalite (see `dynamodb`).
import type { AwsClientOptions, AwsService } from '../../../functions/aws/platform-deps.ts';
import { TwinClock } from './clock.ts';

export type { AwsService };

export interface TwinCall {
  service: AwsService;
  /** IAM action form, e.g. `ecs:CreateService`. */
  action: string;
  input: any;
  /** The Lambda role making the call, e.g. `steps`. */
  principal: string;
}

/** Throws an AccessDenied-like SDK error naming the action, the resource and the missing statement. */
export type Authorizer = (call: TwinCall) => void | Promise<void>;

/** One Lambda invocation the twin ran (what Lambda bills: requests and duration). */
export interface TwinInvocation {
  /** The function's role name, as in `TwinCall.principal`. */
  principal: string;
  /** Real milliseconds it took here (informational: this machine, not Lambda). */
  realMs: number;
}

/** One DynamoDB request (dynalite answers it; the twin only counts it, for the cost). */
export interface TwinStoreCall {
  action: string;
  principal: string;
}

export type CommandHandler = (input: any, call: TwinCall) => unknown | Promise<unknown>;

/** The IAM service prefix of each SDK package (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html). */
export const IAM_PREFIX: Record<AwsService, string> = {
  backup: 'backup',
  'cloudwatch-logs': 'logs',
  'cost-explorer': 'ce',
  dynamodb: 'dynamodb',
  ec2: 'ec2',
  ecs: 'ecs',
  efs: 'elasticfilesystem',
  'elastic-load-balancing-v2': 'elasticloadbalancing',
  kms: 'kms',
  'secrets-manager': 'secretsmanager',
  sfn: 'states',
};

export const TWIN_ACCOUNT = '123456789012';
export const TWIN_REGION = 'eu-west-1';

interface Middleware {
  add(fn: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: { input: unknown }) => Promise<unknown>, options: { step: string; name: string }): void;
}

export class AwsTwin {
  readonly clock = new TwinClock();
  readonly calls: TwinCall[] = [];
  /** Every Lambda invocation run through `invoke`, for the cost (cost.ts). */
  readonly invocations: TwinInvocation[] = [];
  /** Every DynamoDB request the platform sent to dynalite, for the cost (cost.ts). */
  readonly storeCalls: TwinStoreCall[] = [];
  authorize?: Authorizer;
  /** The dynalite endpoint the platform's DynamoDB client uses (set by the test's setup). */
  dynamodb?: { endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  private readonly handlers = new Map<string, CommandHandler>();

  handler(service: AwsService, name: string, fn: CommandHandler): void {
    this.handlers.set(`${service}:${name}`, fn);
  }

  /** Answers one command as the service would; what the client middleware calls. */
  async call(service: AwsService, name: string, input: unknown, principal: string): Promise<unknown> {
    const call: TwinCall = { service, action: `${IAM_PREFIX[service]}:${name}`, input, principal };
    this.calls.push(call);
    await this.authorize?.(call);
    const fn = this.handlers.get(`${service}:${name}`);
    // A command no twin simulates fails loudly: a silent default would prove nothing.
    if (!fn) throw new Error(`the AWS twin does not simulate ${call.action} (called by ${principal} with ${JSON.stringify(input)})`);
    return fn(structuredClone(input ?? {}), call);
  }

  /** Runs one Lambda invocation as `principal`, counting it as Lambda would bill it. */
  async invoke<T>(principal: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.invocations.push({ principal, realMs: performance.now() - started });
    }
  }

  /** What to pass to `awsPlatform(env, …)` for a Lambda running as `principal`. */
  clientOptions(principal: string): AwsClientOptions & { clock: TwinClock } {
    return {
      clock: this.clock,
      config: (service) => {
        if (service !== 'dynamodb') return { credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' } };
        if (!this.dynamodb) throw new Error('the twin has no dynalite: set twin.dynamodb before building the platform');
        return { ...this.dynamodb };
      },
      attach: (service, client) => {
        if (service === 'dynamodb') {
          // Not simulated (dynalite answers), only counted: on-demand tables bill per request.
          (client.middlewareStack as Middleware).add(
            (next, context) => async (args) => {
              this.storeCalls.push({ action: `dynamodb:${(context.commandName ?? '').replace(/Command$/, '')}`, principal });
              return next(args);
            },
            { step: 'initialize', name: 'awsTwinCount' },
          );
          return;
        }
        (client.middlewareStack as Middleware).add(
          (_next, context) => async (args) => {
            const name = (context.commandName ?? '').replace(/Command$/, '');
            const output = await this.call(service, name, args.input, principal);
            return { output: { ...(output as object), $metadata: { httpStatusCode: 200 } }, response: {} };
          },
          { step: 'initialize', name: 'awsTwin' },
        );
      },
    };
  }

  /** Calls of one action (e.g. `elasticloadbalancing:RegisterTargets`), for assertions and cost counts. */
  callsOf(action: string): TwinCall[] {
    return this.calls.filter((c) => c.action === action);
  }
}

export const arn = (service: string, resource: string): string => `arn:aws:${service}:${TWIN_REGION}:${TWIN_ACCOUNT}:${resource}`;
