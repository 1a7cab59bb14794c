// Reading /object_info entries (spec §8): which inputs become widgets, in which order, with
// which limits. The widget order decides the positions in a workflow's widgets_values, so it
// follows ComfyUI's frontend exactly: one widget per widget-typed input in input_order, a
// "control_after_generate" combo right after a seed-like value, an upload button right after an
// image_upload combo. Pure module (no DOM), shared by the editor and by graph→prompt conversion.

export const CONTROL_VALUES = ['fixed', 'increment', 'decrement', 'randomize'];
export const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

/** inputSpecs lists required then optional inputs in declaration order. */
export function inputSpecs(def) {
  const out = [];
  for (const group of ['required', 'optional']) {
    const specs = def?.input?.[group];
    if (!specs) continue;
    const order = def.input_order?.[group] ?? Object.keys(specs);
    for (const name of order) {
      const spec = specs[name];
      if (!spec) continue;
      const rawType = Array.isArray(spec) ? spec[0] : spec;
      const options = (Array.isArray(spec) && spec[1] && typeof spec[1] === 'object') ? spec[1] : {};
      out.push({ name, rawType, options, optional: group === 'optional' });
    }
  }
  return out;
}

/**
 * widgetKind says which widget an input gets: 'INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO' or
 * null for a plain slot. Classic combos have an array as their type; V3 combos are
 * ["COMBO", {options: [...]}]. forceInput makes any type a slot.
 */
export function widgetKind(spec) {
  if (spec.options.forceInput) return null;
  if (Array.isArray(spec.rawType)) return 'COMBO';
  return WIDGET_TYPES.has(spec.rawType) ? spec.rawType : null;
}

/** comboValues returns the choices of a COMBO input (classic list or V3 options). */
export function comboValues(spec) {
  if (Array.isArray(spec.rawType)) return spec.rawType;
  const o = spec.options.options ?? spec.options.values;
  return Array.isArray(o) ? o : [];
}

/** slotType is the type string a slot carries (combo lists become "COMBO"). */
export function slotType(t) {
  return Array.isArray(t) ? 'COMBO' : String(t);
}

/** hasControl reports whether a widget gets a control_after_generate companion. */
export function hasControl(spec, kind) {
  if (kind !== 'INT' && kind !== 'FLOAT' && kind !== 'COMBO') return false;
  if (spec.options.control_after_generate != null) return !!spec.options.control_after_generate;
  // ComfyUI's frontend keeps a legacy rule: integer inputs named like seeds get one.
  return kind === 'INT' && (spec.name === 'seed' || spec.name === 'noise_seed');
}

/** hasUpload reports whether a combo gets ComfyUI's "choose file to upload" button. */
export function hasUpload(spec, kind) {
  return kind === 'COMBO' && !!spec.options.image_upload;
}

/**
 * widgetLayout lists the widgets of a node in order: {name, kind, role, spec} where role is
 * 'value' (an input), 'control' (control_after_generate of the preceding value) or 'upload'.
 */
export function widgetLayout(def) {
  const out = [];
  for (const spec of inputSpecs(def)) {
    const kind = widgetKind(spec);
    if (!kind) continue;
    out.push({ name: spec.name, kind, role: 'value', spec });
    if (hasControl(spec, kind)) out.push({ name: 'control_after_generate', kind: 'COMBO', role: 'control', of: spec.name, spec });
    if (hasUpload(spec, kind)) out.push({ name: 'upload', kind: 'BUTTON', role: 'upload', of: spec.name, spec });
  }
  return out;
}

/**
 * numberConfig turns INT/FLOAT options into the editor's widget options with ComfyUI's
 * conventions: INT defaults min 0, max 2048, step 1, precision 0; FLOAT defaults step 0.5,
 * precision from the step (0.01 → 2) and rounding to that precision unless `round` is false
 * or a number. The litegraph widget moves by step/10 per click, hence step = 10 × step
 * (step2 holds the real step).
 */
export function numberConfig(kind, o) {
  const min = o.min ?? 0;
  const max = o.max ?? 2048;
  const step = o.step ?? (kind === 'INT' ? 1 : 0.5);
  let precision = kind === 'INT' ? 0 : (o.precision ?? Math.max(-Math.floor(Math.log10(step)), 0));
  let round;
  if (kind === 'INT') round = 1;
  else if (o.round === false) round = undefined;
  else if (typeof o.round === 'number' && o.round > 0) round = o.round;
  else round = Math.round(1000000 * Math.pow(0.1, precision)) / 1000000;
  if (kind === 'FLOAT' && round !== undefined) {
    // Show enough digits for the rounding step too (round 0.001 with step 0.01 shows 3).
    precision = Math.max(precision, Math.max(-Math.floor(Math.log10(round)), 0));
  }
  return { min, max, step: 10 * step, step2: step, precision, round };
}

/** defaultValue gives a new widget's value the way ComfyUI's frontend does. */
export function defaultValue(spec, kind) {
  const d = spec.options.default;
  switch (kind) {
    case 'INT':
    case 'FLOAT': {
      const c = numberConfig(kind, spec.options);
      let v = typeof d === 'number' ? d : 0;
      if (v < c.min) v = c.min;
      if (v > c.max) v = c.max;
      return v;
    }
    case 'STRING': return typeof d === 'string' ? d : '';
    case 'BOOLEAN': return typeof d === 'boolean' ? d : false;
    case 'COMBO': {
      const vals = comboValues(spec);
      return d !== undefined ? d : (vals.length ? vals[0] : '');
    }
  }
  return d;
}

/** roundNumber applies a number widget's step/round and limits to a typed-in or dragged value. */
export function roundNumber(kind, cfg, v) {
  v = Number(v);
  if (!Number.isFinite(v)) return cfg.min;
  if (kind === 'INT') {
    const s = cfg.step2 || 1;
    let sh = cfg.min % s;
    if (!Number.isFinite(sh)) sh = 0;
    v = Math.round((v - sh) / s) * s + sh;
  } else if (cfg.round) {
    v = Math.round((v + Number.EPSILON) / cfg.round) * cfg.round;
    v = Number(v.toFixed(cfg.precision + 2)); // drop binary noise (0.30000000000000004)
  }
  if (v > cfg.max) v = cfg.max;
  if (v < cfg.min) v = cfg.min;
  return v;
}

// ComfyUI caps random seeds to ±2^50 so that they stay exact in a JS number.
const RANDOM_LIMIT = 1125899906842624;

/**
 * applyControl returns the value a widget gets after its prompt was queued:
 * fixed keeps it; increment/decrement move by one step (clamped); randomize picks a multiple of
 * the step in [min, min(max, 2^50)]. Combos cycle (increment/decrement) or pick at random.
 */
export function applyControl(mode, kind, value, cfg, values, random = Math.random) {
  if (!mode || mode === 'fixed') return value;
  if (kind === 'COMBO') {
    if (!values?.length) return value;
    let i = values.indexOf(value);
    if (mode === 'increment') i = Math.min(values.length - 1, i + 1);
    else if (mode === 'decrement') i = Math.max(0, i - 1);
    else if (mode === 'randomize') i = Math.floor(random() * values.length);
    return values[Math.max(0, i)];
  }
  const step = cfg.step2 || 1;
  let v = value;
  if (mode === 'increment') v = value + step;
  else if (mode === 'decrement') v = value - step;
  else if (mode === 'randomize') {
    const min = Math.max(-RANDOM_LIMIT, cfg.min);
    const max = Math.min(RANDOM_LIMIT, cfg.max);
    const range = (max - min) / step;
    v = Math.floor(random() * range) * step + min;
  }
  if (v < cfg.min) v = cfg.min;
  if (v > cfg.max) v = cfg.max;
  return v;
}

/**
 * dynamicPrompt resolves ComfyUI's `{a|b|c}` wildcards (nested, `\{` escapes) and strips
 * `/* *\/` and `//` comments, as the frontend does for STRING inputs with dynamicPrompts.
 */
export function dynamicPrompt(text, random = Math.random) {
  if (typeof text !== 'string') return text;
  text = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  for (;;) {
    // The first unescaped "}" closes the innermost group; its "{" is the last one before it.
    let close = -1;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '\\') { i++; continue; }
      if (text[i] === '}') { close = i; break; }
    }
    if (close < 0) break;
    let open = -1;
    for (let i = 0; i < close; i++) {
      if (text[i] === '\\') { i++; continue; }
      if (text[i] === '{') open = i;
    }
    if (open < 0) break;
    const parts = splitUnescaped(text.slice(open + 1, close));
    const pick = parts[Math.floor(random() * parts.length)];
    text = text.slice(0, open) + pick + text.slice(close + 1);
  }
  return text.replace(/\\([{}|])/g, '$1');
}

function splitUnescaped(s) {
  const out = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) { cur += s[i] + s[i + 1]; i++; continue; }
    if (s[i] === '|') { out.push(cur); cur = ''; continue; }
    cur += s[i];
  }
  out.push(cur);
  return out;
}
