// Secrets Manager in the twin: secrets by name with versions (ClientRequestToken idempotency),
// ListSecrets with the `name` prefix filter, and DeleteSecret with or without a recovery window.
import { InvalidRequestException, ResourceExistsException, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { arn, type AwsTwin } from './twin.ts';

interface TwinSecret {
  ARN: string;
  Name: string;
  KmsKeyId?: string;
  Tags: { Key: string; Value: string }[];
  /** versionId (the ClientRequestToken) → value; the last one is AWSCURRENT. */
  versions: Map<string, string>;
  /** Set by DeleteSecret with a recovery window: the secret is scheduled for deletion. */
  DeletedDate?: Date;
}

export interface SecretsState {
  secrets: Map<string, TwinSecret>;
}

// A secret ARN ends in the name, a hyphen and six random characters
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources).
const suffix = (n: number) => (n * 2654435761).toString(36).slice(-6).padStart(6, 'a');

export function install(twin: AwsTwin): SecretsState {
  let seq = 0;
  const state: SecretsState = { secrets: new Map() };
  const find = (ref: string): TwinSecret => {
    const s = state.secrets.get(ref) ?? [...state.secrets.values()].find((x) => x.ARN === ref);
    if (!s) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
    return s;
  };
  // A version whose token exists with the same value is a no-op; with another value it is an error
  // (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html).
  const putVersion = (s: TwinSecret, token: string, value: string) => {
    const existing = s.versions.get(token);
    if (existing !== undefined && existing !== value) throw new ResourceExistsException({ message: `A version with ClientRequestToken ${token} already exists with a different value.`, $metadata: {} });
    s.versions.delete(token);
    s.versions.set(token, value);
    return { ARN: s.ARN, Name: s.Name, VersionId: token, VersionStages: ['AWSCURRENT'] };
  };

  // A name in use (or scheduled for deletion) cannot be created again
  // (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html).
  twin.handler('secrets-manager', 'CreateSecret', (input) => {
    const existing = state.secrets.get(input.Name);
    if (existing?.DeletedDate) throw new InvalidRequestException({ message: "You can't create this secret because a secret with this name is already scheduled for deletion.", $metadata: {} });
    if (existing) throw new ResourceExistsException({ message: `The operation failed because the secret ${input.Name} already exists.`, $metadata: {} });
    const s: TwinSecret = { ARN: arn('secretsmanager', `secret:${input.Name}-${suffix(++seq)}`), Name: input.Name, KmsKeyId: input.KmsKeyId, Tags: input.Tags ?? [], versions: new Map() };
    state.secrets.set(s.Name, s);
    return putVersion(s, input.ClientRequestToken ?? `twin-version-${seq}`, input.SecretString);
  });
  twin.handler('secrets-manager', 'PutSecretValue', (input) => putVersion(find(input.SecretId), input.ClientRequestToken ?? `twin-version-${++seq}`, input.SecretString));
  // The `name` filter is a case-sensitive prefix match (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html);
  // secrets scheduled for deletion are listed only with IncludePlannedDeletion
  // (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html).
  twin.handler('secrets-manager', 'ListSecrets', (input) => ({
    SecretList: [...state.secrets.values()]
      .filter((s) => (input.IncludePlannedDeletion || !s.DeletedDate) && (input.Filters ?? []).every((f: any) => f.Key !== 'name' || f.Values.some((v: string) => s.Name.startsWith(v))))
      .map((s) => ({ ARN: s.ARN, Name: s.Name, KmsKeyId: s.KmsKeyId, Tags: s.Tags, DeletedDate: s.DeletedDate })),
  }));
  // ForceDeleteWithoutRecovery deletes at once; otherwise the secret is scheduled for deletion after
  // RecoveryWindowInDays (default 30) (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
  twin.handler('secrets-manager', 'DeleteSecret', (input) => {
    const s = find(input.SecretId);
    const DeletionDate = new Date(twin.clock.now() + (input.ForceDeleteWithoutRecovery ? 0 : (input.RecoveryWindowInDays ?? 30) * 86_400_000));
    if (input.ForceDeleteWithoutRecovery) state.secrets.delete(s.Name);
    else {
      s.DeletedDate = twin.clock.date();
      twin.clock.after(DeletionDate.getTime() - twin.clock.now(), () => state.secrets.delete(s.Name));
    }
    return { ARN: s.ARN, Name: s.Name, DeletionDate };
  });
  return state;
}
