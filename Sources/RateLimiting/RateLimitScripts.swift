/// The Redis Lua scripts of the algorithms: the same operations, in the same order, as the local
/// state machines (tests run both on the same inputs and compare every decision).
/// KEYS[1] is the limit's key. ARGV: amount, period ms, burst, cost, and optionally now (ms) for
/// tests; without it the script asks Redis for the time (`TIME`), so node clocks never matter.
/// Every script returns {allowed (0/1), limit, remaining, reset ms, retry-after ms} and sets an
/// expiry so idle keys disappear.
public enum RateLimitScripts {
    static let prelude = """
        local amount = tonumber(ARGV[1])
        local period = tonumber(ARGV[2])
        local burst = tonumber(ARGV[3])
        local cost = tonumber(ARGV[4])
        local now = tonumber(ARGV[5])
        if not now then
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end
        -- Stored as integer text: Redis turns Lua numbers into strings with %.14g, which would
        -- round the scaled values.
        local function int(x)
          return string.format('%.0f', x)
        end
        local function ceildiv(a, b)
          if a <= 0 then return 0 end
          return math.floor((a + b - 1) / b)
        end

        """

    public static let tokenBucket =
        prelude + """
            local capacity = burst * period
            local state = redis.call('HMGET', KEYS[1], 't', 'l')
            local tokens = tonumber(state[1]) or capacity
            local last = tonumber(state[2]) or now
            local elapsed = now - last
            if elapsed < 0 then elapsed = 0 end
            tokens = math.min(capacity, tokens + elapsed * amount)
            if now > last then last = now end
            local needed = cost * period
            local allowed = 0
            if tokens >= needed then
              tokens = tokens - needed
              allowed = 1
            end
            local reset = ceildiv(capacity - tokens, amount)
            local retry = 0
            if allowed == 0 then retry = ceildiv(needed - tokens, amount) end
            redis.call('HSET', KEYS[1], 't', int(tokens), 'l', int(last))
            redis.call('PEXPIRE', KEYS[1], reset + 1000)
            return {allowed, burst, math.floor(tokens / period), reset, retry}
            """

    public static let gcra =
        prelude + """
            local tolerance = burst * period
            local scaledNow = now * amount
            local stored = tonumber(redis.call('GET', KEYS[1])) or 0
            local tat = math.max(stored, scaledNow)
            local newTat = tat + cost * period
            local allowAt = newTat - tolerance
            local allowed = 0
            local current = tat
            if scaledNow >= allowAt then
              allowed = 1
              current = newTat
              redis.call('SET', KEYS[1], int(newTat))
            end
            local remaining = math.floor((scaledNow - (current - tolerance)) / period)
            if remaining < 0 then remaining = 0 end
            local reset = ceildiv(current - scaledNow, amount)
            local retry = 0
            if allowed == 0 then retry = ceildiv(allowAt - scaledNow, amount) end
            redis.call('PEXPIRE', KEYS[1], reset + 1000)
            return {allowed, burst, remaining, reset, retry}
            """

    public static let fixedWindow =
        prelude + """
            local start = now - (now % period)
            local state = redis.call('HMGET', KEYS[1], 's', 'c')
            local count = tonumber(state[2]) or 0
            if tonumber(state[1]) ~= start then count = 0 end
            local allowed = 0
            if count + cost <= amount then
              count = count + cost
              allowed = 1
            end
            local reset = start + period - now
            local retry = 0
            if allowed == 0 then retry = reset end
            redis.call('HSET', KEYS[1], 's', int(start), 'c', int(count))
            redis.call('PEXPIRE', KEYS[1], reset + 1000)
            return {allowed, amount, math.max(0, amount - count), reset, retry}
            """

    public static let slidingWindow =
        prelude + """
            local start = now - (now % period)
            local state = redis.call('HMGET', KEYS[1], 's', 'c', 'p')
            local storedStart = tonumber(state[1])
            local current = tonumber(state[2]) or 0
            local previous = tonumber(state[3]) or 0
            if storedStart ~= start then
              if storedStart and start - storedStart == period then previous = current else previous = 0 end
              current = 0
            end
            local elapsed = now - start
            local weightedPrevious = previous * (period - elapsed)
            local capacity = amount * period
            local allowed = 0
            if weightedPrevious + (current + cost) * period <= capacity then
              current = current + cost
              allowed = 1
            end
            local used = weightedPrevious + current * period
            local remaining = math.floor((capacity - used) / period)
            if remaining < 0 then remaining = 0 end
            local retry = 0
            if allowed == 0 then
              if current + cost > amount or previous == 0 then
                retry = period - elapsed
              else
                local room = (amount - current - cost) * period
                local covered = math.floor(room / previous)
                retry = math.max(1, (period - covered) - elapsed)
              end
            end
            redis.call('HSET', KEYS[1], 's', int(start), 'c', int(current), 'p', int(previous))
            redis.call('PEXPIRE', KEYS[1], 2 * period + 1000)
            return {allowed, amount, remaining, 2 * period - elapsed, retry}
            """

    /// Approximate mode's sync: adds a node's counts to the fleet's per-window totals and answers
    /// Redis's clock and the totals of its current and previous window, `{now, current, previous}`.
    /// KEYS[1] is a hash of window start → count. ARGV: period ms, now (ms, or empty for Redis
    /// `TIME`), then pairs of window start and count to add.
    public static let windowCounterSync = """
        local period = tonumber(ARGV[1])
        local now = tonumber(ARGV[2])
        if not now then
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end
        for i = 3, #ARGV - 1, 2 do
          redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        local start = now - (now % period)
        for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
          local fieldStart = tonumber(field)
          if not fieldStart or fieldStart < start - period then redis.call('HDEL', KEYS[1], field) end
        end
        local counts = redis.call('HMGET', KEYS[1], string.format('%.0f', start), string.format('%.0f', start - period))
        redis.call('PEXPIRE', KEYS[1], 2 * period + 1000)
        return {now, tonumber(counts[1]) or 0, tonumber(counts[2]) or 0}
        """
}
