package io.unclip.service.stage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.runtime.Startup;
import io.unclip.engine.model.BundleManifest;
import io.unclip.engine.model.LoadedStage;
import io.unclip.engine.model.ModelRepository;
import io.unclip.engine.model.StageKind;
import io.unclip.engine.model.StageManifest;
import io.unclip.engine.onnx.OrtRuntime;
import io.unclip.engine.onnx.RuntimeOptions;
import io.unclip.engine.pipeline.CascadePlan;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * This service's stage model(s): every stage of kind {@code unclip.stage.kind} in the bundle at
 * {@code unclip.models.dir} (the upsampler service loads all its upsamplers, in cascade order),
 * and the first stage of each kind in {@code unclip.stage.also-kinds} that the bundle has (the
 * text encoder's service also loads the image encoder), loaded on a background thread at start. Until then, or when the bundle is missing or corrupt,
 * the service runs but is not ready: {@link #availability()} says why (readiness check, gRPC
 * errors) and the Kafka worker does not consume. Nothing here crashes the process.
 */
@Startup
@ApplicationScoped
public class StageModel {
    private static final Logger LOG = Logger.getLogger(StageModel.class);

    /** The outcome of looking for the stage model. */
    public record Availability(boolean loaded, Status.Code code, String reason) {
        /** The error a call gets while the model is not loaded. */
        public StatusRuntimeException error() {
            return Status.fromCode(code).withDescription(reason).asRuntimeException();
        }
    }

    /**
     * The loaded model: the bundle, every stage manifest that could be read (for plans that need
     * other stages' sizes) and this service's stages, opened, in cascade order.
     */
    public record Loaded(BundleManifest bundle, Map<String, StageManifest> manifests, List<LoadedStage> stages,
                         Map<StageKind, LoadedStage> also) {
        /** The loaded stage of an {@code also-kinds} kind, if the bundle has one. */
        public Optional<LoadedStage> also(StageKind kind) {
            return Optional.ofNullable(also.get(kind));
        }

        /** The bundle's cascade plan (the engine's), from its manifests. */
        public CascadePlan plan() {
            return CascadePlan.of(bundle, manifests);
        }

        /** "name@version" of the bundle, as GenerationParams.model_bundle. */
        public String bundleId() {
            return bundle.name() + "@" + bundle.version();
        }
    }

    /** What a probe found: availability, and when the bundle is usable what to load. */
    record Probe(Availability availability, BundleManifest bundle, Map<String, StageManifest> manifests,
                 List<String> stages) {
        /** The first stage of each of {@code kinds} that the bundle has. */
        Map<StageKind, String> also(List<StageKind> kinds) {
            Map<StageKind, String> out = new LinkedHashMap<>();
            for (StageKind k : kinds) {
                manifests.values().stream().filter(m -> m.kind() == k).findFirst().ifPresent(m -> out.put(k, m.stage()));
            }
            return out;
        }
    }

    @ConfigProperty(name = "unclip.models.dir")
    Optional<String> modelsDir;

    @ConfigProperty(name = "unclip.stage.kind")
    String kind;

    @ConfigProperty(name = "unclip.stage.label")
    String label;

    @ConfigProperty(name = "unclip.stage.also-kinds")
    Optional<List<String>> alsoKinds;

    @ConfigProperty(name = "unclip.device", defaultValue = "cpu")
    String device;

    // 0: ONNX Runtime's default (intra-op: one thread per core), too many when replicas share a node
    @ConfigProperty(name = "unclip.onnx.intra-op-threads", defaultValue = "0")
    int intraOpThreads;

    @ConfigProperty(name = "unclip.onnx.inter-op-threads", defaultValue = "0")
    int interOpThreads;

    private final CompletableFuture<Loaded> loaded = new CompletableFuture<>();
    private volatile Availability availability;
    private volatile OrtRuntime runtime;

    @PostConstruct
    void start() {
        StageKind k = StageKind.fromId(kind).orElseThrow(() -> new IllegalStateException(
                "unclip.stage.kind=" + kind + " is not a stage kind"));
        Probe p = probe(label, modelsDir.map(String::trim).filter(s -> !s.isEmpty()).map(Path::of), k);
        availability = p.availability();
        if (p.bundle() == null) {
            LOG.warnf("%s", availability.reason());
            return;
        }
        Thread t = new Thread(() -> load(p), "unclip-model-loader");
        t.setDaemon(true);
        t.start();
    }

    private void load(Probe p) {
        long start = System.nanoTime();
        try {
            OrtRuntime rt = new OrtRuntime(runtimeOptions(device, intraOpThreads, interOpThreads));
            runtime = rt;
            ModelRepository repo = new ModelRepository(rt);
            List<LoadedStage> stages = new ArrayList<>();
            for (String s : p.stages()) {
                stages.add(repo.loadStage(p.bundle().dir(), s));
            }
            Map<StageKind, LoadedStage> also = new LinkedHashMap<>();
            List<String> names = new ArrayList<>(p.stages());
            for (Map.Entry<StageKind, String> e : p.also(alsoKinds()).entrySet()) {
                also.put(e.getKey(), repo.loadStage(p.bundle().dir(), e.getValue()));
                names.add(e.getValue());
            }
            Loaded l = new Loaded(p.bundle(), p.manifests(), List.copyOf(stages), java.util.Collections.unmodifiableMap(also));
            availability = new Availability(true, Status.Code.OK, "loaded " + String.join(", ", names)
                    + " of " + l.bundleId());
            LOG.infof("%s model: %s in %d ms", label, availability.reason(), (System.nanoTime() - start) / 1_000_000);
            loaded.complete(l);
        } catch (RuntimeException | LinkageError e) {
            availability = new Availability(false, Status.Code.FAILED_PRECONDITION,
                    label + " model not loaded: " + e.getMessage());
            LOG.errorf("%s", availability.reason());
        }
    }

    /** The ONNX Runtime options of this service's sessions: unclip.device, unclip.onnx.*-op-threads (0 = default). */
    static RuntimeOptions runtimeOptions(String device, int intraOpThreads, int interOpThreads) {
        return RuntimeOptions.defaults().withDevice(device).withThreads(intraOpThreads, interOpThreads);
    }

    private List<StageKind> alsoKinds() {
        List<StageKind> kinds = new ArrayList<>();
        for (String id : alsoKinds.orElse(List.of())) {
            kinds.add(StageKind.fromId(id.trim()).orElseThrow(() -> new IllegalStateException(
                    "unclip.stage.also-kinds: " + id + " is not a stage kind")));
        }
        return kinds;
    }

    public Availability availability() {
        return availability;
    }

    /** Completes once the model is loaded (never, when it cannot be). */
    public CompletableFuture<Loaded> loaded() {
        return loaded;
    }

    /** The loaded model, or the gRPC error a call gets while there is none. */
    public Loaded require() {
        Loaded l = loaded.getNow(null);
        if (l == null) {
            throw availability.error();
        }
        return l;
    }

    @PreDestroy
    void close() {
        Loaded l = loaded.getNow(null);
        if (l != null) {
            l.stages().forEach(LoadedStage::close);
            l.also().values().forEach(LoadedStage::close);
        }
        OrtRuntime rt = runtime;
        if (rt != null) {
            rt.close();
        }
    }

    /**
     * Finds the stages of {@code kind} in the bundle at {@code modelsDir} without loading them.
     * FAILED_PRECONDITION when the configuration or the bundle is wrong (an operator must act);
     * UNAVAILABLE when the stages are there and about to load.
     */
    static Probe probe(String label, Optional<Path> modelsDir, StageKind kind) {
        String prefix = label + " model not loaded: ";
        if (modelsDir.isEmpty()) {
            return failed(prefix + "unclip.models.dir is not set (point it at a model bundle directory)");
        }
        Path dir = modelsDir.get();
        if (!Files.isDirectory(dir)) {
            return failed(prefix + "unclip.models.dir=" + dir + " is not a directory");
        }
        ModelRepository reader = new ModelRepository(null);
        BundleManifest bundle;
        try {
            bundle = reader.readBundle(dir);
        } catch (RuntimeException e) {
            return failed(prefix + e.getMessage());
        }
        Map<String, StageManifest> manifests = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        List<String> mine = new ArrayList<>();
        for (String s : bundle.stages()) {
            try {
                StageManifest m = reader.readStage(dir, s);
                manifests.put(s, m);
                if (m.kind() == kind) {
                    mine.add(s);
                }
            } catch (RuntimeException e) {
                problems.add(e.getMessage());
            }
        }
        if (mine.isEmpty()) {
            return failed(prefix + "bundle " + dir + " has no " + kind.id() + " stage"
                    + (problems.isEmpty() ? "" : " (unreadable: " + String.join("; ", problems) + ")"));
        }
        if (!problems.isEmpty()) {
            LOG.warnf("%s: stages of bundle %s that cannot be read: %s", label, dir, String.join("; ", problems));
        }
        return new Probe(new Availability(false, Status.Code.UNAVAILABLE, prefix + "loading " + String.join(", ", mine)
                + " from " + dir), bundle, java.util.Collections.unmodifiableMap(manifests), List.copyOf(mine));
    }

    private static Probe failed(String reason) {
        return new Probe(new Availability(false, Status.Code.FAILED_PRECONDITION, reason), null, Map.of(), List.of());
    }
}
