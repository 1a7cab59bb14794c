// Workflow (UI format) → API prompt, the body ComfyUI's frontend posts to /prompt (spec §5.1).
// It works on the serialized workflow so that the same code serves the editor and node's test
// runner. Frontend-only nodes are resolved here: Reroute follows its input, PrimitiveNode
// becomes the literal it holds, Note/MarkdownNote vanish; muted nodes (mode 2) are dropped with
// every input fed by them; bypassed nodes (mode 4) pass the matching input through.

import { widgetLayout, dynamicPrompt, inputSpecs } from './defs.js';

export const MODE_ALWAYS = 0;
export const MODE_NEVER = 2; // "muted"
export const MODE_BYPASS = 4;

const VIRTUAL = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);

/** linkTable indexes a workflow's links by id as {origin_id, origin_slot, target_id, target_slot, type}. */
export function linkTable(workflow) {
  const links = new Map();
  for (const l of workflow.links ?? []) {
    if (Array.isArray(l)) {
      links.set(l[0], { id: l[0], origin_id: l[1], origin_slot: l[2], target_id: l[3], target_slot: l[4], type: l[5] });
    } else if (l && typeof l === 'object') {
      links.set(l.id, l);
    }
  }
  return links;
}

function typesMatch(a, b) {
  if (a === '*' || b === '*' || a == null || b == null) return true;
  const as = String(a).toUpperCase().split(',');
  const bs = String(b).toUpperCase().split(',');
  return as.some((x) => bs.includes(x));
}

/**
 * graphToPrompt converts a workflow with the node definitions from /object_info.
 * Returns {output, errors}: output is the API prompt; errors lists problems found locally
 * (placeholders for unknown node types are still emitted so the server names them).
 * options.random feeds the dynamic prompt wildcards (tests pass a fixed one).
 */
export function graphToPrompt(workflow, defs, options = {}) {
  const nodes = new Map();
  for (const n of workflow.nodes ?? []) nodes.set(n.id, n);
  const links = linkTable(workflow);
  const output = {};
  const errors = [];

  // resolveLink follows a link id back to a real source: [srcId, slot], a literal {value}, or null.
  function resolveLink(linkId, seen = new Set()) {
    const link = links.get(linkId);
    if (!link) return null;
    const src = nodes.get(link.origin_id);
    if (!src || seen.has(src.id)) return null;
    seen.add(src.id);
    if (src.type === 'Reroute') {
      const inp = src.inputs?.[0];
      return inp?.link != null ? resolveLink(inp.link, seen) : null;
    }
    if (src.type === 'PrimitiveNode') {
      const wv = src.widgets_values;
      return { value: Array.isArray(wv) ? wv[0] : undefined };
    }
    if (src.mode === MODE_NEVER) return null;
    if (src.mode === MODE_BYPASS) {
      // Pass through the input at the same index if its type fits, else the first that fits.
      const outType = src.outputs?.[link.origin_slot]?.type ?? link.type;
      const ins = src.inputs ?? [];
      let pick = ins[link.origin_slot];
      if (!pick || pick.link == null || !typesMatch(pick.type, outType)) {
        pick = ins.find((i) => i.link != null && typesMatch(i.type, outType));
      }
      return pick ? resolveLink(pick.link, seen) : null;
    }
    return [String(src.id), link.origin_slot];
  }

  for (const n of workflow.nodes ?? []) {
    if (VIRTUAL.has(n.type)) continue;
    if (n.mode === MODE_NEVER || n.mode === MODE_BYPASS) continue;
    const def = defs[n.type];
    const inputs = {};
    const linkedWidgets = new Map(); // widget name -> link id (widgets converted to inputs)
    for (const inp of n.inputs ?? []) {
      if (inp.widget?.name && inp.link != null) linkedWidgets.set(inp.widget.name, inp.link);
    }
    if (def) {
      const layout = widgetLayout(def);
      const values = n.widgets_values;
      layout.forEach((w, i) => {
        if (w.role !== 'value') return;
        if (linkedWidgets.has(w.name)) return; // filled from the link below
        let v;
        if (Array.isArray(values)) v = values[i];
        else if (values && typeof values === 'object') v = values[w.name];
        if (v === undefined || v === null) {
          if (w.spec.optional) return;
          v = null;
        }
        if (w.kind === 'STRING' && w.spec.options.dynamicPrompts) v = dynamicPrompt(v, options.random);
        // A literal that is itself an array must be wrapped or it would read as a link.
        inputs[w.name] = Array.isArray(v) ? { __value__: v } : v;
      });
      for (const spec of inputSpecs(def)) {
        // Slots (and converted widgets) in declaration order.
        const inp = (n.inputs ?? []).find((i) => (i.widget?.name ?? i.name) === spec.name);
        if (!inp || inp.link == null) continue;
        const r = resolveLink(inp.link);
        if (r == null) continue;
        inputs[spec.name] = Array.isArray(r) ? r : (Array.isArray(r.value) ? { __value__: r.value } : r.value);
      }
    } else {
      errors.push({ node: n.id, message: `Node type ${n.type} is not installed on this server` });
      for (const inp of n.inputs ?? []) {
        if (inp.link == null) continue;
        const r = resolveLink(inp.link);
        if (r != null) inputs[inp.widget?.name ?? inp.name] = Array.isArray(r) ? r : r.value;
      }
    }
    const title = n.title || def?.display_name || n.type;
    output[String(n.id)] = { inputs, class_type: n.type, _meta: { title } };
  }

  // Drop links to nodes that were removed from the prompt (e.g. a muted upstream of a bypass).
  for (const entry of Object.values(output)) {
    for (const [k, v] of Object.entries(entry.inputs)) {
      if (Array.isArray(v) && !(v[0] in output)) delete entry.inputs[k];
    }
  }
  return { output, errors };
}
