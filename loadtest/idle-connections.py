#!/usr/bin/env python3
"""Opens N keep-alive connections to a server, makes one request on each and leaves it idle;
then reports while holding them. Used by idle-connections.sh.

usage: idle-connections.py PORT COUNT READY_FILE HOLD_SECONDS
Writes 'ready <open> <failed>' to READY_FILE once every connection has had its answer, then
holds them for HOLD_SECONDS (or until killed) and writes 'alive <n>' with how many are still open.
"""
import asyncio, resource, sys

PORT, COUNT, READY, HOLD = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, COUNT + 1024), hard))

REQUEST = b"GET /idle HTTP/1.1\r\nHost: bench\r\n\r\n"

async def one(sem):
    async with sem:
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
        writer.write(REQUEST)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head[:40])
        return reader, writer

async def main():
    sem = asyncio.Semaphore(200)   # connect in waves, not 10,000 SYNs at once
    results = await asyncio.gather(*(one(sem) for _ in range(COUNT)), return_exceptions=True)
    conns = [r for r in results if not isinstance(r, BaseException)]
    failed = len(results) - len(conns)
    errors = {type(r).__name__ for r in results if isinstance(r, BaseException)}
    with open(READY, "w") as f:
        f.write(f"ready {len(conns)} {failed} {','.join(sorted(errors))}\n")
    await asyncio.sleep(HOLD)
    alive = sum(1 for reader, _ in conns if not reader.at_eof())
    with open(READY, "a") as f:
        f.write(f"alive {alive}\n")

asyncio.run(main())
