// The results gallery: one card per finished image, with the parameters it was made with and the
// jobs that start from it (variations, interpolation).

/** Base64 of a Blob's bytes (what the JSON door takes for bytes fields). */
async function base64Of(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export class Gallery {
  constructor(list, emptyNote, api, actions) {
    this.list = list;
    this.emptyNote = emptyNote;
    this.api = api;
    this.actions = actions;
    this.cards = []; // newest first
    this.count = 0;
    this.busy = false;
  }

  /** Adds the images of a finished job (a GenerateResult), first image first, above older ones. */
  add(jobId, kind, result) {
    const params = result.params ?? {};
    const made = (result.images ?? []).map(image => this.card(jobId, kind, params, image, result.images.length));
    for (const card of made.reverse()) {
      this.list.prepend(card.element);
      this.cards.unshift(card);
    }
    this.emptyNote.hidden = this.cards.length > 0;
  }

  card(jobId, kind, params, image, total) {
    const number = ++this.count;
    const element = document.getElementById('card-template').content.firstElementChild.cloneNode(true);
    const index = image.index ?? 0;
    const decoder = params.decoder ?? {};
    const fields = {
      prompt: params.prompt || '(none)',
      seed: image.seed ?? '0',
      size: `${image.width}×${image.height}`,
      steps: decoder.steps ?? decoder.respacing ?? 'bundle default',
      guidance: decoder.guidanceScale ?? 'bundle default',
      candidates: decoder.candidates ?? 'bundle default',
      bundle: params.modelBundle || 'unknown',
    };
    for (const [name, value] of Object.entries(fields)) {
      element.querySelector(`[data-field="${name}"]`).textContent = String(value);
    }
    element.dataset.number = String(number);
    element.dataset.jobId = jobId;
    const heading = document.createElement('h3');
    heading.textContent = `#${number}: ${kind}, image ${index + 1} of ${total}`;
    element.prepend(heading);

    const img = element.querySelector('img');
    img.classList.toggle('small', image.width < 200);
    img.alt = `#${number}: ${fields.prompt}, seed ${fields.seed}, image ${index + 1}`;
    const card = { number, jobId, index, element, url: '' };
    let png; // Promise of the PNG's base64, made once
    if (image.image?.png) {
      png = Promise.resolve(image.image.png);
      card.url = `data:image/png;base64,${image.image.png}`;
      img.src = card.url;
    } else {
      // a blob-store reference: the gateway serves the file (with the key, so fetch it, not <img src>)
      const blob = this.api.png(jobId, index);
      png = blob.then(base64Of);
      blob.then(b => {
        card.url = URL.createObjectURL(b);
        img.src = card.url;
      }, error => {
        img.alt = `image unavailable: ${error.message}`;
      });
    }
    png.catch(() => {}); // shown on the card; a job that needs it reports it again
    card.png = () => png;

    for (const button of element.querySelectorAll('[data-action]')) {
      button.disabled = this.busy;
      button.addEventListener('click', () => this.actions[button.dataset.action](card));
    }
    return card;
  }

  /** Starting jobs from cards waits while a job runs (one job at a time). */
  setBusy(busy) {
    this.busy = busy;
    for (const button of this.list.querySelectorAll('[data-action]')) button.disabled = busy;
  }
}
