// The playground: every task of the service, run as a job through the client SDK (served at
// /sdk/), with an options form built from the task's own schema in /openapi.json.
import { AIServiceClient, AIServiceError } from '/sdk/index.js';

const $ = (sel) => document.querySelector(sel);
const KEY_STORE = 'fotofun-playground-key';
const state = { tasks: [], file: undefined, extras: {} };

function client() {
  const apiKey = $('#api-key').value.trim();
  return new AIServiceClient({ endpoint: location.origin, timeout: 120_000, ...(apiKey ? { apiKey } : {}) });
}

function showError(err) {
  $('#error').textContent = err instanceof AIServiceError ? `${err.code}: ${err.message}` : String(err?.message ?? err);
}

/** The tasks, from the OpenAPI document: name, summary, options schema and image fields. */
async function loadTasks() {
  const doc = await (await fetch('/openapi.json')).json();
  const tasks = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.post;
    if (!op?.operationId?.startsWith('task_')) continue;
    const json = op.requestBody.content['application/json'].schema;
    const form = op.requestBody.content['multipart/form-data']?.schema?.properties ?? {};
    const files = Object.entries(form).filter(([, s]) => s.format === 'binary').map(([k]) => k);
    const main = files.includes('image') ? 'image' : files[0];
    tasks.push({
      name: op.operationId.slice(5).replace(/_/g, '-'), path, summary: op.summary,
      options: json.properties.options ?? { properties: {} }, main, extras: files.filter((f) => f !== main && f !== 'content'),
    });
  }
  state.tasks = tasks;
  $('#task').replaceChildren(...tasks.map((t) => new Option(t.name, t.name)));
  selectTask();
}

const current = () => state.tasks.find((t) => t.name === $('#task').value);

/** One form field per option: enums and literal unions as selects, numbers with their bounds, the rest as JSON. */
function field(name, schema) {
  const label = document.createElement('label');
  label.textContent = name;
  label.title = schema.description ?? '';
  const choices = schema.enum ?? (schema.anyOf?.every((s) => 'const' in s) ? schema.anyOf.map((s) => s.const) : undefined);
  let input;
  if (choices || schema.type === 'boolean') {
    input = document.createElement('select');
    input.append(new Option(`(default${'default' in schema ? `: ${schema.default}` : ''})`, ''));
    for (const c of choices ?? [true, false]) input.append(new Option(String(c), JSON.stringify(c)));
    input.dataset.kind = 'json';
  } else if (schema.type === 'number' || schema.type === 'integer') {
    input = document.createElement('input');
    input.type = 'number';
    if ('minimum' in schema) input.min = schema.minimum;
    if ('maximum' in schema) input.max = schema.maximum;
    input.step = schema.type === 'integer' ? '1' : 'any';
    input.placeholder = 'default' in schema ? String(schema.default) : '';
    input.dataset.kind = 'number';
  } else if (schema.type === 'string') {
    input = document.createElement('input');
    input.placeholder = 'default' in schema ? String(schema.default) : '';
    input.dataset.kind = 'string';
  } else {
    input = document.createElement('textarea');
    input.placeholder = 'JSON';
    input.dataset.kind = 'json';
  }
  input.name = name;
  label.append(input);
  return label;
}

function selectTask() {
  const task = current();
  if (!task) return;
  $('#task-description').textContent = task.summary;
  $('#options').replaceChildren(...Object.entries(task.options.properties ?? {}).map(([k, s]) => field(k, s)));
  state.extras = {};
  $('#extras').replaceChildren(...task.extras.map((name) => {
    const label = document.createElement('label');
    label.textContent = `${name} image (optional for some options)`;
    const input = Object.assign(document.createElement('input'), { type: 'file', accept: 'image/*', id: `extra-${name}` });
    input.addEventListener('change', () => { state.extras[name] = input.files[0]; });
    label.append(input);
    return label;
  }));
}

function readOptions() {
  const options = {};
  for (const el of $('#options').elements) {
    if (!el.name || el.value === '') continue;
    if (el.dataset.kind === 'number') options[el.name] = Number(el.value);
    else if (el.dataset.kind === 'json') options[el.name] = JSON.parse(el.value);
    else options[el.name] = el.value;
  }
  return options;
}

function setFile(file) {
  if (!file) return;
  state.file = file;
  $('#before').src = URL.createObjectURL(file);
  $('#after').removeAttribute('src');
  $('#after').dataset.loaded = 'false';
  clearBoxes();
  $('#run').disabled = false;
}

function clearBoxes() {
  const canvas = $('#boxes');
  canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
  canvas.dataset.count = '0';
}

/** Faces (x1..y2), objects (x, y, width, height) and text lines (quads), drawn over the before image. */
function drawBoxes(data) {
  const img = $('#before');
  const canvas = $('#boxes');
  canvas.width = img.clientWidth;
  canvas.height = img.clientHeight;
  const k = img.clientWidth / img.naturalWidth;
  const ctx = canvas.getContext('2d');
  ctx.lineWidth = 2;
  let count = 0;
  const rect = (x, y, w, h, colour, text) => {
    ctx.strokeStyle = colour;
    ctx.strokeRect(x * k, y * k, w * k, h * k);
    if (text) { ctx.fillStyle = colour; ctx.fillText(text, x * k + 2, y * k + 10); }
    count++;
  };
  for (const f of data?.faces ?? []) rect(f.box.x1, f.box.y1, f.box.x2 - f.box.x1, f.box.y2 - f.box.y1, '#2bd35c', f.score?.toFixed?.(2));
  for (const d of data?.detections ?? (Array.isArray(data) ? data : [])) rect(d.box.x, d.box.y, d.box.width, d.box.height, '#ff9f1a', d.label);
  for (const line of data?.lines ?? []) {
    ctx.strokeStyle = '#3a8bff';
    ctx.beginPath();
    line.box.forEach(([x, y], i) => (i ? ctx.lineTo(x * k, y * k) : ctx.moveTo(x * k, y * k)));
    ctx.closePath();
    ctx.stroke();
    count++;
  }
  canvas.dataset.count = String(count);
}

function jobRow(job) {
  const li = document.createElement('li');
  li.id = `job-${job.id}`;
  li.innerHTML = `<b></b> <span class="status"></span><progress max="1" value="0"></progress>`;
  li.querySelector('b').textContent = job.operation;
  $('#jobs').prepend(li);
  return (status, progress, stage) => {
    li.querySelector('.status').textContent = stage ? `${status} · ${stage}` : status;
    li.querySelector('progress').value = progress;
    li.className = status;
    li.dataset.status = status;
  };
}

async function run() {
  const task = current();
  $('#error').textContent = '';
  $('#json').textContent = '';
  clearBoxes();
  let options;
  try {
    options = readOptions();
  } catch {
    return showError(new Error('An option is not valid JSON.'));
  }
  const ai = client();
  try {
    const images = Object.fromEntries(Object.entries(state.extras).filter(([, f]) => f));
    const job = await ai.jobs.submit(task.name, state.file, options, { images });
    const update = jobRow(job);
    update(job.status, job.progress, job.stage);
    const done = await ai.jobs.wait(job.id, { onProgress: (p, stage) => update('processing', p, stage) });
    update(done.status, 1, done.error ? done.error.code : '');
    if (done.status !== 'completed') throw new AIServiceError(done.error?.code ?? 'FAILED', done.error?.message ?? `The job ended ${done.status}.`);
    const result = await ai.jobs.result(job.id);
    if (result instanceof Blob) {
      const after = $('#after');
      after.onload = () => { after.dataset.loaded = 'true'; };
      after.src = URL.createObjectURL(result);
      $('#json').textContent = JSON.stringify(done.result?.metadata ?? {}, null, 2);
    } else {
      $('#json').textContent = JSON.stringify(result, null, 2);
      drawBoxes(result);
    }
  } catch (err) {
    showError(err);
  }
  void refreshModels();
}

async function refreshModels() {
  const ai = client();
  try {
    const models = await ai.getSupportedModels();
    $('#models tbody').replaceChildren(...models.map((m) => {
      const tr = document.createElement('tr');
      for (const v of [m.id, m.state ?? '', m.downloaded ? 'yes' : 'no']) tr.append(Object.assign(document.createElement('td'), { textContent: v }));
      return tr;
    }));
    $('#vram').textContent = JSON.stringify(await ai.getVram(), null, 2);
  } catch (err) {
    $('#vram').textContent = err instanceof AIServiceError ? `${err.code}: ${err.message}` : String(err);
  }
}

async function watchHealth() {
  const healthy = await client().isHealthy();
  $('#health').className = `dot ${healthy ? 'ok' : 'down'}`;
  $('#health').textContent = healthy ? 'healthy' : 'unreachable';
}

$('#api-key').value = localStorage.getItem(KEY_STORE) ?? '';
$('#api-key').addEventListener('change', () => { localStorage.setItem(KEY_STORE, $('#api-key').value.trim()); void refreshModels(); });
$('#task').addEventListener('change', selectTask);
$('#file').addEventListener('change', () => setFile($('#file').files[0]));
const drop = $('#drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); setFile(e.dataTransfer.files[0]); });
$('#run').addEventListener('click', () => void run());
$('#refresh-models').addEventListener('click', () => void refreshModels());
await loadTasks().catch(showError);
void refreshModels();
void watchHealth();
setInterval(() => void watchHealth(), 30_000);
document.body.dataset.ready = 'true';
