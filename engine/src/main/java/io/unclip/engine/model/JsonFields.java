package io.unclip.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Typed, path-aware access to one JSON object of a manifest, so every error names the file and
 * the field ("decoder/manifest.json: field 'diffusion.schedule' ..."). A JSON null counts as absent.
 */
final class JsonFields {
    private final Path file;
    private final String source;
    private final JsonNode node;
    private final String prefix;

    private JsonFields(Path file, String source, JsonNode node, String prefix) {
        this.file = file;
        this.source = source;
        this.node = node;
        this.prefix = prefix;
    }

    /** The document root, which must be an object. */
    static JsonFields root(Path file, String source, JsonNode root) {
        if (!root.isObject()) {
            throw new ModelRepositoryException(file, source + ": expected a JSON object at the top level, found "
                    + describe(root));
        }
        return new JsonFields(file, source, root, "");
    }

    String source() {
        return source;
    }

    Path file() {
        return file;
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    ModelRepositoryException error(String key, String problem) {
        return new ModelRepositoryException(file, source + ": field '" + prefix + key + "' " + problem);
    }

    private JsonNode required(String key) {
        if (!has(key)) {
            throw new ModelRepositoryException(file, source + ": required field '" + prefix + key + "' is missing");
        }
        return node.get(key);
    }

    JsonFields object(String key) {
        JsonNode v = required(key);
        if (!v.isObject()) {
            throw error(key, "must be an object, found " + describe(v));
        }
        return new JsonFields(file, source, v, prefix + key + ".");
    }

    /** The field names of this object, in document order. */
    List<String> keys() {
        List<String> keys = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    Optional<JsonFields> optionalObject(String key) {
        return has(key) ? Optional.of(object(key)) : Optional.empty();
    }

    String text(String key) {
        JsonNode v = required(key);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw error(key, "must be a non-empty string, found " + describe(v));
        }
        return v.asText();
    }

    Optional<String> optionalText(String key) {
        return has(key) ? Optional.of(text(key)) : Optional.empty();
    }

    /** A string or a number, read as text (versions). */
    String textOrNumber(String key) {
        JsonNode v = required(key);
        if (!(v.isTextual() || v.isNumber()) || v.asText().isBlank()) {
            throw error(key, "must be a string, found " + describe(v));
        }
        return v.asText();
    }

    /** A string from a closed set. */
    String oneOf(String key, List<String> allowed) {
        String v = text(key);
        if (!allowed.contains(v)) {
            throw error(key, "is '" + v + "', expected one of " + String.join(", ", allowed));
        }
        return v;
    }

    /** A boolean, false when absent. */
    boolean flag(String key) {
        if (!has(key)) {
            return false;
        }
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw error(key, "must be true or false, found " + describe(v));
        }
        return v.asBoolean();
    }

    int integer(String key, int min) {
        JsonNode v = required(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw error(key, "must be an integer, found " + describe(v));
        }
        if (v.asInt() < min) {
            throw error(key, "must be >= " + min + ", found " + v.asInt());
        }
        return v.asInt();
    }

    OptionalInt optionalInteger(String key, int min) {
        return has(key) ? OptionalInt.of(integer(key, min)) : OptionalInt.empty();
    }

    double number(String key) {
        JsonNode v = required(key);
        if (!v.isNumber()) {
            throw error(key, "must be a number, found " + describe(v));
        }
        return v.asDouble();
    }

    OptionalDouble optionalNumber(String key) {
        return has(key) ? OptionalDouble.of(number(key)) : OptionalDouble.empty();
    }

    /** A required array of objects. */
    List<JsonFields> objects(String key) {
        JsonNode v = required(key);
        if (!v.isArray()) {
            throw error(key, "must be an array, found " + describe(v));
        }
        List<JsonFields> items = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            if (!item.isObject()) {
                throw error(key + "[" + i + "]", "must be an object, found " + describe(item));
            }
            items.add(new JsonFields(file, source, item, prefix + key + "[" + i + "]."));
        }
        return items;
    }

    /** A required array of non-empty strings. */
    List<String> texts(String key) {
        JsonNode v = required(key);
        if (!v.isArray()) {
            throw error(key, "must be an array of strings, found " + describe(v));
        }
        List<String> items = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual() || v.get(i).asText().isBlank()) {
                throw error(key + "[" + i + "]", "must be a non-empty string, found " + describe(v.get(i)));
            }
            items.add(v.get(i).asText());
        }
        return items;
    }

    List<String> optionalTexts(String key) {
        return has(key) ? texts(key) : List.of();
    }

    /** A required array of numbers, as floats. */
    float[] floats(String key) {
        JsonNode v = required(key);
        if (!v.isArray()) {
            throw error(key, "must be an array of numbers, found " + describe(v));
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            if (!v.get(i).isNumber()) {
                throw error(key + "[" + i + "]", "must be a number, found " + describe(v.get(i)));
            }
            out[i] = (float) v.get(i).asDouble();
        }
        return out;
    }

    /** The raw node (for fields with several accepted forms). */
    JsonNode raw(String key) {
        return required(key);
    }

    static String describe(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        String text = v.toString();
        String kind = v.isObject() ? "object" : v.isArray() ? "array" : v.isTextual() ? "string"
                : v.isBoolean() ? "boolean" : v.isNumber() ? "number" : v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        return kind + " " + (text.length() > 40 ? text.substring(0, 37) + "..." : text);
    }
}
