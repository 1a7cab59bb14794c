// Binary WebSocket frames of ComfyUI's protocol (spec §4.5). Every frame starts with a big-endian
// u32 event type. Pure module, testable under node.

export const PREVIEW_IMAGE = 1;
export const TEXT = 3;
export const PREVIEW_IMAGE_WITH_METADATA = 4;

/**
 * parseFrame decodes a binary frame. Result:
 *  - type 1: {type, mime, image: Uint8Array}
 *  - type 4: {type, mime, image, meta: {node_id, display_node_id, prompt_id, ...}}
 *  - type 3: {type, nodeId, text}
 *  - other:  {type}
 * Throws on frames too short for their header.
 */
export function parseFrame(buf) {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (bytes.length < 4) throw new Error('binary frame shorter than its type');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint32(0);
  switch (type) {
    case PREVIEW_IMAGE: {
      if (bytes.length < 8) throw new Error('preview frame too short');
      const format = view.getUint32(4);
      return { type, mime: format === 2 ? 'image/png' : 'image/jpeg', image: bytes.subarray(8) };
    }
    case PREVIEW_IMAGE_WITH_METADATA: {
      if (bytes.length < 8) throw new Error('preview frame too short');
      const n = view.getUint32(4);
      if (8 + n > bytes.length) throw new Error('preview metadata longer than frame');
      const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
      return { type, meta, mime: meta.image_type || 'image/jpeg', image: bytes.subarray(8 + n) };
    }
    case TEXT: {
      if (bytes.length < 8) throw new Error('text frame too short');
      const k = view.getUint32(4);
      if (8 + k > bytes.length) throw new Error('text frame node id longer than frame');
      const dec = new TextDecoder();
      return { type, nodeId: dec.decode(bytes.subarray(8, 8 + k)), text: dec.decode(bytes.subarray(8 + k)) };
    }
    default:
      return { type };
  }
}
