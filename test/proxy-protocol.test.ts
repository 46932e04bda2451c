import { describe, expect, it } from 'vitest';
import { decodeProxyV2Header, encodeProxyV2Header, parseIPv6, TruncatedProxyHeaderError } from '../functions/drivers/local/proxy-protocol.ts';

const SIGNATURE = '0d0a0d0a000d0a515549540a';

describe('PROXY protocol v2 header', () => {
  it('encodes TCP over IPv4 as signature, 0x21, 0x11, length 12, addresses, ports', () => {
    const header = encodeProxyV2Header({ family: 'IPv4', sourceAddress: '192.0.2.10', sourcePort: 56324, destinationAddress: '198.51.100.1', destinationPort: 443 });
    expect(header.toString('hex')).toBe(SIGNATURE + '21' + '11' + '000c' + 'c000020a' + 'c6336401' + 'dc04' + '01bb');
  });

  it('encodes TCP over IPv6 as signature, 0x21, 0x21, length 36, addresses, ports', () => {
    const header = encodeProxyV2Header({ family: 'IPv6', sourceAddress: '2001:db8::1', sourcePort: 12345, destinationAddress: '::1', destinationPort: 8080 });
    expect(header.toString('hex')).toBe(
      SIGNATURE + '21' + '21' + '0024' + '20010db8000000000000000000000001' + '00000000000000000000000000000001' + '3039' + '1f90',
    );
  });

  it('round-trips IPv4 and IPv6 headers through decode', () => {
    for (const addresses of [
      { family: 'IPv4' as const, sourceAddress: '10.0.0.7', sourcePort: 1, destinationAddress: '127.0.0.1', destinationPort: 65535 },
      { family: 'IPv6' as const, sourceAddress: 'fe80::1', sourcePort: 40000, destinationAddress: '2001:db8:85a3::8a2e:370:7334', destinationPort: 8443 },
    ]) {
      const header = encodeProxyV2Header(addresses);
      expect(decodeProxyV2Header(header)).toEqual({ ...addresses, header, length: header.length });
    }
  });

  it('leaves the application bytes after the header and skips TLVs', () => {
    const header = encodeProxyV2Header({ family: 'IPv4', sourceAddress: '192.0.2.10', sourcePort: 1000, destinationAddress: '192.0.2.20', destinationPort: 80 });
    const withTlv = Buffer.concat([header, Buffer.from('0400010a', 'hex')]); // PP2_TYPE_NOOP, length 1
    withTlv.writeUInt16BE(12 + 4, 14);
    const decoded = decodeProxyV2Header(Buffer.concat([withTlv, Buffer.from('GET /')]));
    expect(decoded).toMatchObject({ sourceAddress: '192.0.2.10', sourcePort: 1000, length: 32 });
    expect(decoded!.header.equals(withTlv)).toBe(true);
  });

  it('writes IPv4-mapped IPv6 sources as plain IPv4 in an IPv4 header', () => {
    const header = encodeProxyV2Header({ family: 'IPv4', sourceAddress: '::ffff:1.2.3.4', sourcePort: 5, destinationAddress: '::FFFF:127.0.0.1', destinationPort: 6 });
    expect(header.subarray(16, 24).toString('hex')).toBe('01020304' + '7f000001');
    expect(decodeProxyV2Header(header)).toMatchObject({ sourceAddress: '1.2.3.4', destinationAddress: '127.0.0.1' });
  });

  it('writes plain IPv4 as IPv4-mapped in an IPv6 header and decodes it back to ::ffff:a.b.c.d', () => {
    const header = encodeProxyV2Header({ family: 'IPv6', sourceAddress: '1.2.3.4', sourcePort: 5, destinationAddress: '::ffff:0102:0304', destinationPort: 6 });
    expect(header.subarray(16, 32).toString('hex')).toBe('00000000000000000000ffff01020304');
    expect(decodeProxyV2Header(header)).toMatchObject({ sourceAddress: '::ffff:1.2.3.4', destinationAddress: '::ffff:1.2.3.4' });
  });

  it('returns null for data that is not a PROXY v2 header', () => {
    expect(decodeProxyV2Header(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeNull();
    expect(decodeProxyV2Header(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'))).toBeNull();
    expect(decodeProxyV2Header(Buffer.from('\r\n\r\nx'))).toBeNull();
  });

  it('throws a truncation error when the header is cut short', () => {
    const header = encodeProxyV2Header({ family: 'IPv6', sourceAddress: '::1', sourcePort: 1, destinationAddress: '::1', destinationPort: 2 });
    expect(() => decodeProxyV2Header(header.subarray(0, 20))).toThrow(TruncatedProxyHeaderError);
    expect(() => decodeProxyV2Header(header.subarray(0, 20))).toThrow(/truncated PROXY v2 header: received 20 bytes.*52/);
    expect(() => decodeProxyV2Header(header.subarray(0, 6))).toThrow(/truncated/);
  });

  it('rejects headers it cannot decode and addresses it cannot encode', () => {
    const local = encodeProxyV2Header({ family: 'IPv4', sourceAddress: '1.1.1.1', sourcePort: 1, destinationAddress: '2.2.2.2', destinationPort: 2 });
    local[12] = 0x20;
    expect(() => decodeProxyV2Header(local)).toThrow(/LOCAL command/);
    const unix = Buffer.from(local);
    unix[12] = 0x21;
    unix[13] = 0x31;
    expect(() => decodeProxyV2Header(unix)).toThrow(/family\/protocol byte 0x31/);
    expect(() => encodeProxyV2Header({ family: 'IPv4', sourceAddress: '2001:db8::1', sourcePort: 1, destinationAddress: '1.1.1.1', destinationPort: 2 })).toThrow(/not an IPv4 address/);
    expect(() => encodeProxyV2Header({ family: 'IPv4', sourceAddress: '1.1.1.1', sourcePort: 70000, destinationAddress: '1.1.1.1', destinationPort: 2 })).toThrow(/sourcePort/);
  });
});

describe('IPv6 text parsing', () => {
  const hex = (text: string) => parseIPv6(text)?.toString('hex') ?? null;

  it('expands every RFC 4291 form to 16 bytes', () => {
    expect(hex('::1')).toBe('00000000000000000000000000000001');
    expect(hex('::')).toBe('00000000000000000000000000000000');
    expect(hex('fe80::1%eth0')).toBe('fe800000000000000000000000000001');
    expect(hex('2001:db8::ff00:42:8329')).toBe('20010db8000000000000ff0000428329');
    expect(hex('2001:0DB8:0000:0000:0000:ff00:0042:8329')).toBe('20010db8000000000000ff0000428329');
    expect(hex('1::')).toBe('00010000000000000000000000000000');
    expect(hex('1:2:3:4:5:6:7::')).toBe('00010002000300040005000600070000');
    expect(hex('::ffff:192.0.2.1')).toBe('00000000000000000000ffffc0000201');
  });

  it('refuses malformed addresses', () => {
    for (const bad of ['', ':', ':::', '1::2::3', ':1::2', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::1.2.3', '::256.0.0.1', '1.2.3.4']) {
      expect(hex(bad), bad).toBeNull();
    }
  });

  it('decodes to RFC 5952 text (longest zero run compressed, first one on a tie)', () => {
    const roundTrip = (address: string) =>
      decodeProxyV2Header(encodeProxyV2Header({ family: 'IPv6', sourceAddress: address, sourcePort: 1, destinationAddress: '::1', destinationPort: 2 }))!.sourceAddress;
    expect(roundTrip('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(roundTrip('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(roundTrip('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1');
    expect(roundTrip('0:0:0:0:0:0:0:0')).toBe('::');
  });
});
