// comfyd's web page: the node editor, its panels and the wiring to the server's API.
// Modules: api.js (HTTP + WebSocket), nodes.js (node types and canvas overlays), defs.js
// (object_info conventions), prompt.js (workflow → API prompt), workflow.js (documents),
// png.js (workflows embedded in PNGs), frames.js (binary WebSocket frames).

import { LiteGraph, LGraph, LGraphCanvas } from '../vendor/litegraph/litegraph.es.js';
import { Api, ApiError } from './api.js';
import * as N from './nodes.js';
import { graphToPrompt } from './prompt.js';
import { classify, apiToWorkflow, defaultWorkflow } from './workflow.js';
import { workflowFromPNG, isPNG } from './png.js';

const $ = (sel) => document.querySelector(sel);
const STORE_KEY = 'comfyd.workflow';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c != null) e.append(c.nodeType ? c : document.createTextNode(String(c)));
  return e;
}

/**
 * sanitizeWorkflow drops what would make the editor throw: nodes without a type, links whose
 * ends do not exist, slots pointing at missing links. What remains loads.
 */
export function sanitizeWorkflow(wf) {
  if (!wf || !Array.isArray(wf.nodes)) throw new Error('not a workflow: no "nodes" list');
  const seen = new Set();
  wf.nodes = wf.nodes.filter((n) => {
    if (!n || typeof n !== 'object' || typeof n.type !== 'string' || n.id == null || seen.has(n.id)) return false;
    seen.add(n.id);
    if (!Array.isArray(n.pos) || n.pos.length < 2) n.pos = [0, 0];
    if (n.inputs != null && !Array.isArray(n.inputs)) delete n.inputs;
    if (n.outputs != null && !Array.isArray(n.outputs)) delete n.outputs;
    n.inputs = n.inputs?.filter((i) => i && typeof i === 'object');
    n.outputs = n.outputs?.filter((o) => o && typeof o === 'object');
    return true;
  });
  const linkIds = new Set();
  const links = Array.isArray(wf.links) ? wf.links : [];
  wf.links = links.filter((l) => {
    const [id, o, t] = Array.isArray(l) ? [l[0], l[1], l[3]] : l && typeof l === 'object' ? [l.id, l.origin_id, l.target_id] : [];
    if (id == null || !seen.has(o) || !seen.has(t) || linkIds.has(id)) return false;
    linkIds.add(id);
    return true;
  });
  for (const n of wf.nodes) {
    for (const i of n.inputs ?? []) if (i.link != null && !linkIds.has(i.link)) i.link = null;
    for (const o of n.outputs ?? []) if (Array.isArray(o.links)) o.links = o.links.filter((id) => linkIds.has(id));
  }
  if (wf.version == null) wf.version = wf.state ? 1 : 0.4;
  if (wf.groups != null && !Array.isArray(wf.groups)) wf.groups = [];
  return wf;
}

export class App {
  constructor() {
    this.api = new Api();
    this.defs = {};
    this.workflowName = null;
    this.prompts = new Map(); // prompt_id -> {nodes: Set(ids)} for prompts this page queued
    this.runningPrompt = null;
    this.lastSaved = '';
    this.undoStack = [];
    this.redoStack = [];
    this.undoState = null;
    this.restoring = false;
    this.timings = {};
  }

  toast(message, kind = 'info', timeout = 6000) {
    const close = el('span', { class: 'close', title: 'Dismiss' }, '×');
    const t = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, close);
    if (typeof message === 'string') t.append(message);
    else t.append(message);
    close.addEventListener('click', () => t.remove());
    $('#toasts').append(t);
    while ($('#toasts').children.length > 5) $('#toasts').firstChild.remove();
    if (timeout) setTimeout(() => t.remove(), timeout);
    return t;
  }

  // ---------------------------------------------------------------------------------------
  // Start-up

  async init() {
    const t0 = performance.now();
    this.timings.moduleStart = t0;
    this.setupCanvas();
    N.setOverlay($('#dom-overlay'), this.canvas);
    N.setHooks({
      upload: (node, widget) => this.pickUpload(node, widget),
      changed: () => this.graph.setDirtyCanvas(true, false),
      inputImage: (node, name) => this.showInputImage(node, name),
    });
    this.bindUI();
    this.api.addEventListener('connection', (e) => $('#conn').classList.toggle('on', e.detail.connected));
    this.bindSocket();
    this.api.connect();
    await this.loadDefs();
    this.timings.defs = performance.now();
    this.restoreWorkflow();
    this.timings.workflow = performance.now();
    this.refreshQueue();
    this.refreshWorkflows();
    setInterval(() => this.persist(), 1000);
    this.timings.init = performance.now() - t0;
    this.timings.ready = performance.now(); // since navigation start
    document.body.dataset.ready = '1';
    window.dispatchEvent(new Event('comfyd-ready'));
  }

  async loadDefs() {
    for (let attempt = 0; ; attempt++) {
      try {
        const early = attempt === 0 ? window.__objectInfo : null;
        this.defs = await (early ?? this.api.getObjectInfo());
        break;
      } catch (err) {
        if (attempt === 0) this.toast(`Could not load node definitions: ${err.message}. Retrying…`, 'error');
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1))));
      }
    }
    N.registerAll(this.defs);
    this.buildPalette();
  }

  /** refreshDefs re-reads /object_info (new models, uploads) and updates combos in place. */
  async refreshDefs() {
    let defs;
    try { defs = await this.api.getObjectInfo(); } catch (err) { this.toast(`Refresh failed: ${err.message}`, 'error'); return; }
    this.defs = defs;
    const wf = this.serialize();
    N.registerAll(defs);
    this.buildPalette();
    this.loadWorkflow(wf, this.workflowName, { quiet: true });
    this.toast('Node definitions refreshed', 'ok', 2000);
  }

  setupCanvas() {
    LiteGraph.release_link_on_empty_shows_menu = true;
    LiteGraph.alt_drag_do_clone_nodes = true;
    this.graph = new LGraph();
    const canvasEl = $('#graph');
    this.canvas = new LGraphCanvas(canvasEl, this.graph);
    this.canvas.show_info = false;
    this.canvas.render_canvas_border = false;
    this.canvas.render_shadows = false; // blurred shadows cost more than the rest of a node
    this.canvas.low_quality_zoom_threshold = 0.45;
    this.canvas.getWidgetLinkType = (widget, node) => node.inputs?.find((i) => i.widget?.name === widget.name)?.type;
    canvasEl.addEventListener('litegraph:canvas', (e) => {
      const d = e.detail;
      if (d?.subType === 'connectingWidgetLink') {
        const idx = d.node.inputs?.findIndex((i) => i.widget?.name === d.widget.name) ?? -1;
        if (idx >= 0) d.link.node.connect(d.link.slot, d.node, idx);
      }
    });
    const center = $('#center');
    // Sharp on high-density screens: the backing store has devicePixelRatio × the CSS size and
    // the context is scaled back, so litegraph keeps working in CSS pixels.
    const resize = () => {
      const dpr = Math.max(window.devicePixelRatio || 1, 1);
      const w = center.clientWidth;
      const h = center.clientHeight;
      if (w && h) {
        this.canvas.resize(Math.round(w * dpr), Math.round(h * dpr));
        canvasEl.getContext('2d').setTransform(dpr, 0, 0, dpr, 0, 0);
      }
      this.canvas.draw(true, true);
    };
    new ResizeObserver(resize).observe(center);
    resize();
    canvasEl.addEventListener('pointerdown', () => canvasEl.focus({ preventScroll: true }));
  }

  // ---------------------------------------------------------------------------------------
  // Node library

  buildPalette() {
    const root = { children: new Map(), items: [] };
    for (const def of Object.values(this.defs)) {
      if (def.deprecated) continue;
      let cur = root;
      for (const part of String(def.category || 'sd').split('/')) {
        if (!cur.children.has(part)) cur.children.set(part, { children: new Map(), items: [] });
        cur = cur.children.get(part);
      }
      cur.items.push(def);
    }
    const utils = root.children.get('utils') ?? { children: new Map(), items: [] };
    root.children.set('utils', utils);
    for (const t of ['Reroute', 'Note']) utils.items.push({ name: t, display_name: t, category: 'utils' });
    this.paletteTree = root;
    this.renderPalette(document.querySelector('#node-search')?.value ?? '');
  }

  paletteEntry(def) {
    const b = el('button', { class: 'entry', draggable: 'true', 'data-type': def.name, title: `${def.name}${def.description ? '\n' + def.description : ''}` },
      def.display_name || def.name);
    b.addEventListener('click', () => this.addNode(def.name));
    b.addEventListener('dragstart', (e) => e.dataTransfer.setData('text/x-comfy-node', def.name));
    return b;
  }

  renderPalette(query) {
    const box = $('#palette');
    box.textContent = '';
    const q = query.trim().toLowerCase();
    if (q) {
      const words = q.split(/\s+/);
      const hits = [];
      for (const def of [...Object.values(this.defs), { name: 'Reroute', category: 'utils' }, { name: 'Note', category: 'utils' }]) {
        const hay = `${def.display_name ?? ''} ${def.name} ${def.category ?? ''}`.toLowerCase();
        if (!words.every((w) => hay.includes(w))) continue;
        const name = (def.display_name || def.name).toLowerCase();
        const score = name.startsWith(q) ? 0 : name.includes(q) ? 1 : def.name.toLowerCase().includes(q) ? 2 : 3;
        hits.push([score, def]);
      }
      hits.sort((a, b) => a[0] - b[0] || (a[1].display_name || a[1].name).localeCompare(b[1].display_name || b[1].name));
      for (const [, def] of hits.slice(0, 200)) {
        const b = this.paletteEntry(def);
        b.append(el('small', {}, def.category ?? ''));
        box.append(b);
      }
      if (!hits.length) box.append(el('div', { class: 'empty' }, 'No node matches.'));
      box.querySelector('.entry')?.classList.add('sel');
      return;
    }
    const render = (node, parent, depth) => {
      for (const [name, child] of [...node.children.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        const d = el('details', { 'data-category': name });
        if (depth === 0 && node.children.size <= 3) d.open = true;
        d.append(el('summary', {}, name));
        render(child, d, depth + 1);
        parent.append(d);
      }
      for (const def of node.items.sort((a, b) => (a.display_name || a.name).localeCompare(b.display_name || b.name))) {
        parent.append(this.paletteEntry(def));
      }
    };
    render(this.paletteTree, box, 0);
  }

  /** addNode creates a node of type at pos (graph coordinates; default: the middle of the view). */
  addNode(type, pos) {
    const node = LiteGraph.createNode(type);
    if (!node) { this.toast(`Unknown node type ${type}`, 'error'); return null; }
    if (!pos) {
      const ds = this.canvas.ds;
      const c = this.canvas.canvas;
      const cx = c.clientWidth / 2 / ds.scale - ds.offset[0];
      const cy = c.clientHeight / 2 / ds.scale - ds.offset[1];
      this._placeOffset = ((this._placeOffset ?? 0) + 30) % 240;
      pos = [cx - node.size[0] / 2 + this._placeOffset - 120, cy - node.size[1] / 2 + this._placeOffset - 120];
    }
    node.pos = [pos[0], pos[1]];
    this.graph.add(node);
    this.canvas.selectNode(node);
    this.graph.setDirtyCanvas(true, true);
    return node;
  }

  // ---------------------------------------------------------------------------------------
  // Workflows

  serialize() {
    const wf = { ...(this.docExtras ?? {}), ...this.graph.serialize() };
    wf.extra = { ...(wf.extra ?? {}), ds: { scale: this.canvas.ds.scale, offset: [...this.canvas.ds.offset] } };
    return wf;
  }

  clearRunState() {
    N.runState.errors.clear();
    N.runState.nodeProgress.clear();
    N.runState.executing = null;
  }

  /** loadWorkflow replaces the graph. Unknown node types load as placeholders. */
  loadWorkflow(workflow, name = null, { quiet = false } = {}) {
    const wf = sanitizeWorkflow(structuredClone(workflow));
    const missing = N.ensurePlaceholders(wf);
    this.clearRunState();
    this.graph.clear();
    N.removeDomWidgets();
    this.graph.configure(wf);
    const ds = wf.extra?.ds;
    if (ds && Number.isFinite(ds.scale) && Array.isArray(ds.offset)) {
      this.canvas.ds.scale = ds.scale;
      this.canvas.ds.offset = [Number(ds.offset[0]) || 0, Number(ds.offset[1]) || 0];
    } else if (wf.nodes.length) {
      this.fitView();
    }
    // Keys litegraph does not know about (the frontend's "id", "revision") are saved back as-is.
    this.docExtras = {};
    for (const k of ['id', 'revision']) if (k in wf) this.docExtras[k] = wf[k];
    this.workflowName = name;
    $('#workflow-name').textContent = name ?? '';
    this.graph.setDirtyCanvas(true, true);
    if (missing.length && !quiet) {
      this.toast(`This workflow uses node types this server does not have:\n${[...new Set(missing)].join(', ')}`, 'error', 12000);
    }
    this.persist();
    return missing;
  }

  fitView() {
    const nodes = this.graph._nodes;
    if (!nodes.length) return;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const n of nodes) {
      x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT);
      x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]);
    }
    const W = this.canvas.canvas.clientWidth;
    const Hh = this.canvas.canvas.clientHeight;
    const pad = 40;
    const scale = Math.max(0.1, Math.min(1, Math.min((W - 2 * pad) / (x1 - x0), (Hh - 2 * pad) / (y1 - y0))));
    this.canvas.ds.scale = scale;
    this.canvas.ds.offset = [(W / scale - (x1 - x0)) / 2 - x0, (Hh / scale - (y1 - y0)) / 2 - y0];
    this.graph.setDirtyCanvas(true, true);
  }

  loadApiPrompt(prompt, name = null) {
    return this.loadWorkflow(apiToWorkflow(prompt, this.defs), name);
  }

  /** openData loads anything classify() recognises; returns false when nothing was found. */
  openData(obj, name) {
    const c = classify(obj);
    if (!c) return false;
    if (c.workflow) this.loadWorkflow(c.workflow, name);
    else this.loadApiPrompt(c.prompt, name);
    return true;
  }

  async openFile(file, dropPos) {
    try {
      const buf = new Uint8Array(await file.arrayBuffer());
      if (isPNG(buf)) {
        const found = await workflowFromPNG(buf);
        if (found?.workflow) { this.loadWorkflow(found.workflow, file.name.replace(/\.png$/i, '')); return true; }
        if (found?.prompt && this.openData(found.prompt, file.name.replace(/\.png$/i, ''))) return true;
      } else if (/\.json$/i.test(file.name) || file.type.includes('json') || buf[0] === 0x7b) {
        const obj = JSON.parse(new TextDecoder().decode(buf));
        if (this.openData(obj, file.name.replace(/\.json$/i, ''))) return true;
        this.toast(`${file.name}: not a ComfyUI workflow or API prompt`, 'error');
        return false;
      }
      if (file.type.startsWith('image/')) {
        // No workflow inside: an image dropped on a LoadImage-like node becomes its input.
        const node = dropPos && this.graph.getNodeOnPos(dropPos[0], dropPos[1]);
        const w = node?.widgets?.find((x) => x.uploadWidget);
        if (w) { await this.uploadTo(node, w, file); return true; }
      }
      this.toast(`${file.name}: no workflow found in this file`, 'error');
    } catch (err) {
      this.toast(`Could not open ${file.name}: ${err.message}`, 'error');
    }
    return false;
  }

  /** persist stores the graph for the next visit and records an undo step when it changed. */
  persist() {
    let wf;
    try { wf = this.serialize(); } catch { return; } // graph mid-change: next tick
    this.trackUndo(wf);
    try {
      const s = JSON.stringify({ name: this.workflowName, workflow: wf });
      if (s !== this.lastSaved) {
        localStorage.setItem(STORE_KEY, s);
        this.lastSaved = s;
      }
    } catch { /* storage full: keep going without it */ }
  }

  // Undo works on snapshots taken at most once a second (persist's tick) and on every load;
  // moving the view is not a change.
  static undoKey(wf) {
    return JSON.stringify({ ...wf, extra: { ...(wf.extra ?? {}), ds: undefined } });
  }

  trackUndo(wf) {
    const key = App.undoKey(wf);
    if (this.undoState && key !== this.undoState.key && !this.restoring) {
      this.undoStack.push(this.undoState.doc);
      if (this.undoStack.length > 50) this.undoStack.shift();
      this.redoStack.length = 0;
    }
    this.undoState = { key, doc: wf };
  }

  /** undoStep goes one step back (dir < 0) or forward (dir > 0). */
  undoStep(dir) {
    this.persist(); // a change made within the last second is a step too
    const from = dir < 0 ? this.undoStack : this.redoStack;
    const to = dir < 0 ? this.redoStack : this.undoStack;
    const doc = from.pop();
    if (!doc) return false;
    to.push(this.undoState.doc);
    const view = { scale: this.canvas.ds.scale, offset: [...this.canvas.ds.offset] };
    this.restoring = true;
    try {
      this.loadWorkflow({ ...doc, extra: { ...(doc.extra ?? {}), ds: view } }, this.workflowName, { quiet: true });
    } finally {
      this.restoring = false;
    }
    return true;
  }

  restoreWorkflow() {
    let stored = null;
    try { stored = JSON.parse(localStorage.getItem(STORE_KEY) ?? 'null'); } catch { stored = null; }
    try {
      if (stored?.workflow?.nodes) { this.loadWorkflow(stored.workflow, stored.name, { quiet: true }); return; }
    } catch (err) {
      console.warn('stored workflow did not load', err);
    }
    this.loadWorkflow(defaultWorkflow(), null, { quiet: true });
  }

  downloadJSON(obj, filename) {
    const blob = new Blob([JSON.stringify(obj, null, 2)], { type: 'application/json' });
    const a = el('a', { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  askName(initial) {
    const dlg = $('#dlg-name');
    const input = $('#dlg-name-input');
    input.value = initial ?? '';
    return new Promise((resolve) => {
      dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok' ? input.value.trim() : null), { once: true });
      dlg.showModal();
      input.select();
    });
  }

  async saveWorkflow(saveAs = false) {
    let name = this.workflowName;
    if (!name || saveAs) name = await this.askName(name ?? 'Unsaved Workflow');
    if (!name) return null;
    name = name.replace(/\.json$/i, '');
    try {
      await this.api.saveWorkflow(`${name}.json`, this.serialize());
      this.workflowName = name;
      $('#workflow-name').textContent = name;
      this.toast(`Saved workflows/${name}.json`, 'ok', 2500);
      this.refreshWorkflows();
      return name;
    } catch (err) {
      this.toast(`Save failed: ${err.message}`, 'error');
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Queueing

  /** queuePrompt turns the graph into an API prompt and posts it count times. */
  async queuePrompt(count = Number($('#batch-count').value) || 1, front = false) {
    for (let i = 0; i < count; i++) {
      const workflow = this.serialize();
      const { output } = graphToPrompt(workflow, this.defs);
      N.runState.errors.clear();
      try {
        const res = await this.api.queuePrompt(output, workflow, front);
        this.prompts.set(res.prompt_id, { nodes: new Set(Object.keys(output)) });
        if (res.node_errors && Object.keys(res.node_errors).length) this.showNodeErrors(res.node_errors, null);
      } catch (err) {
        if (err instanceof ApiError && err.body && typeof err.body === 'object') {
          this.showNodeErrors(err.body.node_errors ?? {}, err.body.error);
        } else {
          this.toast(`Queue failed: ${err.message}`, 'error');
        }
        this.graph.setDirtyCanvas(true, true);
        return false;
      }
      // control_after_generate runs after each queued prompt, as in ComfyUI.
      for (const node of this.graph._nodes) N.applyAfterQueue(node);
      this.graph.setDirtyCanvas(true, true);
    }
    this.refreshQueue();
    return true;
  }

  nodeLabel(id) {
    const n = this.graph.getNodeById(Number(id)) ?? this.graph.getNodeById(id);
    return n ? `${n.title} #${id}` : `#${id}`;
  }

  focusNode(id) {
    const n = this.graph.getNodeById(Number(id)) ?? this.graph.getNodeById(id);
    if (!n) return;
    this.canvas.centerOnNode(n);
    this.canvas.selectNode(n);
    this.graph.setDirtyCanvas(true, true);
  }

  /** showNodeErrors outlines the nodes named by a /prompt 400 (node_errors) and lists them. */
  showNodeErrors(nodeErrors, error) {
    const box = el('div');
    if (error) {
      box.append(el('strong', {}, error.message ?? 'Prompt failed'));
      if (error.details && !Object.keys(nodeErrors).length) box.append(el('div', {}, error.details));
    }
    const list = el('ul');
    // Prompt-level errors name their node only in the details ("Node ID '#12'").
    const m = /Node ID '#([^']+)'/.exec(error?.details ?? '');
    if (m && !nodeErrors[m[1]]) N.runState.errors.set(m[1], { messages: [error.message], inputs: new Set() });
    for (const [id, ne] of Object.entries(nodeErrors)) {
      const msgs = (ne.errors ?? []).map((e) => `${e.message}${e.details ? ': ' + e.details : ''}`);
      const inputs = new Set((ne.errors ?? []).map((e) => e.extra_info?.input_name).filter(Boolean));
      N.runState.errors.set(String(id), { messages: msgs, inputs });
      const a = el('a', { onclick: () => this.focusNode(id) }, this.nodeLabel(id));
      list.append(el('li', {}, a, ` (${ne.class_type}): `, msgs.join('; ')));
    }
    if (list.children.length) box.append(list);
    this.toast(box, 'error', 15000);
    this.graph.setDirtyCanvas(true, true);
  }

  // ---------------------------------------------------------------------------------------
  // Live execution state from the WebSocket

  nodeById(id) {
    if (id == null) return null;
    return this.graph.getNodeById(Number(id)) ?? this.graph.getNodeById(id) ?? null;
  }

  updatePromptProgress(promptId, nodes) {
    const info = this.prompts.get(promptId);
    const bar = $('#progress-prompt .bar');
    if (!nodes) { bar.style.width = '0'; return; }
    const total = info?.nodes.size || Object.keys(nodes).length || 1;
    let done = 0;
    for (const st of Object.values(nodes)) {
      if (st.state === 'finished') done += 1;
      else if (st.max > 0) done += Math.min(1, st.value / st.max);
    }
    bar.style.width = `${Math.min(100, (100 * done) / total)}%`;
  }

  bindSocket() {
    const on = (type, fn) => this.api.addEventListener(type, (e) => { try { fn(e.detail); } catch (err) { console.error(type, err); } });
    on('status', (d) => {
      const n = d?.status?.exec_info?.queue_remaining ?? 0;
      $('#queue-size').textContent = `queue: ${n}`;
      this.refreshQueueSoon();
    });
    on('execution_start', (d) => {
      this.runningPrompt = d.prompt_id;
      this.clearRunState();
      for (const node of this.graph._nodes) if (node.preview) node.preview = null;
      this.updatePromptProgress(d.prompt_id, {});
      this.graph.setDirtyCanvas(true, false);
    });
    on('execution_cached', (d) => {
      const info = this.prompts.get(d.prompt_id);
      if (info) info.cached = new Set(d.nodes ?? []);
    });
    on('executing', (d) => {
      if (d.node == null) {
        N.runState.executing = null;
        N.runState.nodeProgress.clear();
        this.runningPrompt = null;
        $('#progress-prompt .bar').style.width = '0';
        this.refreshHistorySoon();
      } else {
        N.runState.executing = String(d.display_node ?? d.node);
      }
      this.graph.setDirtyCanvas(true, false);
    });
    on('progress', (d) => {
      const id = String(d.node ?? N.runState.executing);
      N.runState.nodeProgress.set(id, { value: d.value, max: d.max });
      this.graph.setDirtyCanvas(true, false);
    });
    on('progress_state', (d) => {
      for (const st of Object.values(d.nodes ?? {})) {
        const id = String(st.display_node_id ?? st.node_id);
        if (st.state === 'running') N.runState.nodeProgress.set(id, { value: st.value, max: st.max });
        else N.runState.nodeProgress.delete(id);
      }
      this.updatePromptProgress(d.prompt_id, d.nodes);
      this.graph.setDirtyCanvas(true, false);
    });
    on('executed', (d) => {
      const node = this.nodeById(d.display_node ?? d.node);
      if (!node) return;
      node.preview = null;
      this.setNodeOutput(node, d.output);
    });
    on('execution_error', (d) => {
      const id = String(d.node_id);
      N.runState.errors.set(id, { messages: [`${d.exception_type}: ${String(d.exception_message ?? '').trim()}`], inputs: new Set() });
      const box = el('div', {}, el('strong', {}, 'Execution failed'), el('div', {},
        el('a', { onclick: () => this.focusNode(id) }, this.nodeLabel(id)), ` (${d.node_type}): ${d.exception_type}`),
      el('div', {}, String(d.exception_message ?? '').trim()));
      this.toast(box, 'error', 20000);
      this.graph.setDirtyCanvas(true, true);
    });
    on('execution_interrupted', (d) => {
      this.toast(`Interrupted${d.node_id ? ` at ${d.node_type ?? 'node'} #${d.node_id}` : ''}`, 'info', 4000);
    });
    on('preview', (f) => {
      const id = f.meta ? (f.meta.display_node_id ?? f.meta.node_id) : N.runState.executing;
      const node = this.nodeById(id);
      if (!node) return;
      const url = URL.createObjectURL(new Blob([f.image], { type: f.mime }));
      const img = new Image();
      img.onload = () => {
        if (node.previewURL) URL.revokeObjectURL(node.previewURL);
        node.previewURL = url;
        node.preview = img;
        this.ensureImageRoom(node);
        this.graph.setDirtyCanvas(true, false);
      };
      img.src = url;
    });
    on('progress_text', (f) => {
      // Type-3 frames (e.g. GetImageSize's "width: 512, height: 512") are shown on the node.
      const node = this.nodeById(f.nodeId);
      if (!node) return;
      node.outputText = f.text;
      if (!node.imgs?.length) this.ensureImageRoom(node, 60);
      this.graph.setDirtyCanvas(true, false);
    });
    on('connection', (d) => { if (d.connected) this.refreshQueue(); });
  }

  /** setNodeOutput shows a node's UI output (images) on it. */
  setNodeOutput(node, output) {
    // Text outputs (PreviewAny, ShowText-like nodes) are drawn under the widgets.
    const text = output?.text;
    node.outputText = Array.isArray(text) ? text.map(String).join('\n') : (typeof text === 'string' ? text : null);
    const images = output?.images ?? [];
    if (!images.length) {
      node.imgs = null;
      if (node.outputText) this.ensureImageRoom(node, 60);
      this.graph.setDirtyCanvas(true, false);
      return;
    }
    node.imgs = images.map((im) => {
      const img = new Image();
      img.onload = () => { this.ensureImageRoom(node); this.graph.setDirtyCanvas(true, false); };
      img.src = this.api.viewURL(im, `&rand=${Math.random().toString(36).slice(2, 8)}`);
      img.dataset.ref = JSON.stringify(im);
      return img;
    });
    node.outputImages = images;
  }

  ensureImageRoom(node, room = 200) {
    let bottom = 0;
    for (const w of node.widgets ?? []) if (w.last_y != null) bottom = Math.max(bottom, w.last_y + (w.computedHeight ?? 24));
    if (!bottom) bottom = Math.max(node.inputs?.filter((i) => !i.widget).length ?? 0, node.outputs?.length ?? 0) * LiteGraph.NODE_SLOT_HEIGHT;
    if (node.size[1] - bottom < room) node.size[1] = bottom + room + 20;
    if (node.size[0] < 240) node.size[0] = 240;
  }

  showInputImage(node, name) {
    if (!name || typeof name !== 'string') { node.imgs = null; return; }
    const m = /^(.*?)(?: \[(input|output|temp)\])?$/.exec(name);
    const parts = m[1].split('/');
    const filename = parts.pop();
    this.setNodeOutput(node, { images: [{ filename, subfolder: parts.join('/'), type: m[2] ?? 'input' }] });
  }

  // ---------------------------------------------------------------------------------------
  // Uploads

  pickUpload(node, widget) {
    const input = $('#upload-input');
    input.value = '';
    input.onchange = async () => {
      const f = input.files?.[0];
      if (f) await this.uploadTo(node, widget, f);
    };
    input.click();
  }

  async uploadTo(node, widget, file) {
    try {
      const r = await this.api.uploadImage(file);
      const name = r.subfolder ? `${r.subfolder}/${r.name}` : r.name;
      // Refresh the choices from the server, then make sure the new file is selected.
      try {
        const info = await this.api.json(`/object_info/${encodeURIComponent(node.comfyClass ?? node.type)}`);
        const def = info[node.comfyClass ?? node.type];
        const spec = def?.input?.required?.[widget.name] ?? def?.input?.optional?.[widget.name];
        const vals = Array.isArray(spec?.[0]) ? spec[0] : spec?.[1]?.options;
        if (Array.isArray(vals)) widget.options.values = vals.slice();
      } catch { /* keep the old list */ }
      if (!widget.options.values.includes(name)) widget.options.values.push(name);
      widget.value = name;
      this.showInputImage(node, name);
      this.graph.setDirtyCanvas(true, true);
      return name;
    } catch (err) {
      this.toast(`Upload failed: ${err.message}`, 'error');
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Queue, history and workflow panels

  refreshQueueSoon() {
    clearTimeout(this._qTimer);
    this._qTimer = setTimeout(() => this.refreshQueue(), 150);
  }

  refreshHistorySoon() {
    // History entries carry whole prompts and workflows: fetch them only while they are shown
    // (opening the tab refreshes it).
    if (!$('#tab-history').classList.contains('active') || document.body.classList.contains('hide-right')) return;
    clearTimeout(this._hTimer);
    this._hTimer = setTimeout(() => this.refreshHistory(), 150);
  }

  async refreshQueue() {
    let q;
    try { q = await this.api.getQueue(); } catch { return; }
    const list = $('#queue-list');
    list.textContent = '';
    const item = (entry, running) => {
      const [number, id, prompt] = entry;
      const cancel = el('button', { title: running ? 'Interrupt this prompt' : 'Remove from the queue', 'data-action': 'cancel' }, running ? 'Stop' : 'Cancel');
      cancel.addEventListener('click', async () => {
        if (running) await this.api.interrupt(id);
        else await this.api.deleteQueueItem(id);
        this.refreshQueue();
      });
      return el('li', { class: running ? 'running' : 'pending', 'data-prompt-id': id },
        el('div', { class: 'head' }, el('span', { class: 'title' }, `${running ? '▶ ' : ''}#${number} ${id.slice(0, 8)}`), cancel),
        el('div', { class: 'meta' }, `${Object.keys(prompt ?? {}).length} nodes · ${running ? 'running' : 'pending'}`));
    };
    for (const e of q.queue_running ?? []) list.append(item(e, true));
    for (const e of [...(q.queue_pending ?? [])].sort((a, b) => a[0] - b[0])) list.append(item(e, false));
    if (!list.children.length) list.append(el('li', { class: 'empty' }, 'Nothing queued.'));
    const n = (q.queue_running?.length ?? 0) + (q.queue_pending?.length ?? 0);
    $('#queue-size').textContent = `queue: ${n}`;
  }

  async refreshHistory() {
    let h;
    try { h = await this.api.getHistory(64); } catch { return; }
    const list = $('#history-list');
    list.textContent = '';
    const entries = Object.entries(h ?? {}).reverse();
    for (const [id, entry] of entries) {
      const status = entry.status?.status_str ?? (entry.status?.completed ? 'success' : 'unknown');
      const images = Object.values(entry.outputs ?? {}).flatMap((o) => o?.images ?? []);
      const thumbs = el('div', { class: 'thumbs' }, images.slice(0, 8).map((im) => {
        const img = el('img', { src: this.api.viewURL(im, '&preview=webp;50'), alt: im.filename, title: im.filename });
        img.addEventListener('click', () => window.open(this.api.viewURL(im), '_blank'));
        img.addEventListener('error', () => { img.src = this.api.viewURL(im); }, { once: true });
        return img;
      }));
      const load = el('button', { title: 'Open this run\'s graph and images', 'data-action': 'load' }, 'Load');
      load.addEventListener('click', () => this.loadHistoryEntry(entry));
      const del = el('button', { title: 'Delete from history', 'data-action': 'delete' }, '✕');
      del.addEventListener('click', async () => { await this.api.deleteHistoryItem(id); this.refreshHistory(); });
      const num = entry.prompt?.[0];
      const when = entry.status?.messages?.find((m) => m[0] === 'execution_start')?.[1]?.timestamp;
      list.append(el('li', { class: status === 'error' ? 'error' : '', 'data-prompt-id': id },
        el('div', { class: 'head' }, el('span', { class: 'title' }, `#${num ?? '?'} ${id.slice(0, 8)}`), load, del),
        el('div', { class: 'meta' }, `${status}${when ? ' · ' + new Date(when).toLocaleTimeString() : ''} · ${images.length} image${images.length === 1 ? '' : 's'}`),
        images.length ? thumbs : null));
    }
    if (!entries.length) list.append(el('li', { class: 'empty' }, 'No history yet.'));
  }

  /** loadHistoryEntry reopens a past run: its workflow (or prompt) and its output images. */
  loadHistoryEntry(entry) {
    const [, , prompt, extra] = entry.prompt ?? [];
    const wf = extra?.extra_pnginfo?.workflow;
    if (wf?.nodes) this.loadWorkflow(wf);
    else if (prompt) this.loadApiPrompt(prompt);
    else return;
    for (const [id, out] of Object.entries(entry.outputs ?? {})) {
      const node = this.nodeById(id);
      if (node) this.setNodeOutput(node, out);
    }
  }

  async refreshWorkflows() {
    let names;
    try { names = await this.api.listWorkflows(); } catch { return; }
    const list = $('#workflow-list');
    list.textContent = '';
    for (const name of names) {
      const open = el('button', { 'data-action': 'open' }, 'Open');
      open.addEventListener('click', async () => {
        try { this.loadWorkflow(await this.api.loadWorkflow(name), name.replace(/\.json$/, '')); } catch (err) {
          this.toast(`Could not open ${name}: ${err.message}`, 'error');
        }
      });
      const del = el('button', { title: 'Delete', 'data-action': 'delete' }, '✕');
      del.addEventListener('click', async () => { await this.api.deleteWorkflow(name); this.refreshWorkflows(); });
      list.append(el('li', { 'data-name': name }, el('div', { class: 'head' }, el('span', { class: 'title' }, name.replace(/\.json$/, '')), open, del)));
    }
    if (!names.length) list.append(el('li', { class: 'empty' }, 'No saved workflows.'));
  }

  // ---------------------------------------------------------------------------------------
  // Buttons, keys, drag and drop

  bindUI() {
    $('#btn-queue').addEventListener('click', () => this.queuePrompt());
    $('#btn-interrupt').addEventListener('click', () => this.api.interrupt(this.runningPrompt ?? undefined));
    $('#btn-open').addEventListener('click', () => $('#file-input').click());
    $('#file-input').addEventListener('change', async (e) => {
      const f = e.target.files?.[0];
      if (f) await this.openFile(f);
      e.target.value = '';
    });
    $('#btn-save').addEventListener('click', () => this.saveWorkflow());
    $('#btn-export').addEventListener('click', () => this.downloadJSON(this.serialize(), `${this.workflowName ?? 'workflow'}.json`));
    $('#btn-export-api').addEventListener('click', () => {
      const { output } = graphToPrompt(this.serialize(), this.defs);
      this.downloadJSON(output, `${this.workflowName ?? 'workflow'}_api.json`);
    });
    $('#btn-default').addEventListener('click', () => this.loadWorkflow(defaultWorkflow()));
    $('#btn-refresh').addEventListener('click', () => this.refreshDefs());
    $('#btn-clear').addEventListener('click', () => this.loadWorkflow({ nodes: [], links: [], version: 0.4 }));
    $('#btn-toggle-left').addEventListener('click', () => document.body.classList.toggle('hide-left'));
    $('#btn-toggle-right').addEventListener('click', () => {
      document.body.classList.toggle('hide-right');
      if (!document.body.classList.contains('hide-right')) { this.refreshQueue(); this.refreshHistorySoon(); }
    });
    $('#btn-refresh-queue').addEventListener('click', () => this.refreshQueue());
    $('#btn-clear-queue').addEventListener('click', async () => { await this.api.clearQueue(); this.refreshQueue(); });
    $('#btn-refresh-history').addEventListener('click', () => this.refreshHistory());
    $('#btn-clear-history').addEventListener('click', async () => { await this.api.clearHistory(); this.refreshHistory(); });
    $('#btn-refresh-workflows').addEventListener('click', () => this.refreshWorkflows());
    for (const b of document.querySelectorAll('.tabs button')) {
      b.addEventListener('click', () => {
        for (const x of document.querySelectorAll('.tabs button')) x.classList.toggle('active', x === b);
        for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.id === `tab-${b.dataset.tab}`);
        if (b.dataset.tab === 'history') this.refreshHistory();
        if (b.dataset.tab === 'workflows') this.refreshWorkflows();
      });
    }
    const search = $('#node-search');
    search.addEventListener('input', () => this.renderPalette(search.value));
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        const first = $('#palette .entry');
        if (first) { this.addNode(first.dataset.type); search.select(); }
      }
    });

    document.addEventListener('keydown', (e) => {
      const mod = e.ctrlKey || e.metaKey;
      const inField = ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.target.tagName);
      if (mod && e.altKey && e.key === 'Enter') { e.preventDefault(); this.api.interrupt(this.runningPrompt ?? undefined); return; }
      if (mod && e.key === 'Enter') { e.preventDefault(); this.queuePrompt(undefined, e.shiftKey); return; }
      if (mod && (e.key === 's' || e.key === 'S')) { e.preventDefault(); this.saveWorkflow(e.shiftKey); return; }
      if (mod && (e.key === 'o' || e.key === 'O')) { e.preventDefault(); $('#file-input').click(); return; }
      if (inField) return;
      if (mod && (e.key === 'z' || e.key === 'Z') && !e.shiftKey) { e.preventDefault(); this.undoStep(-1); return; }
      if (mod && ((e.key === 'y' || e.key === 'Y') || ((e.key === 'z' || e.key === 'Z') && e.shiftKey))) { e.preventDefault(); this.undoStep(1); return; }
      if (!mod && !e.altKey && (e.key === 'r' || e.key === 'R') && (e.target === document.body || e.target === this.canvas.canvas)) { this.refreshDefs(); return; }
      const selected = Object.values(this.canvas.selected_nodes ?? {});
      if (mod && (e.key === 'm' || e.key === 'M') && selected.length) { e.preventDefault(); selected.forEach((n) => N.toggleMode(n, N.MODE_NEVER)); return; }
      if (mod && (e.key === 'b' || e.key === 'B') && selected.length) { e.preventDefault(); selected.forEach((n) => N.toggleMode(n, N.MODE_BYPASS)); return; }
      // The canvas handles Delete and Ctrl+C/V itself when it has focus; forward them otherwise.
      if (e.target === document.body && (['Delete', 'Backspace'].includes(e.key) || (mod && 'cvaCVA'.includes(e.key)))) {
        this.canvas.processKey(e);
      }
    });

    // Undo snapshots around every action: before a key or pointer press reaches the canvas,
    // and after the pointer is released (the end of a drag, a connection, a widget edit).
    window.addEventListener('keydown', (e) => { if (!['Control', 'Shift', 'Alt', 'Meta'].includes(e.key)) this.persist(); }, true);
    window.addEventListener('pointerdown', () => this.persist(), true);
    window.addEventListener('pointerup', () => setTimeout(() => this.persist(), 0), true);

    let dragDepth = 0;
    document.addEventListener('dragenter', (e) => { if (e.dataTransfer?.types?.includes('Files')) { dragDepth++; document.body.classList.add('dragging'); } });
    document.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; document.body.classList.remove('dragging'); } });
    document.addEventListener('dragover', (e) => e.preventDefault());
    document.addEventListener('drop', async (e) => {
      e.preventDefault();
      dragDepth = 0;
      document.body.classList.remove('dragging');
      const rect = this.canvas.canvas.getBoundingClientRect();
      const pos = this.canvas.ds.convertCanvasToOffset([e.clientX - rect.left, e.clientY - rect.top]);
      const nodeType = e.dataTransfer?.getData('text/x-comfy-node');
      if (nodeType) { this.addNode(nodeType, pos); return; }
      const file = e.dataTransfer?.files?.[0];
      if (file) await this.openFile(file, pos);
    });
    window.addEventListener('beforeunload', () => this.persist());
  }
}

const app = new App();
window.comfyd = app;
window.comfydState = { runState: N.runState };
app.init().catch((err) => {
  console.error(err);
  app.toast(`Start-up failed: ${err.message}`, 'error', 0);
});
