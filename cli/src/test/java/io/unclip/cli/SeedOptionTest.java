package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.image.PngCodec;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeds are unsigned 64-bit everywhere: --seed of every command and the "seed" of prompts files. */
class SeedOptionTest {
    private static final String BUNDLE = System.getProperty("unclip.tiny.bundle",
            "../engine/src/test/resources/bundles/tiny");
    private static final String MAX = "18446744073709551615";
    private static final String PROMPT = "a small red circle at the top left";

    @TempDir
    Path tmp;

    private UnclipCommandTest.Result run(String... args) {
        return UnclipCommandTest.runIn(tmp, args);
    }

    private static String closedGateway() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    private static void badSeed(UnclipCommandTest.Result r, String seed) {
        assertEquals(ExitCodes.BAD_INPUT, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("unclip: ") && r.err().contains("--seed")
                && r.err().contains("'" + seed + "' is not a seed (an integer from 0 to " + MAX + ")"), r.err());
    }

    @Test
    void signedSeedsAreRefusedByEveryCommand() throws IOException {
        String png = tmp.resolve("a.png").toString();
        String gateway = closedGateway();
        for (String seed : List.of("-1", "+5", "18446744073709551616", "x1")) {
            badSeed(run("generate", PROMPT, "--models", BUNDLE, "--seed", seed), seed);
            badSeed(run("variations", png, "--models", BUNDLE, "--seed", seed), seed);
            badSeed(run("interpolate", png, png, "--models", BUNDLE, "--seed", seed), seed);
            badSeed(run("inpaint", png, PROMPT, "--mask", png, "--models", BUNDLE, "--seed", seed), seed);
            badSeed(run("bench", PROMPT, "--models", BUNDLE, "--seed", seed), seed);
            badSeed(run("eval", "--models", BUNDLE, "--seed", seed), seed);
            badSeed(run("stream", PROMPT, "--gateway", gateway, "--seed", seed), seed);
        }
    }

    @Test
    void theLargestSeedIsAccepted() throws IOException {
        Path out = tmp.resolve("max.png");
        UnclipCommandTest.Result g = run("generate", PROMPT, "--models", BUNDLE, "--prior-steps", "2",
                "--decoder-steps", "2", "--sr-steps", "2", "--threads", "1", "--size", "8", "--seed", MAX,
                "-o", out.toString());
        assertEquals(ExitCodes.OK, g.code(), g.toString());
        assertEquals(MAX, PngCodec.withDefaultLimits().read(out).text().get("seed"));

        // past the option parsing: the (absent) gateway is what fails
        String gateway = closedGateway();
        UnclipCommandTest.Result s = run("stream", PROMPT, "--gateway", gateway, "--connect-timeout", "2",
                "--seed", MAX);
        assertEquals(ExitCodes.FAILED, s.code(), s.toString());
        assertTrue(s.err().startsWith("unclip: gateway " + gateway + ": UNAVAILABLE"), s.err());
    }

    @Test
    void promptsFileSeedsFollowTheSameRule() throws IOException {
        Path prompts = tmp.resolve("p.jsonl");
        Files.writeString(prompts, String.join("\n",
                "{\"id\": \"big\", \"prompt\": \"a red circle\", \"seed\": " + MAX + "}",
                "{\"id\": \"text\", \"prompt\": \"a red circle\", \"seed\": \"" + MAX + "\"}",
                "{\"id\": \"plus\", \"prompt\": \"a red circle\", \"seed\": \"+5\"}",
                "{\"id\": \"minus\", \"prompt\": \"a red circle\", \"seed\": \"-1\"}",
                "{\"id\": \"spaced\", \"prompt\": \"a red circle\", \"seed\": \" 5\"}") + "\n");
        Path dir = tmp.resolve("batch");
        UnclipCommandTest.Result r = run("generate", "--prompts", prompts.toString(), "--out-dir", dir.toString(),
                "--models", BUNDLE, "--prior-steps", "2", "--decoder-steps", "2", "--threads", "1", "--size", "8");
        assertEquals(ExitCodes.FAILED, r.code(), r.toString());
        assertEquals(MAX, PngCodec.withDefaultLimits().read(dir.resolve("big.png")).text().get("seed"));
        assertEquals(MAX, PngCodec.withDefaultLimits().read(dir.resolve("text.png")).text().get("seed"));
        assertEquals(List.of(
                "unclip: line 3: \"seed\": '+5' is not a seed (an integer from 0 to " + MAX + ")",
                "unclip: line 4: \"seed\": '-1' is not a seed (an integer from 0 to " + MAX + ")",
                "unclip: line 5: \"seed\": ' 5' is not a seed (an integer from 0 to " + MAX + ")"), r.errLines());

        // unclip eval's prompts files too
        Path eval = tmp.resolve("e.jsonl");
        Files.writeString(eval, "{\"prompt\": \"a red circle\", \"seed\": \"+5\"}\n");
        UnclipCommandTest.Result e = run("eval", "--prompts", eval.toString(), "--models", BUNDLE, "--out-dir",
                tmp.resolve("e").toString());
        assertEquals(ExitCodes.BAD_INPUT, e.code(), e.toString());
        assertTrue(e.err().contains("line 1: \"seed\": '+5' is not a seed (an integer from 0 to " + MAX + ")"),
                e.err());
    }
}
