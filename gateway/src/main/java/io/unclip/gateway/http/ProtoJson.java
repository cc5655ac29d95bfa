package io.unclip.gateway.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

import io.unclip.engine.stage.InvalidRequestException;

/**
 * The API's messages as proto3 JSON (protobuf's own JsonFormat: lowerCamelCase names, enums by name, bytes as
 * base64, 64-bit integers as strings): the JSON door's one schema, the .proto files' own. Unknown fields are refused,
 * so a misspelt parameter is an error, not a silent default.
 */
public final class ProtoJson {
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();

    private ProtoJson() {
    }

    /**
     * Merges {@code json} into {@code into}.
     *
     * @param field the request field holding the JSON, for the error ("" = the whole body)
     * @throws InvalidRequestException when it is not proto3 JSON of that message
     */
    public static <B extends Message.Builder> B parse(String json, B into, String field) {
        try {
            PARSER.merge(json == null || json.isBlank() ? "{}" : json, into);
            return into;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            // JsonFormat says what is wrong ("Cannot find field: foo in message unclip.v1.GenerateRequest")
            throw new InvalidRequestException(field.isEmpty() ? "body" : field, "not proto3 JSON of "
                    + into.getDescriptorForType().getFullName() + ": " + e.getMessage());
        }
    }

    public static String print(MessageOrBuilder m) {
        try {
            return PRINTER.print(m);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + m.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
