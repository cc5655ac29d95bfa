package io.unclip.engine.diffusion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Finds and loads the reference case directory. */
final class ReferenceCases {
    static final String ENV = "UNCLIP_REFERENCE_DIR";
    static final String PROPERTY = "unclip.reference.dir";

    private ReferenceCases() {
    }

    /** UNCLIP_REFERENCE_DIR, else -Dunclip.reference.dir, else ../shared/reference/diffusion from the repo root. */
    static Path directory() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return Paths.get(env);
        }
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return Paths.get(prop);
        }
        return repoRoot().resolve("../shared/reference/diffusion").normalize();
    }

    /** Every *.json in {@code dir}, sorted by file name; fails if there is none. */
    static List<ReferenceCase> loadAll(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("reference case directory " + dir.toAbsolutePath()
                    + " does not exist (set " + ENV + " or -D" + PROPERTY + ")");
        }
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p))
                    .sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (files.isEmpty()) {
            throw new IllegalStateException("no *.json reference cases in " + dir.toAbsolutePath());
        }
        List<ReferenceCase> cases = files.stream().map(ReferenceCase::read).collect(Collectors.toList());
        for (ReferenceCase c : cases) {
            if (c.steps().isEmpty()) {
                throw new IllegalStateException(c.file() + " has no steps");
            }
        }
        return cases;
    }

    private static Path repoRoot() {
        Path p = Paths.get("").toAbsolutePath();
        for (Path d = p; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("engine/pom.xml"))) {
                return d;
            }
        }
        throw new IllegalStateException("cannot find the repository root above " + p);
    }
}
