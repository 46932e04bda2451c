// One of Berth's Lambdas: a thin entry in functions/lambda/, bundled by the local esbuild (no Docker),
// with its own role (no managed policies: each grant is written out in the stack) and its own log
// group (so retention is set and the role may write to that group only).
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The newest Lambda Node.js runtime aws-cdk-lib knows (cdk-nag's AwsSolutions-L1 asks for it). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface PlatformFunctionProps {
  /** File name in functions/lambda/, exporting `handler`. */
  readonly entry: string;
  /** What it does, for the console and `aws lambda list-functions`. */
  readonly description: string;
  /** Powertools service name (logs, metrics). */
  readonly serviceName: string;
  /** Environment variables shared by every Berth Lambda (the AWS runtime config). */
  readonly environment: Record<string, string>;
  /** Memory in MB; CPU scales with it. */
  readonly memorySize: number;
  /** Longest single invocation. */
  readonly timeout: Duration;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Shell commands run (in the repository root) after esbuild bundled the entry, given the asset
   * directory, e.g. to put files beside the bundle.
   * @default none
   */
  readonly afterBundling?: (outputDir: string) => string[];
}

export class PlatformFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Berth ${props.serviceName}: ${props.description}`,
    });
    // What AWSLambdaBasicExecutionRole grants, narrowed to this function's own log group.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: `${REPO_ROOT}functions/lambda/${props.entry}`,
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        // Bundle the AWS SDK too: the code runs against the client versions package-lock.json
        // pins, not whichever ones the Lambda runtime happens to ship.
        externalModules: [],
        minify: true,
        sourceMap: true,
        // Stack traces keep file and line; leaving the sources out of the map makes it a third of
        // the size, and Node parses the whole map at cold start (--enable-source-maps).
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call require() for Node built-ins; an ESM bundle needs one.
        banner: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
        ...(props.afterBundling && {
          commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: (_inputDir: string, outputDir: string) => props.afterBundling!(outputDir) },
        }),
      },
    });
  }
}
