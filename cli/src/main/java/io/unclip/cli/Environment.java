package io.unclip.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the command reads from its surroundings: environment variables, the working directory,
 * where it is installed (the repository root when run from {@code cli/target}), and whether
 * stdout is a terminal. Tests pass their own.
 *
 * @param env         environment variables
 * @param workDir     the working directory
 * @param installRoot the repository root the CLI was built in, if it can tell
 * @param terminal    whether progress may be drawn as bars (System.console() != null)
 */
public record Environment(Map<String, String> env, Path workDir, Optional<Path> installRoot, boolean terminal) {
    /** The default bundle location, relative to the working directory or the repository root. */
    public static final String DEFAULT_BUNDLE = "models/bundle";

    public static Environment system() {
        return new Environment(System.getenv(), Path.of("").toAbsolutePath(), detectInstallRoot(),
                System.console() != null);
    }

    /** cli/target/unclip.jar or cli/target/classes: three levels up is the repository root. */
    private static Optional<Path> detectInstallRoot() {
        try {
            var source = UnclipCommand.class.getProtectionDomain().getCodeSource();
            if (source == null) {
                return Optional.empty();
            }
            Path p = Path.of(source.getLocation().toURI()).toAbsolutePath();
            Path target = p.getParent();
            if (target != null && target.getFileName() != null && target.getFileName().toString().equals("target")
                    && target.getParent() != null && target.getParent().getParent() != null) {
                Path root = target.getParent().getParent();
                return Files.isDirectory(root) ? Optional.of(root) : Optional.empty();
            }
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            // fall through: no install root
        }
        return Optional.empty();
    }

    /**
     * The bundle directory: {@code --models}, else {@code UNCLIP_MODELS}, else
     * {@code models/bundle} in the working directory or the repository root.
     *
     * @throws CliException (exit 3) naming the place looked at when there is no bundle there
     */
    public Path bundle(Path explicit) {
        if (explicit != null) {
            Path p = workDir.resolve(explicit);
            if (!Files.isDirectory(p)) {
                throw new CliException(ExitCodes.BAD_BUNDLE, "no model bundle at " + explicit);
            }
            return p;
        }
        String fromEnv = env.get("UNCLIP_MODELS");
        if (fromEnv != null && !fromEnv.isBlank()) {
            Path p = workDir.resolve(fromEnv);
            if (!Files.isDirectory(p)) {
                throw new CliException(ExitCodes.BAD_BUNDLE, "no model bundle at " + fromEnv
                        + " (from UNCLIP_MODELS; use --models DIR)");
            }
            return p;
        }
        Path here = workDir.resolve(DEFAULT_BUNDLE);
        if (Files.isDirectory(here)) {
            return here;
        }
        if (installRoot.isPresent() && Files.isDirectory(installRoot.get().resolve(DEFAULT_BUNDLE))) {
            return installRoot.get().resolve(DEFAULT_BUNDLE);
        }
        throw new CliException(ExitCodes.BAD_BUNDLE, "no model bundle at " + DEFAULT_BUNDLE
                + " (the demo bundle is trained by models/training; use --models DIR)");
    }
}
