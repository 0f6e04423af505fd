/**
 * @file The bounded per-client state every stateful stage keeps: a Map used in recency order
 * (an entry is re-inserted when seen), so that at `cap` entries the least recently seen one is
 * forgotten and starts afresh when it comes back.
 */

/** The entry for `key`, made by `make` when absent, now the most recent one. */
export function touchRecent<T>(map: Map<string, T>, key: string, cap: number, make: () => T): T {
  let v = map.get(key);
  if (v !== undefined) {
    map.delete(key);
  } else {
    v = make();
    if (map.size >= cap) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
  map.set(key, v);
  return v;
}
