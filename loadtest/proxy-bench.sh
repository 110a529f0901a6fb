#!/usr/bin/env bash
# proxy-bench.sh — compare the gateway with a tuned nginx reverse proxy in front of the same
# fast nginx origin, all on 127.0.0.1. See loadtest/README.md.
#
# Environment (all optional):
#   GATEWAY_BIN  gateway binary            (default: <repo>/.build/release/gateway)
#   TARGETS      targets to benchmark      (default: "origin nginx gateway")
#   THREADS      wrk -t                    (default: 2)
#   CONNECTIONS  wrk -c                    (default: 64)
#   DURATION     wrk -d per run            (default: 10s; a bare number means seconds)
#   RUNS         measured runs per target  (default: 3), interleaved across targets
#   WARMUP       warm-up per target        (default: 2s)
#   BODY_SIZE    origin response body bytes (default: 1024)
#   GATEWAY_WAIT seconds to wait for the gateway to answer (default: 15)
#   KEEP_TMP=1   keep the temp dir (configs, logs) instead of deleting it
#   CACHE=1      cache mode: the origin says max-age=3600, nginx uses proxy_cache (on tmpfs) and the
#                gateway a cached route; without ZIPF_KEYS every request after the first is a hit
#   ZIPF_KEYS=N  (with CACHE=1) request /k/<rank> with Zipf-distributed ranks over N keys
#   ZIPF_S       Zipf exponent (default 0.9)
#   CACHE_MIB    cache size of both, MiB (default 256; make it smaller than the working set)
#   target gateway-rl: a second gateway whose route has one rate limit that never trips;
#   RATELIMIT=redis (default: a redis-server on a free port, exact mode), RATELIMIT=approximate
#   (the same redis-server, a window policy in approximate mode, sync_every 100ms) or
#   RATELIMIT=local (the embedded limiter); with redis, its CPU per request is logged too
#   target gateway-resilient: a gateway whose upstream has a health check, a circuit breaker,
#   outlier detection, retries with a budget and bulkheads on upstream and route (none trips)
#   target gateway-traced: a gateway with OpenTelemetry tracing, sample_ratio TRACE_RATIO (default
#   0.1), exporting to the origin nginx, which answers /v1/traces as a collector does
#   target gateway-auth: a third gateway whose route requires an RS256 JWT (key made with
#   openssl for the run); every target gets the same Authorization header, so the requests are
#   identical; AUTH_CACHE=0 turns the verified-token cache off (every request checks the signature)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LIB="$HERE/benchlib.py"
PY=${PYTHON:-python3}

GATEWAY_BIN=${GATEWAY_BIN:-$REPO/.build/release/gateway}
TARGETS=${TARGETS:-origin nginx gateway}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-2s}
BODY_SIZE=${BODY_SIZE:-1024}
GATEWAY_WAIT=${GATEWAY_WAIT:-15}
# 1: nginx proxy and gateway both write a JSON access log line per request to a file in the work dir.
ACCESS_LOG=${ACCESS_LOG:-0}
CACHE=${CACHE:-0}
ZIPF_KEYS=${ZIPF_KEYS:-0}
ZIPF_S=${ZIPF_S:-0.9}
CACHE_MIB=${CACHE_MIB:-256}
RATELIMIT=${RATELIMIT:-redis}
AUTH_CACHE=${AUTH_CACHE:-1}
TRACE_RATIO=${TRACE_RATIO:-0.1}
AUTH_HEADER=()   # curl/wrk arguments carrying the bench token, when gateway-auth runs
export ZIPF_KEYS ZIPF_S
[[ $DURATION =~ ^[0-9]+$ ]] && DURATION="${DURATION}s"
[[ $WARMUP =~ ^[0-9]+$ ]] && WARMUP="${WARMUP}s"

log()  { printf '[proxy-bench] %s\n' "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

for n in THREADS CONNECTIONS RUNS BODY_SIZE GATEWAY_WAIT ZIPF_KEYS CACHE_MIB; do
    [[ ${!n} =~ ^[0-9]+$ ]] || die "$n must be a non-negative integer (got '${!n}')"
done
(( RUNS >= 1 && THREADS >= 1 && CONNECTIONS >= THREADS )) \
    || die "need RUNS >= 1, THREADS >= 1 and CONNECTIONS >= THREADS"
for t in $TARGETS; do
    case $t in origin|nginx|gateway|gateway-rl|gateway-auth|gateway-resilient|gateway-traced) ;; *) die "unknown target '$t' (known: origin nginx gateway gateway-rl gateway-auth gateway-resilient gateway-traced)";; esac
done
for tool in nginx wrk curl "$PY" getconf; do
    command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install -y nginx-light wrk curl)"
done

NPROC=$(nproc)
# Enough for every wrk connection plus one upstream connection each plus the keep-alive pools,
# without nginx preallocating (and counting in RSS) tens of thousands of connection slots.
WORKER_CONNECTIONS=$((2 * CONNECTIONS + 1024))
CLK_TCK=$(getconf CLK_TCK)
FAILED=0

# ---------------------------------------------------------------- process bookkeeping & cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proxy-bench.XXXXXX")
# nginx workers drop to 'nobody' when started as root: they must be able to read the body
# file and use the temp paths under $WORK.
chmod 0755 "$WORK"
STARTED=()          # pids of processes this script started (nginx masters, gateway, wrk)
declare -A PID      # target name -> pid of its root process
declare -A PORT     # target name -> listen port

ppid_of() { local st; st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; st=${st##*) }; set -- $st; echo "$2"; }

cleanup() {
    local rc=$? pid snap deadline live=() all=()
    trap - EXIT INT TERM
    # Only processes that are still our own children (a reaped pid may have been reused), plus
    # their descendants (nginx workers, anything the gateway forked), collected before signalling.
    for pid in "${STARTED[@]}"; do
        [[ $(ppid_of "$pid" || true) == "$$" ]] || continue
        live+=("$pid")
        snap=$("$PY" "$LIB" snap "$pid" 2>/dev/null || true)
        if [[ -n $snap ]]; then
            IFS=, read -r -a kids <<<"${snap##* }"
            all+=("${kids[@]}")
        fi
    done
    for pid in "${live[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    deadline=$((SECONDS + 5))
    for pid in "${all[@]}"; do
        while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        log "temp dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

forget() {   # drop a pid we have reaped from STARTED
    local p keep=()
    for p in "${STARTED[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    STARTED=("${keep[@]}")
}

free_port() { "$PY" "$LIB" port; }

alive() {   # running and not a zombie
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [[ ${st%% *} != Z ]]
}

# wait_http PORT PID SECONDS: 0 once anything answers HTTP, 2 if PID died, 1 on timeout.
wait_http() {
    local port=$1 pid=$2 deadline=$((SECONDS + $3)) code
    while (( SECONDS < deadline )); do
        alive "$pid" || return 2
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "${AUTH_HEADER[@]}" "http://127.0.0.1:$port/" || true)
        [[ $code != 000 && -n $code ]] && return 0
        sleep 0.1
    done
    alive "$pid" || return 2
    return 1
}

# check_answer NAME PORT: the target must answer 200 with exactly BODY_SIZE body bytes.
check_answer() {
    local got
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 "${AUTH_HEADER[@]}" "http://127.0.0.1:$2/" || true)
    if [[ $got != "200 $BODY_SIZE" ]]; then
        log "$1 on port $2 answered '$got' (want '200 $BODY_SIZE' = status, body bytes)"
        return 1
    fi
}

# start_nginx NAME TEMPLATE [KEY=VALUE...]: render, start (daemon off), wait until it answers.
start_nginx() {
    local name=$1 tmpl=$2; shift 2
    local prefix="$WORK/$name" attempt port pid rc
    mkdir -p "$prefix"
    chmod 0755 "$prefix"
    for attempt in 1 2 3; do
        port=$(free_port)
        "$PY" "$LIB" render "$HERE/templates/$tmpl" "$prefix/nginx.conf" \
            PREFIX="$prefix" PORT="$port" WORKER_CONNECTIONS="$WORKER_CONNECTIONS" "$@" || return 1
        : >"$prefix/error.log"
        nginx -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log" \
            >"$prefix/stdout.log" 2>&1 &
        pid=$!
        STARTED+=("$pid")
        rc=0; wait_http "$port" "$pid" 5 || rc=$?
        if (( rc == 0 )); then
            PID[$name]=$pid; PORT[$name]=$port
            log "$name: nginx pid $pid listening on 127.0.0.1:$port"
            return 0
        fi
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        forget "$pid"
        if grep -q 'Address already in use' "$prefix/error.log" "$prefix/stdout.log" 2>/dev/null; then
            log "$name: port $port was taken meanwhile, retrying ($attempt/3)"
            continue
        fi
        break
    done
    log "$name: nginx did not come up; its logs:"
    cat "$prefix/stdout.log" "$prefix/error.log" >&2 || true
    return 1
}

# start_gateway: returns non-zero (after printing its output) if it does not come up right.
start_gateway() {
    local name=${1:-gateway} extra=${2:-} route_extra=${3:-} upstream_extra=${4:-} dir="$WORK/${1:-gateway}" port pid rc
    mkdir -p "$dir"
    port=$(free_port)
    local access_log=""
    if [[ $ACCESS_LOG == 1 ]]; then access_log=", access_log: { path: $dir/access.log }"; fi
    local route_cache="" cache_section=""
    if [[ $CACHE == 1 ]]; then
        route_cache="    cache: {}"
        cache_section="cache: { memory: ${CACHE_MIB}MiB, max_object: 1MiB }"
    fi
    if [[ -n $route_extra ]]; then route_cache="$route_cache${route_cache:+
}$route_extra"; fi
    "$PY" "$LIB" render "$HERE/templates/gateway.yaml.tmpl" "$dir/gateway.yaml" \
        PORT="$port" ORIGIN_PORT="${PORT[origin]}" ACCESS_LOG="$access_log" ROUTE_CACHE="$route_cache" \
        CACHE_SECTION="$cache_section" UPSTREAM_EXTRA="$upstream_extra" || return 1
    if [[ -n $extra ]]; then printf '%s\n' "$extra" >>"$dir/gateway.yaml"; fi
    "$GATEWAY_BIN" run --config "$dir/gateway.yaml" >"$dir/stdout.log" 2>"$dir/stderr.log" </dev/null &
    pid=$!
    STARTED+=("$pid")
    rc=0; wait_http "$port" "$pid" "$GATEWAY_WAIT" || rc=$?
    if (( rc == 0 )) && check_answer "$name" "$port"; then
        PID[$name]=$pid; PORT[$name]=$port
        log "$name: pid $pid listening on 127.0.0.1:$port"
        return 0
    fi
    case $rc in
        2) log "gateway: process exited before answering" ;;
        1) log "gateway: no HTTP answer on 127.0.0.1:$port after ${GATEWAY_WAIT} s" ;;
        0) log "gateway: answered, but not with the origin's response" ;;
    esac
    log "gateway command: $GATEWAY_BIN run --config $dir/gateway.yaml"
    log "gateway config:"; sed 's/^/    /' "$dir/gateway.yaml" >&2
    log "gateway stderr (last 50 lines):"; tail -n 50 "$dir/stderr.log" >&2 || true
    log "gateway stdout (last 20 lines):"; tail -n 20 "$dir/stdout.log" >&2 || true
    kill -TERM "$pid" 2>/dev/null || true
    sleep 0.5; kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget "$pid"
    return 1
}

# ---------------------------------------------------------------- start the servers
log "cores: $NPROC  CLK_TCK: $CLK_TCK  load: $(cut -d' ' -f1-3 /proc/loadavg)  work dir: $WORK"
log "$(nginx -v 2>&1)  $(wrk --version 2>&1 | head -n1 | cut -c1-60)"

# Origin body: 'return 200 "..."' for bodies that fit in an nginx config token (< 4 KiB);
# larger bodies are served from a file of exactly BODY_SIZE bytes.
if (( BODY_SIZE <= 3000 )); then
    body=$(head -c "$BODY_SIZE" /dev/zero | tr '\0' 'x')
    printf '            return 200 "%s";\n' "$body" >"$WORK/body_directives"
else
    head -c "$BODY_SIZE" /dev/zero | tr '\0' 'x' >"$WORK/body.bin"
    chmod 0644 "$WORK/body.bin"
    printf '            root %s;\n            try_files /body.bin =404;\n' "$WORK" >"$WORK/body_directives"
fi
origin_headers="" origin_log="    access_log off;"
if [[ $CACHE == 1 ]]; then
    origin_headers='            add_header Cache-Control "max-age=3600";'
fi
if (( ZIPF_KEYS > 0 )); then
    # Every request that reaches the origin is a miss of the target named by its path prefix.
    mkdir -p "$WORK/origin"; chmod 0777 "$WORK/origin"
    origin_log="    log_format path '\$uri'; access_log $WORK/origin/access.log path buffer=256k flush=1s;"
fi
start_nginx origin origin.nginx.conf.tmpl BODY_DIRECTIVES="@file:$WORK/body_directives" \
    ORIGIN_HEADERS="$origin_headers" ORIGIN_LOG="$origin_log" \
    || die "origin failed to start"
check_answer origin "${PORT[origin]}" || die "origin answers wrongly"

ACTIVE=()
for t in $TARGETS; do
    case $t in
        origin)
            ACTIVE+=(origin) ;;
        nginx)
            if [[ $ACCESS_LOG == 1 ]]; then
                # The gateway's fields, buffered as the gateway's per-loop batches are.
                printf '%s\n' \
                    "    log_format gateway_json escape=json '{\"time\":\"\$time_iso8601\",\"request_id\":\"\$request_id\",\"client_ip\":\"\$remote_addr\",\"method\":\"\$request_method\",\"host\":\"\$host\",\"path\":\"\$request_uri\",\"status\":\$status,\"bytes_received\":\$request_length,\"bytes_sent\":\$bytes_sent,\"duration_ms\":\$request_time,\"upstream\":\"\$upstream_addr\",\"upstream_duration_ms\":\"\$upstream_response_time\"}';" \
                    "    access_log $WORK/nginx/access.log gateway_json buffer=64k flush=1s;" >"$WORK/nginx_access_log"
            else
                echo "    access_log off;" >"$WORK/nginx_access_log"
            fi
            cache_http="" cache_location=""
            if [[ $CACHE == 1 ]]; then
                # On tmpfs, so nginx's cache is in memory like the gateway's; the same byte budget.
                mkdir -p "/dev/shm/proxy-bench-$$"; chmod 0777 "/dev/shm/proxy-bench-$$"
                cache_http="    proxy_cache_path /dev/shm/proxy-bench-$$ levels=1:2 keys_zone=bench:32m max_size=${CACHE_MIB}m inactive=1h use_temp_path=off;"
                cache_location="            proxy_cache bench; proxy_cache_lock on;"
            fi
            start_nginx nginx proxy.nginx.conf.tmpl WORKERS="$NPROC" ORIGIN_PORT="${PORT[origin]}" \
                ACCESS_LOG="@file:$WORK/nginx_access_log" CACHE_HTTP="$cache_http" CACHE_LOCATION="$cache_location" \
                || die "nginx proxy failed to start"
            check_answer nginx "${PORT[nginx]}" || die "nginx proxy answers wrongly"
            ACTIVE+=(nginx) ;;
        gateway)
            if [[ ! -x $GATEWAY_BIN ]]; then
                log "gateway: SKIPPED — no executable at GATEWAY_BIN=$GATEWAY_BIN" \
                    "(build it with 'make release' or set GATEWAY_BIN)"
            elif start_gateway gateway; then
                ACTIVE+=(gateway)
            else
                log "gateway: FAILED to start — benchmarking the other targets, exit status will be 1"
                FAILED=1
            fi ;;
        gateway-traced)
            traced_extra="tracing: { otlp_endpoint: http://127.0.0.1:${PORT[origin]}/v1/traces, sample_ratio: $TRACE_RATIO }"
            if start_gateway gateway-traced "$traced_extra"; then
                ACTIVE+=(gateway-traced)
            else
                FAILED=1
            fi ;;
        gateway-resilient)
            # Every resilience feature on, none of them tripping: what the bookkeeping costs.
            resilient_upstream="    health_check: { path: /, interval: 1s, timeout: 500ms }
    circuit_breaker: { consecutive_failures: 5, error_ratio: 0.5, min_requests: 20, window: 10s, open_for: 30s }
    outlier: { consecutive_5xx: 5, eject_for: 30s }
    retries: { attempts: 2, on: [connect_failure, reset, timeout, 502, 503], backoff: 25ms, budget_percent: 20 }
    limits: { max_concurrent: 100000, max_pending: 100000 }"
            if start_gateway gateway-resilient "" "    limits: { max_concurrent: 100000 }" "$resilient_upstream"; then
                ACTIVE+=(gateway-resilient)
            else
                FAILED=1
            fi ;;
        gateway-auth)
            command -v openssl >/dev/null || die "'openssl' not found (apt-get install -y openssl)"
            b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
            openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/jwt.key" 2>/dev/null
            openssl pkey -in "$WORK/jwt.key" -pubout -out "$WORK/jwt.pub"
            jwt_input="$(printf '{"alg":"RS256","typ":"JWT"}' | b64url).$(printf '{"sub":"bench","exp":%d}' $(( $(date +%s) + 86400 )) | b64url)"
            jwt="$jwt_input.$(printf '%s' "$jwt_input" | openssl dgst -sha256 -sign "$WORK/jwt.key" -binary | b64url)"
            AUTH_HEADER=(-H "Authorization: Bearer $jwt")
            auth_cache_entries=10000
            [[ $AUTH_CACHE == 0 ]] && auth_cache_entries=0
            auth_extra="auth:
  jwt:
    bench: { algorithms: [RS256], public_keys: [{ file: $WORK/jwt.pub }], cache_entries: $auth_cache_entries }"
            if start_gateway gateway-auth "$auth_extra" "    auth: { jwt: bench }"; then
                ACTIVE+=(gateway-auth)
            else
                FAILED=1
            fi ;;
        gateway-rl)
            rl_extra=""
            if [[ $RATELIMIT == redis || $RATELIMIT == approximate ]]; then
                command -v redis-server >/dev/null || die "'redis-server' not found (apt-get install -y redis-server)"
                redis_port=$(free_port)
                redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
                    >"$WORK/redis.log" 2>&1 &
                STARTED+=($!)
                PID[redis]=$!
                for _ in $(seq 50); do grep -q "Ready to accept" "$WORK/redis.log" && break; sleep 0.1; done
                rl_extra="redis: { addresses: [127.0.0.1:$redis_port], timeouts: { command: 50ms } }"
            fi
            # One limit far above what the run can reach: every request pays for the decision.
            if [[ $RATELIMIT == approximate ]]; then
                rl_policy="{ algorithm: fixed_window, rate: 1000000000/s, key: [route], mode: approximate, sync_every: 100ms }"
            else
                rl_policy="{ algorithm: token_bucket, rate: 1000000000/s, key: [route] }"
            fi
            rl_extra="$rl_extra
rate_limits:
  never-trips: $rl_policy"
            if start_gateway gateway-rl "$rl_extra" "    rate_limits: [never-trips]"; then
                ACTIVE+=(gateway-rl)
            else
                FAILED=1
            fi ;;
    esac
done
(( ${#ACTIVE[@]} > 0 )) || die "no target to benchmark"

# ---------------------------------------------------------------- measure
mkdir -p "$HERE/results"
STAMP=$(date +%Y%m%d-%H%M%S)
CSV="$HERE/results/proxy-bench-$STAMP.csv"
RAW="$HERE/results/proxy-bench-$STAMP.wrk.log"
echo "timestamp,run,target,threads,connections,duration,body_size,rps,p50_ms,p99_ms,requests,elapsed_s,socket_errors,non2xx,rss_mib,pss_mib,nprocs,cpu_ticks,cpu_us_per_req,origin_cpu_us_per_req,loadavg1" >"$CSV"

WRK_ARGS=(-t"$THREADS" -c"$CONNECTIONS" --latency)

if (( ZIPF_KEYS > 0 )); then
    WRK_ARGS+=(-s "$HERE/zipf.lua")
fi

# run_wrk OUTFILE DURATION URL: wrk in the background so INT/TERM traps fire promptly.
run_wrk() {
    local out=$1 dur=$2 url=$3 pid rc=0
    # With ZIPF_KEYS, each target's requests carry its own path prefix (origin-side miss count).
    ZIPF_PREFIX="/$TARGET_NOW" \
        wrk "${WRK_ARGS[@]}" "${AUTH_HEADER[@]}" -d"$dur" --timeout 5s "$url" >"$out" 2>&1 &
    pid=$!
    STARTED+=("$pid")
    wait "$pid" || rc=$?
    forget "$pid"
    return "$rc"
}

for t in "${ACTIVE[@]}"; do
    TARGET_NOW=$t
    log "warm-up $t ($WARMUP)"
    run_wrk "$WORK/warmup-$t.txt" "$WARMUP" "http://127.0.0.1:${PORT[$t]}/" \
        || { log "warm-up of $t failed:"; cat "$WORK/warmup-$t.txt" >&2; FAILED=1; }
done

measure() {   # measure TARGET RUN
    local t=$1 run=$2 url="http://127.0.0.1:${PORT[$1]}/" out="$WORK/run$2-$1.txt"
    TARGET_NOW=$t
    local s0 s1 o0 o1 rc=0 load parsed
    load=$(cut -d' ' -f1 /proc/loadavg)
    s0=$("$PY" "$LIB" snap "${PID[$t]}") || { log "$t: process gone"; return 1; }
    REDIS_T0=""
    if [[ $t == gateway-rl && -n ${PID[redis]:-} ]]; then read -r REDIS_T0 _ _ _ <<<"$("$PY" "$LIB" snap "${PID[redis]}")"; fi
    o0=$("$PY" "$LIB" snap "${PID[origin]}") || { log "origin: process gone"; return 1; }
    run_wrk "$out" "$DURATION" "$url" || rc=$?
    s1=$("$PY" "$LIB" snap "${PID[$t]}") || { log "$t: process gone after the run"; return 1; }
    o1=$("$PY" "$LIB" snap "${PID[origin]}") || { log "origin: process gone"; return 1; }
    local redis_ticks=""
    if [[ $t == gateway-rl && -n ${REDIS_T0:-} ]]; then
        local r1; read -r r1 _ _ _ <<<"$("$PY" "$LIB" snap "${PID[redis]}")"
        redis_ticks=$((r1 - REDIS_T0))
    fi
    { echo "=== run $run target $t ($url) wrk rc=$rc"; cat "$out"; } >>"$RAW"
    if (( rc != 0 )); then log "$t run $run: wrk exited $rc:"; cat "$out" >&2; return 1; fi
    parsed=$("$PY" "$LIB" parse-wrk "$out") || { cat "$out" >&2; return 1; }
    local rps p50 p99 reqs elapsed sockerr non2xx
    read -r rps p50 p99 reqs elapsed sockerr non2xx <<<"$parsed"
    local t0 t1 rss npids oa ob
    read -r t0 _ _ _ <<<"$s0"
    read -r t1 rss pss npids <<<"$s1"
    read -r oa _ _ _ <<<"$o0"
    read -r ob _ _ _ <<<"$o1"
    npids=$(awk -F, '{print NF}' <<<"$npids")
    local row
    row=$(awk -v ts="$(date -Iseconds)" -v run="$run" -v t="$t" -v th="$THREADS" -v c="$CONNECTIONS" \
        -v d="$DURATION" -v bs="$BODY_SIZE" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v reqs="$reqs" \
        -v el="$elapsed" -v se="$sockerr" -v nx="$non2xx" -v rss="$rss" -v pss="$pss" -v np="$npids" \
        -v dt=$((t1 - t0)) -v odt=$((ob - oa)) -v hz="$CLK_TCK" -v load="$load" 'BEGIN {
            cpu  = reqs > 0 ? dt  * 1e6 / hz / reqs : "nan"
            ocpu = reqs > 0 ? odt * 1e6 / hz / reqs : "nan"
            printf "%s,%d,%s,%d,%d,%s,%d,%.2f,%.3f,%.3f,%d,%.2f,%d,%d,%.2f,%.2f,%d,%d,%.2f,%.2f,%s\n",
                ts, run, t, th, c, d, bs, rps, p50, p99, reqs, el, se, nx, rss / 1024, pss / 1024, np, dt, cpu, ocpu, load
        }')
    echo "$row" >>"$CSV"
    IFS=, read -r _ _ _ _ _ _ _ rps p50 p99 reqs _ _ _ rss _ _ _ cpu ocpu _ <<<"$row"
    log "$(printf 'run %d %-8s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  RSS %6.1f MiB  CPU %6.2f us/req (origin %5.2f)' \
        "$run" "$t" "$rps" "$p50" "$p99" "$rss" "$cpu" "$ocpu")"
    if [[ -n $redis_ticks ]] && (( reqs > 0 )); then
        log "$(awk -v dt="$redis_ticks" -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { printf "run %s redis-server CPU %6.2f us/req", "'"$run"'", dt * 1e6 / hz / n }')"
    fi
    if (( sockerr > 0 || non2xx > 0 )); then
        log "WARNING: $t run $run: $sockerr socket errors, $non2xx non-2xx/3xx responses"
    fi
}

for ((run = 1; run <= RUNS; run++)); do
    for t in "${ACTIVE[@]}"; do
        measure "$t" "$run" || { log "$t run $run FAILED"; FAILED=1; }
    done
done

# ---------------------------------------------------------------- report
echo
echo "proxy-bench: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $RUNS run(s) per target (interleaved)," \
     "body $BODY_SIZE B, $NPROC cores, nginx proxy workers $NPROC"
echo
"$PY" "$LIB" summary "$CSV" "${ACTIVE[*]}"
echo
if (( ZIPF_KEYS > 0 )); then
    sleep 1.5   # the origin's access log buffer flushes every second
    kill -HUP "${PID[origin]}" 2>/dev/null || true
    sleep 0.5
    echo "Zipf($ZIPF_S) over $ZIPF_KEYS keys, cache ${CACHE_MIB} MiB: hit ratio = 1 - origin requests / requests (warm-up and runs)"
    for t in "${ACTIVE[@]}"; do
        [[ $t == origin ]] && continue
        total=0
        for f in "$WORK"/warmup-"$t".txt "$WORK"/run*-"$t".txt; do
            n=$("$PY" "$LIB" parse-wrk "$f" 2>/dev/null | awk '{print $4}') || n=0
            total=$((total + ${n:-0}))
        done
        misses=$(grep -c "^/$t/" "$WORK/origin/access.log" 2>/dev/null || echo 0)
        awk -v t="$t" -v r="$total" -v m="$misses" 'BEGIN { printf "  %-8s requests %9d  origin fetches %8d  hit ratio %.3f\n", t, r, m, (r > 0 ? 1 - m / r : 0) }'
    done
    if [[ -d /dev/shm/proxy-bench-$$ ]]; then
        # nginx enforces max_size from a background cache manager that removes a bounded number
        # of files per pass, so under a high miss rate its cache grows past max_size; the
        # gateway's bound is checked on every insert.
        echo "  nginx cache on tmpfs at the end: $(du -sm "/dev/shm/proxy-bench-$$" | cut -f1) MiB for max_size ${CACHE_MIB}m" \
            "($(find "/dev/shm/proxy-bench-$$" -type f | wc -l) files); gateway: at most ${CACHE_MIB} MiB"
    fi
    echo
fi
rm -rf "/dev/shm/proxy-bench-$$"
echo "raw per-run numbers: $CSV"
echo "raw wrk output:      $RAW"
if (( FAILED )); then
    log "something failed to run (see messages above): exit status 1"
    exit 1
fi
