package io.unclip.cli.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code models/training/torch_reference.py} prints on stdout: one JSON object with per-stage
 * mean times of the PyTorch eager cascade and the result of its self-check against each stage's
 * {@code reference.json}.
 *
 * @param torchVersion torch.__version__
 * @param threads      torch intra-op threads it ran with
 * @param runs         measured runs
 * @param stages       per stage, in cascade order
 * @param checks       per stage, the self-check
 */
public record TorchReport(String torchVersion, int threads, int runs, List<Stage> stages, List<Check> checks) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One stage's mean over the measured runs. */
    public record Stage(String stage, int steps, int modelCalls, int modelBatch, double wallMs, double modelMs) {
    }

    /** One stage's forward pass on its reference.json input against the exported output. */
    public record Check(String stage, Double maxAbsError, Double tolerance, Boolean ok) {
    }

    public TorchReport {
        stages = List.copyOf(stages);
        checks = List.copyOf(checks);
    }

    /** Whether every stage that has a reference reproduced it. */
    public boolean selfCheckPassed() {
        return checks.stream().noneMatch(c -> Boolean.FALSE.equals(c.ok()));
    }

    /** The stage named {@code name}, or null. */
    public Stage stage(String name) {
        return stages.stream().filter(s -> s.stage().equals(name)).findFirst().orElse(null);
    }

    /**
     * Parses the reference's stdout: the last non-blank line must be its JSON object.
     *
     * @throws IllegalArgumentException saying what is wrong (not JSON, a missing field, or the
     *                                  reference's own "error")
     */
    public static TorchReport parse(String stdout) {
        String line = lastLine(stdout);
        JsonNode root;
        try {
            root = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + abbreviate(line));
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not a JSON object: " + abbreviate(line));
        }
        if (!"pytorch-eager".equals(root.path("reference").asText())) {
            throw new IllegalArgumentException("field 'reference' is '" + root.path("reference").asText()
                    + "', expected 'pytorch-eager'");
        }
        List<Check> checks = new ArrayList<>();
        for (JsonNode c : array(root, "self_check")) {
            checks.add(new Check(text(c, "stage"), optionalNumber(c, "max_abs_error"),
                    optionalNumber(c, "tolerance"), c.path("ok").isBoolean() ? c.get("ok").asBoolean() : null));
        }
        if (root.hasNonNull("error")) {
            throw new IllegalArgumentException(root.get("error").asText());
        }
        List<Stage> stages = new ArrayList<>();
        for (JsonNode s : array(root, "stages")) {
            stages.add(new Stage(text(s, "stage"), integer(s, "steps"), integer(s, "model_calls"),
                    integer(s, "model_batch"), number(s, "wall_ms"), number(s, "model_ms")));
        }
        return new TorchReport(root.path("torch_version").asText("?"), root.path("threads").asInt(0),
                integer(root, "runs"), stages, checks);
    }

    private static String lastLine(String stdout) {
        String[] lines = stdout == null ? new String[0] : stdout.strip().split("\n");
        String last = lines.length == 0 ? "" : lines[lines.length - 1].strip();
        if (last.isEmpty()) {
            throw new IllegalArgumentException("no output");
        }
        return last;
    }

    private static Iterable<JsonNode> array(JsonNode n, String field) {
        JsonNode a = n.get(field);
        if (a == null || !a.isArray()) {
            throw new IllegalArgumentException("field '" + field + "' missing or not an array");
        }
        return a;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' missing or not a string in " + n);
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("field '" + field + "' missing or not an integer in "
                    + abbreviate(n.toString()));
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < 0) {
            throw new IllegalArgumentException("field '" + field + "' missing or not a non-negative number in " + n);
        }
        return v.asDouble();
    }

    private static Double optionalNumber(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v != null && v.isNumber() ? v.asDouble() : null;
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}
