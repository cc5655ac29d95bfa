// The official OpenAI Node SDK against the gateway (run by OpenAiSdkTest, or by hand):
//   UNCLIP_BASE_URL=http://localhost:8080/v1 UNCLIP_API_KEY=uk_... UNCLIP_IMAGE=some.png node sdk-check.mjs
// Prints one JSON report of what the SDK got; exits 1 when a call did not go as the Images API says.
import fs from 'node:fs';
import OpenAI, { toFile } from 'openai';

const baseURL = process.env.UNCLIP_BASE_URL;
const apiKey = process.env.UNCLIP_API_KEY;
const image = process.env.UNCLIP_IMAGE;
if (!baseURL || !apiKey || !image) {
  console.error('set UNCLIP_BASE_URL, UNCLIP_API_KEY and UNCLIP_IMAGE');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

/** Width and height from a PNG's IHDR; throws when the bytes are not a PNG. */
function png(bytes) {
  const b = Buffer.from(bytes);
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error(`not a PNG (${b.length} bytes)`);
  }
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

const report = {};

const b64 = await client.images.generate({ prompt: 'a red circle', size: '8x8', response_format: 'b64_json', n: 1 });
report.b64 = { created: b64.created, count: b64.data.length, ...png(Buffer.from(b64.data[0].b64_json, 'base64')) };

const url = await client.images.generate({ prompt: 'a blue square', size: '8x8', response_format: 'url' });
const file = await fetch(url.data[0].url);
report.url = { status: file.status, type: file.headers.get('content-type'),
  ...png(new Uint8Array(await file.arrayBuffer())) };

const stream = await client.images.generate({ prompt: 'a green circle', size: '8x8', stream: true, partial_images: 2 });
const events = [];
for await (const event of stream) {
  const e = { type: event.type, ...png(Buffer.from(event.b64_json, 'base64')) };
  if (event.type === 'image_generation.partial_image') {
    e.partial_image_index = event.partial_image_index;
  }
  events.push(e);
}
report.stream = events;

try {
  await client.images.generate({ prompt: 'a red circle', size: '1024x1024' });
  report.badSize = { thrown: false };
} catch (e) {
  report.badSize = { thrown: true, badRequest: e instanceof OpenAI.BadRequestError, status: e.status,
    param: e.param, type: e.type, message: e.message };
}

const variation = await client.images.createVariation({
  image: await toFile(fs.readFileSync(image), 'source.png', { type: 'image/png' }), size: '8x8',
  response_format: 'b64_json', n: 1,
});
report.variation = { count: variation.data.length, ...png(Buffer.from(variation.data[0].b64_json, 'base64')) };

try {
  await new OpenAI({ baseURL, apiKey: 'uk_not-a-key', maxRetries: 0 }).images.generate({ prompt: 'a red circle' });
  report.wrongKey = { thrown: false };
} catch (e) {
  report.wrongKey = { thrown: true, authentication: e instanceof OpenAI.AuthenticationError, status: e.status };
}

console.log(JSON.stringify(report));
