// The required shape of a version-0.4 workflow as ComfyUI's frontend validates it
// (zComfyWorkflow in ComfyUI_frontend src/schemas/comfyWorkflowSchema.ts), written out as
// plain checks. Returns a list of problems; [] means the document passes.

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isInt = (v) => Number.isInteger(v);
const isNodeId = (v) => isInt(v) || typeof v === 'string';
const isSlot = (v) => isInt(v) || (typeof v === 'string' && !Number.isNaN(parseInt(v, 10)));
const isDataType = (v) => typeof v === 'string' || isNum(v) || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
const isVec2 = (v) => v != null && typeof v === 'object' && isNum(v[0]) && isNum(v[1]);
const isObj = (v) => v != null && typeof v === 'object' && !Array.isArray(v);

export function workflow04Problems(wf) {
  const p = [];
  if (!isObj(wf)) return ['not an object'];
  if (wf.id !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(wf.id)) p.push('id is not a uuid');
  if (wf.revision !== undefined && !isNum(wf.revision)) p.push('revision is not a number');
  if (!isNodeId(wf.last_node_id)) p.push('last_node_id');
  if (!isNum(wf.last_link_id)) p.push('last_link_id');
  if (!isNum(wf.version)) p.push('version');
  if (!Array.isArray(wf.nodes)) p.push('nodes is not a list');
  if (!Array.isArray(wf.links)) p.push('links is not a list');
  if (wf.groups !== undefined && !Array.isArray(wf.groups)) p.push('groups is not a list');
  if (wf.config != null && !isObj(wf.config)) p.push('config');
  if (wf.extra != null && !isObj(wf.extra)) p.push('extra');
  if (isObj(wf.extra?.ds) && !(isNum(wf.extra.ds.scale) && isVec2(wf.extra.ds.offset))) p.push('extra.ds');
  for (const [i, l] of (wf.links ?? []).entries()) {
    if (!Array.isArray(l) || l.length !== 6 || !isNum(l[0]) || !isNodeId(l[1]) || !isSlot(l[2]) || !isNodeId(l[3]) || !isSlot(l[4]) || !isDataType(l[5])) {
      p.push(`links[${i}] is not [id, origin, slot, target, slot, type]: ${JSON.stringify(l)}`);
    }
  }
  for (const n of wf.nodes ?? []) {
    const at = `node ${n?.id}`;
    if (!isObj(n)) { p.push('node is not an object'); continue; }
    if (!isNodeId(n.id)) p.push(`${at}: id`);
    if (typeof n.type !== 'string') p.push(`${at}: type`);
    if (!isVec2(n.pos)) p.push(`${at}: pos`);
    if (!isVec2(n.size)) p.push(`${at}: size`);
    if (!isObj(n.flags)) p.push(`${at}: flags`);
    if (!isNum(n.order)) p.push(`${at}: order`);
    if (!isNum(n.mode)) p.push(`${at}: mode`);
    if (!isObj(n.properties)) p.push(`${at}: properties`);
    if (n.widgets_values !== undefined && !Array.isArray(n.widgets_values) && !isObj(n.widgets_values)) p.push(`${at}: widgets_values`);
    for (const s of n.inputs ?? []) {
      if (typeof s.name !== 'string' || !isDataType(s.type) || !(s.link == null || isNum(s.link))) p.push(`${at}: input ${JSON.stringify(s)}`);
    }
    for (const s of n.outputs ?? []) {
      if (typeof s.name !== 'string' || !isDataType(s.type) || !(s.links == null || (Array.isArray(s.links) && s.links.every(isNum)))) p.push(`${at}: output ${JSON.stringify(s)}`);
    }
  }
  for (const g of wf.groups ?? []) {
    if (typeof g.title !== 'string' || !Array.isArray(g.bounding) || g.bounding.length !== 4 || !g.bounding.every(isNum)) p.push(`group ${JSON.stringify(g)}`);
  }
  return p;
}
