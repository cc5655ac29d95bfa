package io.unclip.deploy;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The stack's services, in start order: name (as {@code --replicas} takes it) and Maven module. */
public enum StackService {
    TEXT_ENCODER("text-encoder", "text-encoder-svc"),
    PRIOR("prior", "prior-svc"),
    DECODER("decoder", "decoder-svc"),
    UPSAMPLER("upsampler", "upsampler-svc"),
    CAPTIONER("captioner", "captioner-svc"),
    GATEWAY("gateway", "gateway");

    private final String id;
    private final String module;

    StackService(String id, String module) {
        this.id = id;
        this.module = module;
    }

    public String id() {
        return id;
    }

    /** The service a name or module names ("decoder", "decoder-svc"). */
    public static StackService of(String id) {
        for (StackService s : values()) {
            if (s.id.equals(id) || s.module.equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown service '" + id + "', expected one of "
                + Arrays.stream(values()).map(StackService::id).collect(Collectors.joining(", ")));
    }

    /** The service's runnable Quarkus app in the repository at {@code root}. */
    Path jar(Path root) {
        return root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    }
}
