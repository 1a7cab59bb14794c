// Workflow documents: recognising what was opened (UI workflow, API prompt, history entry),
// building a UI workflow from an API prompt, and the default txt2img graph. Pure module.

import { widgetLayout, inputSpecs, widgetKind, slotType } from './defs.js';

/** isWorkflow reports whether obj looks like a UI workflow (ComfyUI's frontend format). */
export function isWorkflow(obj) {
  return !!obj && typeof obj === 'object' && Array.isArray(obj.nodes);
}

/** isApiPrompt reports whether obj looks like an API prompt {id: {class_type, inputs}}. */
export function isApiPrompt(obj) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return false;
  const vals = Object.values(obj);
  return vals.length > 0 && vals.every((v) => v && typeof v === 'object' && typeof v.class_type === 'string');
}

/**
 * classify inspects parsed JSON and returns {workflow} or {prompt}, unwrapping the shapes people
 * drop on the page: a saved workflow, an API prompt, a /prompt body ({prompt, extra_data}), or
 * a history entry.
 */
export function classify(obj) {
  if (isWorkflow(obj)) return { workflow: obj };
  if (obj && typeof obj === 'object') {
    const wf = obj.extra_data?.extra_pnginfo?.workflow ?? obj.extra_pnginfo?.workflow ?? obj.workflow;
    if (isWorkflow(wf)) return { workflow: wf };
    if (isApiPrompt(obj.prompt)) return { prompt: obj.prompt };
    if (isApiPrompt(obj.output)) return { prompt: obj.output };
    if (isApiPrompt(obj)) return { prompt: obj };
  }
  return null;
}

function isLink(v) {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number';
}

/**
 * apiToWorkflow builds a UI workflow (version 0.4) from an API prompt, using the node
 * definitions to place literals into widgets_values and links into slots. Nodes are laid out
 * in columns by their depth in the graph. Unknown node types keep their links as inputs.
 */
export function apiToWorkflow(prompt, defs) {
  const ids = Object.keys(prompt);
  const numeric = new Map(); // prompt id -> numeric node id
  let next = 1;
  for (const id of ids) {
    const n = Number(id);
    if (Number.isInteger(n) && n > 0 && ![...numeric.values()].includes(n)) numeric.set(id, n);
  }
  for (const id of ids) {
    if (numeric.has(id)) continue;
    while ([...numeric.values()].includes(next)) next++;
    numeric.set(id, next++);
  }
  // Depth = longest chain of links feeding the node (iterative, no recursion).
  const depth = new Map();
  for (let pass = 0; pass < ids.length + 1; pass++) {
    let changed = false;
    for (const id of ids) {
      let d = 0;
      for (const v of Object.values(prompt[id].inputs ?? {})) {
        if (isLink(v) && v[0] in prompt) d = Math.max(d, (depth.get(v[0]) ?? 0) + 1);
      }
      if (depth.get(id) !== d) { depth.set(id, d); changed = true; }
    }
    if (!changed) break;
  }
  const columns = new Map();
  const nodes = [];
  const links = [];
  const byId = new Map();
  for (const id of ids) {
    const p = prompt[id];
    const def = defs[p.class_type];
    const col = Math.min(depth.get(id) ?? 0, 50);
    const row = columns.get(col) ?? 0;
    columns.set(col, row + 1);
    const node = {
      id: numeric.get(id), type: p.class_type, pos: [40 + col * 360, 40 + row * 260], size: [315, 120],
      flags: {}, order: 0, mode: 0, inputs: [], outputs: [], properties: { 'Node name for S&R': p.class_type },
    };
    if (p._meta?.title && p._meta.title !== (def?.display_name ?? p.class_type)) node.title = p._meta.title;
    const inputs = p.inputs ?? {};
    if (def) {
      const values = [];
      for (const w of widgetLayout(def)) {
        if (w.role === 'control') values.push('fixed');
        else if (w.role === 'upload') values.push('image');
        else {
          let v = inputs[w.name];
          if (v && typeof v === 'object' && !Array.isArray(v) && '__value__' in v) v = v.__value__;
          values.push(isLink(v) ? (w.spec.options.default ?? null) : v);
        }
      }
      node.widgets_values = values;
      for (const spec of inputSpecs(def)) {
        const kind = widgetKind(spec);
        const v = inputs[spec.name];
        if (!kind) node.inputs.push({ name: spec.name, type: slotType(spec.rawType), link: null });
        else if (isLink(v)) node.inputs.push({ name: spec.name, type: slotType(spec.rawType), link: null, widget: { name: spec.name } });
      }
      node.outputs = (def.output ?? []).map((t, i) => ({ name: def.output_name?.[i] ?? slotType(t), type: slotType(t), links: [] }));
    } else {
      for (const [k, v] of Object.entries(inputs)) if (isLink(v)) node.inputs.push({ name: k, type: '*', link: null });
    }
    nodes.push(node);
    byId.set(id, node);
  }
  let linkId = 0;
  for (const id of ids) {
    const target = byId.get(id);
    for (const [k, v] of Object.entries(prompt[id].inputs ?? {})) {
      if (!isLink(v)) continue;
      const src = byId.get(v[0]);
      const slot = target.inputs.findIndex((i) => (i.widget?.name ?? i.name) === k);
      if (!src || slot < 0) continue;
      while (src.outputs.length <= v[1]) src.outputs.push({ name: '*', type: '*', links: [] });
      const type = src.outputs[v[1]].type;
      linkId++;
      links.push([linkId, src.id, v[1], target.id, slot, type]);
      src.outputs[v[1]].links.push(linkId);
      target.inputs[slot].link = linkId;
    }
  }
  return {
    last_node_id: Math.max(0, ...nodes.map((n) => n.id)), last_link_id: linkId,
    nodes, links, groups: [], config: {}, extra: {}, version: 0.4,
  };
}

/** defaultWorkflow is the standard text-to-image graph shown on first open. */
export function defaultWorkflow() {
  const l = (id, o, os, t, ts, type) => [id, o, os, t, ts, type];
  return {
    last_node_id: 9,
    last_link_id: 9,
    nodes: [
      { id: 7, type: 'CLIPTextEncode', pos: [413, 389], size: [425, 180], flags: {}, order: 3, mode: 0,
        inputs: [{ name: 'clip', type: 'CLIP', link: 5 }], outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [6], slot_index: 0 }],
        properties: { 'Node name for S&R': 'CLIPTextEncode' }, widgets_values: ['text, watermark, blurry'] },
      { id: 6, type: 'CLIPTextEncode', pos: [415, 186], size: [422, 165], flags: {}, order: 2, mode: 0,
        inputs: [{ name: 'clip', type: 'CLIP', link: 3 }], outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [4], slot_index: 0 }],
        properties: { 'Node name for S&R': 'CLIPTextEncode' },
        widgets_values: ['a lighthouse on a rocky coast at sunset, dramatic clouds, detailed oil painting'] },
      { id: 5, type: 'EmptyLatentImage', pos: [473, 609], size: [315, 106], flags: {}, order: 1, mode: 0,
        outputs: [{ name: 'LATENT', type: 'LATENT', links: [2], slot_index: 0 }],
        properties: { 'Node name for S&R': 'EmptyLatentImage' }, widgets_values: [512, 512, 1] },
      { id: 3, type: 'KSampler', pos: [863, 186], size: [315, 262], flags: {}, order: 4, mode: 0,
        inputs: [
          { name: 'model', type: 'MODEL', link: 1 }, { name: 'positive', type: 'CONDITIONING', link: 4 },
          { name: 'negative', type: 'CONDITIONING', link: 6 }, { name: 'latent_image', type: 'LATENT', link: 2 }],
        outputs: [{ name: 'LATENT', type: 'LATENT', links: [7], slot_index: 0 }],
        properties: { 'Node name for S&R': 'KSampler' }, widgets_values: [156680208700286, 'randomize', 20, 8, 'euler', 'normal', 1] },
      { id: 8, type: 'VAEDecode', pos: [1209, 188], size: [210, 46], flags: {}, order: 5, mode: 0,
        inputs: [{ name: 'samples', type: 'LATENT', link: 7 }, { name: 'vae', type: 'VAE', link: 8 }],
        outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [9], slot_index: 0 }], properties: { 'Node name for S&R': 'VAEDecode' } },
      { id: 9, type: 'SaveImage', pos: [1451, 189], size: [210, 270], flags: {}, order: 6, mode: 0,
        inputs: [{ name: 'images', type: 'IMAGE', link: 9 }], outputs: [], properties: {}, widgets_values: ['ComfyUI'] },
      { id: 4, type: 'CheckpointLoaderSimple', pos: [26, 474], size: [315, 98], flags: {}, order: 0, mode: 0,
        outputs: [
          { name: 'MODEL', type: 'MODEL', links: [1], slot_index: 0 }, { name: 'CLIP', type: 'CLIP', links: [3, 5], slot_index: 1 },
          { name: 'VAE', type: 'VAE', links: [8], slot_index: 2 }],
        properties: { 'Node name for S&R': 'CheckpointLoaderSimple' }, widgets_values: ['v1-5-pruned-emaonly.safetensors'] },
    ],
    links: [
      l(1, 4, 0, 3, 0, 'MODEL'), l(2, 5, 0, 3, 3, 'LATENT'), l(3, 4, 1, 6, 0, 'CLIP'), l(4, 6, 0, 3, 1, 'CONDITIONING'),
      l(5, 4, 1, 7, 0, 'CLIP'), l(6, 7, 0, 3, 2, 'CONDITIONING'), l(7, 3, 0, 8, 0, 'LATENT'), l(8, 4, 2, 8, 1, 'VAE'),
      l(9, 8, 0, 9, 0, 'IMAGE'),
    ],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}
