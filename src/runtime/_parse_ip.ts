/**
 * IP address text to bytes, for the socket addresses handed to libc.
 *
 * @module
 */

const IPV4_REGEXP = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET_REGEXP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses an IPv4 dotted quad or an IPv6 address (with `::` and an IPv4 tail; no zone index).
 *
 * @param text The address, without brackets.
 * @returns 4 or 16 bytes in network order, or `undefined` when it is not an IP address.
 * @example
 * ```ts
 * parseIp("127.0.0.1"); // Uint8Array [127, 0, 0, 1]
 * parseIp("::1"); // 15 zero bytes, then 1
 * ```
 */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return v4;
  return text.includes(":") ? parseIpv6(text) : undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const m = IPV4_REGEXP.exec(text);
  if (m === null) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    const value = Number(part);
    // Leading zeros are refused: "010" reads as octal in some parsers and decimal in others.
    if (value > 255 || (part.length > 1 && part[0] === "0")) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseHextets(halves[0]!);
  const tail = halves.length === 2 ? parseHextets(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[i * 2] = words[i]! >> 8;
    bytes[i * 2 + 1] = words[i]! & 0xff;
  }
  return bytes;
}

/** Parses colon-separated hextets, the last of which may be an IPv4 address (two hextets). */
function parseHextets(text: string): number[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (HEXTET_REGEXP.test(part)) {
      words.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return words;
}
