// Drives the gateway's web page in headless Chromium as a user would: a refused field, a generation
// with live previews, variations and an interpolation from the gallery, a cancelled long job, a
// narrow screen. Writes a JSON report (--report) and screenshots (--shots); exits 1 on the first
// failed check, with the reason in the report.
//
//   node web-page-test.mjs --url http://localhost:8080/ --report report.json --shots shots/
//       [--prompt P] [--size 128] [--images 2] [--seed 7] [--steps 20] [--guidance 3] [--candidates 2]
//       [--cancel-steps 1000] [--mid-shot-frames 1] [--browser /usr/bin/chromium] [--timeout-ms 120000] [--quick]
// The mid-generation screenshot is taken at the --mid-shot-frames-th preview frame.
// --quick stops after the generation and the cancel (no variations, interpolation or bad field).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    report: { type: 'string' },
    shots: { type: 'string' },
    prompt: { type: 'string', default: 'a red circle at the top left' },
    size: { type: 'string', default: '128' },
    images: { type: 'string', default: '2' },
    seed: { type: 'string', default: '7' },
    steps: { type: 'string', default: '20' },
    guidance: { type: 'string', default: '3' },
    candidates: { type: 'string', default: '2' },
    'preview-interval': { type: 'string', default: '2' },
    'cancel-steps': { type: 'string', default: '1000' },
    'mid-shot-frames': { type: 'string', default: '1' },
    browser: { type: 'string', default: '/usr/bin/chromium' },
    'timeout-ms': { type: 'string', default: '120000' },
    quick: { type: 'boolean', default: false },
  },
});
if (!opt.url || !opt.report || !opt.shots) {
  console.error('usage: node web-page-test.mjs --url URL --report FILE --shots DIR [options]');
  process.exit(2);
}
const TIMEOUT = Number(opt['timeout-ms']);
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'refused'];
const report = { ok: false, checks: [], pageErrors: [], console: [] };
mkdirSync(opt.shots, { recursive: true });

function check(name, ok, detail) {
  report.checks.push({ name, ok, detail });
  if (!ok) throw new Error(`${name}: ${JSON.stringify(detail)}`);
}

async function shot(page, name, fullPage = false) {
  const path = join(opt.shots, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

async function fill(page, selector, value) {
  await page.locator(selector).fill(value);
}

/** The job state line: {state, text, jobId}. */
function jobState(page) {
  return page.evaluate(() => ({
    state: document.getElementById('job-state').dataset.state,
    text: document.getElementById('job-state').textContent,
    jobId: document.getElementById('job').dataset.jobId ?? '',
  }));
}

/** Waits until a job other than previousJobId reaches a terminal state. */
async function waitForJob(page, previousJobId) {
  await page.waitForFunction((previous, terminal) => {
    const id = document.getElementById('job').dataset.jobId ?? '';
    const state = document.getElementById('job-state').dataset.state;
    return (id !== previous && terminal.includes(state)) || state === 'refused';
  }, { timeout: TIMEOUT, polling: 50 }, previousJobId, TERMINAL);
  return jobState(page);
}

function cardCount(page) {
  return page.$$eval('#gallery .card', cards => cards.length);
}

/** Every card's shown fields, its image's decoded size, newest first. */
function cards(page) {
  return page.$$eval('#gallery .card', list => list.map(card => {
    const fields = {};
    for (const dd of card.querySelectorAll('[data-field]')) fields[dd.dataset.field] = dd.textContent;
    const img = card.querySelector('img');
    return { number: card.dataset.number, jobId: card.dataset.jobId, heading: card.querySelector('h3').textContent,
      fields, naturalWidth: img.naturalWidth, complete: img.complete };
  }));
}

async function getJob(jobId) {
  const response = await fetch(new URL(`/v1/unclip/jobs/${encodeURIComponent(jobId)}`, opt.url));
  return { status: response.status, body: await response.json() };
}

async function main() {
  const root = process.getuid?.() === 0;
  const browser = await puppeteer.launch({
    executablePath: opt.browser,
    headless: true,
    // root (CI containers) cannot use Chromium's sandbox; /dev/shm is often tiny there
    args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
    defaultViewport: { width: 1280, height: 800 },
  });
  report.browser = await browser.version();
  try {
    const page = await browser.newPage();
    page.on('pageerror', error => report.pageErrors.push(String(error)));
    page.on('console', message => report.console.push(`${message.type()}: ${message.text()}`));
    // the jobs the page asks for: what its form put in the request
    const requests = [];
    page.on('request', request => {
      if (request.method() === 'POST' && /\/v1\/unclip\/(generate|variations|interpolate)$/.test(request.url())) {
        requests.push({ url: request.url(), body: request.postData() });
      }
    });
    page.setDefaultTimeout(TIMEOUT);

    const response = await page.goto(opt.url, { waitUntil: 'networkidle0' });
    check('the page loads', response.ok() && (await page.title()) === 'unclip', { status: response.status() });
    const unlabelled = await page.$$eval('input, select, textarea',
      inputs => inputs.filter(i => i.type !== 'radio' && i.labels.length === 0).map(i => i.id));
    check('every input has a label', unlabelled.length === 0, unlabelled);

    if (!opt.quick) {
      // a value the gateway refuses: its message next to the field, no job
      await fill(page, '#prompt', opt.prompt);
      await fill(page, '#steps', '5000');
      await page.click('#generate');
      await page.waitForFunction(terminal => document.getElementById('steps-error').textContent !== ''
        || terminal.includes(document.getElementById('job-state').dataset.state), { timeout: TIMEOUT }, TERMINAL);
      const stepsError = await page.$eval('#steps-error', p => p.textContent);
      report.refusedField = { field: 'steps', message: stepsError, state: await jobState(page) };
      check('a refused field shows the gateway\'s message next to it', /steps/i.test(stepsError), report.refusedField);
    }

    // the generation: preview frames as they stream, then the images in the gallery
    await page.evaluate(() => {
      window.previewFrames = [];
      new MutationObserver(() => {
        const src = document.getElementById('preview').getAttribute('src');
        if (src && !window.previewFrames.some(f => f.src === src)) {
          window.previewFrames.push({ src, state: document.getElementById('job-state').dataset.state,
            caption: document.getElementById('preview-caption').textContent, at: performance.now() });
        }
      }).observe(document.getElementById('preview'), { attributes: true, attributeFilter: ['src'] });
    });
    await fill(page, '#prompt', opt.prompt);
    await page.select('#size', opt.size);
    await fill(page, '#numImages', opt.images);
    await fill(page, '#seed', opt.seed);
    await fill(page, '#steps', opt.steps);
    await fill(page, '#guidance', opt.guidance);
    await fill(page, '#candidates', opt.candidates);
    await fill(page, '#previewInterval', opt['preview-interval']);
    const sentBefore = requests.length;
    const clicked = await page.evaluate(() => performance.now());
    await page.click('#generate');
    await page.waitForFunction(n => window.previewFrames.length >= n || document.getElementById('job-state').dataset
      .state === 'succeeded', { timeout: TIMEOUT, polling: 'mutation' }, Number(opt['mid-shot-frames']));
    const midState = await jobState(page);
    report.midGeneration = { state: midState.state, text: midState.text,
      screenshot: await shot(page, 'generating') };
    const done = await waitForJob(page, '');
    check('the generation succeeds', done.state === 'succeeded', done);
    const frames = await page.evaluate(() => window.previewFrames.map(({ state, caption, at }) => ({ state, caption, at })));
    const shown = await cards(page);
    const ended = await page.evaluate(() => performance.now());
    report.generation = {
      jobId: done.jobId,
      state: done.text,
      previewFrames: frames.length,
      previewsWhileRunning: frames.filter(f => f.state === 'running').length,
      firstPreviewMs: Math.round(frames[0].at - clicked),
      resultMs: Math.round(ended - clicked),
      previewCaptions: frames.slice(0, 3).map(f => f.caption),
      stages: await page.$$eval('#stages li', lis => lis.map(li => ({ stage: li.dataset.stage, className: li.className,
        text: li.querySelector('.stage-text').textContent }))),
      cards: shown,
      request: JSON.parse(requests[sentBefore]?.body ?? 'null'),
    };
    check('the request carries the decoder\'s candidates',
      report.generation.request?.decoder?.candidates === Number(opt.candidates), report.generation.request);
    check('a preview frame appeared while the job ran', report.generation.previewsWhileRunning >= 1, frames);
    check('the gallery holds the images', shown.length === Number(opt.images), shown.length);
    check('every image decoded at its size', shown.every(c => c.complete && c.naturalWidth === Number(opt.size)), shown);
    report.gallery = { screenshot: await shot(page, 'gallery') };
    await fill(page, '#candidates', ''); // the jobs below as before: one candidate per image

    if (!opt.quick) {
      // variations of the first image
      const before = await cardCount(page);
      const [first, second] = shown; // the first job's images, in order
      await page.click(`#gallery .card[data-number="${first.number}"] [data-action="variations"]`);
      const variations = await waitForJob(page, done.jobId);
      check('variations succeed', variations.state === 'succeeded', variations);
      const afterVariations = await cardCount(page);
      check('variations join the gallery', afterVariations === before + Number(opt.images), afterVariations);

      // interpolation from the first image to the second

      await page.click(`#gallery .card[data-number="${first.number}"] [data-action="interpolate"]`);
      await page.waitForSelector('#interpolate-dialog[open]');
      await page.click(`#interpolate-choices input[value="${second.number}"]`);
      await fill(page, '#frames', '3');
      await page.click('#interpolate-go');
      const interpolation = await waitForJob(page, variations.jobId);
      check('the interpolation succeeds', interpolation.state === 'succeeded', interpolation);
      const afterFrames = await cardCount(page);
      check('its frames join the gallery', afterFrames === afterVariations + 3, afterFrames);
      report.fromGallery = { variations: variations.text, interpolation: interpolation.text,
        headings: (await cards(page)).slice(0, 4).map(c => c.heading) };
      report.gallery.screenshot = await shot(page, 'gallery', true);
    }

    // a long job, cancelled while its decoder runs
    const last = await jobState(page);
    await fill(page, '#numImages', '1');
    await fill(page, '#steps', opt['cancel-steps']);
    await fill(page, '#previewInterval', '5');
    await page.click('#generate');
    await page.waitForFunction(previous => {
      const id = document.getElementById('job').dataset.jobId ?? '';
      const text = document.querySelector('#stages li[data-stage="DECODER/0"] .stage-text');
      return id !== previous && text && /\d+\/\d+/.test(text.textContent);
    }, { timeout: TIMEOUT, polling: 50 }, last.jobId);
    const cancelClicked = await page.evaluate(() => performance.now());
    await page.click('#cancel');
    const cancelled = await waitForJob(page, last.jobId);
    const cancelledAfterMs = Math.round(await page.evaluate(() => performance.now()) - cancelClicked);
    const stages = await page.$$eval('#stages li', lis => lis.map(li => ({ stage: li.dataset.stage,
      className: li.className, value: li.querySelector('progress').value, max: li.querySelector('progress').max })));
    const decoder = stages.find(s => s.stage === 'DECODER/0');
    const status = await getJob(cancelled.jobId);
    report.cancel = { jobId: cancelled.jobId, state: cancelled.text, cancelledAfterMs, decoder, stages, getJob: status,
      screenshot: await shot(page, 'cancelled') };
    check('the cancelled job says so', cancelled.state === 'cancelled', cancelled);
    // (the tiny bundle's decoder may still finish its 1000 steps on a fast machine; the last stage cannot)
    check('the job stopped before its last stage finished', stages.at(-1).className !== 'finished', stages);
    check('GET of the job says CANCELLED', status.status === 200 && status.body.state === 'CANCELLED', status);

    // narrow screens: one column, nothing wider than the window
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    report.narrow = { overflowPx: overflow, screenshot: await shot(page, 'narrow') };
    check('nothing overflows a 390 px window', overflow <= 0, overflow);
    check('no script error on the page', report.pageErrors.length === 0, report.pageErrors);
    report.ok = true;
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (error) {
  report.error = String(error?.stack ?? error);
}
writeFileSync(opt.report, JSON.stringify(report, null, 2));
console.log(JSON.stringify({ ok: report.ok, error: report.error, checks: report.checks.length }));
process.exit(report.ok ? 0 : 1);
