package io.unclip.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.unclip.deploy.LocalStack;
import io.unclip.deploy.StackOptions;
import io.unclip.deploy.StackStatus;

/**
 * The gateway's web page in a real browser: headless Chromium (driven by it/src/test/node/web-page-test.mjs through
 * puppeteer-core) against the local stack on the tiny bundle. The script refuses a bad field, generates with live
 * previews, makes variations and an interpolation from the gallery, cancels a long job and checks a narrow window;
 * this test checks its report and asks the gateway itself about the jobs the page ran. Each test is skipped, saying
 * why, when Chromium or Node.js is missing (.ci/run installs both); then no stack is started.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebPageTest {
    static final Duration WAIT = Duration.ofMinutes(5);
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PROMPT = "a red circle at the top left";

    Path root = Path.of(System.getProperty("unclip.root", "..")).toAbsolutePath().normalize();
    Path bundle = Path.of(System.getProperty("unclip.test.bundle")).toAbsolutePath().normalize();
    Path state = root.resolve("it/target/web-stack");
    Path scripts = root.resolve("it/src/test/node");
    Path out = root.resolve("it/target/web-page");
    Path chromium = Path.of(System.getProperty("unclip.chromium", "/usr/bin/chromium"));
    HttpClient http = HttpClient.newHttpClient();
    String node;
    StackStatus stack;
    String base;

    /** Why the browser tests cannot run here (each is reported skipped with it), or null. */
    String missing;

    @BeforeAll
    void up() throws Exception {
        node = onPath("node").orElse(null);
        Optional<String> npm = onPath("npm");
        boolean installed = Files.isDirectory(scripts.resolve("node_modules/puppeteer-core"));
        if (!Files.isExecutable(chromium)) {
            missing = "no Chromium at " + chromium + ": the web page test needs it (apt-get install chromium, or"
                    + " -Dunclip.chromium=PATH); .ci/run installs it";
        } else if (node == null) {
            missing = "no node on PATH: the web page test needs Node.js 18+ (apt-get install nodejs npm)";
        } else if (!installed && npm.isEmpty()) {
            missing = "no npm on PATH to install " + scripts + "'s modules (apt-get install npm)";
        }
        if (missing != null) {
            System.out.println("WebPageTest skipped: " + missing);
            return;
        }
        if (!installed) {
            Run ci = run(scripts, List.of(npm.get(), "ci", "--no-audit", "--no-fund"), Duration.ofMinutes(5));
            assertEquals(0, ci.code(), "npm ci in " + scripts + ":\n" + ci.output());
        }
        LocalStack.down(state);
        stack = LocalStack.up(StackOptions.defaults(root).withStateDir(state).withModels(bundle).withPorts(0, 0)
                .withPartitions(2).withJvmOptions(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")));
        base = "http://" + stack.gatewayAddress() + "/";
    }

    @AfterAll
    void down() throws Exception {
        if (stack != null) {
            LocalStack.down(state);
        }
    }

    static Optional<String> onPath(String command) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(dir -> Path.of(dir, command)).filter(Files::isExecutable).map(Path::toString).findFirst();
    }

    record Run(int code, String output) {
    }

    static Run run(Path dir, List<String> command, Duration limit) throws Exception {
        Path log = Files.createTempFile("web-page-test", ".log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(limit.toSeconds(), TimeUnit.SECONDS);
        if (!ended) {
            p.descendants().forEach(ProcessHandle::destroyForcibly); // the browser too
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log);
        Files.delete(log);
        return ended ? new Run(p.exitValue(), output) : new Run(-1, "timed out after " + limit + ":\n" + output);
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base).resolve(path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theGatewayServesThePageAndItsScripts() throws Exception {
        assumeTrue(missing == null, missing);
        HttpResponse<String> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"), page.headers().toString());
        assertTrue(page.body().contains("<script type=\"module\" src=\"app.js\">"), page.body());
        for (String file : List.of("app.js", "api.js", "gallery.js")) {
            HttpResponse<String> js = get("/" + file);
            assertEquals(200, js.statusCode(), file);
            assertTrue(js.headers().firstValue("content-type").orElse("").contains("javascript"), file + " "
                    + js.headers()); // a module script with another type is refused by the browser
        }
    }

    @Test
    void thePagesEventStreamParserHandlesEveryFraming() throws Exception {
        assumeTrue(node != null, "no node on PATH: the parser test needs Node.js 18+ (apt-get install nodejs)");
        Run tests = run(scripts, List.of(node, "--test", "event-stream-parser.test.mjs"), Duration.ofMinutes(1));
        assertEquals(0, tests.code(), tests.output());
        assertTrue(tests.output().contains("# fail 0") && !tests.output().contains("# pass 0"), tests.output());
    }

    @Test
    void aUserWatchesAGenerationInChromiumAndCancelsALongOne() throws Exception {
        assumeTrue(missing == null, missing);
        Path report = out.resolve("report.json");
        Files.createDirectories(out);
        Files.deleteIfExists(report);
        List<String> command = new ArrayList<>(List.of(node, "web-page-test.mjs", "--url", base,
                "--report", report.toString(), "--shots", out.resolve("shots").toString(), "--browser", chromium.toString(),
                "--prompt", PROMPT, "--size", "128", "--images", "2", "--seed", "7", "--steps", "20", "--guidance", "3",
                "--candidates", "2", "--preview-interval", "2", "--cancel-steps", "1000"));
        long t0 = System.nanoTime();
        Run script = run(scripts, command, WAIT);
        System.out.printf("web-page-test.mjs: %.1f s%n%s", (System.nanoTime() - t0) / 1e9, script.output());
        assertTrue(Files.exists(report), "no report:\n" + script.output());
        JsonNode r = JSON.readTree(report.toFile());
        assertEquals(0, script.code(), "the script failed: " + r.path("error").asText() + "\n" + script.output());
        assertTrue(r.path("ok").asBoolean(), r.toPrettyString());

        JsonNode generation = r.path("generation");
        System.out.printf("in Chromium (%s): first preview %d ms after the click, %d preview frames, result at %d ms;"
                        + " cancel took effect %d ms after the click%n", r.path("browser").asText(),
                generation.path("firstPreviewMs").asLong(), generation.path("previewFrames").asInt(),
                generation.path("resultMs").asLong(), r.path("cancel").path("cancelledAfterMs").asLong());
        assertTrue(generation.path("previewsWhileRunning").asInt() >= 1, generation.toPrettyString());
        assertTrue(r.path("refusedField").path("message").asText().contains("steps"), r.path("refusedField").toString());
        JsonNode cards = generation.path("cards");
        assertEquals(2, cards.size(), cards.toPrettyString());
        for (JsonNode card : cards) {
            JsonNode f = card.path("fields");
            assertEquals(PROMPT, f.path("prompt").asText());
            assertEquals("7", f.path("seed").asText());
            assertEquals("128×128", f.path("size").asText());
            assertEquals("20", f.path("steps").asText());
            assertEquals("3", f.path("guidance").asText());
            assertEquals("2", f.path("candidates").asText(), "best of 2, as the result reports");
            assertTrue(f.path("bundle").asText().startsWith("tiny"), f.toString());
            assertEquals(128, card.path("naturalWidth").asInt());
        }

        // the gateway agrees with what the page showed
        JsonNode done = JSON.readTree(get("/v1/unclip/jobs/" + generation.path("jobId").asText()).body());
        assertEquals("SUCCEEDED", done.path("state").asText(), done.toString());
        assertEquals(2, done.path("result").path("images").size());
        assertEquals(2, generation.path("request").path("decoder").path("candidates").asInt(),
                generation.path("request").toString());
        assertEquals(2, done.path("result").path("params").path("decoder").path("candidates").asInt(),
                done.path("result").path("params").toString());
        JsonNode cancel = r.path("cancel");
        assertTrue(cancel.path("state").asText().startsWith("Cancelled"), cancel.toString());
        HttpResponse<String> cancelled = get("/v1/unclip/jobs/" + cancel.path("jobId").asText());
        assertEquals(200, cancelled.statusCode(), cancelled.body());
        assertEquals("CANCELLED", JSON.readTree(cancelled.body()).path("state").asText(), cancelled.body());
        JsonNode stages = cancel.path("stages");
        assertTrue(stages.size() >= 3 && !stages.get(stages.size() - 1).path("className").asText().equals("finished"),
                stages.toString());
        System.out.printf("cancelled with the decoder at step %d/%d%n", cancel.path("decoder").path("value").asInt(),
                cancel.path("decoder").path("max").asInt());
        assertTrue(r.path("pageErrors").isEmpty(), r.path("pageErrors").toString());
        for (String shot : List.of("generating", "gallery", "cancelled", "narrow")) {
            assertTrue(Files.size(out.resolve("shots").resolve(shot + ".png")) > 0, shot);
        }
    }
}
