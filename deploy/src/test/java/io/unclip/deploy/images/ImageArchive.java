package io.unclip.deploy.images;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * A docker-archive image tar (what {@code jib:buildTar} and {@code docker save} write), read without
 * a container runtime: manifest.json, the config JSON and every layer's file list. Enough of ustar
 * and pax is read for Jib's and GNU tar's archives (long names via pax {@code path}).
 */
final class ImageArchive {

    /** One path in the image's file system, from the topmost layer that has it. */
    record Entry(String path, char type, long size, String linkTarget, int layer) {
        boolean isSymlink() {
            return type == '2';
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    final Path file;
    final JsonNode manifest;
    final JsonNode config;
    /** Absolute paths ("/app/quarkus-run.jar") to entries; later layers override earlier ones. */
    final Map<String, Entry> files = new LinkedHashMap<>();
    final int layerCount;
    private final Map<String, byte[]> wanted;

    private ImageArchive(Path file, Predicate<String> keepContent) throws IOException {
        this.file = file;
        Map<String, byte[]> members = new HashMap<>();
        // pass 1: manifest and config (small members)
        readTar(Files.newInputStream(file), (name, size, in) -> {
            if (name.equals("manifest.json") || name.endsWith(".json")) {
                members.put(name, in.readAllBytes());
            }
        });
        JsonNode m = JSON.readTree(required(members, "manifest.json"));
        if (!m.isArray() || m.size() != 1) {
            throw new IOException(file + ": manifest.json must list exactly one image");
        }
        manifest = m.get(0);
        config = JSON.readTree(required(members, manifest.path("Config").asText()));
        List<String> layers = new ArrayList<>();
        manifest.path("Layers").forEach(l -> layers.add(l.asText()));
        layerCount = layers.size();
        // pass 2: each layer's file list, in order (an image's tar may store them in any order)
        wanted = new HashMap<>();
        Map<String, Integer> layerIndex = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            layerIndex.put(layers.get(i), i);
        }
        Map<Integer, List<Entry>> byLayer = new HashMap<>();
        Map<Integer, Map<String, byte[]>> contentByLayer = new HashMap<>();
        readTar(Files.newInputStream(file), (name, size, in) -> {
            Integer index = layerIndex.get(name);
            if (index == null) {
                return;
            }
            List<Entry> entries = new ArrayList<>();
            Map<String, byte[]> content = new HashMap<>();
            BufferedInputStream raw = new BufferedInputStream(in);
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream layer = gzip ? new GZIPInputStream(raw) : raw;
            readTar(layer, (entryName, entrySize, entryIn, type, link) -> {
                String path = normalise(entryName);
                entries.add(new Entry(path, type, entrySize, link, index));
                if (type == '0' && keepContent.test(path)) {
                    content.put(path, entryIn.readAllBytes());
                }
            });
            byLayer.put(index, entries);
            contentByLayer.put(index, content);
        });
        for (int i = 0; i < layers.size(); i++) {
            List<Entry> entries = byLayer.get(i);
            if (entries == null) {
                throw new IOException(file + ": layer " + layers.get(i) + " named in manifest.json is missing");
            }
            for (Entry e : entries) {
                String base = e.path().substring(e.path().lastIndexOf('/') + 1);
                if (base.startsWith(".wh.")) { // whiteout: a file deleted by this layer
                    files.remove(e.path().substring(0, e.path().lastIndexOf('/') + 1) + base.substring(4));
                } else {
                    files.put(e.path(), e);
                }
            }
            wanted.putAll(contentByLayer.get(i));
        }
    }

    /** Reads the archive; keeps the bytes of the regular files whose paths {@code keepContent} accepts. */
    static ImageArchive read(Path file, Predicate<String> keepContent) throws IOException {
        return new ImageArchive(file, keepContent);
    }

    Optional<byte[]> content(String path) {
        return Optional.ofNullable(wanted.get(path));
    }

    JsonNode containerConfig() {
        return config.path("config");
    }

    List<String> strings(String field) {
        List<String> out = new ArrayList<>();
        containerConfig().path(field).forEach(n -> out.add(n.asText()));
        return out;
    }

    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : strings("Env")) {
            int eq = kv.indexOf('=');
            env.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : kv.substring(eq + 1));
        }
        return env;
    }

    /** The path with symlinked directories and a final symlink followed (absolute or relative). */
    Optional<Entry> resolve(String path) {
        String current = path;
        for (int hops = 0; hops < 40; hops++) {
            String resolved = resolveParents(current);
            Entry e = files.get(resolved);
            if (e == null || !e.isSymlink()) {
                return Optional.ofNullable(e);
            }
            current = target(resolved, e.linkTarget());
        }
        return Optional.empty();
    }

    private String resolveParents(String path) {
        String[] parts = path.substring(1).split("/");
        String prefix = "";
        for (int i = 0; i < parts.length - 1; i++) {
            String dir = prefix + "/" + parts[i];
            Entry e = files.get(dir);
            int hops = 0;
            while (e != null && e.isSymlink() && hops++ < 40) {
                dir = resolveParents(target(dir, e.linkTarget()));
                e = files.get(dir);
            }
            prefix = dir;
        }
        return prefix + "/" + parts[parts.length - 1];
    }

    private static String target(String linkPath, String target) {
        String joined = target.startsWith("/") ? target
                : linkPath.substring(0, linkPath.lastIndexOf('/') + 1) + target;
        return normalise(joined);
    }

    static String normalise(String name) {
        List<String> out = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
            } else {
                out.add(part);
            }
        }
        return "/" + String.join("/", out);
    }

    private static byte[] required(Map<String, byte[]> members, String name) throws IOException {
        byte[] b = members.get(name);
        if (b == null) {
            throw new IOException("no " + name + " in the archive");
        }
        return b;
    }

    // ---- a small tar reader: ustar, GNU long names ('L'/'K'), pax headers ('x'/'g') ----

    interface Member {
        void accept(String name, long size, InputStream in) throws IOException;
    }

    interface TypedMember {
        void accept(String name, long size, InputStream in, char type, String linkTarget) throws IOException;
    }

    private static void readTar(InputStream in, Member member) throws IOException {
        readTar(in, (name, size, body, type, link) -> {
            if (type == '0') {
                member.accept(name, size, body);
            }
        });
    }

    private static void readTar(InputStream source, TypedMember member) throws IOException {
        try (InputStream in = source instanceof BufferedInputStream ? source : new BufferedInputStream(source)) {
            byte[] header = new byte[512];
            String longName = null;
            String longLink = null;
            Map<String, String> pax = new HashMap<>();
            while (true) {
                if (in.readNBytes(header, 0, 512) < 512 || isZero(header)) {
                    return;
                }
                String name = text(header, 0, 100);
                long size = octal(header, 124, 12);
                char type = header[156] == 0 ? '0' : (char) header[156];
                String link = text(header, 157, 100);
                String prefix = text(header, 345, 155);
                if (!prefix.isEmpty() && text(header, 257, 6).startsWith("ustar")) {
                    name = prefix + "/" + name;
                }
                long padded = (size + 511) / 512 * 512;
                if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
                    byte[] body = in.readNBytes((int) size);
                    in.skipNBytes(padded - size);
                    String s = new String(body, StandardCharsets.UTF_8);
                    if (type == 'L') {
                        longName = s.replace("\0", "");
                    } else if (type == 'K') {
                        longLink = s.replace("\0", "");
                    } else if (type == 'x') {
                        pax.putAll(parsePax(body));
                    }
                    continue;
                }
                if (longName != null) {
                    name = longName;
                }
                if (longLink != null) {
                    link = longLink;
                }
                if (pax.containsKey("path")) {
                    name = pax.get("path");
                }
                if (pax.containsKey("linkpath")) {
                    link = pax.get("linkpath");
                }
                if (pax.containsKey("size")) {
                    size = Long.parseLong(pax.get("size"));
                    padded = (size + 511) / 512 * 512;
                }
                longName = null;
                longLink = null;
                pax.clear();
                if (type == '7') {
                    type = '0';
                }
                BoundedInput body = new BoundedInput(in, type == '0' ? size : 0);
                member.accept(name, size, body, type, link);
                long rest = (type == '0' ? padded : 0) - body.consumed;
                in.skipNBytes(rest);
            }
        }
    }

    private static Map<String, String> parsePax(byte[] body) {
        Map<String, String> out = new HashMap<>();
        int i = 0;
        while (i < body.length) {
            int space = i;
            while (space < body.length && body[space] != ' ') {
                space++;
            }
            if (space >= body.length) {
                break;
            }
            int len = Integer.parseInt(new String(body, i, space - i, StandardCharsets.US_ASCII));
            String record = new String(body, space + 1, len - (space + 1 - i) - 1, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq > 0) {
                out.put(record.substring(0, eq), record.substring(eq + 1));
            }
            i += len;
        }
        return out;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String text(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] b, int off, int len) {
        if ((b[off] & 0x80) != 0) { // GNU base-256 for large sizes
            long v = 0;
            for (int i = off + 1; i < off + len; i++) {
                v = (v << 8) | (b[i] & 0xff);
            }
            return v;
        }
        String s = text(b, off, len).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }

    /** A member's body: reads at most its size from the archive, never closes it. */
    private static final class BoundedInput extends InputStream {
        private final InputStream in;
        private final long size;
        long consumed;

        BoundedInput(InputStream in, long size) {
            this.in = in;
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            if (consumed >= size) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                consumed++;
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            if (consumed >= size) {
                return -1;
            }
            int n = in.read(buf, off, (int) Math.min(len, size - consumed));
            if (n > 0) {
                consumed += n;
            }
            return n;
        }

        @Override
        public byte[] readAllBytes() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(size, 1 << 20));
            byte[] buf = new byte[8192];
            int n;
            while ((n = read(buf, 0, buf.length)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }

        @Override
        public void close() {
            // the archive stays open
        }
    }
}
