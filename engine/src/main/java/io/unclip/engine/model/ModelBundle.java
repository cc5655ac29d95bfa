package io.unclip.engine.model;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A loaded bundle: every stage validated and ready, in bundle.json order. */
public final class ModelBundle implements AutoCloseable {
    private final BundleManifest manifest;
    private final Map<String, LoadedStage> stages;

    ModelBundle(BundleManifest manifest, List<LoadedStage> stages) {
        this.manifest = manifest;
        Map<String, LoadedStage> byName = new LinkedHashMap<>();
        stages.forEach(s -> byName.put(s.name(), s));
        this.stages = Collections.unmodifiableMap(byName);
    }

    public BundleManifest manifest() {
        return manifest;
    }

    public String name() {
        return manifest.name();
    }

    public String version() {
        return manifest.version();
    }

    public Path dir() {
        return manifest.dir();
    }

    /** Stages by name, in bundle.json order. */
    public Map<String, LoadedStage> stages() {
        return stages;
    }

    /** @throws IllegalArgumentException naming the bundle's stages if there is no such stage */
    public LoadedStage stage(String name) {
        LoadedStage s = stages.get(name);
        if (s == null) {
            throw new IllegalArgumentException("bundle '" + name() + "' has no stage '" + name + "'; it has "
                    + stages.keySet());
        }
        return s;
    }

    /** Stages of one kind in bundle order (e.g. the upsamplers, lowest resolution first if listed so). */
    public List<LoadedStage> stagesOfKind(StageKind kind) {
        return stages.values().stream().filter(s -> s.kind() == kind).toList();
    }

    /** Releases the stages' tokenizers; sessions belong to the runtime. */
    @Override
    public void close() {
        stages.values().forEach(LoadedStage::close);
    }

    @Override
    public String toString() {
        return "ModelBundle[" + name() + " " + version() + ", stages " + stages.keySet() + "]";
    }
}
