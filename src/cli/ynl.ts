// Replies of the `ulp_ddp` netlink family printed the way the kernel's ynl CLI prints them (Python's pprint of
// the decoded reply: keys sorted, flag sets as sets, one entry per line once a line would pass 80 columns),
// and the statistics as `ethtool -S` lists them.

export type YnlValue = number | string | boolean | readonly string[] | { readonly [k: string]: YnlValue };

const WIDTH = 80;

function reprString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Python repr of a value on one line; arrays are enum-as-flags sets. */
function repr(v: YnlValue): string {
  if (typeof v === "string") return reprString(v);
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (Array.isArray(v)) return v.length === 0 ? "set()" : `{${[...v].sort().map(reprString).join(", ")}}`;
  const obj = v as { readonly [k: string]: YnlValue };
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${reprString(k)}: ${repr(obj[k]!)}`)
    .join(", ")}}`;
}

/** pprint.pprint of a decoded reply. */
export function formatYnl(reply: { readonly [k: string]: YnlValue }): string {
  const flat = repr(reply);
  if (flat.length <= WIDTH) return flat;
  const keys = Object.keys(reply).sort();
  return keys.map((k, i) => `${i === 0 ? "{" : " "}${reprString(k)}: ${repr(reply[k]!)}${i === keys.length - 1 ? "}" : ","}`).join("\n");
}

/** `ethtool -S` layout: a title line, then one indented `name: value` per counter. */
export function formatEthtoolStats(stats: Readonly<Record<string, number>>): string {
  return ["NIC statistics:", ...Object.entries(stats).map(([k, v]) => `     ${k}: ${v}`)].join("\n");
}
