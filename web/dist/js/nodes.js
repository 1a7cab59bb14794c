// Node types for the litegraph editor, built from /object_info (spec §8): typed slots, widgets
// with ComfyUI's conventions, the frontend-only nodes (Reroute, Note, PrimitiveNode) and
// placeholders for types this server does not know, which keep their data so that a workflow
// loads, shows what is missing and saves back unchanged.

import { LiteGraph, LGraphNode, LGraphCanvas } from '../vendor/litegraph/litegraph.es.js';
import {
  widgetLayout, numberConfig, defaultValue, roundNumber, comboValues, slotType, CONTROL_VALUES, applyControl,
} from './defs.js';

export const MODE_NEVER = 2;
export const MODE_BYPASS = 4;

/** State the overlays read; the app fills it from WebSocket events. */
export const runState = {
  executing: null, // node id (string) executing now
  nodeProgress: new Map(), // node id -> {value, max}
  errors: new Map(), // node id -> {messages: [..], inputs: Set(names)}
};

let hooks = { upload: null, changed: null, inputImage: null };
/** setHooks wires app callbacks: upload(node, widget) opens the file picker; changed() marks dirty. */
export function setHooks(h) { hooks = { ...hooks, ...h }; }

// ---------------------------------------------------------------------------------------------
// DOM widgets (multiline text). The textarea floats over the canvas at the widget's place;
// textareas of nodes not drawn in a frame are hidden after that frame.

const domWidgets = new Set();
let frame = 0;
let overlay = null;
let activeCanvas = null;

/** setOverlay names the element textareas live in and the canvas they follow. */
export function setOverlay(el, canvas) { overlay = el; activeCanvas = canvas; }

function makeTextarea(node, name, value, spec) {
  const el = document.createElement('textarea');
  el.className = 'comfy-multiline';
  el.spellcheck = false;
  el.value = value ?? '';
  el.placeholder = spec?.options?.placeholder ?? name;
  el.dataset.widget = name;
  el.addEventListener('input', () => hooks.changed?.());
  el.addEventListener('pointerdown', (e) => e.stopPropagation());
  el.addEventListener('wheel', (e) => { if (el.scrollHeight <= el.clientHeight) e.preventDefault(); }, { passive: false });
  el.style.display = 'none';
  overlay?.appendChild(el);
  const widget = {
    type: 'customtext',
    name,
    options: { multiline: true },
    el,
    drawnFrame: -1,
    get value() { return el.value; },
    set value(v) { el.value = v ?? ''; },
    computeLayoutSize() { return { minHeight: 50, maxHeight: 1e6, minWidth: 100 }; },
    draw(ctx, n, width, y) {
      const canvas = activeCanvas;
      if (!canvas || !overlay) return;
      const ds = canvas.ds;
      const h = (this.computedHeight ?? 60) - 6;
      const margin = 10;
      const [sx, sy] = ds.convertOffsetToCanvas([n.pos[0] + margin, n.pos[1] + y]);
      // The canvas context works in CSS pixels (see App.setupCanvas), so these are too.
      el.style.display = canvas.low_quality ? 'none' : '';
      el.style.transform = `translate(${sx}px, ${sy}px) scale(${ds.scale})`;
      el.style.width = `${width - margin * 2}px`;
      el.style.height = `${Math.max(20, h)}px`;
      el.disabled = !!this.disabled;
      this.drawnFrame = frame;
    },
    onRemove() { el.remove(); domWidgets.delete(this); },
  };
  domWidgets.add(widget);
  return widget;
}

// Hide textareas of nodes that were not drawn (scrolled away, collapsed, removed) in the last
// redraw of the node layer.
const origDrawFront = LGraphCanvas.prototype.drawFrontCanvas;
LGraphCanvas.prototype.drawFrontCanvas = function (...args) {
  frame++;
  const r = origDrawFront.apply(this, args);
  for (const w of domWidgets) if (w.drawnFrame !== frame) w.el.style.display = 'none';
  return r;
};

/** removeDomWidgets drops every textarea (before a new graph is loaded). */
export function removeDomWidgets() {
  for (const w of [...domWidgets]) w.onRemove();
}

// ---------------------------------------------------------------------------------------------
// Node base: behaviour shared by every ComfyUI node class.

function nodeRemoved() {
  for (const w of this.widgets ?? []) w.onRemove?.();
  if (this.previewURL) URL.revokeObjectURL(this.previewURL);
}

function syncLinkedWidgets(node) {
  for (const w of node.widgets ?? []) {
    const slot = node.inputs?.find((i) => i.widget?.name === w.name);
    const linked = !!slot && slot.link != null;
    w.disabled = linked;
    // The socket shows the name while linked; a blank label keeps the two from overlapping.
    if (linked) w.label = ' ';
    else if (w.label === ' ') w.label = undefined;
    if (w.controlWidget) w.controlWidget.disabled = linked;
  }
}

/** addWidgetSlots gives every value widget an input socket ({widget: {name}}) if it lacks one. */
function addWidgetSlots(node) {
  for (const w of node.widgets ?? []) {
    if (!w.slotType) continue;
    if (node.inputs?.some((i) => i.widget?.name === w.name)) continue;
    // A slot named like the widget that lacks the marker (older saves): mark it.
    const legacy = node.inputs?.find((i) => i.name === w.name && !i.widget);
    if (legacy) { legacy.widget = { name: w.name }; continue; }
    node.addInput(w.name, w.slotType, { widget: { name: w.name } });
  }
}

function makeWidgets(node, def) {
  for (const item of widgetLayout(def)) {
    const { spec, kind } = item;
    let w;
    if (item.role === 'value') {
      const value = defaultValue(spec, kind);
      switch (kind) {
        case 'INT':
        case 'FLOAT': {
          const cfg = numberConfig(kind, spec.options);
          w = node.addWidget('number', spec.name, value, (v) => { w.value = roundNumber(kind, cfg, v); hooks.changed?.(); }, cfg);
          w.numberKind = kind;
          break;
        }
        case 'STRING':
          if (spec.options.multiline) {
            w = node.addCustomWidget(makeTextarea(node, spec.name, value, spec));
          } else {
            w = node.addWidget('text', spec.name, value, () => hooks.changed?.(), {});
          }
          if (spec.options.dynamicPrompts) w.dynamicPrompts = true;
          break;
        case 'BOOLEAN':
          w = node.addWidget('toggle', spec.name, value, () => hooks.changed?.(), {
            on: spec.options.label_on ?? 'true', off: spec.options.label_off ?? 'false',
          });
          break;
        case 'COMBO':
          w = node.addWidget('combo', spec.name, value, () => hooks.changed?.(), { values: comboValues(spec).slice() });
          break;
      }
      w.slotType = Array.isArray(spec.rawType) ? 'COMBO' : String(spec.rawType);
      w.spec = spec;
    } else if (item.role === 'control') {
      const target = node.widgets[node.widgets.length - 1];
      w = node.addWidget('combo', 'control_after_generate', 'randomize', () => hooks.changed?.(), {
        values: CONTROL_VALUES, serialize: false,
      });
      target.controlWidget = w;
      w.controls = target;
    } else if (item.role === 'upload') {
      const target = node.widgets[node.widgets.length - 1];
      w = node.addWidget('button', 'upload', 'image', () => hooks.upload?.(node, target), { serialize: false });
      w.label = 'choose file to upload';
      target.uploadWidget = w;
      const prev = target.callback;
      target.callback = (v, ...rest) => { prev?.(v, ...rest); hooks.inputImage?.(node, target.value); };
      queueMicrotask(() => hooks.inputImage?.(node, target.value));
    }
  }
}

/**
 * fitSize is a node's natural size: one row per plain slot (widget sockets sit on their widget's
 * row), the widgets' heights, and room for combo values.
 */
export function fitSize(node) {
  const rows = Math.max(node.inputs?.filter((i) => !i.widget).length ?? 0, node.outputs?.length ?? 0, 1);
  let h = rows * LiteGraph.NODE_SLOT_HEIGHT + 8;
  for (const w of node.widgets ?? []) {
    if (w.hidden) continue;
    h += (w.computeLayoutSize ? Math.max(w.computeLayoutSize(node).minHeight, 90) : LiteGraph.NODE_WIDGET_HEIGHT) + 4;
  }
  const textWidth = node.computeSize()[0];
  return [Math.max(textWidth, node.widgets?.length ? 300 : 200), h + 6];
}

/** applyAfterQueue runs control_after_generate on a node's widgets (ComfyUI's "after" mode). */
export function applyAfterQueue(node) {
  if (node.mode === MODE_NEVER) return;
  node.afterQueue?.();
  for (const w of node.widgets ?? []) {
    const c = w.controlWidget;
    if (!c || w.disabled) continue;
    const kind = w.numberKind ?? 'COMBO';
    const cfg = w.numberKind ? w.options : null;
    w.value = applyControl(c.value, kind, w.value, cfg, w.options?.values);
  }
}

/** makeNodeClass returns the litegraph class of one /object_info entry. */
export function makeNodeClass(def) {
  const title = def.display_name || def.name;
  class ComfyNode extends LGraphNode {
    static title = title;
    static comfyClass = def.name;
    static nodeData = def;
    constructor(t) {
      super(t ?? title);
      this.comfyClass = def.name;
      this.serialize_widgets = true;
      this.properties = { 'Node name for S&R': def.name };
      makeWidgets(this, def);
      // Plain slots in declaration order, then a socket per value widget.
      for (const group of ['required', 'optional']) {
        const specs = def.input?.[group];
        if (!specs) continue;
        for (const name of def.input_order?.[group] ?? Object.keys(specs)) {
          const spec = specs[name];
          if (!spec) continue;
          const t0 = Array.isArray(spec) ? spec[0] : spec;
          if (this.widgets?.some((w) => w.name === name && w.slotType)) continue;
          const opts = {};
          if (group === 'optional') opts.shape = LiteGraph.ROUND_SHAPE;
          this.addInput(name, slotType(t0), opts);
        }
      }
      addWidgetSlots(this);
      (def.output ?? []).forEach((t, i) => {
        const opts = def.output_is_list?.[i] ? { shape: LiteGraph.GRID_SHAPE } : {};
        this.addOutput(def.output_name?.[i] ?? slotType(t), slotType(t), opts);
      });
      const size = fitSize(this);
      if (def.output_node) size[1] = Math.max(size[1], 120);
      this.size = size;
    }
    configure(info) {
      // litegraph copies saved slot arrays over the constructor's element by element; start
      // from empty arrays so the saved slots are exactly what remains.
      if (Array.isArray(info.inputs)) this.inputs = [];
      if (Array.isArray(info.outputs)) this.outputs = [];
      super.configure(info);
    }
    onConfigure(info) {
      // Some extensions save widgets_values as {name: value}.
      const wv = info.widgets_values;
      if (wv && typeof wv === 'object' && !Array.isArray(wv)) {
        for (const w of this.widgets ?? []) if (w.name in wv) w.value = wv[w.name];
      }
      addWidgetSlots(this);
      syncLinkedWidgets(this);
      for (const w of this.widgets ?? []) if (w.uploadWidget) hooks.inputImage?.(this, w.value);
    }
    onConnectionsChange() { syncLinkedWidgets(this); }
    onRemoved() { nodeRemoved.call(this); }
    getExtraMenuOptions(canvas, options) { nodeMenu(this, options); }
  }
  Object.defineProperty(ComfyNode, 'name', { value: def.name.replace(/\W/g, '_') || 'ComfyNode' });
  return ComfyNode;
}

function nodeMenu(node, options) {
  options.unshift(
    { content: node.mode === MODE_BYPASS ? 'Remove bypass' : 'Bypass', callback: () => toggleMode(node, MODE_BYPASS) },
    { content: node.mode === MODE_NEVER ? 'Unmute' : 'Mute', callback: () => toggleMode(node, MODE_NEVER) },
    null,
  );
  if (node.imgs?.length) {
    options.unshift({ content: 'Open image', callback: () => window.open(node.imgs[node.imageIndex ?? 0].src, '_blank') }, null);
  }
}

export function toggleMode(node, mode) {
  node.mode = node.mode === mode ? 0 : mode;
  node.setDirtyCanvas(true, true);
  hooks.changed?.();
}

// ---------------------------------------------------------------------------------------------
// Frontend-only nodes and placeholders.

class RerouteNode extends LGraphNode {
  static title = 'Reroute';
  constructor(t) {
    super(t ?? 'Reroute');
    this.addInput('', '*');
    this.addOutput('', '*');
    this.size = [75, 26];
    this.properties = { showOutputText: false, horizontal: false };
    this.isVirtualNode = true;
  }
  onConnectionsChange() {
    // Take the type of what feeds it so downstream slots check against the real type.
    const link = this.graph?.links?.[this.inputs[0]?.link] ?? this.graph?._links?.get?.(this.inputs[0]?.link);
    const src = link ? this.graph.getNodeById(link.origin_id) : null;
    const t = src?.outputs?.[link.origin_slot]?.type ?? '*';
    this.outputs[0].type = t;
  }
}

class NoteNode extends LGraphNode {
  static title = 'Note';
  constructor(t) {
    super(t ?? 'Note');
    this.serialize_widgets = true;
    this.isVirtualNode = true;
    this.color = '#432';
    this.bgcolor = '#653';
    this.addCustomWidget(makeTextarea(this, 'text', '', { options: { placeholder: 'Note' } }));
    this.size = [400, 160];
  }
  onRemoved() { nodeRemoved.call(this); }
}

/**
 * PrimitiveNode is ComfyUI's frontend-only node that feeds one literal to widget inputs. Its
 * first widgets_values entry is the value (prompt.js inlines it); the rest (its control mode)
 * is kept as saved. The value gets an editor matching its JS type.
 */
class PrimitiveNode extends LGraphNode {
  static title = 'Primitive';
  constructor(t) {
    super(t ?? 'Primitive');
    this.serialize_widgets = true;
    this.isVirtualNode = true;
    this.addOutput('connect to widget input', '*');
    this.size = [240, 80];
    this.rest = [];
  }
  onConfigure(info) {
    const wv = Array.isArray(info.widgets_values) ? info.widgets_values : [];
    this.widgets = [];
    const v = wv[0];
    const cb = () => hooks.changed?.();
    if (typeof v === 'number') this.addWidget('number', 'value', v, cb, { precision: Number.isInteger(v) ? 0 : 3, step: 10, step2: 1 });
    else if (typeof v === 'boolean') this.addWidget('toggle', 'value', v, cb, {});
    else if (v !== undefined) this.addWidget('text', 'value', String(v), cb, {});
    this.rest = wv.slice(1);
  }
  onSerialize(o) {
    if (this.widgets?.length) o.widgets_values = [this.widgets[0].value, ...this.rest];
  }
  /** A numeric primitive saved with a control mode ([value, "increment"]) follows it too. */
  afterQueue() {
    const w = this.widgets?.[0];
    const mode = this.rest[0];
    if (!w || typeof w.value !== 'number' || !CONTROL_VALUES.includes(mode)) return;
    const cfg = { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, step2: 1 };
    w.value = applyControl(mode, 'INT', w.value, cfg, null);
  }
}

/**
 * A placeholder stands for a node type the server does not know. It keeps the node's slots and
 * widgets_values verbatim so that saving gives back what was loaded.
 */
function makePlaceholderClass(type) {
  class MissingNode extends LGraphNode {
    static title = type;
    constructor(t) {
      super(t ?? type);
      this.isPlaceholder = true;
      this.color = '#622';
      this.bgcolor = '#311';
      this.size = [240, 80];
    }
    onConfigure(info) {
      this.savedWidgetsValues = info.widgets_values;
      // Room for the slots, the saved values and the "missing" line.
      const rows = Math.max(this.inputs?.length ?? 0, this.outputs?.length ?? 0);
      const n = Array.isArray(info.widgets_values) ? info.widgets_values.length : 0;
      const need = rows * LiteGraph.NODE_SLOT_HEIGHT + n * 15 + 30;
      if (this.size[1] < need) this.size[1] = need;
    }
    onSerialize(o) {
      if (this.savedWidgetsValues !== undefined) o.widgets_values = this.savedWidgetsValues;
    }
    onDrawForeground(ctx) {
      if (this.flags?.collapsed) return;
      ctx.save();
      ctx.font = '12px sans-serif';
      ctx.textAlign = 'left';
      // Show what it holds, so the user can see what would be lost by replacing it.
      // Without widgets, litegraph lays every input (widget sockets too) out as a row.
      const rows = Math.max(this.inputs?.length ?? 0, this.outputs?.length ?? 0);
      const vals = Array.isArray(this.savedWidgetsValues) ? this.savedWidgetsValues : [];
      let y = rows * LiteGraph.NODE_SLOT_HEIGHT + 16;
      ctx.fillStyle = '#caa';
      for (const v of vals) {
        if (y > this.size[1] - 24) break;
        const t = typeof v === 'string' ? v : JSON.stringify(v);
        ctx.fillText((t ?? '').length > 40 ? t.slice(0, 39) + '…' : t ?? '', 10, y);
        y += 15;
      }
      ctx.fillStyle = '#f88';
      ctx.fillText('missing node type', 10, this.size[1] - 8);
      ctx.restore();
    }
  }
  return MissingNode;
}

export const VIRTUAL_TYPES = { Reroute: RerouteNode, Note: NoteNode, MarkdownNote: NoteNode, PrimitiveNode };

/** registerAll (re)registers every node type from defs plus the frontend-only ones. */
export function registerAll(defs) {
  for (const type of Object.keys(LiteGraph.registered_node_types)) LiteGraph.unregisterNodeType(type);
  for (const [type, cls] of Object.entries(VIRTUAL_TYPES)) {
    const c = class extends cls {};
    LiteGraph.registerNodeType(type, c);
    c.category = 'utils';
    c.title = type;
  }
  for (const def of Object.values(defs)) {
    const cls = makeNodeClass(def);
    LiteGraph.registerNodeType(def.name, cls);
    cls.category = def.category ?? 'sd';
    cls.title = def.display_name || def.name;
  }
}

/** ensurePlaceholders registers a placeholder class for every unknown type a workflow uses. */
export function ensurePlaceholders(workflow) {
  const missing = [];
  for (const n of workflow.nodes ?? []) {
    if (!n || typeof n.type !== 'string') continue;
    if (LiteGraph.registered_node_types[n.type]) continue;
    const cls = makePlaceholderClass(n.type);
    LiteGraph.registerNodeType(n.type, cls);
    cls.category = '__missing__';
    cls.skip_list = true;
    missing.push(n.type);
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Overlays drawn on every node: images, previews, progress, executing and error outlines,
// bypass/mute tint.

function widgetsBottom(node) {
  let bottom = 0;
  for (const w of node.widgets ?? []) {
    if (w.hidden || w.last_y == null) continue;
    bottom = Math.max(bottom, w.last_y + (w.computedHeight ?? LiteGraph.NODE_WIDGET_HEIGHT + 4));
  }
  if (!bottom) {
    const rows = Math.max(node.inputs?.filter((i) => !i.widget).length ?? 0, node.outputs?.length ?? 0);
    bottom = rows * LiteGraph.NODE_SLOT_HEIGHT + 6;
  }
  return bottom;
}

function drawText(node, ctx) {
  const top = widgetsBottom(node) + 14;
  ctx.save();
  ctx.fillStyle = '#ddd';
  ctx.font = '12px monospace';
  ctx.textAlign = 'left';
  const maxLines = Math.max(1, Math.floor((node.size[1] - top) / 14));
  const lines = node.outputText.split('\n').slice(0, maxLines);
  lines.forEach((l, i) => ctx.fillText(l.length > 80 ? l.slice(0, 79) + '…' : l, 10, top + i * 14));
  ctx.restore();
}

function drawImages(node, ctx) {
  if (node.outputText && !node.imgs?.length && !node.preview) { drawText(node, ctx); return; }
  const imgs = node.preview ? [node.preview] : node.imgs;
  if (!imgs?.length) return;
  const top = widgetsBottom(node) + 4;
  const w = node.size[0] - 10;
  const h = node.size[1] - top - 5;
  if (h < 20) return;
  const ready = imgs.filter((im) => im.complete && im.naturalWidth);
  if (!ready.length) return;
  const cols = Math.ceil(Math.sqrt(ready.length));
  const rows = Math.ceil(ready.length / cols);
  const cw = w / cols;
  const ch = h / rows;
  ready.forEach((im, i) => {
    const s = Math.min(cw / im.naturalWidth, ch / im.naturalHeight);
    const iw = im.naturalWidth * s;
    const ih = im.naturalHeight * s;
    const x = 5 + (i % cols) * cw + (cw - iw) / 2;
    const y = top + Math.floor(i / cols) * ch + (ch - ih) / 2;
    ctx.drawImage(im, x, y, iw, ih);
  });
  if (!node.preview && imgs.length > 1) {
    ctx.fillStyle = '#ccc';
    ctx.font = '11px sans-serif';
    ctx.textAlign = 'right';
    ctx.fillText(`${imgs.length} images`, node.size[0] - 8, node.size[1] - 6);
  }
}

function drawOverlay(node, ctx) {
  const titleH = LiteGraph.NODE_TITLE_HEIGHT;
  const id = String(node.id);
  const collapsed = node.flags?.collapsed;
  const width = collapsed ? (node._collapsed_width ?? LiteGraph.NODE_COLLAPSED_WIDTH) : node.size[0];
  const height = collapsed ? 0 : node.size[1];
  if (!collapsed) drawImages(node, ctx);
  if (node.mode === MODE_BYPASS) {
    ctx.fillStyle = 'rgba(160, 40, 200, 0.35)';
    ctx.fillRect(0, -titleH, width, height + titleH);
  } else if (node.mode === MODE_NEVER) {
    ctx.fillStyle = 'rgba(20, 20, 20, 0.55)';
    ctx.fillRect(0, -titleH, width, height + titleH);
  }
  // INT inputs with display "color" (EmptyImage's color) get a swatch of the colour.
  if (!collapsed) {
    for (const w of node.widgets ?? []) {
      if (w.spec?.options?.display !== 'color' || w.last_y == null || w.hidden) continue;
      const v = Number(w.value) >>> 0;
      ctx.fillStyle = `#${(v & 0xffffff).toString(16).padStart(6, '0')}`;
      ctx.font = `${LiteGraph.NODE_SUBTEXT_SIZE ?? 12}px Arial`;
      const x = 35 + ctx.measureText(w.label || w.name).width + 8;
      ctx.fillRect(x, w.last_y + 5, 14, LiteGraph.NODE_WIDGET_HEIGHT - 10);
    }
  }
  const p = runState.nodeProgress.get(id);
  if (p && p.max > 0 && p.value < p.max) {
    ctx.fillStyle = '#2a5';
    ctx.fillRect(0, -4, width * Math.min(1, p.value / p.max), 4);
  }
  if (runState.executing === id) {
    ctx.strokeStyle = '#0f0';
    ctx.lineWidth = 3;
    ctx.strokeRect(-3, -titleH - 3, width + 6, height + titleH + 6);
  }
  const err = runState.errors.get(id);
  if (err) {
    ctx.strokeStyle = '#f33';
    ctx.lineWidth = 3;
    ctx.strokeRect(-4, -titleH - 4, width + 8, height + titleH + 8);
    ctx.fillStyle = '#f66';
    ctx.font = '12px sans-serif';
    ctx.textAlign = 'left';
    err.messages.slice(0, 6).forEach((m, i) => ctx.fillText(m.length > 90 ? m.slice(0, 87) + '…' : m, 0, height + 18 + i * 15));
    // Mark the inputs the errors name.
    if (!collapsed) {
      for (const name of err.inputs) {
        const w = node.widgets?.find((x) => x.name === name);
        if (w?.last_y != null) {
          ctx.strokeRect(6, w.last_y, width - 12, LiteGraph.NODE_WIDGET_HEIGHT);
          continue;
        }
        const idx = node.inputs?.findIndex((x) => x.name === name) ?? -1;
        if (idx >= 0) {
          const pos = node.getConnectionPos(true, idx);
          ctx.beginPath();
          ctx.arc(pos[0] - node.pos[0], pos[1] - node.pos[1], 7, 0, Math.PI * 2);
          ctx.stroke();
        }
      }
    }
  }
}

const origDrawNode = LGraphCanvas.prototype.drawNode;
LGraphCanvas.prototype.drawNode = function (node, ctx) {
  const r = origDrawNode.call(this, node, ctx);
  drawOverlay(node, ctx);
  return r;
};

export { LiteGraph };
