package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output files appear whole or not at all. */
class AtomicFileTest {
    @TempDir
    Path tmp;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aWriteThatFailsHalfwayLeavesNeitherTheFileNorItsTemporary() throws IOException {
        Path file = tmp.resolve("out.png");
        assertThrows(IOException.class, () -> AtomicFile.write(file, f -> {
            Files.writeString(f, "half a png");
            throw new IOException("disk full");
        }));
        assertEquals(List.of(), names());
    }

    @Test
    void aWholeWriteReplacesTheOldFileAndIsReadableByOthers() throws IOException {
        Path file = tmp.resolve("out.png");
        Files.writeString(file, "old");
        AtomicFile.write(file, f -> Files.writeString(f, "new"));
        assertEquals("new", Files.readString(file));
        assertEquals(List.of("out.png"), names());
        // a plain new file (the umask's permissions), not createTempFile's owner-only one
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Path plain = tmp.resolve("plain");
            Files.writeString(plain, "x");
            AtomicFile.write(tmp.resolve("fresh.png"), f -> Files.writeString(f, "new"));
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(tmp.resolve("fresh.png")));
        }
    }
}
