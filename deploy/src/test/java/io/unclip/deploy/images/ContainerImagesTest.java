package io.unclip.deploy.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container images (deploy/README.md, "Container images").
 *
 * <p>{@link #theParentsJibConfigurationMakesAServiceImage} always runs: it builds a tiny image with
 * the parent pom's real {@code -Pimages} configuration (a fixture module with a fake
 * {@code target/quarkus-app}, base {@code scratch}, ~15 s) and checks it. {@link #builtImages}
 * checks the tars {@code mvn -Pimages package} left in each module's target/, and is skipped, with
 * the command to build them, when there are none.
 */
class ContainerImagesTest {

    static final Path ROOT = Path.of(System.getProperty("unclip.root.dir", "..")).toAbsolutePath().normalize();
    static final List<String> STAGES = List.of("text-encoder-svc", "prior-svc", "decoder-svc", "upsampler-svc", "captioner-svc");
    static final String TAG = "0.1.0";

    private static Path fixtureTar;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void theParentsJibConfigurationMakesAServiceImage() throws Exception {
        ImageArchive image = ImageExpectations.readService(fixtureImage());
        ImageExpectations.assertServiceImage(image, "unclip/image-fixture:" + TAG, false);
        // every file of the app, at its place under /app
        for (String f : List.of("/app/lib/boot/io.quarkus.quarkus-bootstrap-runner-0.jar",
                "/app/lib/main/io.unclip.fake-0.1.0.jar", "/app/lib/main/org.example.dep-1.0.jar",
                "/app/app/image-fixture.jar", "/app/quarkus/quarkus-application.dat")) {
            assertTrue(image.files.containsKey(f), f + " missing from the image");
        }
        assertEquals(3, image.layerCount, "scratch + three app layers (third-party, io.unclip, the app)");
    }

    /** The checks fail on a broken image: the fixture with a root user, and with another entrypoint. */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aRootUserOrAnotherEntrypointFails(@TempDir Path tmp) throws Exception {
        Path root = rewriteConfig(fixtureImage(), tmp.resolve("root.tar"),
                c -> c.replace("\"User\":\"1000:1000\"", "\"User\":\"0\""));
        AssertionError e = assertThrows(AssertionError.class,
                () -> ImageExpectations.assertServiceImage(ImageExpectations.readService(root), "unclip/image-fixture:" + TAG, false));
        assertTrue(e.getMessage().contains("uid 1000"), e.getMessage());

        Path other = rewriteConfig(fixtureImage(), tmp.resolve("entry.tar"),
                c -> c.replace("\"/app/quarkus-run.jar\"", "\"/app/app/image-fixture.jar\""));
        assertThrows(AssertionError.class,
                () -> ImageExpectations.assertServiceImage(ImageExpectations.readService(other), "unclip/image-fixture:" + TAG, false));
    }

    /** The images {@code mvn -Pimages package} built (CPU and, after -Pimages,gpu, GPU), one test each. */
    @TestFactory
    Stream<DynamicTest> builtImages() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String module : STAGES) {
            tar(module, "").ifPresent(t -> tests.add(DynamicTest.dynamicTest(module + " (cpu)", () -> {
                ImageArchive image = ImageExpectations.readService(t);
                ImageExpectations.assertServiceImage(image, "unclip/" + module + ":" + TAG, true);
                ImageExpectations.assertOnnxRuntime(image, "onnxruntime");
            })));
            tar(module, "-gpu").ifPresent(t -> tests.add(DynamicTest.dynamicTest(module + " (gpu)", () -> {
                ImageArchive image = ImageExpectations.readService(t);
                ImageExpectations.assertServiceImage(image, "unclip/" + module + ":" + TAG + "-gpu", true);
                ImageExpectations.assertOnnxRuntime(image, "onnxruntime_gpu");
            })));
        }
        tar("gateway", "").ifPresent(t -> tests.add(DynamicTest.dynamicTest("gateway", () -> {
            ImageArchive image = ImageExpectations.readService(t);
            ImageExpectations.assertServiceImage(image, "unclip/gateway:" + TAG, true);
            ImageExpectations.assertOnnxRuntime(image, null);
        })));
        tar("models", "").ifPresent(t -> tests.add(DynamicTest.dynamicTest("models", () -> {
            ImageArchive image = ImageArchive.read(t, p -> false);
            ImageExpectations.assertModelsImage(image, "unclip/models:" + TAG, ROOT.resolve("models/bundle"), true);
        })));
        if (tests.isEmpty()) { // one skipped test, so that the reason shows in the report
            tests.add(DynamicTest.dynamicTest("no image tars", () -> abort("no image tars in <module>/target/ "
                    + "(jib-image.tar): CI builds none. Build them with `deploy/images/build-images.sh` (or "
                    + "`mvn -B -Pimages package -DskipTests -pl text-encoder-svc,prior-svc,decoder-svc,upsampler-svc,"
                    + "captioner-svc,gateway,models -am`), then run this test again")));
        }
        return tests.stream();
    }

    private static Optional<Path> tar(String module, String flavour) {
        Path t = ROOT.resolve(module).resolve("target").resolve("jib-image" + flavour + ".tar");
        return Files.isRegularFile(t) ? Optional.of(t) : Optional.empty();
    }

    // ---- the fixture: a module of this project (parent: the real parent pom) with a fake Quarkus app ----

    static synchronized Path fixtureImage() throws Exception {
        if (fixtureTar != null) {
            return fixtureTar;
        }
        Path dir = ROOT.resolve("deploy/target/image-fixture");
        deleteTree(dir);
        Files.createDirectories(dir.resolve("src/main/resources"));
        Files.writeString(dir.resolve("src/main/resources/fixture.properties"), "fixture=true\n");
        Files.writeString(dir.resolve("pom.xml"), fixturePom(dir.relativize(ROOT.resolve("pom.xml")).toString()));
        Path app = dir.resolve("target/quarkus-app");
        writeJar(app.resolve("lib/boot/io.quarkus.quarkus-bootstrap-runner-0.jar"), null);
        writeJar(app.resolve("lib/main/io.unclip.fake-0.1.0.jar"), null);
        writeJar(app.resolve("lib/main/org.example.dep-1.0.jar"), null);
        writeJar(app.resolve("app/image-fixture.jar"), null);
        Files.createDirectories(app.resolve("quarkus"));
        Files.write(app.resolve("quarkus/quarkus-application.dat"), new byte[] {1, 2, 3});
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "io.quarkus.bootstrap.runner.QuarkusEntryPoint");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/boot/io.quarkus.quarkus-bootstrap-runner-0.jar");
        writeJar(app.resolve("quarkus-run.jar"), m);

        List<String> cmd = new ArrayList<>(List.of(mvn(), "-B", "-q", "-f", dir.resolve("pom.xml").toString(),
                "-Pimages", "package", "-Dunclip.image.cpu-base=scratch"));
        if (System.getProperty("unclip.maven.offline", "").endsWith("true")) {
            cmd.add("-o");
            Path plugin = Path.of(System.getProperty("unclip.maven.repo", System.getProperty("user.home") + "/.m2/repository"),
                    "com/google/cloud/tools/jib-maven-plugin");
            assumeTrue(Files.isDirectory(plugin), "Maven is offline and jib-maven-plugin is not in the local repository: "
                    + "run once without -o");
        }
        String repo = System.getProperty("unclip.maven.repo", "");
        if (!repo.isBlank()) {
            cmd.add("-Dmaven.repo.local=" + repo);
        }
        // e.g. -Dunclip.images.fixture.args=-Djib.container.user=0 plants a fault (the test must fail)
        String extra = System.getProperty("unclip.images.fixture.args", "").trim();
        if (!extra.isEmpty()) {
            cmd.addAll(Arrays.asList(extra.split("\\s+")));
        }
        Path log = dir.resolve("build.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("fixture image build took over 3 min: " + cmd + "\n" + tail(log));
        }
        Path tar = dir.resolve("target/jib-image.tar");
        if (p.exitValue() != 0 || !Files.isRegularFile(tar)) {
            throw new AssertionError("fixture image build failed (exit " + p.exitValue() + "): " + cmd + "\n" + tail(log));
        }
        fixtureTar = tar;
        return tar;
    }

    private static String fixturePom(String parentPath) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <parent>
                    <groupId>io.unclip</groupId>
                    <artifactId>unclip-parent</artifactId>
                    <version>0.1.0-SNAPSHOT</version>
                    <relativePath>%s</relativePath>
                  </parent>
                  <artifactId>image-fixture</artifactId>
                  <!-- as a stage service's pom: the images profile names the plugin, the parent configures it -->
                  <profiles>
                    <profile>
                      <id>images</id>
                      <build>
                        <plugins>
                          <plugin>
                            <groupId>com.google.cloud.tools</groupId>
                            <artifactId>jib-maven-plugin</artifactId>
                          </plugin>
                        </plugins>
                      </build>
                    </profile>
                  </profiles>
                </project>
                """.formatted(parentPath);
    }

    private static String mvn() {
        String home = System.getProperty("maven.home", "");
        Path bin = Path.of(home, "bin", "mvn");
        return !home.isBlank() && Files.isExecutable(bin) ? bin.toString() : "mvn";
    }

    private static void writeJar(Path file, Manifest manifest) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file);
             JarOutputStream jar = manifest == null ? new JarOutputStream(out) : new JarOutputStream(out, manifest)) {
            jar.putNextEntry(new ZipEntry("fixture/" + file.getFileName() + ".txt"));
            jar.write(file.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
    }

    /** A copy of a (small) docker-archive with its config JSON rewritten. */
    private static Path rewriteConfig(Path tar, Path out, UnaryOperator<String> edit) throws IOException {
        Map<String, byte[]> members = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(tar)) {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String name = new String(header, 0, 100, StandardCharsets.UTF_8).replace("\0", "");
                long size = Long.parseLong(new String(header, 124, 12, StandardCharsets.US_ASCII).replace("\0", "").trim(), 8);
                byte[] body = in.readNBytes((int) size);
                in.skipNBytes((512 - size % 512) % 512);
                members.put(name, body);
            }
        }
        String configName = new String(members.get("manifest.json"), StandardCharsets.UTF_8)
                .replaceAll("(?s).*\"Config\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        String config = new String(members.get(configName), StandardCharsets.UTF_8);
        String edited = edit.apply(config);
        assertTrue(!edited.equals(config), "the edit changed nothing in " + config);
        members.put(configName, edited.getBytes(StandardCharsets.UTF_8));
        try (OutputStream o = Files.newOutputStream(out)) {
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                byte[] h = new byte[512];
                byte[] n = m.getKey().getBytes(StandardCharsets.UTF_8);
                System.arraycopy(n, 0, h, 0, n.length);
                put(h, 100, "0000644");
                put(h, 108, "0000000");
                put(h, 116, "0000000");
                put(h, 124, String.format("%011o", m.getValue().length));
                put(h, 136, "00000000000");
                h[156] = '0';
                put(h, 257, "ustar");
                h[263] = '0';
                h[264] = '0';
                Arrays.fill(h, 148, 156, (byte) ' ');
                long sum = 0;
                for (byte b : h) {
                    sum += b & 0xff;
                }
                put(h, 148, String.format("%06o", sum));
                h[154] = 0;
                o.write(h);
                o.write(m.getValue());
                o.write(new byte[(int) ((512 - m.getValue().length % 512) % 512)]);
            }
            o.write(new byte[1024]);
        }
        return out;
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(p);
            }
        }
    }

}
