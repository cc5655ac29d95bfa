// The page: the form, the running job (stage bars, latest preview, cancel) and the gallery of results.
import { Api, ApiError } from './api.js';
import { Gallery } from './gallery.js';

const $ = id => document.getElementById(id);
const KEY_STORE = 'unclip.apiKey';
const STAGE_LABELS = {
  TEXT_ENCODER: 'Text encoder', PRIOR: 'Prior', DECODER: 'Decoder', UPSAMPLER: 'Upsampler', CAPTIONER: 'Captioner',
};
// the gateway's field paths (either spelling) -> the input that holds the value
const FIELD_INPUTS = {
  prompt: 'prompt', size: 'size', num_images: 'numImages', seed: 'seed', preview_interval: 'previewInterval',
  'decoder.steps': 'steps', 'decoder.respacing': 'steps', 'decoder.guidance_scale': 'guidance',
  'decoder.candidates': 'candidates',
};

const api = new Api(() => $('apiKey').value.trim());
const gallery = new Gallery($('gallery'), $('gallery-empty'), api, {
  variations: card => startVariations(card),
  interpolate: card => openInterpolate(card),
});
let job = null; // the running job: {id, controller, stages: Map, done}

/** A field's error shown under it (and on the input, for screen readers). */
class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

// ---- form values -------------------------------------------------------------------------------

function wholeNumber(id, label) {
  const input = $(id);
  const text = input.value.trim();
  if (input.validity.badInput || (text !== '' && !/^\d+$/.test(text))) {
    throw new FieldError(id, `${label} must be a whole number`);
  }
  return text === '' ? undefined : Number(text);
}

function decoderParams() {
  const decoder = {};
  const steps = wholeNumber('steps', 'Steps');
  if (steps !== undefined) decoder.steps = steps;
  const guidance = $('guidance');
  if (guidance.validity.badInput) throw new FieldError('guidance', 'Guidance must be a number');
  if (guidance.value.trim() !== '') decoder.guidanceScale = Number(guidance.value);
  const candidates = wholeNumber('candidates', 'Candidates');
  if (candidates !== undefined) decoder.candidates = candidates;
  return decoder;
}

/** The fields every job kind shares; the seed stays a string (uint64 is a string in proto3 JSON). */
function commonParams() {
  const body = {
    size: Number($('size').value),
    decoder: decoderParams(),
    previewInterval: wholeNumber('previewInterval', 'Preview interval') ?? 0,
  };
  const seed = $('seed').value.trim();
  if (seed !== '') {
    if (!/^\d+$/.test(seed) || BigInt(seed) >= 2n ** 64n) {
      throw new FieldError('seed', 'Seed must be a whole number below 2^64, or blank');
    }
    body.seed = seed;
  }
  return body;
}

function imageCount() {
  return wholeNumber('numImages', 'Images') ?? 1;
}

// ---- errors ------------------------------------------------------------------------------------

function clearErrors() {
  for (const p of document.querySelectorAll('.error')) p.textContent = '';
  for (const input of document.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function showFieldError(id, message) {
  const input = $(id);
  const slot = input && $(`${id}-error`);
  if (!slot) {
    $('form-error').textContent = message;
    return;
  }
  if (id === 'apiKey') $('key-box').open = true;
  slot.textContent = message;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

/** The input for a gateway field path such as "decoder.guidanceScale" or "num_images". */
function inputFor(param) {
  const snake = (param || '').replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);
  return FIELD_INPUTS[snake];
}

function showError(error) {
  if (error instanceof FieldError) {
    showFieldError(error.field, error.message);
  } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    showFieldError('apiKey', error.message);
  } else if (error instanceof ApiError && inputFor(error.param)) {
    showFieldError(inputFor(error.param), error.message);
  } else {
    $('form-error').textContent = error.message;
  }
}

// ---- the running job ---------------------------------------------------------------------------

function setState(state, text) {
  const p = $('job-state');
  p.dataset.state = state;
  p.textContent = text;
}

function setBusy(busy) {
  $('generate').disabled = busy;
  $('cancel').disabled = !busy;
  gallery.setBusy(busy);
}

function stageKey(stage, cascadeStep) {
  return `${stage}/${cascadeStep || 0}`;
}

/** A bar for one stage run; the n-th of a stage in the plan is its cascade step n. */
function addStage(stage, step, numbered) {
  const label = `${STAGE_LABELS[stage] ?? stage}${numbered ? ` ${step + 1}` : ''}`;
  const li = document.createElement('li');
  const name = document.createElement('span');
  name.textContent = label;
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `${label} progress`);
  const text = document.createElement('span');
  text.className = 'stage-text';
  text.textContent = 'waiting';
  li.append(name, bar, text);
  li.dataset.stage = stageKey(stage, step);
  $('stages').append(li);
  const entry = { li, bar, text, label };
  job.stages.set(stageKey(stage, step), entry);
  return entry;
}

function showPlan(plan) {
  const seen = {};
  for (const stage of plan) {
    seen[stage] = (seen[stage] ?? -1) + 1;
    addStage(stage, seen[stage], plan.filter(s => s === stage).length > 1);
  }
}

/** The bar of an event's stage run; a gateway without the bundle announces no plan, so bars come as stages do. */
function stageOf(event) {
  return job.stages.get(stageKey(event.stage, event.cascadeStep))
    ?? addStage(event.stage, event.cascadeStep || 0, event.stage === 'UPSAMPLER');
}

const handlers = {
  accepted(a) {
    job.id = a.jobId;
    $('job-id').textContent = a.jobId;
    $('job').dataset.jobId = a.jobId;
    showPlan(a.plan || []);
    setState('queued', `Queued (seed ${a.seed ?? 0})`);
  },
  stageStarted(s) {
    const stage = stageOf(s);
    stage.li.className = 'running';
    stage.text.textContent = (s.attempt ?? 1) > 1 ? `running (attempt ${s.attempt})` : 'running';
    setState('running', `Running: ${stage.label}`);
  },
  progress(p) {
    const stage = stageOf(p);
    stage.bar.max = p.total || 1;
    stage.bar.value = p.step ?? 0;
    stage.text.textContent = `${p.step ?? 0}/${p.total}`;
    if (p.previewPng) {
      $('preview').src = `data:image/png;base64,${p.previewPng}`;
      $('preview-caption').textContent =
        `${stage.label} step ${p.step ?? 0}/${p.total}, image ${(p.imageIndex ?? 0) + 1}`;
      $('preview-box').hidden = false;
    }
  },
  stageFinished(f) {
    const stage = stageOf(f);
    stage.li.className = 'finished';
    stage.bar.value = stage.bar.max;
    stage.text.textContent = `${f.timings?.wallMs ?? 0} ms`;
  },
  result(r) {
    job.done = true;
    const seconds = ((performance.now() - job.started) / 1000).toFixed(1);
    setState('succeeded', `Done in ${seconds} s: ${r.images?.length ?? 0} image(s) in the gallery`);
    gallery.add(job.id, job.kind, r);
  },
  failed(f) {
    job.done = true;
    setState('failed', `Failed: ${f.message || f.code}`);
    if (inputFor(f.field)) showFieldError(inputFor(f.field), f.message);
  },
  // a refusal after the stream began (a race for the gateway's last stream slot): OpenAI's error shape
  error(e) {
    job.done = true;
    setState('failed', `Refused: ${e.message}`);
    if (inputFor(e.param)) showFieldError(inputFor(e.param), e.message);
  },
  cancelled(c) {
    job.done = true;
    const during = c.stage && c.stage !== 'STAGE_NAME_UNSPECIFIED' ? ` during ${STAGE_LABELS[c.stage] ?? c.stage}` : '';
    setState('cancelled', `Cancelled${during} (${c.reason || 'client'})`);
    for (const { li } of job.stages.values()) if (li.className === 'running') li.className = 'stopped';
  },
};

function onEvent(event) {
  for (const [name, handle] of Object.entries(handlers)) {
    if (event[name]) handle(event[name]);
  }
}

/** Runs one job: POSTs it, follows its events until the terminal one. */
async function run(path, body, kind) {
  clearErrors();
  job = { id: null, controller: new AbortController(), stages: new Map(), done: false, kind,
    started: performance.now() };
  $('job').hidden = false;
  $('job-id').textContent = '';
  delete $('job').dataset.jobId;
  $('stages').replaceChildren();
  $('preview-box').hidden = true;
  $('preview').removeAttribute('src');
  setState('submitting', 'Submitting…');
  setBusy(true);
  try {
    await api.stream(path, body, onEvent, job.controller.signal);
    if (!job.done) setState('failed', 'The stream ended before the job finished; see the gateway log.');
  } catch (error) {
    if (error.name === 'AbortError') {
      setState('cancelled', 'Cancelled before the gateway accepted the job');
    } else if (error instanceof ApiError) {
      setState('refused', `Refused: ${error.message}`);
      showError(error);
    } else {
      setState('failed', `Connection lost: ${error.message}`);
    }
  } finally {
    setBusy(false);
  }
}

async function cancel() {
  if (!job || job.done) return;
  if (!job.id) {
    job.controller.abort(); // not accepted yet: closing the stream withdraws the request
    return;
  }
  $('cancel').disabled = true;
  setState('cancelling', 'Cancelling…');
  try {
    await api.json('POST', `/v1/unclip/jobs/${encodeURIComponent(job.id)}/cancel`);
  } catch (error) {
    $('cancel').disabled = false;
    showError(error);
  }
}

// ---- job kinds ---------------------------------------------------------------------------------

function start(path, kind, fields) {
  let body;
  try {
    clearErrors();
    body = { ...commonParams(), ...fields() };
  } catch (error) {
    showError(error);
    return;
  }
  run(path, body, kind);
}

function startGenerate(event) {
  event.preventDefault();
  start('/v1/unclip/generate', 'generate', () => {
    const prompt = $('prompt').value;
    if (prompt.trim() === '') throw new FieldError('prompt', 'Write a prompt first');
    return { prompt, numImages: imageCount() };
  });
}

/** A job made from gallery images: their PNGs (base64) go into the request. */
async function startFrom(cards, path, kind, fields) {
  let images;
  try {
    images = await Promise.all(cards.map(card => card.png()));
  } catch (error) {
    showError(new Error(`Could not read the image: ${error.message}`));
    return;
  }
  start(path, kind, () => fields(images));
}

function startVariations(card) {
  startFrom([card], '/v1/unclip/variations', `variations of #${card.number}`,
    ([image]) => ({ image, numImages: imageCount() }));
}

function openInterpolate(from) {
  const choices = $('interpolate-choices');
  choices.replaceChildren();
  for (const card of gallery.cards.filter(c => c !== from)) {
    const label = document.createElement('label');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'end';
    radio.value = String(card.number);
    const thumb = document.createElement('img');
    thumb.src = card.url;
    thumb.alt = '';
    label.append(radio, thumb, ` #${card.number}`);
    choices.append(label);
  }
  if (!choices.children.length) choices.textContent = 'Generate a second image first.';
  choices.querySelector('input')?.setAttribute('checked', '');
  $('interpolate-go').disabled = !choices.querySelector('input');
  $('interpolate-title').textContent = `Interpolate from #${from.number}`;
  const dialog = $('interpolate-dialog');
  dialog.returnValue = '';
  dialog.onclose = () => {
    const picked = choices.querySelector('input:checked');
    if (dialog.returnValue !== 'go' || !picked) return;
    const to = gallery.cards.find(c => String(c.number) === picked.value);
    startFrom([from, to], '/v1/unclip/interpolate', `frames #${from.number} → #${to.number}`,
      ([imageA, imageB]) => ({ imageA, imageB, frames: wholeNumber('frames', 'Frames') ?? 0 }));
  };
  dialog.showModal();
}

// ---- wiring ------------------------------------------------------------------------------------

function keepKey() {
  const key = $('apiKey').value.trim();
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
  $('key-box').querySelector('summary').textContent = key ? 'API key (set)' : 'API key';
}

$('apiKey').value = localStorage.getItem(KEY_STORE) ?? '';
keepKey();
$('apiKey').addEventListener('input', keepKey);
$('generate-form').addEventListener('submit', startGenerate);
$('preview').addEventListener('load', e => e.target.classList.toggle('small', e.target.naturalWidth < 256));
$('cancel').addEventListener('click', cancel);
