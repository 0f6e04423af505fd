/**
 * @file The one Lua script behind the Redis limit store: check every counter, and only if all have
 * room increment all. Redis runs a script to completion before any other command, so replicas
 * sharing the server can never both take the last unit of a counter.
 */

/**
 * KEYS[i]: check i's counter in its current window (prefix + key + ':' + window start).
 * ARGV[3i-2], ARGV[3i-1], ARGV[3i]: check i's limit, cost, and ms from the caller's `now` to its window's end.
 * ARGV[3n+1]: ms a counter outlives its window (room for replicas whose clocks lag).
 * Returns -1 when all counters were incremented, else {index of the first full counter (0-based), its ms to window end}.
 */
export const CONSUME_LUA = `
local n = #KEYS
local pending = {}
for i = 1, n do
  local key = KEYS[i]
  local used = pending[key] or tonumber(redis.call('GET', key) or '0')
  local after = used + tonumber(ARGV[3 * i - 1])
  if after > tonumber(ARGV[3 * i - 2]) then
    return {i - 1, tonumber(ARGV[3 * i])}
  end
  pending[key] = after
end
local grace = tonumber(ARGV[3 * n + 1])
for i = 1, n do
  local cost = tonumber(ARGV[3 * i - 1])
  if cost > 0 and redis.call('INCRBY', KEYS[i], cost) == cost then
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3 * i]) + grace)
  end
end
return -1
`;
