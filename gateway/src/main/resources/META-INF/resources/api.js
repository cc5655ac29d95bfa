// The gateway's JSON door: plain requests, and the event streams of POSTed jobs (EventSource
// cannot POST, so the stream is read from fetch() and parsed here).

/** An HTTP error from the gateway: {"error": {"message", "type", "param", "code"}}. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.param = error.param || '';
    this.code = error.code || '';
  }
}

export class Api {
  /** key: a function giving the API key to send, or '' for none. */
  constructor(key) {
    this.key = key;
  }

  headers(extra = {}) {
    const key = this.key();
    return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers(body ? { 'Content-Type': 'application/json' } : {}) };
    if (body) init.body = JSON.stringify(body);
    const response = await fetch(path, init);
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async json(method, path, body) {
    return (await this.request(method, path, body)).json();
  }

  /** A finished job's image as a Blob (for an image the result names by URI). */
  async png(jobId, index) {
    const path = `/v1/images/files/${encodeURIComponent(jobId)}/${index}.png`;
    return (await this.request('GET', path)).blob();
  }

  /** POSTs body to path and calls onEvent with each event of the job's stream, in order. */
  async stream(path, body, onEvent, signal) {
    const response = await fetch(path, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorOf(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new EventStreamParser(data => onEvent(JSON.parse(data)));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
    parser.end();
  }
}

async function errorOf(response) {
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  if (!error.message) error.message = `${response.status} ${response.statusText}`;
  return new ApiError(response.status, error);
}

/**
 * text/event-stream framing (WHATWG HTML "server-sent events"): lines end with CRLF, LF or CR; a
 * blank line ends an event; its data is its "data:" lines joined by LF. Other fields and comments
 * are ignored: the gateway sends data only.
 */
export class EventStreamParser {
  constructor(onData) {
    this.onData = onData;
    this.buffer = '';
    this.data = [];
    this.afterCr = false;
  }

  push(text) {
    // a CRLF split between two chunks: its LF ends no second line
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = text.endsWith('\r');
    const lines = (this.buffer + text).split(/\r\n|\r|\n/);
    this.buffer = lines.pop(); // a partial line, or '' after a line end
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === '') {
      if (this.data.length) this.onData(this.data.join('\n'));
      this.data = [];
    } else if (line.startsWith('data:')) {
      this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  }

  /** The stream ended: an event without its blank line is incomplete and dropped, as the standard says. */
  end() {
    this.buffer = '';
    this.data = [];
  }
}
