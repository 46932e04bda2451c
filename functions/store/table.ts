// One table, keys designed so that every request reads with GetItem or Query (never Scan):
//
//   pk                         sk                         item
//   ORGS                       ORG#<org>                  org
//   ORG#<org>                  PROJECT#<project>          project
//   ORG#<org>                  ARTIFACT#sha256:<hex>      the org uploaded this artifact
//   PROJECT#<org>/<project>    APP#<app>                  app
//   APP#<org>/<project>/<app>  ENV#<env>                  env (desired state, `version`)
//   ENV#<o>/<p>/<a>/<e>        RELEASE#<seq, 10 digits>   release (immutable content)
//   ENV#…                      OP#<op-ulid>               operation
//   ENV#…                      EVENT#<ev-ulid>            event
//   ENV#…                      CONFIG#<seq, 10 digits>    config version (full snapshot)
//   ENV#…                      SECRET#<bundle>#<seq>      secret-bundle version (ciphertext)
//   RUNNING                    <op-id>                    pointer to a running operation
//   ENVS                       ENV#<o>/<p>/<a>/<e>        pointer to an env (the reconcile loop)
//   IDEMPOTENCY#<token id>     <Idempotency-Key>          first response to a mutating request
//   TASKTOKENS                 sha256(task token)         a rollout waiting for ECS (AWS only)
//   TOKEN#<sha256>             TOKEN                      API token (hash only)
//   ORG#<org>                  TOKENREF#<token id>        the org's tokens, for `tokens list` (hash + metadata)
//   ORG#<org>                  MEMBER#<email>             member of the org, with role
//   USER#<email>               ORG#<org>                  the same membership, by person (which orgs they are in)
//   INVITE#<sha256>            INVITE                     one-time invite code of a member (hash only)
//   AUDIT#<org>                aud-<ulid>                 audit record of one mutation (append-only: conditional put, never updated or deleted; dynamo-audit.ts)
//   DEVICE#<sha256>            DEVICE                     device authorization grant of `berth login` (device code hash only; TTL; dynamo-device.ts)
//   USERCODE#<user code>       USERCODE                   the user code a person types → its grant (TTL)
//   WEBSESSION#<sha256>        WEBSESSION                 signed-in browser on the approval page (cookie hash only; TTL)
//
// The org is the first component of every key below ORGS, so tenancy is part of the key design.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { EnvRef } from '../core/ports.ts';

export const DEFAULT_TABLE_NAME = 'berth';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export const seq = (n: number): string => String(n).padStart(10, '0');

export const keys = {
  orgs: () => 'ORGS',
  org: (org: string) => `ORG#${org}`,
  project: (org: string, project: string) => `PROJECT#${org}/${project}`,
  app: (org: string, project: string, app: string) => `APP#${org}/${project}/${app}`,
  env: (r: EnvRef) => `ENV#${r.org}/${r.project}/${r.app}/${r.env}`,
  running: () => 'RUNNING',
  allEnvs: () => 'ENVS',
  idempotency: (scope: string) => `IDEMPOTENCY#${scope}`,
  taskTokens: () => 'TASKTOKENS',
  token: (hash: string) => `TOKEN#${hash}`,
  user: (email: string) => `USER#${email}`,
  invite: (hash: string) => `INVITE#${hash}`,
};
