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
 * @param stages      stage names, each a subdirectory holding a manifest.json
 */
public record BundleManifest(Path dir, String name, String version, Optional<String> description,
                             List<String> stages) {

    public BundleManifest {
        stages = List.copyOf(stages);
    }
}
