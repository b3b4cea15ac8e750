#!/usr/bin/env python3
# tests/fuzz/seeds/make_seeds.py - how the committed seeds of fuzz_image and fuzz_serial
# were written (run from this folder; python3 only). Images: MCUboot v2 header, a body,
# the unprotected TLV area with the SHA-256 of header + body (and a KEYHASH). Frames: SMP
# requests in the console framing (start 0x06 0x09, continuation 0x04 0x14, base64 of
# length + packet + CRC-16/XMODEM, newline), as models/smp/serial.h decodes them.
import base64, hashlib, struct

def image(body_len, hdr_size=32, keyhash=False, build=7):
    hdr = struct.pack('<IIHHIIBBHII', 0x96f3b83d, 0, hdr_size, 0, body_len, 0, 1, 2, 3, build, 0)
    hdr += b'\xff' * (hdr_size - 32)
    body = bytes((i * 37 + 11) & 0xff for i in range(body_len))
    tlvs = struct.pack('<HH', 0x10, 32) + hashlib.sha256(hdr + body).digest()
    if keyhash:
        tlvs += struct.pack('<HH', 0x01, 32) + hashlib.sha256(b'key').digest()
    return hdr + body + struct.pack('<HH', 0x6907, 4 + len(tlvs)) + tlvs

def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xffff
    return crc

def frames(pkt):
    raw = struct.pack('>H', len(pkt) + 2) + pkt + struct.pack('>H', crc16(pkt))
    out, first = b'', True
    while raw:
        chunk, raw = raw[:93], raw[93:]  # 93 raw bytes: 124 base64 characters per frame
        out += (b'\x06\x09' if first else b'\x04\x14') + base64.b64encode(chunk) + b'\n'
        first = False
    return out

def smp(op, group, cmd, cbor, seq=0):
    return struct.pack('>BBHHBB', op, 0, len(cbor), group, seq, cmd) + cbor

open('fuzz_image/small.bin', 'wb').write(image(64))
open('fuzz_image/zephyr-header.bin', 'wb').write(image(100, hdr_size=0x200, keyhash=True))
open('fuzz_image/empty-body.bin', 'wb').write(image(0))
open('fuzz_image/signed-head.bin', 'wb').write(open('../../data/mcuboot/signed.bin', 'rb').read()[:1024])
echo = smp(2, 0, 0, bytes.fromhex('a1616462') + b'hi')  # os echo {"d": "hi"}
upload = smp(2, 1, 1, bytes.fromhex('a4636f666600636c656e18c86464617461') + bytes([0x58, 150]) +
             bytes(range(150)) + bytes.fromhex('65696d61676500'), 1)  # image upload, 3 frames
open('fuzz_serial/echo.txt', 'wb').write(frames(echo))
open('fuzz_serial/upload-3-frames.txt', 'wb').write(frames(upload))
open('fuzz_serial/two-packets.txt', 'wb').write(frames(echo) + frames(smp(0, 1, 0, b'\xa0', 2)))
