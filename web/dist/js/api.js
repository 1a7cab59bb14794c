// The HTTP and WebSocket client of comfyd's (ComfyUI's) API. All routes go through /api/ as
// ComfyUI's own frontend does. Events from the socket are re-dispatched as DOM events named
// after the message type ("status", "executing", ... and "preview" for binary image frames).

import { parseFrame, PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA, TEXT } from './frames.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID().replaceAll('-', '');
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Api extends EventTarget {
  // base is the path the page is served under ("" at the root), so that a reverse proxy may
  // mount comfyd under a prefix, as ComfyUI's frontend allows.
  constructor(base = location.pathname.replace(/\/[^/]*$/, '')) {
    super();
    this.base = base;
    // One id per tab: survives reloads (so a reload mid-run still gets its events) but two tabs
    // never share one.
    this.clientId = sessionStorage.getItem('comfyd.clientId') || newClientId();
    sessionStorage.setItem('comfyd.clientId', this.clientId);
    this.socket = null;
    this.connected = false;
    this._retry = 0;
  }

  url(path) {
    return `${this.base}/api${path}`;
  }

  async fetch(path, init = {}) {
    const res = await fetch(this.url(path), { cache: 'no-store', ...init });
    return res;
  }

  async json(path, init) {
    const res = await this.fetch(path, init);
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = text; }
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }

  post(path, body) {
    return this.fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  }

  getObjectInfo() { return this.json('/object_info'); }
  getQueue() { return this.json('/queue'); }
  getHistory(maxItems = 64) { return this.json(`/history?max_items=${maxItems}`); }

  /**
   * queuePrompt posts {prompt, client_id, extra_data}. On 400 it throws ApiError whose body
   * carries {error, node_errors}.
   */
  async queuePrompt(prompt, workflow, front = false) {
    const body = { client_id: this.clientId, prompt, extra_data: { extra_pnginfo: { workflow } } };
    if (front) body.front = true;
    const res = await this.post('/prompt', body);
    const text = await res.text();
    let data = null;
    try { data = JSON.parse(text); } catch { data = { error: { message: text || res.statusText } }; }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  async deleteQueueItem(id) { await this.post('/queue', { delete: [id] }); }
  async clearQueue() { await this.post('/queue', { clear: true }); }
  async deleteHistoryItem(id) { await this.post('/history', { delete: [id] }); }
  async clearHistory() { await this.post('/history', { clear: true }); }
  async interrupt(promptId) {
    await this.post('/interrupt', promptId ? { prompt_id: promptId } : {});
  }

  /** uploadImage posts a file as multipart to /upload/image and returns {name, subfolder, type}. */
  async uploadImage(file, { subfolder = '', type = 'input', overwrite = false } = {}) {
    const fd = new FormData();
    fd.append('image', file, file.name);
    if (subfolder) fd.append('subfolder', subfolder);
    fd.append('type', type);
    if (overwrite) fd.append('overwrite', 'true');
    const res = await this.fetch('/upload/image', { method: 'POST', body: fd });
    if (!res.ok) throw new ApiError(res.status, { error: { message: `upload failed: HTTP ${res.status}` } });
    return res.json();
  }

  viewURL({ filename, subfolder = '', type = 'output' }, extra = '') {
    const q = new URLSearchParams({ filename, subfolder: subfolder ?? '', type: type ?? 'output' });
    return `${this.url('/view')}?${q}${extra}`;
  }

  /** listWorkflows returns the saved workflow file names (relative to workflows/). */
  async listWorkflows() {
    const res = await this.fetch('/userdata?dir=workflows&recurse=true');
    if (res.status === 404) return [];
    if (!res.ok) throw new ApiError(res.status, null);
    const list = await res.json();
    return list.filter((n) => n.endsWith('.json')).sort((a, b) => a.localeCompare(b));
  }

  async loadWorkflow(name) {
    return this.json(`/userdata/${encodeURIComponent('workflows/' + name)}`);
  }

  async saveWorkflow(name, workflow) {
    const res = await this.fetch(`/userdata/${encodeURIComponent('workflows/' + name)}?overwrite=true&full_info=true`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(workflow),
    });
    if (!res.ok) throw new ApiError(res.status, { error: { message: (await res.text()) || `save failed: HTTP ${res.status}` } });
    return res.json();
  }

  async deleteWorkflow(name) {
    await this.fetch(`/userdata/${encodeURIComponent('workflows/' + name)}`, { method: 'DELETE' });
  }

  /** connect opens the WebSocket and keeps it open (reconnecting with back-off). */
  connect() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}${this.base}/ws?clientId=${encodeURIComponent(this.clientId)}`);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.addEventListener('open', () => {
      this.connected = true;
      this._retry = 0;
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      this.dispatchEvent(new CustomEvent('connection', { detail: { connected: true } }));
    });
    ws.addEventListener('close', () => {
      if (this.socket !== ws) return;
      this.connected = false;
      this.dispatchEvent(new CustomEvent('connection', { detail: { connected: false } }));
      const delay = Math.min(5000, 300 * 2 ** this._retry++);
      setTimeout(() => { if (this.socket === ws) this.connect(); }, delay);
    });
    ws.addEventListener('message', (ev) => {
      if (ev.data instanceof ArrayBuffer) {
        let frame;
        try { frame = parseFrame(ev.data); } catch (err) { console.warn('bad binary frame', err); return; }
        if (frame.type === PREVIEW_IMAGE || frame.type === PREVIEW_IMAGE_WITH_METADATA) {
          this.dispatchEvent(new CustomEvent('preview', { detail: frame }));
        } else if (frame.type === TEXT) {
          this.dispatchEvent(new CustomEvent('progress_text', { detail: frame }));
        }
        return;
      }
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'status' && msg.data?.sid) {
        // The server may have chosen our id (no clientId sent): adopt it.
        this.clientId = msg.data.sid;
        sessionStorage.setItem('comfyd.clientId', this.clientId);
      }
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg.data }));
    });
  }
}
