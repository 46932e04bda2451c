// AWS KMS in the twin: symmetric encryption keys (Encrypt, Decrypt, GenerateDataKey) and an HMAC
// key (GenerateMac). Each key's material never leaves the twin; a ciphertext blob names its key and
// is bound to its encryption context, as KMS's are.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { IncorrectKeyException, InvalidCiphertextException } from '@aws-sdk/client-kms';
import type { AwsTwin } from './twin.ts';

/** Key material, derived from the key ARN: stable within a run, unknown to the code under test. */
const material = (keyId: string) => createHash('sha256').update(`twin-kms:${keyId}`).digest();

// The encryption context is additional authenticated data: Decrypt must be given the same one
// (https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html).
const aad = (context: Record<string, string> | undefined) => Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort()));
const bytes = (b: unknown) => Buffer.from(b as Uint8Array);

export function install(twin: AwsTwin): void {
  const encrypt = (keyId: string, plaintext: Buffer, context?: Record<string, string>): Uint8Array => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', material(keyId), iv).setAAD(aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(keyId);
    return Buffer.concat([Buffer.from([id.length >> 8, id.length & 255]), id, iv, cipher.getAuthTag(), body]);
  };
  // https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
  twin.handler('kms', 'Encrypt', (input) => ({ KeyId: input.KeyId, CiphertextBlob: encrypt(input.KeyId, bytes(input.Plaintext), input.EncryptionContext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }));
  // A symmetric ciphertext names its key; a KeyId that differs is IncorrectKeyException, a wrong
  // encryption context or altered blob InvalidCiphertextException (https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html).
  twin.handler('kms', 'Decrypt', (input) => {
    const blob = bytes(input.CiphertextBlob);
    const n = (blob[0] << 8) | blob[1];
    const keyId = blob.subarray(2, 2 + n).toString();
    if (input.KeyId && input.KeyId !== keyId) throw new IncorrectKeyException({ message: 'The key ID in the request does not identify a KMS key that can perform this operation.', $metadata: {} });
    try {
      const at = 2 + n;
      const decipher = createDecipheriv('aes-256-gcm', material(keyId), blob.subarray(at, at + 12)).setAAD(aad(input.EncryptionContext));
      decipher.setAuthTag(blob.subarray(at + 12, at + 28));
      return { KeyId: keyId, Plaintext: Buffer.concat([decipher.update(blob.subarray(at + 28)), decipher.final()]), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    } catch {
      throw new InvalidCiphertextException({ message: 'The ciphertext is invalid or its encryption context does not match.', $metadata: {} });
    }
  });
  // A fresh data key, in plaintext and encrypted under the KMS key (https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html).
  twin.handler('kms', 'GenerateDataKey', (input) => {
    const key = randomBytes(input.KeySpec === 'AES_128' ? 16 : (input.NumberOfBytes ?? 32));
    return { KeyId: input.KeyId, Plaintext: key, CiphertextBlob: encrypt(input.KeyId, key, input.EncryptionContext) };
  });
  // HMAC of the message under the HMAC key; the same key and message give the same MAC
  // (https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html).
  twin.handler('kms', 'GenerateMac', (input) => ({ KeyId: input.KeyId, MacAlgorithm: input.MacAlgorithm, Mac: createHmac(String(input.MacAlgorithm).replace('HMAC_', '').replace('_', '').toLowerCase(), material(input.KeyId)).update(bytes(input.Message)).digest() }));
}
