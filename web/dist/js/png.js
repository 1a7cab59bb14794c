// PNG text chunks: ComfyUI (and comfyd) embed the UI workflow and the API prompt as tEXt/iTXt
// chunks named "workflow" and "prompt". This module reads them without decoding the image.
// It has no DOM dependencies so node's test runner can exercise it directly.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** isPNG reports whether bytes start with the PNG signature. */
export function isPNG(bytes) {
  if (bytes.length < 8) return false;
  return SIGNATURE.every((b, i) => bytes[i] === b);
}

function decodeText(bytes, utf8First) {
  if (utf8First) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      // Not UTF-8: tEXt is Latin-1 by the PNG spec.
    }
  }
  return new TextDecoder('latin1').decode(bytes);
}

async function inflate(bytes) {
  // zlib stream ("deflate" in the Compression Streams API).
  const ds = new DecompressionStream('deflate');
  const out = new Blob([bytes]).stream().pipeThrough(ds);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

/**
 * readPNGText returns the text chunks of a PNG as {keyword: text}. It understands tEXt,
 * zTXt and iTXt (compressed or not). Malformed chunks end the walk; what was read so far is
 * returned. A non-PNG input gives {}.
 */
export async function readPNGText(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const out = {};
  if (!isPNG(bytes)) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  while (off + 8 <= bytes.length) {
    const len = view.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    const start = off + 8;
    const end = start + len;
    if (end + 4 > bytes.length) break; // truncated
    const data = bytes.subarray(start, end);
    try {
      if (type === 'tEXt') {
        const z = data.indexOf(0);
        if (z > 0) out[decodeText(data.subarray(0, z), false)] = decodeText(data.subarray(z + 1), true);
      } else if (type === 'zTXt') {
        const z = data.indexOf(0);
        if (z > 0 && data[z + 1] === 0) {
          out[decodeText(data.subarray(0, z), false)] = decodeText(await inflate(data.subarray(z + 2)), true);
        }
      } else if (type === 'iTXt') {
        const z = data.indexOf(0);
        if (z > 0) {
          const key = decodeText(data.subarray(0, z), false);
          const compressed = data[z + 1] === 1;
          let p = z + 3;
          const langEnd = data.indexOf(0, p); // language tag
          if (langEnd < 0) throw new Error('bad iTXt');
          const tkEnd = data.indexOf(0, langEnd + 1); // translated keyword
          if (tkEnd < 0) throw new Error('bad iTXt');
          p = tkEnd + 1;
          let text = data.subarray(p);
          if (compressed) text = await inflate(text);
          out[key] = new TextDecoder('utf-8').decode(text);
        }
      } else if (type === 'IEND') {
        break;
      }
    } catch {
      // A broken text chunk is skipped; the image may still carry the other one.
    }
    off = end + 4; // skip CRC
  }
  return out;
}

/**
 * workflowFromPNG returns {workflow} or {prompt} parsed from the chunks of a ComfyUI PNG,
 * preferring the UI workflow and falling back to the API prompt; null when neither parses.
 */
export async function workflowFromPNG(input) {
  const text = await readPNGText(input);
  for (const key of ['workflow', 'Workflow']) {
    if (text[key]) {
      try {
        const wf = JSON.parse(text[key]);
        if (wf && typeof wf === 'object' && Array.isArray(wf.nodes)) return { workflow: wf };
      } catch { /* fall through to the prompt */ }
    }
  }
  for (const key of ['prompt', 'Prompt']) {
    if (text[key]) {
      try {
        const p = JSON.parse(text[key]);
        if (p && typeof p === 'object') return { prompt: p };
      } catch { /* nothing usable */ }
    }
  }
  return null;
}
