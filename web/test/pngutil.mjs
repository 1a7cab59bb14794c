// A tiny PNG writer for tests: RGBA 8-bit, filter 0, with text chunks (tEXt, iTXt, zTXt).
import zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * makePNG returns a PNG of w×h pixels coloured by pixel(x, y) → [r, g, b, a] with the given
 * text chunks: [{key, text, kind: 'tEXt' | 'iTXt' | 'zTXt' | 'iTXt-z'}].
 */
export function makePNG(w, h, pixel, texts = []) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.alloc(h * (1 + w * 4));
  for (let y = 0; y < h; y++) {
    raw[y * (1 + w * 4)] = 0;
    for (let x = 0; x < w; x++) {
      const p = pixel(x, y);
      raw.set(p, y * (1 + w * 4) + 1 + x * 4);
    }
  }
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  for (const t of texts) {
    const key = Buffer.from(t.key, 'latin1');
    if (t.kind === 'zTXt') {
      parts.push(chunk('zTXt', Buffer.concat([key, Buffer.from([0, 0]), zlib.deflateSync(Buffer.from(t.text, 'latin1'))])));
    } else if (t.kind === 'iTXt' || t.kind === 'iTXt-z') {
      const z = t.kind === 'iTXt-z';
      const body = z ? zlib.deflateSync(Buffer.from(t.text, 'utf8')) : Buffer.from(t.text, 'utf8');
      parts.push(chunk('iTXt', Buffer.concat([key, Buffer.from([0, z ? 1 : 0, 0, 0, 0]), body])));
    } else {
      parts.push(chunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(t.text, 'latin1')])));
    }
  }
  parts.push(chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
