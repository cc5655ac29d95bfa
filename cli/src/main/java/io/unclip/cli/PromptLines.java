package io.unclip.cli;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.unclip.service.validate.Checks;

/**
 * A prompts file of {@code generate --prompts} and {@code load --prompts}: one JSON object a line
 * with {@code "prompt"}, optionally {@code "id"} (names the output file) and {@code "seed"}.
 */
final class PromptLines {
    /** One line, parsed. */
    record Line(int number, String id, String prompt, Long seed) {
    }

    private final ObjectMapper json = new ObjectMapper();
    private final Set<String> ids = new HashSet<>();

    /** The file's lines (blank ones included, so that numbers are the file's). */
    static List<String> read(Path file, Path shown) throws IOException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw CliException.badInput("cannot read prompts file " + shown + ": no such file");
        } catch (MalformedInputException e) {
            throw CliException.badInput("prompts file " + shown + " is not UTF-8 text");
        }
    }

    /**
     * Parses line {@code number}; ids must be unique within the file.
     *
     * @throws CliException (bad input) saying what is wrong with the line
     */
    Line parse(int number, String text) {
        JsonNode node;
        try {
            node = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw CliException.badInput("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw CliException.badInput("expected a JSON object with \"id\" and \"prompt\"");
        }
        JsonNode p = node.get("prompt");
        if (p == null || !p.isTextual()) {
            throw CliException.badInput("\"prompt\" is missing or not a string");
        }
        String id = "line-" + number;
        JsonNode idNode = node.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!(idNode.isTextual() || idNode.isIntegralNumber())) {
                throw CliException.badInput("\"id\" must be a string or an integer");
            }
            id = idNode.asText();
            if (!Checks.isId(id)) {
                throw CliException.badInput("\"id\" '" + id + "' must be 1..64 characters of A-Z a-z 0-9 . _ -"
                        + " (it names the output file)");
            }
        }
        if (!ids.add(id)) {
            throw CliException.badInput("\"id\" '" + id + "' is used by an earlier line");
        }
        Long seed = null;
        JsonNode s = node.get("seed");
        if (s != null && !s.isNull()) {
            try {
                seed = UnsignedSeed.fromJson(s);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput("\"seed\": " + e.getMessage());
            }
        }
        return new Line(number, id, p.asText(), seed);
    }
}
