-- wrk script for proxy-bench.sh ZIPF_KEYS=N: GET <prefix>/k/<rank>, rank drawn from a Zipf(s)
-- distribution over N keys, so a cache smaller than the working set is exercised the way a
-- CDN edge is. The prefix (ZIPF_PREFIX, one per target) lets the origin count each target's misses.
local keys = tonumber(os.getenv("ZIPF_KEYS") or "100000")
local exponent = tonumber(os.getenv("ZIPF_S") or "0.9")
local prefix = os.getenv("ZIPF_PREFIX") or ""
local cdf = {}

local function build()
    local sum = 0
    for rank = 1, keys do
        sum = sum + 1 / (rank ^ exponent)
        cdf[rank] = sum
    end
    for rank = 1, keys do
        cdf[rank] = cdf[rank] / sum
    end
end

init = function(args)
    build()
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

request = function()
    local u = math.random()
    local low, high = 1, keys
    while low < high do
        local middle = math.floor((low + high) / 2)
        if cdf[middle] < u then low = middle + 1 else high = middle end
    end
    return wrk.format("GET", prefix .. "/k/" .. low)
end
