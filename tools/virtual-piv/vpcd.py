"""The vpcd protocol of vsmartcard's virtual reader, for the virtual PIV card (virtual_piv.py): every
message is a 2-byte big-endian length, then the payload. A 1-byte payload is a control: 0 power
off, 1 power on, 2 reset, 4 "send your ATR"; anything else is a C-APDU, answered with an R-APDU."""
import os, signal, socket, struct, sys, time


def serve(card, host, port, directory, atr):
    """Inserts `card` (power_on(), handle(apdu) -> response) into the reader listening on
    host:port and answers until the reader goes away or SIGTERM takes the card out."""
    # vpcd takes one card per reader and a backlog of none: while it is still letting go of the
    # previous card, a new one is refused for a moment. Keep trying, as a hand re-seats a token.
    deadline = time.monotonic() + 10
    while True:
        try:
            connection = socket.create_connection((host, port), timeout=None)
            break
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    signal.signal(signal.SIGTERM, lambda *_: (connection.close(), sys.exit(0)))
    # The moment the card reached the reader, for tests that time how fast an insertion is seen.
    open(os.path.join(directory, "connected"), "w").close()
    print("connected", flush=True)

    def reply(data):
        connection.sendall(struct.pack(">H", len(data)) + data)

    def receive(n):
        # vpcd writes a message's length and its payload separately: unless we acknowledge at
        # once, the payload waits for our delayed ACK (Nagle's algorithm), some 40 ms an APDU.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return connection.recv(n, socket.MSG_WAITALL)

    while True:
        head = receive(2)
        if len(head) < 2:
            return
        (length,) = struct.unpack(">H", head)
        message = receive(length) if length else b""
        if length == 1:
            if message[0] in (0, 1, 2):
                card.power_on()
            elif message[0] == 4:
                reply(atr)
            continue
        reply(card.handle(message))

