#!/usr/bin/env python3
"""soak.py — the load, the faults and the measurements of loadtest/soak.sh.

Keeps RATE requests/s of mixed traffic on CONNECTIONS keep-alive connections for DURATION
seconds, checks every answer against what its kind may get, reloads the gateway every
RELOAD_EVERY seconds (a changed config, POST /admin/reload), stops the restarting upstream every
RESTART_EVERY seconds for DOWN seconds, and samples the gateway's RSS every SAMPLE_EVERY seconds.
Writes the samples as CSV and prints a summary; exits 1 on any unexpected answer, a failed
reload, a gateway that died, or RSS that kept growing after the warm-up.

Arguments come from soak.sh as KEY=VALUE pairs (see parse_arguments).
"""
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import sys
import time

import benchlib  # the loadtest directory, this script's own, is first on sys.path


def parse_arguments(argv):
    options = dict(argument.split("=", 1) for argument in argv)
    numbers = ["port", "admin_port", "gateway_pid", "duration", "rate", "connections", "reload_every",
               "restart_every", "down", "sample_every", "warmup"]
    for key in numbers:
        options[key] = float(options[key]) if "." in options[key] else int(options[key])
    return options


def token(secret, claims):
    def encode(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=")
    header = encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = encode(json.dumps(claims).encode())
    signature = encode(hmac.new(secret.encode(), header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()


class Traffic:
    """The request kinds, how often each is sent, and the statuses each may get."""

    def __init__(self, secret, static_objects):
        now = int(time.time())
        good = token(secret, {"sub": "soak", "iss": "soak", "aud": "api", "exp": now + 7200})
        expired = token(secret, {"sub": "soak", "iss": "soak", "aud": "api", "exp": now - 60})
        forged = token("not-" + secret, {"sub": "soak", "iss": "soak", "aud": "api", "exp": now + 7200})
        self.static_objects = static_objects
        # (kind, weight, allowed statuses, request maker)
        self.kinds = [
            ("proxy", 40, {200}, lambda: ("/api/items/%d" % random.randrange(1000), None)),
            # Zipf-like popularity: a few objects are hits most of the time, the tail misses.
            ("cache", 30, {200}, lambda: ("/static/obj-%d" % self.popular(), None)),
            ("rate_limited", 10, {200, 429}, lambda: ("/limited/x", None)),
            ("auth_ok", 10, {200}, lambda: ("/private/me", good)),
            ("auth_fail", 10, {401}, lambda: ("/private/me", random.choice([expired, forged, "garbage.x.y"]))),
        ]
        self.total_weight = sum(kind[1] for kind in self.kinds)

    def popular(self):
        return min(int(random.paretovariate(1.2)) - 1, self.static_objects - 1)

    def pick(self):
        point = random.uniform(0, self.total_weight)
        for kind in self.kinds:
            point -= kind[1]
            if point <= 0:
                return kind
        return self.kinds[-1]


class Results:
    def __init__(self):
        self.statuses = collections.defaultdict(collections.Counter)
        self.cache = collections.Counter()
        self.unexpected = []
        self.unexpected_count = 0
        self.requests = 0

    def bad(self, what):
        self.unexpected_count += 1
        if len(self.unexpected) < 20:
            self.unexpected.append("%.1fs %s" % (time.monotonic() - START, what))


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers


async def client(options, traffic, results, deadline, per_connection_rate):
    interval = 1.0 / per_connection_rate
    reader = writer = None
    next_send = time.monotonic() + random.uniform(0, interval)
    while time.monotonic() < deadline:
        delay = next_send - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        next_send = max(next_send + interval, time.monotonic() - 1.0)
        kind, _, allowed, make = traffic.pick()
        path, bearer = make()
        request = "GET %s HTTP/1.1\r\nHost: soak.test\r\nUser-Agent: soak\r\n" % path
        if bearer:
            request += "Authorization: Bearer %s\r\n" % bearer
        request += "\r\n"
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", options["port"])
            writer.write(request.encode())
            status, headers = await asyncio.wait_for(read_response(reader), 10)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError) as error:
            results.requests += 1
            results.statuses[kind]["error"] += 1
            results.bad("%s %s: %s" % (kind, path, type(error).__name__))
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        results.requests += 1
        results.statuses[kind][status] += 1
        if kind == "cache":
            results.cache[headers.get("x-cache", "none").split(",")[0].strip()] += 1
        if status not in allowed:
            results.bad("%s %s: %d" % (kind, path, status))
        if headers.get("connection", "").lower() == "close":
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def admin_post(options, path, body=b""):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", options["admin_port"], timeout=30)
    connection.request("POST", path, body=body)
    response = connection.getresponse()
    return response.status, response.read()


def rss_kib(pid):
    """None once the process is gone (benchlib reads 0 then: a live process always has RSS)."""
    return benchlib._rss_kib(pid) or None


async def reloads(options, deadline, outcome):
    generation = 0
    while True:
        await asyncio.sleep(options["reload_every"])
        if time.monotonic() >= deadline:
            return
        generation += 1
        # Each reload changes the config for real: a response header and the limiter's rate.
        with open(options["template"]) as template:
            text = template.read().replace("@GENERATION@", str(generation))
            text = text.replace("@LIMIT@", str(50 + 10 * (generation % 2)))
        with open(options["config"] + ".tmp", "w") as config:
            config.write(text)
        os.replace(options["config"] + ".tmp", options["config"])
        try:
            status, body = await asyncio.to_thread(admin_post, options, "/admin/reload")
        except OSError as error:
            status, body = 0, str(error).encode()
        if status == 200:
            outcome["applied"] += 1
        else:
            outcome["failed"] += 1
            outcome["problems"].append("reload %d: %d %s" % (generation, status, body[:200]))


async def restarts(options, deadline, outcome):
    """The second upstream: stopped (fast shutdown, open connections reset) and started again."""
    command = options["upstream_b"].split(" ")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            await asyncio.sleep(options["restart_every"])
            if time.monotonic() + options["down"] >= deadline:
                return
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait)
            outcome["restarts"] += 1
            await asyncio.sleep(options["down"])
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait)


async def sampler(options, deadline, results, samples):
    while True:
        samples.append((round(time.monotonic() - START, 1), rss_kib(options["gateway_pid"]), results.requests,
                        results.unexpected_count))
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(options["sample_every"])


def slope_kib_per_minute(points):
    """Least-squares slope of RSS over time."""
    if len(points) < 3:
        return 0.0
    xs = [point[0] for point in points]
    ys = [point[1] for point in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return numerator / denominator * 60 if denominator else 0.0


async def main():
    options = parse_arguments(sys.argv[1:])
    # What the run must have done: a reload or restart task that died would otherwise pass quietly.
    expected_reloads = int(options["duration"] // options["reload_every"]) - 1
    expected_restarts = int((options["duration"] - options["down"]) // (options["restart_every"] + options["down"])) - 1
    traffic = Traffic(options["secret"], 2000)
    results = Results()
    samples = []
    outcome = {"applied": 0, "failed": 0, "restarts": 0, "problems": []}
    deadline = time.monotonic() + options["duration"]
    per_connection = options["rate"] / options["connections"]
    background = [
        asyncio.create_task(reloads(options, deadline, outcome)),
        asyncio.create_task(restarts(options, deadline, outcome)),
    ]
    sampling = asyncio.create_task(sampler(options, deadline, results, samples))
    await asyncio.gather(*[client(options, traffic, results, deadline, per_connection)
                           for _ in range(options["connections"])])
    for task in background:
        task.cancel()
    for result in await asyncio.gather(*background, return_exceptions=True):
        if isinstance(result, Exception):
            outcome["problems"].append("a background task failed: %r" % result)
    await sampling

    with open(options["csv"], "w") as csv:
        csv.write("seconds,rss_kib,requests,unexpected\n")
        for sample in samples:
            csv.write("%s,%s,%s,%s\n" % sample)

    alive = rss_kib(options["gateway_pid"]) is not None
    measured = [sample for sample in samples if sample[1] is not None]
    after_warmup = [sample for sample in measured if sample[0] >= options["warmup"]] or measured
    start_rss, warm_rss, end_rss = measured[0][1], after_warmup[0][1], measured[-1][1]
    peak_rss = max(sample[1] for sample in measured)
    slope = slope_kib_per_minute([(sample[0], sample[1]) for sample in after_warmup])
    second_half = after_warmup[len(after_warmup) // 2:]
    late_slope = slope_kib_per_minute([(sample[0], sample[1]) for sample in second_half])
    # "No upward trend": over the second half of the run after warm-up, growth that would add
    # less than 2 % of the warm RSS per 30 minutes, and the end within 10 % of the warm RSS.
    trend_ok = late_slope * 30 <= 0.02 * warm_rss and end_rss <= warm_rss * 1.10

    print("soak: %d s, %d requests (%.0f/s), %d connections" % (
        options["duration"], results.requests, results.requests / options["duration"], options["connections"]))
    for kind, _, allowed, _ in traffic.kinds:
        counts = results.statuses[kind]
        print("  %-13s %s  (allowed: %s)" % (kind, ", ".join("%s×%d" % item for item in sorted(
            counts.items(), key=lambda item: str(item[0]))), ", ".join(map(str, sorted(allowed)))))
    print("  cache answers by X-Cache: %s" % ", ".join("%s×%d" % item for item in sorted(results.cache.items())))
    print("  reloads: %d applied, %d failed; upstream restarts: %d" % (
        outcome["applied"], outcome["failed"], outcome["restarts"]))
    print("  unexpected answers: %d" % results.unexpected_count)
    for line in results.unexpected + outcome["problems"]:
        print("    " + line)
    print("  gateway RSS (KiB): start %d, after %ds warm-up %d, end %d, peak %d" % (
        start_rss, options["warmup"], warm_rss, end_rss, peak_rss))
    print("  RSS trend after warm-up: %+.1f KiB/min overall, %+.1f KiB/min over its second half" % (slope, late_slope))
    print("  samples: %s" % options["csv"])
    failures = []
    if results.unexpected_count:
        failures.append("unexpected answers")
    if outcome["failed"]:
        failures.append("failed reloads")
    if outcome["applied"] < expected_reloads or outcome["restarts"] < expected_restarts:
        failures.append("fewer reloads or restarts than planned (%d and %d expected)" % (
            expected_reloads, expected_restarts))
    if any(problem.startswith("a background task failed") for problem in outcome["problems"]):
        failures.append("a background task failed")
    if not alive:
        failures.append("the gateway died")
    # Minutes of allocator and cache settling look like growth in a short run: only a run of ten
    # minutes or more is judged by its trend (the 30-minute one settles within about 20).
    if not trend_ok and options["duration"] >= 600:
        failures.append("RSS kept growing")
    elif not trend_ok:
        print("  (the RSS trend is not judged in a run under 10 minutes)")
    print("soak: " + ("PASS" if not failures else "FAIL (" + ", ".join(failures) + ")"))
    return 1 if failures else 0


START = time.monotonic()
if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
