package io.unclip.engine.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A parsed {@code bundle.json}: a named, versioned set of stage models.
 *
 * @param dir         the bundle directory
 * @param name        bundle name
 * @param version     bundle version (free text, e.g. "1.0.0")
 * @param description optional human-readable description
 * @param stages      stage names, each a subdirectory holding a manifest.json (of this directory, or
 *                    of {@code base} when this one has none)
 * @param base        the bundle directory this one overlays ({@code "base": ".."} in bundle.json): a
 *                    variant ships only the stages it changes and takes the rest from its base
 */
public record BundleManifest(Path dir, String name, String version, Optional<String> description,
                             List<String> stages, Optional<Path> base) {

    public BundleManifest {
        stages = List.copyOf(stages);
    }

    public BundleManifest(Path dir, String name, String version, Optional<String> description, List<String> stages) {
        this(dir, name, version, description, stages, Optional.empty());
    }
}
