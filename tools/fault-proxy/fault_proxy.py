#!/usr/bin/env python3
"""A TCP fault proxy for the relay tests: the kernel here has no netem, so faults are made here.

    fault_proxy.py --listen 127.0.0.1:0 --target 127.0.0.1:8443 --control-port-file FILE
                   [--latency-ms 0] [--bandwidth BYTES_PER_S] [--reset-after BYTES]
                   [--reset-connections K] [--blackhole]

Every accepted connection is forwarded to TARGET, byte for byte (TLS passes through untouched:
the proxy never looks inside). Faults, each settable at start and changed while running through a
line-based control port on 127.0.0.1 (its port number written to --control-port-file, and the
listening port to --port-file):

  latency MS        delay each chunk by MS milliseconds, in both directions
  bandwidth B       at most B bytes per second per direction per connection (0: no cap)
  reset-after N     a connection is cut (TCP RST) once N bytes have gone client -> target; applies
                    to the next K connections only (see reset-connections), 0 = off
  reset-connections K   how many connections reset-after applies to (default: all)
  blackhole on|off  accept connections and swallow what they send, answer nothing
  pass              all faults off
  stats             one JSON line: connections, bytes up/down, resets done
  close-all         cut every open connection now (RST)

Each command is answered by one line: "ok", a JSON line for stats, or "error: …".
Used by the relay tests (issue 6) to cut a large upload in the middle and count the bytes that
actually went over the wire.
"""
import argparse, asyncio, json, socket, struct, sys


class Faults:
    def __init__(self, args):
        self.latency = args.latency_ms / 1000
        self.bandwidth = args.bandwidth
        self.reset_after = args.reset_after
        self.reset_connections = args.reset_connections  # None: every connection
        self.blackhole = args.blackhole
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.resets = 0
        self.open = set()

    def stats(self):
        return {"connections": self.connections, "open": len(self.open), "bytes_up": self.bytes_up,
                "bytes_down": self.bytes_down, "resets": self.resets}


def hard_close(writer):
    """Close with RST (SO_LINGER 0), as a dropped mobile link or a crashing middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def pump(reader, writer, faults, direction, budget, on_reset):
    """Copies one direction, with latency and a bandwidth cap; `budget` (a one-item list) counts
    down the bytes allowed before the connection is cut, for the client -> target direction."""
    while True:
        try:
            data = await reader.read(16384)
        except (ConnectionError, OSError):
            break
        if not data:
            break
        if budget is not None and budget[0] is not None:
            if len(data) >= budget[0]:
                data = data[:budget[0]]
                if data:
                    writer.write(data)
                    faults.bytes_up += len(data)
                    try:
                        await writer.drain()
                    except (ConnectionError, OSError):
                        pass
                on_reset()
                return
            budget[0] -= len(data)
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.bandwidth:
            await asyncio.sleep(len(data) / faults.bandwidth)
        if direction == "up":
            faults.bytes_up += len(data)
        else:
            faults.bytes_down += len(data)
        writer.write(data)
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            break
    try:
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError, RuntimeError):
        pass


async def handle(client_reader, client_writer, faults, target):
    faults.connections += 1
    if faults.blackhole:
        faults.open.add(client_writer)
        try:
            while await client_reader.read(16384):
                pass
        except (ConnectionError, OSError):
            pass
        faults.open.discard(client_writer)
        client_writer.close()
        return
    try:
        target_reader, target_writer = await asyncio.open_connection(*target)
    except OSError:
        hard_close(client_writer)
        return
    applies = faults.reset_after and (faults.reset_connections is None or faults.reset_connections > 0)
    if applies and faults.reset_connections is not None:
        faults.reset_connections -= 1
    budget = [faults.reset_after if applies else None]
    faults.open.update({client_writer, target_writer})

    def reset():
        faults.resets += 1
        hard_close(client_writer)
        hard_close(target_writer)

    up = asyncio.create_task(pump(client_reader, target_writer, faults, "up", budget, reset))
    down = asyncio.create_task(pump(target_reader, client_writer, faults, "down", None, reset))
    await asyncio.gather(up, down, return_exceptions=True)
    for writer in (client_writer, target_writer):
        faults.open.discard(writer)
        try:
            writer.close()
        except (ConnectionError, OSError, RuntimeError):
            pass


async def control(reader, writer, faults):
    while line := await reader.readline():
        words = line.decode().split()
        try:
            if not words:
                continue
            command, value = words[0], (words[1] if len(words) > 1 else None)
            if command == "latency":
                faults.latency = int(value) / 1000
            elif command == "bandwidth":
                faults.bandwidth = int(value)
            elif command == "reset-after":
                faults.reset_after = int(value)
            elif command == "reset-connections":
                faults.reset_connections = int(value)
            elif command == "blackhole":
                faults.blackhole = value == "on"
            elif command == "pass":
                faults.latency, faults.bandwidth, faults.reset_after, faults.blackhole = 0, 0, 0, False
            elif command == "close-all":
                for open_writer in list(faults.open):
                    hard_close(open_writer)
            elif command != "stats":
                raise ValueError(f"unknown command {command}")
            writer.write((json.dumps(faults.stats()) if command == "stats" else "ok").encode() + b"\n")
        except (ValueError, TypeError) as error:
            writer.write(f"error: {error}\n".encode())
        await writer.drain()
    writer.close()


def address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0", type=address)
    parser.add_argument("--target", required=True, type=address)
    parser.add_argument("--port-file", help="where to write the listening port")
    parser.add_argument("--control-port-file", help="where to write the control port")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--bandwidth", type=int, default=0)
    parser.add_argument("--reset-after", type=int, default=0)
    parser.add_argument("--reset-connections", type=int, default=None)
    parser.add_argument("--blackhole", action="store_true")
    args = parser.parse_args()
    faults = Faults(args)
    server = await asyncio.start_server(lambda r, w: handle(r, w, faults, args.target), *args.listen)
    controller = await asyncio.start_server(lambda r, w: control(r, w, faults), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    control_port = controller.sockets[0].getsockname()[1]
    # Written last and renamed into place, so a test that sees the file can connect.
    for path, value in ((args.control_port_file, control_port), (args.port_file, port)):
        if path:
            with open(path + ".tmp", "w") as f:
                f.write(f"{value}\n")
            import os
            os.replace(path + ".tmp", path)
    print(f"fault proxy: 127.0.0.1:{port} -> {args.target[0]}:{args.target[1]}, control on 127.0.0.1:{control_port}", flush=True)
    async with server, controller:
        await asyncio.gather(server.serve_forever(), controller.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
