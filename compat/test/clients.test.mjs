// The ComfyUI client libraries people use, pinned as npm packages, each
// driving a real comfyd: run a workflow with a random colour (so no cache
// can hide work), fetch its images and check their pixels, upload an image
// and run it back, read the queue and the history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import WebSocket from 'ws';

import { ComfyApi, CallWrapper, PromptBuilder } from '@saintno/comfyui-sdk';
import { Client as CanvasClient } from '@stable-canvas/comfyui-client';
import { ComfyUIClient } from 'comfy-ui-client';

import { startComfyd } from './lib/server.mjs';
import { encodePNG, decodePNG, pixelAt } from './lib/png.mjs';

let srv;
before(async () => {
  srv = await startComfyd();
});
after(async () => {
  await srv?.stop();
});

function randomColor() {
  return Math.floor(Math.random() * 0xffffff);
}
function rgbOf(c) {
  return [(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff];
}

// EmptyImage(color) -> SaveImage: every pixel of the saved PNG is the colour.
function colorPrompt(color, prefix, size = 32) {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: size, height: size, batch_size: 1, color } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}

// LoadImage(name) -> SaveImage.
function loadPrompt(name, prefix) {
  return {
    '1': { class_type: 'LoadImage', inputs: { image: name } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}

function assertSolid(png, rgb, what) {
  const img = decodePNG(png);
  for (const [x, y] of [[0, 0], [img.width - 1, img.height - 1], [img.width >> 1, img.height >> 1]]) {
    assert.deepEqual(pixelAt(img, x, y).slice(0, 3), rgb, `${what}: pixel (${x},${y})`);
  }
  return img;
}

async function bytesOf(x) {
  if (x instanceof ArrayBuffer) return Buffer.from(x);
  if (typeof x?.arrayBuffer === 'function') return Buffer.from(await x.arrayBuffer());
  return Buffer.from(x);
}

// A 24×16 upload whose pixels encode their position, so a round trip
// through LoadImage -> SaveImage is checked pixel by pixel.
const uploadPixel = (x, y) => [x * 10, y * 15, 200, 255];
const uploadPNG = encodePNG(24, 16, uploadPixel);
function assertUploadRoundTrip(png, what) {
  const img = decodePNG(png);
  assert.equal(img.width, 24, what);
  assert.equal(img.height, 16, what);
  for (const [x, y] of [[0, 0], [23, 15], [7, 9]]) {
    assert.deepEqual(pixelAt(img, x, y).slice(0, 3), uploadPixel(x, y).slice(0, 3), `${what}: pixel (${x},${y})`);
  }
}

test('@saintno/comfyui-sdk 0.3.1: run, images, upload, queue, history', async () => {
  const api = new ComfyApi(srv.url, 'compat-saintno');
  await api.init(5, 1000).waitForReady();
  try {
    const color = randomColor();
    const wf = new PromptBuilder(colorPrompt(0, 'compat/saintno'), ['color'], ['images'])
      .setInputNode('color', '1.inputs.color')
      .setOutputNode('images', '2')
      .input('color', color);
    const out = await new Promise((resolve, reject) => {
      new CallWrapper(api, wf).onFinished(resolve).onFailed(reject).run();
    });
    const images = out.images.images;
    assert.equal(images.length, 1);
    assert.equal(images[0].subfolder, 'compat');
    assertSolid(await bytesOf(await api.getImage(images[0])), rgbOf(color), 'sdk output');

    const up = await api.uploadImage(new Uint8Array(uploadPNG), 'compat_saintno.png');
    assert.ok(up, 'upload failed');
    assert.equal(up.info.filename, 'compat_saintno.png');
    const wf2 = new PromptBuilder(loadPrompt('compat_saintno.png', 'compat/saintno_up'), [], ['images']).setOutputNode('images', '2');
    const out2 = await new Promise((resolve, reject) => {
      new CallWrapper(api, wf2).onFinished(resolve).onFailed(reject).run();
    });
    assertUploadRoundTrip(await bytesOf(await api.getImage(out2.images.images[0])), 'sdk upload round trip');

    const q = await api.getQueue();
    assert.ok(Array.isArray(q.queue_running) && Array.isArray(q.queue_pending));
    const hist = await api.getHistories(10);
    assert.ok(Object.keys(hist).length >= 2);
    const entry = Object.values(hist).find((h) => h.outputs?.['2']?.images?.[0]?.filename === images[0].filename);
    assert.ok(entry, 'run missing from history');
    assert.equal(entry.status.status_str, 'success');
  } finally {
    api.destroy?.();
  }
});

test('@saintno/comfyui-sdk 0.3.1 cfli: a workflow run from the command line', async () => {
  // cfli awaits CallWrapper.run(), which only settles if the job is still
  // running when its first WebSocket event arrives (clients.md): give it a
  // workflow that takes a few hundred milliseconds.
  const color = randomColor();
  const wfPath = path.join(srv.dir, 'cfli.json');
  fs.writeFileSync(wfPath, JSON.stringify({
    '1': { class_type: 'EmptyImage', inputs: { width: 1024, height: 1024, batch_size: 1, color: 0 } },
    '3': { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'bicubic', width: 3072, height: 3072, crop: 'disabled' } },
    '2': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'compat/cfli' } },
  }));
  const outDir = path.join(srv.dir, 'cfli-out');
  const require = createRequire(import.meta.url);
  const cli = path.join(path.dirname(require.resolve('@saintno/comfyui-sdk')), '..', 'dist', 'cli.js');
  const res = await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, '-f', wfPath, '-H', srv.url, '-i', `1.inputs.color=${color}`, '--json', '-d', '-o', outDir, '-t', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`cfli hung:\n${stdout}\n${stderr}`)); }, 90000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
  assert.equal(res.code, 0, `cfli failed:\n${res.stdout}\n${res.stderr}`);
  const report = JSON.parse(res.stdout.slice(res.stdout.indexOf('{')));
  assert.equal(report.status, 'completed');
  const files = fs.readdirSync(outDir).filter((f) => f.endsWith('.png'));
  assert.equal(files.length, 1, `downloaded: ${files}`);
  const img = assertSolid(fs.readFileSync(path.join(outDir, files[0])), rgbOf(color), 'cfli download');
  assert.equal(img.width, 3072);
});

test('@stable-canvas/comfyui-client 1.5.9: run, images, queue, history', async () => {
  const client = new CanvasClient({ api_host: srv.host, clientId: 'compat-canvas', WebSocket, fetch });
  client.connect({ websocket: { enabled: true } });
  try {
    const color = randomColor();
    const out = await client.enqueue(colorPrompt(color, 'compat/canvas'), { timeout_ms: 30000 });
    assert.equal(out.images.length, 1);
    const img = out.images[0];
    const png = img.type === 'buff' ? Buffer.from(img.data) : Buffer.from(await (await fetch(img.data)).arrayBuffer());
    assertSolid(png, rgbOf(color), 'canvas output');

    // No upload helper in this client: it posts through its fetchApi.
    const form = new FormData();
    form.append('image', new Blob([uploadPNG], { type: 'image/png' }), 'compat_canvas.png');
    const up = await (await client.fetchApi('/upload/image', { method: 'POST', body: form })).json();
    assert.equal(up.name, 'compat_canvas.png');
    const out2 = await client.enqueue_polling(loadPrompt('compat_canvas.png', 'compat/canvas_up'), { polling_ms: 50, timeout_ms: 30000 });
    const img2 = out2.images[0];
    const png2 = img2.type === 'buff' ? Buffer.from(img2.data) : Buffer.from(await (await fetch(img2.data)).arrayBuffer());
    assertUploadRoundTrip(png2, 'canvas upload round trip');

    const q = await client.getQueue();
    assert.ok(Array.isArray(q.Running) || Array.isArray(q.queue_running) || q, 'queue');
    const hist = await client.getHistory(50);
    const ids = Array.isArray(hist.History) ? hist.History.map((h) => h.prompt[1]) : Object.keys(hist);
    assert.ok(ids.includes(out.prompt_id), 'run missing from history');
    const status = await client.getPromptStatus(out.prompt_id);
    assert.equal(status.done, true);
  } finally {
    client.close();
  }
});

test('comfy-ui-client 0.1.2: run, images, upload, queue, history', async () => {
  const client = new ComfyUIClient(srv.host, 'compat-comfy-ui-client');
  await client.connect();
  try {
    const color = randomColor();
    const res = await client.getImages(colorPrompt(color, 'compat/cuc'));
    const imgs = res['2'];
    assert.equal(imgs.length, 1);
    assertSolid(await bytesOf(imgs[0].blob), rgbOf(color), 'comfy-ui-client output');

    const up = await client.uploadImage(uploadPNG, 'compat_cuc.png', true);
    assert.equal(up.name, 'compat_cuc.png');
    const res2 = await client.getImages(loadPrompt('compat_cuc.png', 'compat/cuc_up'));
    assertUploadRoundTrip(await bytesOf(res2['2'][0].blob), 'comfy-ui-client upload round trip');

    const q = await client.getQueue();
    assert.ok(Array.isArray(q.queue_running) && Array.isArray(q.queue_pending));
    const hist = await client.getHistory();
    assert.ok(Object.keys(hist).length >= 2);
    assert.ok(Object.values(hist).every((h) => h.status.completed === true));
  } finally {
    await client.disconnect();
  }
});
