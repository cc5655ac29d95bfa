package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** unclip stack / stream without a running stack: usage errors, empty state, unreachable gateway. */
class DistributedCommandsTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }

    private Result run(String... args) {
        Environment env = new Environment(Map.of(), tmp, Optional.empty(), false);
        CommandLine cl = UnclipCommand.commandLine(new UnclipCommand(env));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private void oneLineError(Result r, int code, String contains) {
        assertEquals(code, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: "), r.err());
        assertTrue(r.err().contains(contains), r.err());
    }

    @Test
    void statusWithAnEmptyStateDirSaysNothingIsRunning() {
        Result r = run("stack", "status", "--state-dir", tmp.resolve("state").toString());
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        assertTrue(r.out().contains("no stack running"), r.out());
        assertEquals("", r.err());

        Result d = run("stack", "status");
        assertEquals(ExitCodes.OK, d.code(), d.toString());
        assertTrue(d.out().contains("no stack running") && d.out().contains(".unclip"), d.out());

        Result j = run("stack", "status", "--json");
        assertTrue(j.out().contains("\"event\":\"stack_status\"") && j.out().contains("\"running\":false"), j.out());
    }

    @Test
    void downWithNothingRunningIsFine() {
        Result r = run("stack", "down", "--state-dir", tmp.resolve("state").toString());
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        assertTrue(r.out().contains("no stack running"), r.out());
    }

    @Test
    void stackUsageErrorsAreOneLine() {
        oneLineError(run("stack"), ExitCodes.BAD_INPUT, "Missing required subcommand");
        oneLineError(run("stack", "sideways"), ExitCodes.BAD_INPUT, "sideways");
        oneLineError(run("stack", "up", "--replicas", "decoder"), ExitCodes.BAD_INPUT, "SERVICE=N");
        oneLineError(run("stack", "up", "--replicas", "painter=2"), ExitCodes.BAD_INPUT, "unknown service 'painter'");
        oneLineError(run("stack", "up", "--replicas", "decoder=x"), ExitCodes.BAD_INPUT, "not a number");
        oneLineError(run("stack", "up", "--replicas", "decoder=0"), ExitCodes.BAD_INPUT, "between 1 and 64");
        oneLineError(run("stack", "up", "--gateway-port", "70000"), ExitCodes.BAD_INPUT, "--gateway-port");
        oneLineError(run("stack", "up", "--partitions", "0"), ExitCodes.BAD_INPUT, "--partitions");
    }

    @Test
    void restartWithoutAStackIsOneLine() {
        oneLineError(run("stack", "restart"), ExitCodes.BAD_INPUT, "NAME");
        oneLineError(run("stack", "restart", "decoder-1", "--state-dir", tmp.resolve("state").toString()),
                ExitCodes.BAD_INPUT, "no stack at");
        oneLineError(run("stack", "restart", "decoder-1", "--timeout", "0"), ExitCodes.BAD_INPUT, "--timeout");
    }

    @Test
    void scaleWithoutAStackIsOneLine() {
        oneLineError(run("stack", "scale"), ExitCodes.BAD_INPUT, "SERVICE=N");
        oneLineError(run("stack", "scale", "decoder"), ExitCodes.BAD_INPUT, "SERVICE=N");
        oneLineError(run("stack", "scale", "painter=2"), ExitCodes.BAD_INPUT, "unknown service 'painter'");
        oneLineError(run("stack", "scale", "decoder=3", "--state-dir", tmp.resolve("state").toString()),
                ExitCodes.BAD_INPUT, "no stack at");
    }

    @Test
    void upWithoutABuiltRepositoryFailsInOneLine() {
        // tmp is no repository: nothing is built, so LocalStack refuses before starting anything
        Result r = run("stack", "up", "--state-dir", tmp.resolve("state").toString());
        assertEquals(ExitCodes.FAILED, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: not built: "), r.err());
    }

    @Test
    void streamBadOptionsAreOneLine() {
        oneLineError(run("stream"), ExitCodes.BAD_INPUT, "PROMPT");
        oneLineError(run("stream", "x", "--gateway", "localhost"), ExitCodes.BAD_INPUT, "HOST:PORT");
        oneLineError(run("stream", "x", "--gateway", "localhost:http"), ExitCodes.BAD_INPUT, "not a port");
        oneLineError(run("stream", "x", "--gateway", "localhost:0"), ExitCodes.BAD_INPUT, "between 1 and 65535");
        oneLineError(run("stream", "x", "--gateway", ":8080"), ExitCodes.BAD_INPUT, "HOST:PORT");
        oneLineError(run("stream", "x", "-n", "0"), ExitCodes.BAD_INPUT, "-n");
        oneLineError(run("stream", "x", "--size", "-3"), ExitCodes.BAD_INPUT, "--size");
        oneLineError(run("stream", "  "), ExitCodes.BAD_INPUT, "PROMPT");
        oneLineError(run("stream", "x", "--seed", "abc"), ExitCodes.BAD_INPUT, "--seed");
        String none = tmp.resolve("none.png").toString();
        oneLineError(run("stream", "--variations", none, "--interpolate", none, none), ExitCodes.BAD_INPUT,
                "choose one");
        oneLineError(run("stream", "x", "--interpolate", none, none), ExitCodes.BAD_INPUT, "takes no PROMPT");
        oneLineError(run("stream", "--interpolate", none, none, "--frames", "1"), ExitCodes.BAD_INPUT, "--frames");
        oneLineError(run("stream", "--variations", none, "--gateway", "localhost:1"), ExitCodes.BAD_INPUT,
                "none.png: no such file");
    }

    @Test
    void streamAgainstAnUnreachableGatewayFailsCleanlyAndQuickly() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        Path out = tmp.resolve("s.png");
        long t0 = System.nanoTime();
        Result r = run("stream", "a small red circle", "--gateway", "127.0.0.1:" + port, "--connect-timeout", "2",
                "--timeout", "10", "-o", out.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 15, "took " + seconds + " s");
        assertEquals(ExitCodes.FAILED, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: gateway 127.0.0.1:" + port + ": UNAVAILABLE"), r.err());
        assertFalse(Files.exists(out));
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void submitBadInputIsOneLine() throws Exception {
        oneLineError(run("submit", tmp.resolve("none.jsonl").toString()), ExitCodes.BAD_INPUT, "no such file");
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"job_id\": \"a\", \"prompt\": \"x\"}\n{not json\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "bad.jsonl:2: not JSON");
        Files.writeString(bad, "[1, 2]\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "bad.jsonl:1: not a JSON object");
        Files.writeString(bad, "{\"job_id\": 7}\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "job_id must be a non-empty string");
        Files.writeString(bad, "\n\n");
        oneLineError(run("submit", bad.toString()), ExitCodes.BAD_INPUT, "no jobs");
        Files.writeString(bad, "{\"prompt\": \"x\"}\n");
        oneLineError(run("submit", bad.toString(), "--bootstrap", "localhost"), ExitCodes.BAD_INPUT, "HOST:PORT");
        Path png = tmp.resolve("a.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        oneLineError(run("submit", bad.toString(), "--caption", png.toString()), ExitCodes.BAD_INPUT, "not both");
        oneLineError(run("submit"), ExitCodes.BAD_INPUT, "not neither");
        oneLineError(run("submit", "--caption", tmp.resolve("none.png").toString()), ExitCodes.BAD_INPUT,
                "none.png: no such file");
        oneLineError(run("submit", "--caption", png.toString(), "--style", "poetic"), ExitCodes.BAD_INPUT,
                "--style: must be short or descriptive");
        oneLineError(run("results", "--bootstrap", "localhost:x"), ExitCodes.BAD_INPUT, "not a port");
        oneLineError(run("results", "--timeout", "0"), ExitCodes.BAD_INPUT, "--timeout");
    }

    @Test
    void submitAndResultsAgainstAnUnreachableBrokerFailCleanly() throws Exception {
        Path jobs = tmp.resolve("jobs.jsonl");
        Files.writeString(jobs, "{\"prompt\": \"a small red circle\"}\n");
        String broker = "127.0.0.1:" + closedPort();
        long t0 = System.nanoTime();
        Result s = run("submit", jobs.toString(), "--bootstrap", broker, "--connect-timeout", "2");
        oneLineError(s, ExitCodes.FAILED, "kafka " + broker + ": ");
        Result r = run("results", "--bootstrap", broker, "--connect-timeout", "2", "--timeout", "3");
        oneLineError(r, ExitCodes.FAILED, "kafka " + broker + ": ");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 30, "took " + seconds + " s");
    }
}
