package io.unclip.gateway;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** java.net.http calls of the HTTP door tests, and a reader of server-sent events. */
final class HttpClients {
    /** One server-sent event: its name (null = "message") and data. */
    record Sse(String event, String data) {
    }

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private HttpClients() {
    }

    static HttpRequest.Builder post(String url, String key, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        return key == null ? b : b.header("Authorization", "Bearer " + key);
    }

    static HttpResponse<String> send(HttpRequest.Builder r) throws IOException, InterruptedException {
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A multipart/form-data body: text fields, and one file field of PNG bytes (name "image"). */
    static HttpRequest.Builder multipart(String url, String key, java.util.Map<String, String> fields, byte[] png) {
        String boundary = "unclip-" + System.nanoTime();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (var f : fields.entrySet()) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey()
                    + "\"\r\n\r\n" + f.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        if (png != null) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\""
                    + "\r\nContent-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.writeBytes(png);
            out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(out.toByteArray()));
        return key == null ? b : b.header("Authorization", "Bearer " + key);
    }

    /** All events of a stream, read to its end. */
    static List<Sse> events(InputStream body) throws IOException {
        List<Sse> out = new ArrayList<>();
        try (SseReader r = new SseReader(body)) {
            Sse e;
            while ((e = r.next()) != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** Reads events one at a time (the text/event-stream grammar: "event:" and "data:" lines, a blank line ends one). */
    static final class SseReader implements AutoCloseable {
        private final BufferedReader in;

        SseReader(InputStream body) {
            in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        }

        /** The next event, or null at the end of the stream. */
        Sse next() throws IOException {
            String event = null;
            StringBuilder data = null;
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) {
                        return new Sse(event, data.toString());
                    }
                    continue;
                }
                if (line.startsWith(":")) {
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                switch (field) {
                    case "event" -> event = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> {
                    }
                }
            }
            return data == null ? null : new Sse(event, data.toString());
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
