/**
 * AES-256 in OFB mode, the cipher of collectd's encrypted network packets, on both runtimes.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createCipheriv } from "node:crypto";

const AES_BLOCK = 16;

/**
 * Transforms bytes with AES-256-OFB; OFB encrypts and decrypts alike.
 *
 * Deno's `node:crypto` has no `aes-256-ofb`, so the key stream is made portably: CBC-encrypting zero
 * blocks yields E(IV), E(E(IV)), … which is exactly OFB's key stream, XORed onto the input here.
 *
 * @param key The 32-byte key (collectd: SHA-256 of the password).
 * @param iv The 16-byte initialisation vector.
 * @param input The bytes to transform; not modified.
 * @returns A new buffer as long as `input`.
 * @throws {Error} When the key is not 32 bytes or the IV not 16 (from `node:crypto`).
 */
export function aes256Ofb(key: Uint8Array, iv: Uint8Array, input: Uint8Array): Buffer {
  const blocks = Math.ceil(input.length / AES_BLOCK);
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  cipher.setAutoPadding(false);
  const stream = cipher.update(new Uint8Array(blocks * AES_BLOCK));
  const out = Buffer.allocUnsafe(input.length);
  for (let i = 0; i < input.length; i++) out[i] = input[i]! ^ stream[i]!;
  return out;
}
