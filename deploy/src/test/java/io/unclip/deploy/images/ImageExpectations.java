package io.unclip.deploy.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What every unclip image must be, as the Kubernetes manifests (deploy/k8s) rely on it: run as
 * uid 1000 (runAsUser: 1000, read-only root, /tmp an emptyDir), a service on port 8080 started by
 * {@code java ... -jar /app/quarkus-run.jar} with the Quarkus app complete under /app.
 */
final class ImageExpectations {

    static final String RUNNER = "/app/quarkus-run.jar";

    private ImageExpectations() {
    }

    static ImageArchive readService(Path tar) throws IOException {
        return ImageArchive.read(tar, RUNNER::equals);
    }

    static void assertNonRootUser1000(ImageArchive image) {
        String user = image.containerConfig().path("User").asText("");
        String uid = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
        assertEquals("1000", uid, image.file + ": User must be uid 1000 (the manifests' runAsUser), was '" + user + "'");
    }

    /** Config and layers of a stage service or gateway image ({@code baseHasJre}: the base's layers are real). */
    static void assertServiceImage(ImageArchive image, String repoTag, boolean baseHasJre) {
        String where = image.file + ": ";
        assertEquals(List.of(repoTag), strings(image.manifest.path("RepoTags")), where + "RepoTags");
        assertNonRootUser1000(image);
        List<String> entrypoint = image.strings("Entrypoint");
        assertTrue(entrypoint.size() >= 3, where + "Entrypoint " + entrypoint);
        assertEquals("java", entrypoint.get(0), where + "Entrypoint " + entrypoint);
        assertEquals(List.of("-jar", RUNNER), entrypoint.subList(entrypoint.size() - 2, entrypoint.size()),
                where + "Entrypoint " + entrypoint);
        assertTrue(image.strings("Cmd").isEmpty(), where + "no Cmd (a base image's would become arguments): "
                + image.strings("Cmd"));
        assertTrue(image.containerConfig().path("ExposedPorts").has("8080/tcp"),
                where + "ExposedPorts " + image.containerConfig().path("ExposedPorts"));
        Map<String, String> env = image.env();
        assertEquals("/models/bundle", env.get("UNCLIP_MODELS_DIR"), where + "UNCLIP_MODELS_DIR");
        assertEquals("8080", env.get("QUARKUS_HTTP_PORT"), where + "QUARKUS_HTTP_PORT");
        assertTrue(env.getOrDefault("DJL_CACHE_DIR", "").startsWith("/tmp/"),
                where + "DJL_CACHE_DIR under /tmp (the only writable path): " + env.get("DJL_CACHE_DIR"));

        ImageArchive.Entry runner = image.files.get(RUNNER);
        assertTrue(runner != null && runner.type() == '0', where + RUNNER + " missing");
        for (String dir : List.of("/app/lib/boot", "/app/lib/main", "/app/quarkus", "/app/app")) {
            assertTrue(image.files.keySet().stream().anyMatch(p -> p.startsWith(dir + "/")), where + dir + " is empty");
        }
        // quarkus-run.jar's Class-Path (lib/boot) must all be in the image
        for (String entry : classPath(image)) {
            String path = "/app/" + entry;
            assertTrue(image.files.containsKey(path), where + RUNNER + "'s Class-Path entry " + path + " missing");
        }
        assertFalse(image.files.keySet().stream().anyMatch(p -> p.startsWith("/jib-unused")),
                where + "Jib's own Java layers must be filtered out (/jib-unused)");
        // third-party jars and this project's jars in different layers (cache: only ours change)
        int unclipLayer = layerOf(image, p -> p.startsWith("/app/lib/main/io.unclip."));
        int quarkusLayer = layerOf(image, p -> p.startsWith("/app/lib/boot/io.quarkus."));
        assertNotEquals(unclipLayer, quarkusLayer, where + "io.unclip jars share a layer with third-party jars");
        if (baseHasJre) {
            assertTrue(hasJava(image), where + "no java on the PATH " + env.get("PATH"));
        }
    }

    /** The stage's ONNX Runtime jar: the CPU one, the GPU one, or none (the gateway). */
    static void assertOnnxRuntime(ImageArchive image, String expected) {
        List<String> ort = image.files.keySet().stream()
                .filter(p -> p.startsWith("/app/lib/main/com.microsoft.onnxruntime."))
                .toList();
        if (expected == null) {
            assertTrue(ort.isEmpty(), image.file + ": the gateway runs no model, yet has " + ort);
        } else {
            assertTrue(ort.size() == 1 && ort.get(0).startsWith("/app/lib/main/com.microsoft.onnxruntime." + expected + "-"),
                    image.file + ": expected " + expected + ", has " + ort);
        }
    }

    /** unclip/models: the bundle under /models/bundle, copied out by /bin/cp as uid 1000. */
    static void assertModelsImage(ImageArchive image, String repoTag, Path bundle, boolean baseHasCp) throws IOException {
        String where = image.file + ": ";
        assertEquals(List.of(repoTag), strings(image.manifest.path("RepoTags")), where + "RepoTags");
        assertNonRootUser1000(image);
        List<String> command = new ArrayList<>(image.strings("Entrypoint"));
        command.addAll(image.strings("Cmd"));
        assertEquals(List.of("/bin/cp", "-R", "/models/bundle", "/target/"), command, where + "Entrypoint + Cmd");
        List<Path> expected;
        try (Stream<Path> walk = Files.walk(bundle)) {
            expected = walk.filter(Files::isRegularFile).toList();
        }
        assertFalse(expected.isEmpty(), bundle + " is empty");
        for (Path f : expected) {
            String path = "/models/bundle/" + bundle.relativize(f).toString().replace('\\', '/');
            ImageArchive.Entry e = image.files.get(path);
            assertTrue(e != null, where + path + " missing");
            assertEquals(Files.size(f), e.size(), where + path + " size");
        }
        if (baseHasCp) {
            assertTrue(image.resolve("/bin/cp").isPresent(), where + "/bin/cp missing (the initContainer's command)");
        }
    }

    static boolean hasJava(ImageArchive image) {
        String path = image.env().getOrDefault("PATH", "");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && image.resolve(dir + "/java").isPresent()) {
                return true;
            }
        }
        return false;
    }

    private static List<String> classPath(ImageArchive image) {
        byte[] jar = image.content(RUNNER).orElseThrow(() -> new AssertionError(image.file + ": no " + RUNNER));
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(jar))) {
            Manifest manifest = in.getManifest();
            if (manifest == null) {
                fail(image.file + ": " + RUNNER + " has no manifest");
            }
            String cp = manifest.getMainAttributes().getValue("Class-Path");
            return cp == null ? List.of() : List.of(cp.trim().split("\\s+"));
        } catch (IOException e) {
            throw new AssertionError(image.file + ": " + RUNNER + " is not a jar", e);
        }
    }

    private static int layerOf(ImageArchive image, Predicate<String> path) {
        return image.files.values().stream()
                .filter(e -> path.test(e.path()))
                .mapToInt(ImageArchive.Entry::layer)
                .findFirst()
                .orElseThrow(() -> new AssertionError(image.file + ": no such file"));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
