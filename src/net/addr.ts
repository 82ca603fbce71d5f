// Text <-> bytes for MAC, IPv4 and IPv6 addresses.
// Text forms are canonical so that they can be compared as strings and used in flow keys:
// MAC "02:00:00:00:00:01" (lowercase), IPv4 dotted quad, IPv6 per RFC 5952 (lowercase, longest zero run as "::").

export function macToBytes(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new RangeError(`bad MAC address '${mac}'`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function macToString(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(bytes[offset + i]!.toString(16).padStart(2, "0"));
  return parts.join(":");
}

export function ipv4ToBytes(ip: string): Uint8Array {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new RangeError(`bad IPv4 address '${ip}'`);
  return Uint8Array.from(parts, Number);
}

export function ipv4ToString(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Parses any RFC 4291 text form, including "::" and a trailing dotted IPv4 part. */
export function ipv6ToBytes(ip: string): Uint8Array {
  const bad = (): never => {
    throw new RangeError(`bad IPv6 address '${ip}'`);
  };
  const halves = ip.split("::");
  if (halves.length > 2) bad();
  const groups = (text: string): number[] => {
    if (text === "") return [];
    const out: number[] = [];
    const parts = text.split(":");
    parts.forEach((p, i) => {
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = ipv4ToBytes(p);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else bad();
    });
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const zeros = 8 - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) bad();
  const all = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** RFC 5952 canonical text. */
export function ipv6ToString(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  // Longest run of two or more zero groups (first one on ties) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (list: number[]): string => list.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Bytes of an IPv4 or IPv6 address in text form, checked against the IP version. */
export function ipToBytes(version: 4 | 6, ip: string): Uint8Array {
  return version === 4 ? ipv4ToBytes(ip) : ipv6ToBytes(ip);
}
