// Secret values at rest, on AWS: KMS Encrypt/Decrypt under Berth's symmetric key, bound to an
// encryption context so a ciphertext from another use of the key does not decrypt here.
// Digests are HMAC-SHA-256 by a separate HMAC_256 KMS key (GenerateMac): equal values show equal,
// and nobody without kms:GenerateMac can test a guess against a digest.
// KMS Encrypt takes at most 4 KiB; a larger value (a bundle of certificates) is sealed with a data
// key from GenerateDataKey (AES-256-GCM, same encryption context), whose wrapped form travels along.
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, GenerateMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { InvalidInputError } from '../../core/errors.ts';
import type { SecretCipher } from '../../core/ports.ts';
import { attempt } from './aws-errors.ts';
import type { AwsRuntimeConfig } from './config.ts';

const CONTEXT = { purpose: 'berth-secret' };
const VERSION = 'kms1';
const ENVELOPE = 'kms1e';
const KMS_MAX_PLAINTEXT = 4096;

export class KmsCipher implements SecretCipher {
  private readonly kms: KMSClient;

  constructor(
    clients: { kms: KMSClient },
    private readonly config: Pick<AwsRuntimeConfig, 'kmsKeyId' | 'macKeyId'>,
  ) {
    this.kms = clients.kms;
  }

  async encrypt(plaintext: string): Promise<string> {
    const bytes = Buffer.from(plaintext, 'utf8');
    if (bytes.length > KMS_MAX_PLAINTEXT) return this.seal(bytes);
    const out = await attempt('encrypt a secret with KMS', () => this.kms.send(new EncryptCommand({ KeyId: this.config.kmsKeyId, Plaintext: bytes, EncryptionContext: CONTEXT })));
    return `${VERSION}.${b64(out.CiphertextBlob!)}`;
  }

  async decrypt(ciphertext: string): Promise<string> {
    const [version, body, iv, tag, sealed] = ciphertext.split('.');
    if (!body || (version !== VERSION && version !== ENVELOPE)) {
      throw new InvalidInputError('unknown-ciphertext', `secret ciphertext has version "${version}", not "${VERSION}"; it was written by another Berth installation or mode and cannot be decrypted here`);
    }
    const key = await this.unwrap(body);
    if (version === VERSION) return key.toString('utf8');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64')), decipher.final()]).toString('utf8');
  }

  /** KMS Decrypt: a value (kms1) or a data key (kms1e). */
  private async unwrap(body: string): Promise<Buffer> {
    const out = await attempt('decrypt a secret with KMS', () =>
      // KeyId is optional for symmetric keys but pins the key: a ciphertext under another key fails.
      this.kms.send(new DecryptCommand({ KeyId: this.config.kmsKeyId, CiphertextBlob: Buffer.from(body, 'base64'), EncryptionContext: CONTEXT })),
    );
    return Buffer.from(out.Plaintext!);
  }

  private async seal(bytes: Buffer): Promise<string> {
    const key = await attempt('create a data key with KMS', () => this.kms.send(new GenerateDataKeyCommand({ KeyId: this.config.kmsKeyId, KeySpec: 'AES_256', EncryptionContext: CONTEXT })));
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(key.Plaintext!), iv);
    const body = Buffer.concat([cipher.update(bytes), cipher.final()]);
    return [ENVELOPE, b64(key.CiphertextBlob!), b64(iv), b64(cipher.getAuthTag()), b64(body)].join('.');
  }

  async digest(plaintext: string): Promise<string> {
    // GenerateMac accepts at most 4 KiB, so it MACs the SHA-256 of the value: still keyed, any size.
    const message = createHash('sha256').update(plaintext, 'utf8').digest();
    const out = await attempt('compute a secret digest with KMS', () => this.kms.send(new GenerateMacCommand({ KeyId: this.config.macKeyId, MacAlgorithm: 'HMAC_SHA_256', Message: message })));
    return `hmac-sha256:${Buffer.from(out.Mac!).toString('hex').slice(0, 16)}`;
  }
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
