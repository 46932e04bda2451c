// Secret values at rest, embedded: AES-256-GCM under a random key kept in a 0600 file in the data
// dir. Each value gets its own IV; the auth tag makes tampering fail loudly instead of decrypting junk.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SecretCipher } from '../../core/ports.ts';

export class KeyFileCipher implements SecretCipher {
  private readonly key: Buffer;

  constructor(keyFile: string) {
    if (!existsSync(keyFile)) {
      // `wx` fails if another process created the file first; then read theirs.
      try {
        writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    chmodSync(keyFile, 0o600);
    this.key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (this.key.length !== 32) throw new Error(`secret key file ${keyFile} does not hold a 256-bit key; restore it from backup`);
  }

  async encrypt(plaintext: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  async decrypt(ciphertext: string): Promise<string> {
    const [version, iv, tag, body] = ciphertext.split('.');
    if (version !== 'v1') throw new Error(`unknown secret ciphertext version ${version}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }

  async digest(plaintext: string): Promise<string> {
    return `hmac-sha256:${createHmac('sha256', this.key).update(plaintext).digest('hex').slice(0, 16)}`;
  }
}
