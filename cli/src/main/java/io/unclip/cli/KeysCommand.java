package io.unclip.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import io.unclip.service.auth.ApiKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code unclip keys new NAME --file FILE}: a new API key for a gateway (or a service token for the stages). The
 * key is printed once; the file ({@code unclip.auth.keys-file}) gets only its SHA-256 hash, and a running service
 * picks the new line up within a second. Revoking a key is deleting its line.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "API keys for the gateway's (or a stage's) unclip.auth.keys-file.",
        subcommands = {KeysCommand.New.class})
final class KeysCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand (new)");
    }

    @Command(name = "new", mixinStandardHelpOptions = true,
            description = {"Make a key, add its hash to FILE (created owner-only if missing) and print the key once.",
                    "Revoke a key by deleting its line; services re-read the file within a second."})
    static final class New extends BaseCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Who the key is for (letters, digits, . _ @ -).")
        String name;

        @Option(names = "--file", paramLabel = "FILE", required = true,
                description = "The keys file (the service's unclip.auth.keys-file).")
        Path file;

        @Option(names = "--methods", paramLabel = "METHOD[,METHOD...]", split = ",",
                description = "Only these gRPC methods (unclip.v1.ImageService/GetJob, unclip.v1.ImageService/*);"
                        + " default every method.")
        List<String> methods = new ArrayList<>();

        @Override
        int run() throws Exception {
            String key = ApiKeys.newKey();
            String line;
            try {
                line = ApiKeys.line(key, name, methods);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput(e.getMessage());
            }
            Path f = environment().workDir().resolve(file);
            try {
                if (!Files.exists(f)) {
                    Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                }
                Files.writeString(f, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw CliException.badInput("--file: cannot write " + f + ": " + e.getMessage());
            }
            output.event("key", Output.map("name", name, "key", key, "file", f.toString()));
            output.info(key);
            output.info("(shown once; its hash is in " + f + ")");
            return ExitCodes.OK;
        }
    }
}
