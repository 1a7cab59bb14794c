// Unit tests of the page's pure modules (no browser): PNG text chunks, binary WebSocket frames,
// object_info conventions, workflow → API prompt, API prompt → workflow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePNG } from './pngutil.mjs';
import { readPNGText, workflowFromPNG, isPNG } from '../dist/js/png.js';
import { parseFrame } from '../dist/js/frames.js';
import * as D from '../dist/js/defs.js';
import { graphToPrompt } from '../dist/js/prompt.js';
import { apiToWorkflow, classify, defaultWorkflow } from '../dist/js/workflow.js';
import { workflow04Problems } from './schema.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (n) => JSON.parse(fs.readFileSync(path.join(here, 'fixtures', n), 'utf8'));
// Entries copied from ComfyUI 0.3.64's own /object_info (shared/golden/comfyui-captures).
const objectInfo = fixture('object_info_subset.json');

test('png: tEXt, zTXt, iTXt and compressed iTXt are read', async () => {
  const wf = JSON.stringify({ nodes: [], links: [], note: 'ünïcödé ✓' });
  for (const kind of ['tEXt', 'zTXt', 'iTXt', 'iTXt-z']) {
    const text = kind.startsWith('iTXt') ? wf : JSON.stringify({ nodes: [], links: [] });
    const png = makePNG(2, 2, () => [1, 2, 3, 255], [{ key: 'workflow', text, kind }, { key: 'prompt', text: '{"1":{}}', kind: 'tEXt' }]);
    assert.ok(isPNG(png));
    const t = await readPNGText(png);
    assert.equal(t.workflow, text, kind);
    assert.equal(t.prompt, '{"1":{}}');
  }
});

test('png: workflow preferred, prompt fallback, garbage ignored', async () => {
  const prompt = { 1: { class_type: 'EmptyImage', inputs: {} } };
  const a = makePNG(1, 1, () => [0, 0, 0, 255], [{ key: 'prompt', text: JSON.stringify(prompt) }, { key: 'workflow', text: '{"nodes":[]}' }]);
  assert.deepEqual(await workflowFromPNG(a), { workflow: { nodes: [] } });
  const b = makePNG(1, 1, () => [0, 0, 0, 255], [{ key: 'prompt', text: JSON.stringify(prompt) }, { key: 'workflow', text: 'not json' }]);
  assert.deepEqual(await workflowFromPNG(b), { prompt });
  assert.equal(await workflowFromPNG(makePNG(1, 1, () => [0, 0, 0, 255])), null);
  assert.deepEqual(await readPNGText(new Uint8Array([1, 2, 3])), {});
  // Truncated file: chunks before the cut still count.
  const cut = a.subarray(0, a.length - 30);
  const t = await readPNGText(cut);
  assert.ok('prompt' in t);
});

test('frames: type 1, 3 and 4 headers are big-endian', () => {
  const img = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
  const t1 = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), img]);
  const f1 = parseFrame(t1);
  assert.equal(f1.type, 1);
  assert.equal(f1.mime, 'image/png');
  assert.deepEqual([...f1.image], [...img]);
  const meta = Buffer.from(JSON.stringify({ node_id: '3', display_node_id: '3', prompt_id: 'p', image_type: 'image/jpeg' }));
  const len = Buffer.alloc(4); len.writeUInt32BE(meta.length);
  const f4 = parseFrame(Buffer.concat([Buffer.from([0, 0, 0, 4]), len, meta, img]));
  assert.equal(f4.type, 4);
  assert.equal(f4.meta.display_node_id, '3');
  assert.equal(f4.mime, 'image/jpeg');
  assert.deepEqual([...f4.image], [...img]);
  const id = Buffer.from('12');
  const k = Buffer.alloc(4); k.writeUInt32BE(id.length);
  const f3 = parseFrame(Buffer.concat([Buffer.from([0, 0, 0, 3]), k, id, Buffer.from('width: 8')]));
  assert.deepEqual({ nodeId: f3.nodeId, text: f3.text }, { nodeId: '12', text: 'width: 8' });
  assert.throws(() => parseFrame(Buffer.from([0, 0, 0, 4, 0, 0, 1, 0, 1])));
  assert.throws(() => parseFrame(Buffer.from([0, 0])));
});

test('defs: widget layout follows ComfyUI order (seed control, upload button)', () => {
  const ks = D.widgetLayout(objectInfo.KSampler).map((w) => w.name);
  assert.deepEqual(ks, ['seed', 'control_after_generate', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']);
  const li = D.widgetLayout(objectInfo.LoadImage).map((w) => `${w.name}:${w.role}`);
  assert.deepEqual(li, ['image:value', 'upload:upload']);
  // V3 combo and forceInput.
  const v3 = { input: { required: { mode: ['COMBO', { options: ['a', 'b'] }], n: ['INT', { forceInput: true }], img: ['IMAGE', {}] } } };
  const lay = D.widgetLayout(v3);
  assert.deepEqual(lay.map((w) => w.name), ['mode']);
  assert.deepEqual(D.comboValues(lay[0].spec), ['a', 'b']);
  assert.equal(D.defaultValue(lay[0].spec, 'COMBO'), 'a');
});

test('defs: number conventions (step ×10, precision, rounding, clamping)', () => {
  const cfg = D.numberConfig('FLOAT', { min: 0, max: 100, step: 0.1, round: 0.01 });
  assert.deepEqual(cfg, { min: 0, max: 100, step: 1, step2: 0.1, precision: 2, round: 0.01 });
  assert.equal(D.roundNumber('FLOAT', cfg, 7.123), 7.12);
  assert.equal(D.roundNumber('FLOAT', cfg, 1000), 100);
  const d = D.numberConfig('FLOAT', { step: 0.01 });
  assert.equal(d.precision, 2);
  assert.equal(d.round, 0.01);
  assert.equal(D.numberConfig('FLOAT', { step: 0.01, round: false }).round, undefined);
  const i = D.numberConfig('INT', { min: 1, max: 16384, step: 8 });
  assert.equal(i.step, 80);
  assert.equal(D.roundNumber('INT', i, 100), 97); // multiples of 8 offset by min % 8 = 1
  assert.equal(D.roundNumber('INT', D.numberConfig('INT', {}), 3.6), 4);
  assert.equal(D.defaultValue({ options: { min: 5 } }, 'INT'), 5);
});

test('defs: control_after_generate', () => {
  const cfg = D.numberConfig('INT', { min: 0, max: 10 });
  assert.equal(D.applyControl('fixed', 'INT', 4, cfg), 4);
  assert.equal(D.applyControl('increment', 'INT', 4, cfg), 5);
  assert.equal(D.applyControl('increment', 'INT', 10, cfg), 10);
  assert.equal(D.applyControl('decrement', 'INT', 0, cfg), 0);
  const big = D.numberConfig('INT', { min: 0, max: 18446744073709551615 });
  const r = D.applyControl('randomize', 'INT', 0, big, null, () => 0.999999);
  assert.ok(r <= 1125899906842624 && Number.isInteger(r));
  assert.equal(D.applyControl('increment', 'COMBO', 'a', null, ['a', 'b']), 'b');
  assert.equal(D.applyControl('randomize', 'COMBO', 'a', null, ['a', 'b', 'c'], () => 0.5), 'b');
});

test('defs: dynamic prompts', () => {
  assert.equal(D.dynamicPrompt('a {x|y} c', () => 0), 'a x c');
  assert.equal(D.dynamicPrompt('{a|{b|c}}', () => 0.99), 'c');
  assert.equal(D.dynamicPrompt('keep \\{this\\} /* gone */ // gone too', () => 0), 'keep {this}  ');
});

test('prompt: image chain with primitive, reroute, bypass, mute, note and a missing node', () => {
  const { output, errors } = graphToPrompt(fixture('image_chain_v04.json'), objectInfo);
  assert.deepEqual(output, {
    1: { inputs: { width: 96, height: 48, batch_size: 1, color: 16711680 }, class_type: 'EmptyImage', _meta: { title: 'EmptyImage' } },
    2: { inputs: { image: ['1', 0] }, class_type: 'ImageInvert', _meta: { title: 'Invert Image' } },
    5: { inputs: { filename_prefix: 'chain', images: ['2', 0] }, class_type: 'SaveImage', _meta: { title: 'Save Image' } },
    12: { inputs: {}, class_type: 'SomeCustomNodeThatIsNotInstalled', _meta: { title: 'SomeCustomNodeThatIsNotInstalled' } },
  });
  assert.deepEqual(Object.keys(output), ['1', '2', '5', '12']);
  assert.equal(errors.length, 1);
});

test('prompt: frontend-format txt2img (widget sockets, titles, seed control)', () => {
  const { output } = graphToPrompt(fixture('txt2img_frontend_v04.json'), objectInfo);
  assert.deepEqual(output['3'].inputs, {
    seed: 42, steps: 12, cfg: 6.5, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 0.85,
    model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0],
  });
  assert.equal(output['6']._meta.title, 'Positive');
  assert.equal(output['6'].inputs.text, 'a red fox in the snow, "quoted" and unicode ✓');
  assert.deepEqual(output['9'].inputs, { filename_prefix: 'fox', images: ['8', 0] });
  assert.equal(Object.keys(output).length, 7);
});

test('prompt: schema version 1 links', () => {
  const { output } = graphToPrompt(fixture('image_chain_schema_v1.json'), objectInfo);
  assert.deepEqual(output['3'].inputs.images, ['2', 0]);
  assert.deepEqual(output['1'].inputs, { width: 32, height: 32, batch_size: 2, color: 255 });
});

test('workflow: API prompt → workflow → API prompt is the identity', () => {
  const cases = [fixture('image_chain_v04.json'), fixture('txt2img_frontend_v04.json'), defaultWorkflow()];
  for (const wf of cases) {
    const { output } = graphToPrompt(wf, objectInfo);
    delete output['12']; // the missing node has no definition to rebuild widgets from
    const back = apiToWorkflow(output, objectInfo);
    const again = graphToPrompt(back, objectInfo).output;
    assert.deepEqual(again, output);
  }
  assert.ok(classify({ prompt: { 1: { class_type: 'X', inputs: {} } } }).prompt);
  assert.ok(classify(fixture('image_chain_v04.json')).workflow);
  assert.equal(classify({ hello: 1 }), null);
});

test('workflow: converted widget linked in the API prompt becomes a socket link', () => {
  const prompt = {
    10: { class_type: 'PrimitiveInt', inputs: { value: 77 } },
    11: { class_type: 'EmptyImage', inputs: { width: ['10', 0], height: 8, batch_size: 1, color: 0 } },
    12: { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'x' } },
  };
  const wf = apiToWorkflow(prompt, objectInfo);
  const n11 = wf.nodes.find((n) => n.id === 11);
  assert.equal(n11.inputs.find((i) => i.widget?.name === 'width').link != null, true);
  if (objectInfo.PrimitiveInt) assert.deepEqual(graphToPrompt(wf, objectInfo).output['11'].inputs.width, ['10', 0]);
});

test('schema: fixtures, the default graph and converted API prompts follow the 0.4 schema', () => {
  for (const n of ['image_chain_v04.json', 'txt2img_frontend_v04.json']) assert.deepEqual(workflow04Problems(fixture(n)), [], n);
  assert.deepEqual(workflow04Problems(defaultWorkflow()), []);
  const { output } = graphToPrompt(fixture('txt2img_frontend_v04.json'), objectInfo);
  assert.deepEqual(workflow04Problems(apiToWorkflow(output, objectInfo)), []);
  // The checker itself rejects what the schema rejects.
  assert.ok(workflow04Problems({ nodes: [{ id: 1 }], links: [[1, 2]], version: 0.4, last_node_id: 1, last_link_id: 0 }).length >= 2);
});
