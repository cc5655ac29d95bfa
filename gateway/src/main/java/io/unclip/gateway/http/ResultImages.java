package io.unclip.gateway.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.ImageRef;
import io.unclip.service.validate.Limits;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The PNG bytes of a result image: inline, or a {@code file:} reference into the deployment's blob store
 * ({@code unclip.blobs.dir}) or result store ({@code unclip.results.dir}) that the gateway shares with the stages
 * (a batch job's images are result-store files). A reference anywhere else, too large, or whose bytes do not have
 * its stated sha256 is not served: the gateway never reads a path a record names outside those two directories.
 */
@ApplicationScoped
public class ResultImages {
    @ConfigProperty(name = "unclip.blobs.dir")
    Optional<String> blobsDir;

    @ConfigProperty(name = "unclip.results.dir")
    Optional<String> resultsDir;

    private final List<Path> roots = new ArrayList<>();

    @PostConstruct
    void roots() {
        for (Optional<String> d : List.of(blobsDir, resultsDir)) {
            d.map(String::strip).filter(s -> !s.isEmpty()).ifPresent(s -> {
                try {
                    roots.add(Path.of(s).toAbsolutePath().normalize().toRealPath());
                } catch (IOException e) {
                    roots.add(Path.of(s).toAbsolutePath().normalize()); // created later by the stages
                }
            });
        }
    }

    /** The image's PNG, or empty when it is a reference this gateway may not or cannot read. */
    public Optional<byte[]> png(GeneratedImage image) {
        ImageRef ref = image.getImage();
        return switch (ref.getSourceCase()) {
            case PNG -> Optional.of(ref.getPng().toByteArray());
            case URI -> file(ref.getUri()).flatMap(f -> read(f, ref.getSha256()));
            default -> Optional.empty();
        };
    }

    private Optional<Path> file(String uri) {
        try {
            URI u = new URI(uri);
            if (!"file".equals(u.getScheme())) {
                return Optional.empty();
            }
            Path real = Path.of(u).toRealPath();
            for (Path root : roots) {
                if (real.startsWith(root.toRealPath()) && Files.isRegularFile(real)) {
                    return Optional.of(real);
                }
            }
        } catch (java.net.URISyntaxException | IllegalArgumentException | IOException
                 | java.nio.file.FileSystemNotFoundException e) {
            // not a readable file of ours
        }
        return Optional.empty();
    }

    private static Optional<byte[]> read(Path file, String sha256) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(Limits.MAX_IMAGE_BYTES + 1);
            if (b.length > Limits.MAX_IMAGE_BYTES) {
                return Optional.empty();
            }
            if (!sha256.isEmpty() && !HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b))
                    .equals(sha256)) {
                return Optional.empty();
            }
            return Optional.of(b);
        } catch (IOException | NoSuchAlgorithmException e) {
            return Optional.empty();
        }
    }
}
