// Test helper: a Uint8Array look-alike that throws on any read past its end, so that a parser which reads out of
// bounds fails loudly instead of silently getting `undefined` (which `<<` would turn into 0).

export class OutOfBoundsRead extends Error {}

export function strictBytes(bytes: Uint8Array): Uint8Array {
  return new Proxy(bytes, {
    get(target, prop) {
      if (typeof prop === "string" && /^\d+$/.test(prop) && Number(prop) >= target.length) {
        throw new OutOfBoundsRead(`read of byte ${prop} of a ${target.length}-byte buffer`);
      }
      const value: unknown = Reflect.get(target, prop, target);
      // Typed-array methods need the real array as `this`; their results are plain (unchecked) arrays.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
