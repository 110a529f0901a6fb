# processes.sh — sourced by the loadtest scripts that start servers: a work directory, the
# processes started (PIDS+=($!)), and a cleanup on exit that never hangs. Needs HERE (the
# loadtest directory) and NAME (the script's name, for the work directory).
WORK=$(mktemp -d "/tmp/$NAME.XXXXXX")
# nginx workers run as nobody when started by root: they must be able to read what is in here.
chmod 0755 "$WORK"
PIDS=()
# A process that has not ended 10 s after SIGTERM is killed: the script must never hang on exit.
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
        alive=false
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=true; done
        $alive || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 "$HERE/benchlib.py" port; }
wait_port() { for _ in $(seq 150); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
