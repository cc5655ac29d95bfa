package io.unclip.captioner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.Startup;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Whether this service's stage model is loaded, and if not, why. Today no model is ever loaded:
 * the stage logic (ONNX Runtime sessions from the model bundle's manifest) arrives with the
 * engine. The service reports what it found at {@code unclip.models.dir} so that an operator sees
 * the reason on {@code /q/health/ready} and in every refused call.
 */
@Startup
@ApplicationScoped
public class StageModel {
    private static final Logger LOG = Logger.getLogger(StageModel.class);

    /** The model manifest every stage model directory holds. */
    public static final String MANIFEST = "manifest.json";

    /** The outcome of looking for the stage model. */
    public record Availability(boolean loaded, Status.Code code, String reason) {
        /** The error a call gets while the model is not loaded. */
        public StatusRuntimeException error() {
            return Status.fromCode(code).withDescription(reason).asRuntimeException();
        }
    }

    @ConfigProperty(name = "unclip.models.dir")
    Optional<String> modelsDir;

    @ConfigProperty(name = "unclip.models.stage-dir")
    String stageDir;

    @ConfigProperty(name = "unclip.stage.label")
    String label;

    private volatile Availability availability;

    @PostConstruct
    void probe() {
        availability = probe(label, modelsDir.map(String::trim).filter(s -> !s.isEmpty()).map(Path::of), stageDir);
        if (!availability.loaded()) {
            LOG.warnf("%s", availability.reason());
        }
    }

    public Availability availability() {
        return availability;
    }

    /**
     * Looks for {@code <modelsDir>/<stageDir>/manifest.json}. Framework-free, for unit tests.
     * FAILED_PRECONDITION when the configuration is missing or wrong (an operator must act);
     * UNAVAILABLE when the bundle is there but the model is not loaded.
     */
    public static Availability probe(String label, Optional<Path> modelsDir, String stageDir) {
        String prefix = label + " model not loaded: ";
        if (modelsDir.isEmpty()) {
            return new Availability(false, Status.Code.FAILED_PRECONDITION,
                    prefix + "unclip.models.dir is not set (point it at a model bundle directory)");
        }
        Path dir = modelsDir.get();
        if (!Files.isDirectory(dir)) {
            return new Availability(false, Status.Code.FAILED_PRECONDITION,
                    prefix + "unclip.models.dir=" + dir + " is not a directory");
        }
        Path manifest = dir.resolve(stageDir).resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            return new Availability(false, Status.Code.FAILED_PRECONDITION,
                    prefix + "no " + MANIFEST + " at " + manifest + " (the bundle has no " + label + " model)");
        }
        return new Availability(false, Status.Code.UNAVAILABLE,
                prefix + "found " + manifest + " but this build cannot load models yet (stage runtime not wired)");
    }
}
