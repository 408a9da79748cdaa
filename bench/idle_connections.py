#!/usr/bin/env python3
"""Opens N keep-alive connections to 127.0.0.1:PORT, sends one request on each, reads its response,
then holds them all idle. Prints 'ready N' when all are idle; exits after --hold seconds."""
import argparse
import asyncio
import ssl
import sys


async def one(port, gate, held, context):
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                       server_hostname="localhost" if context else None)
        writer.write(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
        await writer.drain()
        data = b""
        while b"Hello, World!" not in data:
            chunk = await reader.read(4096)
            if not chunk:
                raise ConnectionError("closed before the response")
            data += chunk
    held.append(writer)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--hold", type=float, default=10.0)
    parser.add_argument("--tls", action="store_true", help="connect with TLS (the certificate is not checked)")
    args = parser.parse_args()
    context = None
    if args.tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    gate = asyncio.Semaphore(200)
    held = []
    results = await asyncio.wait_for(
        asyncio.gather(*(one(args.port, gate, held, context) for _ in range(args.count)), return_exceptions=True), timeout=120)
    failures = [r for r in results if isinstance(r, Exception)]
    print(f"ready {len(held)} failed {len(failures)}", flush=True)
    await asyncio.sleep(args.hold)
    for writer in held:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
